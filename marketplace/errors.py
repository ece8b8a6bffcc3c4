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


def domain_error(name: str, status: int, title: str, module: str = __name__) -> type[DomainError]:
    """A kind of DomainError that only names its HTTP status and problem title, as most kinds do.

    `module` is where the kind is defined (for its repr and for tracebacks).
    """
    return type(name, (DomainError,), {"status": status, "title": title, "__module__": module})


ValidationFailed = domain_error("ValidationFailed", 422, "Validation failed")
NotFound = domain_error("NotFound", 404, "Not found")
Forbidden = domain_error("Forbidden", 403, "Forbidden")
Conflict = domain_error("Conflict", 409, "Conflict")
PayloadTooLarge = domain_error("PayloadTooLarge", 413, "Payload too large")
