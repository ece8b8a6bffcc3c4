"""Domain errors raised by services; routes turn them into pages or problem+json.

Messages are lazy strings so they reach each user in their own language.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail=None, *, errors: dict | None = None):
        super().__init__(str(detail) if detail is not None else self.title)
        self.detail = detail
        self.errors = errors or {}


class ValidationFailed(DomainError):
    status = 422
    title = "Validation failed"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"
