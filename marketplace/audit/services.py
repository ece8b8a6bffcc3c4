"""The single way to write the audit log, and the chain check.

Each entry's hash covers its own fields and the previous entry's hash, so an
edited, removed or reordered entry breaks every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditEntry
from marketplace.audit.scope import organization_of
from marketplace.db import utcnow
from marketplace.extensions import db

GENESIS_HASH = "0" * 64
# Serialises writers on PostgreSQL so two transactions never chain onto the same entry.
_CHAIN_LOCK_KEY = 0x1A0D17


def _entry_hash(entry: AuditEntry) -> str:
    payload = {
        "created_at": entry.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "actor_id": entry.actor_id,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "data": entry.data,
        "ip_address": entry.ip_address,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(action: str, entity_type: str, entity_id: int | None, *, actor=None, organization_scope=None,
           **data) -> AuditEntry:
    """Append an audit entry in the current transaction (flushed, not committed).

    The entry belongs to the organization behind the entity (see audit.scope), or to
    `organization_scope` when given (e.g. a role granted in an organization, recorded on the user).
    """
    scope = getattr(organization_scope, "id", organization_scope)
    if scope is None:
        scope = organization_of(entity_type, entity_id, data)
    entry = _append(db.session, action, entity_type, entity_id, actor=actor, scope=scope, data=data)
    db.session.flush()
    return entry


def record_read(action: str, entity_type: str, entity_id: int | None, *, actor=None, **data) -> None:
    """Audit a read that must stay on record (a download, an export) in its own short transaction.

    Reads don't write: the request's session is neither flushed nor committed by this, and a
    GET still leaves who took what in the chained log.
    """
    scope = organization_of(entity_type, entity_id, data)
    with Session(db.engine) as session, session.begin():
        _append(session, action, entity_type, entity_id, actor=actor, scope=scope, data=data)


def _append(session, action: str, entity_type: str, entity_id: int | None, *, actor, scope, data: dict) -> AuditEntry:
    """Chain one entry onto the last one in `session`'s transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    last_hash = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        created_at=utcnow(),
        actor_id=getattr(actor, "id", actor),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        data=json.loads(json.dumps(data, default=str)),
        ip_address=request.remote_addr if has_request_context() else None,
        organization_id=scope,
        prev_hash=last_hash or GENESIS_HASH,
    )
    entry.hash = _entry_hash(entry)
    session.add(entry)
    return entry


@dataclass
class ChainReport:
    ok: bool
    entries: int
    first_bad_id: int | None = None


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Recompute every hash in order; report the first entry that does not match."""
    previous = GENESIS_HASH
    count = 0
    last_id = 0
    while True:
        batch = db.session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch_size)
        ).all()
        if not batch:
            return ChainReport(ok=True, entries=count)
        for entry in batch:
            if entry.prev_hash != previous or _entry_hash(entry) != entry.hash:
                return ChainReport(ok=False, entries=count, first_bad_id=entry.id)
            previous = entry.hash
            count += 1
            last_id = entry.id
