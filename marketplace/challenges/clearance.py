"""The classification gate: the one function every service calls before it makes text public.

    screen_public_text(fields, *, codes=()) -> [warnings]   raises ValidationFailed (422) on a block
    challenge_fields(challenge) / internal_codes(challenge)  what a challenge publishes, what it must not

The matching itself is pure and lives in markers.py (normalisation, severities, spans).

Who calls it: the clearance request and the clearance decision (every locale of the title, summary,
description and criteria), an edit of a cleared challenge, amendments (texts, criteria and the
amendment's note), answers to questions, open results when published or edited while published.
Follow-on challenges are drafts and pass the clearance request like any other challenge.

Blocks are refused with 422, naming each marker, field, locale and the span as written. Warnings
(a single English marker word in ordinary lower-case prose) do not stop anything by themselves:
- before clearance they are stored on the challenge and the security officer must acknowledge them
  to approve (`acknowledge_warnings`);
- on paths without a clearance step (amendments, answers, results) the text is published and the
  warnings are written into the service's audit entry (`marker_warnings`) for the security officers.

Internal requirement codes of the challenge's program (R1, ...) are blocks, unless a center manager
chose to publish them (`Challenge.requirement_codes_public`).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.challenges.markers import BLOCK, DEFAULT_MARKERS, WARN, Finding, find
from marketplace.errors import ValidationFailed

__all__ = ["BLOCK", "DEFAULT_MARKERS", "WARN", "Finding", "challenge_fields", "internal_codes", "markers",
           "screen_public_text"]
TEXT_FIELDS = ("title", "summary", "description")


def markers() -> tuple[str, ...]:
    return tuple(current_app.config.get("CLASSIFICATION_MARKERS") or DEFAULT_MARKERS)


def internal_codes(challenge) -> list[str]:
    """The program's requirement codes that must not appear in the challenge's public text."""
    if challenge is None or not challenge.program_id or challenge.requirement_codes_public:
        return []
    from marketplace.extensions import db
    from marketplace.programs.models import Program

    program = db.session.get(Program, challenge.program_id)
    return [r.code for r in program.requirements] if program else []


def challenge_fields(challenge) -> dict[str, dict[str, str]]:
    """Every public text of a challenge, by field then locale: criteria#1, criteria#2... (stage 1), then each later
    stage's criteria (criteria#2.1, ...), and every stage's name and description (stages#1.name, ...)."""
    fields = {f: challenge.text_map(f) for f in TEXT_FIELDS}
    positions = {stage.id: stage.position for stage in challenge.stages}
    for criterion in challenge.all_criteria:
        stage = positions.get(criterion.stage_id, 1)
        prefix = "" if stage == 1 else f"{stage}."
        fields[f"criteria#{prefix}{criterion.position + 1}"] = dict(criterion.name or {})
    for stage in challenge.stages:
        fields[f"stages#{stage.position}.name"] = dict(stage.name or {})
        fields[f"stages#{stage.position}.description"] = dict(stage.description or {})
    return fields


def _message(finding: Finding) -> str:
    if finding.kind == "requirement_code":
        return str(_l("Internal requirement code \"%(marker)s\" found (%(locale)s): “%(span)s”. Remove it or "
                      "choose to publish the requirement codes.", marker=finding.marker, locale=finding.locale,
                      span=finding.span))
    return str(_l("Classification marker \"%(marker)s\" found (%(locale)s): “%(span)s”.", marker=finding.marker,
                  locale=finding.locale, span=finding.span))


def describe(findings: list[Finding]) -> dict[str, list[str]]:
    """{field: [message, ...]}: what the author or the officer reads."""
    errors: dict[str, list[str]] = {}
    for finding in findings:
        errors.setdefault(finding.field.split("#")[0], []).append(_message(finding))
    return errors


def screen_public_text(fields: dict[str, dict[str, str]], *, codes=()) -> list[Finding]:
    """Refuse (422) text with a blocking marker or an internal code; return the warnings."""
    findings = find(fields, markers(), codes)
    blocks = [f for f in findings if f.severity == BLOCK]
    if blocks:
        raise ValidationFailed(_l("The text contains classification markers or internal codes. Remove them "
                                  "before it is published."), errors=describe(blocks))
    return [f for f in findings if f.severity == WARN]
