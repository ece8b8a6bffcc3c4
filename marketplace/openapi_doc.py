"""What the OpenAPI document says about every operation beyond its own decorators.

Errors are RFC 9457 problem documents (`application/problem+json`) on every operation, with
`Retry-After` on 429 and `Allow` on 405; an operation whose view does not declare its success
response gets a generic 2XX one; decimals are documented once, as decimal strings, and Money
as its object; every write that takes an `Idempotency-Key` (marketplace.api.idempotency_applies)
lists the header, and the 422 a reused key answers. Used by marketplace.api.Api.
"""

from __future__ import annotations

import http
import re

import marshmallow as ma

from marketplace.idempotency import MAX_KEY_LENGTH

PROBLEM_JSON = "application/problem+json"
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}
# Every operation may answer these (authentication, permission, visibility, state, rate limit).
COMMON_ERRORS = ("BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "METHOD_NOT_ALLOWED", "CONFLICT",
                 "TOO_MANY_REQUESTS")
BODY_ERRORS = ("REQUEST_ENTITY_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "UNPROCESSABLE_ENTITY")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # exports with ?format=xlsx
TEXT_SUCCESS = {  # operations whose success body is not a JSON object: path suffix -> media types
    "citation.bib": ("application/x-bibtex", "text/plain"),
    "/{kind}": ("text/csv", XLSX, "application/json"),
    "/analytics": ("text/csv", XLSX, "application/json"),
}
CSL_JSON = "application/vnd.citationstyles.csl+json"  # GET /results/{result_id}/citation.json
FILE_DOWNLOADS = ("/attachments/{attachment_id}", "/attachments/{index}")  # the stored file, as its kind


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document (some carry extension members, such as the markers found)."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(metadata={"example": "about:blank"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                            metadata={"description": "Messages per field"})


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": "A key the caller chooses (unique per request it means, e.g. a UUID). A repeat with the same key "
                   "from the same caller does not act again: it gets the first answer, marked "
                   "`Idempotent-Replayed: true`; the same key with another method, path, query or body is refused "
                   "with 422, and while the first request still runs a repeat may get 409.",
}
IDEMPOTENCY_KEY_REF = {"$ref": "#/components/parameters/IdempotencyKey"}


HEADERS = {
    429: {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}},
    405: {"Allow": {"description": "The methods this path accepts.", "schema": {"type": "string"}}},
}


def register_responses(spec) -> None:
    """A problem+json component response for every error status, and the default error."""
    for status in http.HTTPStatus:
        if status >= 400:
            spec.components.response(status.name, _problem(status.phrase, status), lazy=True)
    spec.components.response("DEFAULT_ERROR", _problem("Error", None), lazy=True)


def _problem(description: str, status: int | None) -> dict:
    response = {"description": description, "content": {PROBLEM_JSON: {"schema": ProblemSchema}}}
    if status in HEADERS:
        response["headers"] = HEADERS[status]
    return response


def register_fields(api) -> None:
    """Decimals are decimal strings (a JSON number is accepted on input); Money is an object."""
    from marketplace.money import MoneyField

    def document(converter, field, **kwargs) -> dict:
        if isinstance(field, ma.fields.Decimal):
            return {"type": "string", "format": "decimal", "pattern": DECIMAL_PATTERN,
                    "description": "A decimal number written as a string, e.g. \"15\" or \"12.50\"."}
        if isinstance(field, MoneyField):
            return {"type": "object", "required": ["amount", "currency"], "properties": {
                "amount": {"type": "string", "format": "decimal", "pattern": DECIMAL_PATTERN},
                "currency": {"type": "string", "minLength": 3, "maxLength": 3}}}
        return {}

    api.ma_plugin.converter.add_attribute_function(document)


def openapi_path(rule: str) -> str:
    """A Flask rule as the document writes its path: /challenges/<int:challenge_id> -> /challenges/{challenge_id}."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


def complete(document: dict, idempotent: frozenset[tuple[str, str]] = frozenset()) -> dict:
    """Fill in what the operations' decorators leave out: success and common error responses.

    `idempotent` holds the (method, path) of the operations that take an Idempotency-Key, as
    marketplace.api.idempotent_rules names them (lower-case method, document path).
    """
    refs = {name: {"$ref": f"#/components/responses/{name}"} for name in COMMON_ERRORS + BODY_ERRORS}
    used = set()
    if idempotent:
        document.setdefault("components", {}).setdefault("parameters", {})["IdempotencyKey"] = IDEMPOTENCY_KEY
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if not any(code.startswith("2") for code in responses):
                responses["2XX"] = _success(path)
            names = COMMON_ERRORS + (BODY_ERRORS if "requestBody" in operation else ())
            if (method, path) in idempotent:
                parameters = operation.setdefault("parameters", [])  # the spec's own dict: add it once
                if IDEMPOTENCY_KEY_REF not in parameters:
                    parameters.append(IDEMPOTENCY_KEY_REF)
                names += ("UNPROCESSABLE_ENTITY",) if "UNPROCESSABLE_ENTITY" not in names else ()
            for name in names:
                code = str(http.HTTPStatus[name].value)
                if code not in responses:
                    responses[code] = refs[name]
                    used.add(name)
    components = document.setdefault("components", {}).setdefault("responses", {})
    for name in used - set(components):
        status = http.HTTPStatus[name]
        components[name] = {"description": status.phrase,
                            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        if status.value in HEADERS:
            components[name]["headers"] = HEADERS[status.value]
    return document


def _success(path: str) -> dict:
    if path.endswith(FILE_DOWNLOADS):
        from marketplace.files.kinds import KINDS

        binary = {"schema": {"type": "string", "format": "binary"}}
        return {"description": "The file, with the media type of its kind.",
                "content": {media: binary for media in sorted({kind.content_type for kind in KINDS.values()})}}
    if path.endswith("citation.json"):
        return {"description": "CSL-JSON: a list with one item.",
                "content": {CSL_JSON: {"schema": {"type": "array", "items": {"type": "object"}}}}}
    for suffix, media_types in TEXT_SUCCESS.items():
        if path.endswith(suffix):
            return {"description": "Success.", "content": {media: {} for media in media_types}}
    return {"description": "Success: the resource or the result of the action (see the API contract).",
            "content": {"application/json": {"schema": {"type": "object"}}}}
