"""Programs: a center's internal projects, their requirements, and how challenges compose them."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.audit.services import record
from marketplace.errors import Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.permissions import Role, visible_or_not_found
from marketplace.programs.models import Program, Requirement

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")


def create_program(
    organization, actor, *, title: str, objective: str, classification: str, requirements: list[dict]
) -> Program:
    if not actor.has_role(Role.CENTER_MANAGER, organization):
        raise Forbidden(_l("Only center managers of this organization can create programs."))
    errors: dict[str, list] = {}
    if not title.strip():
        errors["title"] = [_l("Required.")]
    if classification not in ("classified", "unclassified"):
        errors["classification"] = [_l("Choose classified or unclassified.")]
    codes = [r["code"] for r in requirements]
    if len(set(codes)) != len(codes):
        errors["requirements"] = [_l("Requirement codes must be unique.")]
    if any(not CODE_RE.match(c) or not r["text"].strip() for c, r in zip(codes, requirements, strict=True)):
        errors.setdefault("requirements", []).append(_l("Each requirement needs a short code (such as R1) and a text."))
    if errors:
        raise ValidationFailed(_l("Some fields are not valid."), errors=errors)
    program = Program(
        organization_id=organization.id,
        title=title.strip(),
        objective=objective.strip(),
        classification=classification,
        created_by_id=actor.id,
    )
    program.requirements = [
        Requirement(code=r["code"], text=r["text"].strip(), position=i) for i, r in enumerate(requirements)
    ]
    db.session.add(program)
    db.session.flush()
    record(
        "program.created",
        "program",
        program.id,
        actor=actor,
        organization=organization.slug,
        classification=classification,
        requirements=codes,
    )
    return program


def add_requirement(program: Program, actor, *, code: str, text: str) -> Requirement:
    if not program.can_edit(actor):
        raise Forbidden(_l("Only center managers of this organization can change its programs."))
    if not CODE_RE.match(code or "") or not (text or "").strip():
        raise ValidationFailed(
            _l("Each requirement needs a short code (such as R1) and a text."),
            errors={"code": [_l("Each requirement needs a short code (such as R1) and a text.")]},
        )
    if any(r.code == code for r in program.requirements):
        raise ValidationFailed(
            _l("Requirement codes must be unique."), errors={"code": [_l("Requirement codes must be unique.")]}
        )
    requirement = Requirement(code=code, text=text.strip(), position=len(program.requirements))
    program.requirements.append(requirement)
    db.session.flush()
    record("program.requirement_added", "program", program.id, actor=actor, code=code)
    return requirement


def get_visible(program_id: int, user) -> Program:
    return visible_or_not_found(Program, program_id, user, _l("No such program."))


def programs_for(user):
    """A select of the programs of every organization where `user` is staff."""
    org_ids = user.organization_ids() if user.is_authenticated else set()
    return (select(Program).where(Program.organization_id.in_(org_ids or {-1}))
            .options(selectinload(Program.requirements), selectinload(Program.organization))
            .order_by(Program.id.desc()))


def composition(program: Program) -> dict:
    """Per requirement: covering challenges, their state, accepted solutions; complete when all are solved.

    A requirement counts as solved when a covering challenge is awarded with at least one accepted
    solution. Accepted solutions come from the reviews package once awards exist.
    """
    from marketplace.challenges.models import Challenge, challenge_requirements

    rows = db.session.execute(
        select(challenge_requirements.c.requirement_id, Challenge)
        .join(Challenge, Challenge.id == challenge_requirements.c.challenge_id)
        .where(Challenge.program_id == program.id)
        .order_by(Challenge.id)
    ).all()
    by_requirement: dict[int, list] = {}
    for requirement_id, challenge in rows:
        by_requirement.setdefault(requirement_id, []).append(challenge)
    solutions = accepted_solutions([c.id for _rid, c in rows])
    items = []
    for requirement in program.requirements:
        challenges = by_requirement.get(requirement.id, [])
        accepted = [s for c in challenges for s in solutions.get(c.id, [])]
        items.append(
            {
                "requirement": {"id": requirement.id, "code": requirement.code, "text": requirement.text},
                "challenges": [
                    {"id": c.id, "status": c.status, "title": c.localized("title", None)[1]} for c in challenges
                ],
                "accepted_solutions": accepted,
                "uncovered": not challenges,
                "solved": bool(accepted),
            }
        )
    from marketplace.results.follow_ons import chain

    return {
        "program_id": program.id,
        "requirements": items,
        "complete": bool(items) and all(item["solved"] for item in items),
        # Second rounds: challenge -> open result -> follow-on challenge, for the program's challenges.
        "follow_on_chain": chain(sorted({c.id for _rid, c in rows})),
    }


def accepted_solutions(challenge_ids: list[int]) -> dict[int, list[dict]]:
    """Awarded proposals per challenge (the awards package decides them)."""
    from marketplace.awards.decisions import accepted_solutions as awarded

    return awarded(challenge_ids)
