"""Whose audit trail an entry belongs to, and who may read which entries.

The one home of the audit read rule: platform administrators read every entry; a security
officer reads the entries of the organizations where they hold that role, nothing else.
"""

from __future__ import annotations

import importlib

from sqlalchemy import false

from marketplace.extensions import db
from marketplace.permissions import Role


def _model(path: str):
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _challenge_org(challenge_id) -> int | None:
    from marketplace.challenges.models import Challenge

    challenge = db.session.get(Challenge, challenge_id) if challenge_id else None
    return challenge.organization_id if challenge else None


def _via_challenge(model_path: str):
    def resolve(entity_id, _data) -> int | None:
        row = db.session.get(_model(model_path), entity_id)
        return _challenge_org(row.challenge_id) if row is not None else None

    return resolve


def _own_org(model_path: str):
    def resolve(entity_id, _data) -> int | None:
        row = db.session.get(_model(model_path), entity_id)
        return row.organization_id if row is not None else None

    return resolve


def _proposal_org(entity_id, _data) -> int | None:
    """A proposal's entries belong to its challenge's organization once it is shared with the staff
    (`Proposal.shared_with_staff`); what happens to a draft stays its authors' (and the admins') alone."""
    from marketplace.proposals.models import Proposal

    row = db.session.get(Proposal, entity_id)
    return _challenge_org(row.challenge_id) if row is not None and row.shared_with_staff else None


def _ledger_org(entity_id, data) -> int | None:
    from marketplace.payments.models import LedgerTransaction

    row = db.session.get(LedgerTransaction, entity_id)
    return _challenge_org(row.challenge_id if row else data.get("challenge_id"))


_RESOLVERS = {
    "challenge": lambda entity_id, _data: _challenge_org(entity_id),
    "proposal": _proposal_org,
    "review": _via_challenge("marketplace.reviews.models.Review"),
    "award": _via_challenge("marketplace.awards.models.Award"),
    "result": _own_org("marketplace.results.models.ResultRecord"),
    "program": _own_org("marketplace.programs.models.Program"),
    "organization": lambda entity_id, _data: entity_id,
    "ledger_transaction": _ledger_org,
}


def organization_of(entity_type: str, entity_id: int | None, data: dict) -> int | None:
    """The organization behind an audited entity; None for personal and platform-wide entries."""
    resolve = _RESOLVERS.get(entity_type)
    if resolve is None or entity_id is None:
        return None
    with db.session.no_autoflush:
        return resolve(entity_id, data)


def may_read_audit(user) -> bool:
    return bool(user and user.is_authenticated and (user.has_role(Role.ADMIN) or user.has_role(Role.SECURITY_OFFICER)))


def readable_entries(statement, user):
    """Narrow a query over AuditEntry to what `user` may read."""
    from marketplace.audit.models import AuditEntry

    if not may_read_audit(user):
        return statement.where(false())
    if user.has_role(Role.ADMIN):
        return statement
    return statement.where(AuditEntry.organization_id.in_(sorted(user.organization_ids(Role.SECURITY_OFFICER))))
