"""Refused releases and approvals stay on record (eligibility screening above all).

A refusal rolls the attempted change back, so its audit entry is written after the rollback; the
caller (a route, or the release job) commits it.
"""

from __future__ import annotations

from marketplace.audit.services import record
from marketplace.errors import DomainError
from marketplace.extensions import db


def audit_refusal(action: str, award_id: int, actor, error: DomainError) -> None:
    db.session.rollback()
    record(action, "award", award_id, actor=actor, status=error.status, reason=str(error.detail),
           problems=[str(m) for m in error.errors.get("recipients", [])])


def commit_refusal(action: str, award_id: int, actor, error: DomainError) -> None:
    """A route's refusal (page or API): audited and committed, so the entry stays whatever the answer."""
    audit_refusal(action, award_id, actor, error)
    db.session.commit()
