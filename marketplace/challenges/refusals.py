"""Refused clearances and publications stay on record.

A refusal rolls the attempted change back, so its audit entry must be written (and committed) after
the rollback. Shared by the JSON API and the HTML pages; it commits, so only routes call it.
"""

from __future__ import annotations

from marketplace.audit.services import record
from marketplace.errors import DomainError
from marketplace.extensions import db


def audit_refusal(action: str, challenge, actor, error: DomainError) -> None:
    """Roll back the refused change, then write and commit the audit entry of the refusal."""
    challenge_id = challenge.id
    db.session.rollback()
    record(action, "challenge", challenge_id, actor=actor, status=error.status, reason=str(error.detail))
    db.session.commit()
