"""Audit: the append-only, hash-chained log of every state change and money movement."""


def register(app, api) -> None:
    from marketplace.audit import api as audit_api

    api.register_blueprint(audit_api.blp)
