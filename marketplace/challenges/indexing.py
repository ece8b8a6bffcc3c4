"""Keep the search index in step with challenges: ids are collected during a transaction and
indexed once it commits (in-process by default, by an RQ worker when REDIS_URL is set)."""

from __future__ import annotations

from marketplace.extensions import db


def schedule(challenge_id: int) -> None:
    db.session.info.setdefault("reindex_challenges", set()).add(challenge_id)
