"""Challenge authoring and lifecycle: create, edit, clearance, publish, close, cancel, amend.

Every rule about a challenge's state lives here (and in states.py). Services flush, never commit.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.challenges import clearance, indexing
from marketplace.challenges.models import Amendment, Challenge, ChallengeText, Criterion
from marketplace.challenges.states import move, require_state
from marketplace.content_locales import is_content_locale
from marketplace.countries import is_country
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.money import Money, is_currency
from marketplace.permissions import Role
from marketplace.pricing import services as pricing
from marketplace.solvers.alerts import notify_followers
from marketplace.stages.services import move_current_deadline

IP_TERMS = ("assignment", "exclusive_licence", "non_exclusive_licence", "solver_keeps")
TEXT_FIELDS = ("title", "summary", "description")
MAX_LENGTHS = {"title": 200, "summary": 2000, "description": 50_000}


def _fail(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def sanctioned_countries() -> set[str]:
    return set(current_app.config.get("SANCTIONED_COUNTRIES", ()))


# --- validation of authoring data ------------------------------------------------------------

def _check_texts(data: dict, default_locale: str) -> dict[str, dict[str, str]]:
    """Return {locale: {title, summary, description}}; default_locale present and non-empty."""
    if not is_content_locale(default_locale):
        raise _fail("default_locale", _l("Unknown locale."))
    by_locale: dict[str, dict[str, str]] = {}
    for field in TEXT_FIELDS:
        texts = data.get(field) or {}
        for locale, text in texts.items():
            if len(text) > MAX_LENGTHS[field]:
                raise _fail(field, _l("Use at most %(n)d characters.", n=MAX_LENGTHS[field]))
            by_locale.setdefault(locale, {})[field] = text
    if not (data.get("title") or {}).get(default_locale, "").strip():
        raise _fail("title", _l("Give the title in the default language (%(locale)s).", locale=default_locale))
    if not (data.get("summary") or {}).get(default_locale, "").strip():
        raise _fail("summary", _l("Give the summary in the default language (%(locale)s).", locale=default_locale))
    for locale, fields in by_locale.items():
        if not fields.get("title", "").strip():
            raise _fail("title", _l("Every language needs a title (missing for %(locale)s).", locale=locale))
    return by_locale


def _check_criteria(criteria: list[dict], default_locale: str) -> None:
    if not criteria:
        raise _fail("criteria", _l("Add at least one judging criterion."))
    if len(criteria) > 12:
        raise _fail("criteria", _l("Use at most 12 criteria."))
    for criterion in criteria:
        if not str(criterion["name"].get(default_locale, "")).strip():
            raise _fail("criteria", _l("Every criterion needs a name in the default language."))
        if not 1 <= criterion["weight"] <= 100:
            raise _fail("criteria", _l("Each weight lies between 1 and 100."))
    total = sum(c["weight"] for c in criteria)
    if total != 100:
        raise _fail("criteria", _l("The weights add up to %(total)d; they must add up to 100.", total=total))


def _check_deadline(deadline: datetime) -> datetime:
    if deadline.tzinfo is None:
        raise _fail("deadline", _l("Give the deadline with its time zone."))
    if deadline <= utcnow():
        raise _fail("deadline", _l("The deadline must be in the future."))
    return deadline


def localize_deadline(naive: datetime, timezone: str) -> datetime:
    """A deadline entered in the author's time zone, as an aware datetime."""
    try:
        return naive.replace(tzinfo=zoneinfo.ZoneInfo(timezone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return naive.replace(tzinfo=zoneinfo.ZoneInfo("UTC"))


def _check_countries(codes: list[str]) -> list[str]:
    bad = [c for c in codes if not is_country(c)]
    if bad:
        raise _fail("eligibility", _l("Unknown country codes: %(codes)s", codes=", ".join(bad)))
    return sorted({c.upper() for c in codes})


def _apply_texts(challenge: Challenge, by_locale: dict[str, dict[str, str]]) -> None:
    existing = {t.locale: t for t in challenge.texts}
    for locale, fields in by_locale.items():
        row = existing.pop(locale, None) or ChallengeText(locale=locale)
        row.title = fields.get("title", row.title or "").strip()
        row.summary = fields.get("summary", row.summary or "").strip()
        row.description = fields.get("description", row.description or "").strip()
        if row not in challenge.texts:
            challenge.texts.append(row)
    for stale in existing.values():
        challenge.texts.remove(stale)


def _apply_criteria(challenge: Challenge, criteria: list[dict]) -> None:
    """Replace the current stage's criteria."""
    stage_id = challenge.current_stage_id
    for old in challenge.criteria:
        challenge.all_criteria.remove(old)
    db.session.flush()
    for position, item in enumerate(criteria):
        challenge.all_criteria.append(Criterion(stage_id=stage_id, position=position, weight=item["weight"],
                                                name=item["name"]))


def _price(challenge: Challenge) -> None:
    """Compute the award from the benchmarks and store the quote it came from."""
    result = pricing.quote(challenge_type=challenge.challenge_type, field=challenge.field,
                           currency=challenge.award_currency, premium_pct=challenge.premium_pct)
    challenge.award_minor = result.award.minor + challenge.milestone_pools_minor  # what escrow must hold
    challenge.quote = result.as_dict()


def _requirements(program, codes: list[str]):
    if not codes:
        return []
    if program is None:
        raise _fail("requirement_codes", _l("Requirement codes need a program."))
    by_code = {r.code: r for r in program.requirements}
    unknown = [c for c in codes if c not in by_code]
    if unknown:
        raise _fail("requirement_codes", _l("Unknown requirement codes: %(codes)s", codes=", ".join(unknown)))
    return [by_code[c] for c in dict.fromkeys(codes)]


# --- authoring ---------------------------------------------------------------------------------

def create_challenge(organization, author, data: dict) -> Challenge:
    """Create a draft challenge for `organization` by a center manager of it."""
    from marketplace.challenges.agreements import current_template
    from marketplace.programs.models import Program
    from marketplace.reviews.appeals import check_window_days
    from marketplace.stages.services import build_stages, checked_stages

    if not author.has_role(Role.CENTER_MANAGER, organization):
        raise Forbidden(_l("Only center managers of this organization can create its challenges."))
    default_locale = data["default_locale"]
    by_locale = _check_texts(data, default_locale)
    if not is_currency(data["award_currency"]):
        raise _fail("award_currency", _l("Use an ISO 4217 currency code such as USD."))
    # Without `stages`, one stage made of the challenge's deadline and criteria (as before stages existed).
    implicit = [{"deadline": data.get("deadline"), "criteria": data.get("criteria")}]
    stages = checked_stages(data.get("stages") or implicit, default_locale, data["award_currency"],
                            implicit=not data.get("stages"))
    program = None
    if data.get("program_id") is not None:
        program = db.session.get(Program, data["program_id"])
        if program is None or program.organization_id != organization.id:
            raise _fail("program_id", _l("No such program in this organization."))
    premium = data.get("premium_pct")
    premium = Decimal(str(premium)) if premium is not None else organization.premium_pct
    pricing.check_premium(premium)
    challenge = Challenge(
        organization=organization, author=author, program_id=program.id if program else None, status="draft",
        default_locale=default_locale, challenge_type=data["challenge_type"], field=data["field"].strip(),
        deadline=stages[0]["deadline"], award_currency=data["award_currency"], premium_pct=premium,
        seeker_anonymous=bool(data.get("seeker_anonymous")), invite_only=bool(data.get("invite_only")),
        requirement_codes_public=bool(data.get("requirement_codes_public")),
        ip_terms=data.get("ip_terms") or "assignment", target_trl=data.get("target_trl"),
        excluded_countries=_check_countries((data.get("eligibility") or {}).get("excluded_countries", [])),
        agreement_version=current_template(organization).version,
        appeals_window_days=check_window_days(data.get("appeals")),
    )
    _check_trl(challenge)
    _price(challenge)
    challenge.requirements = _requirements(program, data.get("requirement_codes") or [])
    db.session.add(challenge)
    _apply_texts(challenge, by_locale)
    build_stages(challenge, stages)
    challenge.note_text_change(author)
    db.session.flush()
    record("challenge.created", "challenge", challenge.id, actor=author, organization=organization.slug,
           award=challenge.award.as_dict())
    return challenge


def _check_trl(challenge: Challenge) -> None:
    if challenge.ip_terms not in IP_TERMS:
        raise _fail("ip_terms", _l("Choose one of the IP terms."))
    if challenge.target_trl is not None:
        if challenge.challenge_type != "rtp":
            raise _fail("target_trl", _l("A target readiness level applies to reduction-to-practice challenges."))
        if not 1 <= challenge.target_trl <= 9:
            raise _fail("target_trl", _l("The technology readiness level lies between 1 and 9."))


EDITABLE = ("default_locale", "title", "summary", "description", "challenge_type", "field", "deadline",
            "award_currency", "premium_pct", "criteria", "eligibility", "seeker_anonymous", "invite_only",
            "ip_terms", "target_trl", "requirement_codes", "requirement_codes_public", "appeals")


def update_challenge(challenge: Challenge, actor, data: dict) -> Challenge:
    """Edit a draft (or a cleared challenge, which then goes back through clearance)."""
    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can edit its challenges."))
    require_state(challenge, "draft", "cleared")
    changes = {k: v for k, v in data.items() if k in EDITABLE}
    default_locale = changes.get("default_locale", challenge.default_locale)
    merged_texts = {f: {**challenge.text_map(f), **(changes.get(f) or {})} for f in TEXT_FIELDS}
    if any(f in changes for f in TEXT_FIELDS) or "default_locale" in changes:
        by_locale = _check_texts(merged_texts, default_locale)
        challenge.default_locale = default_locale
        _apply_texts(challenge, by_locale)
    if "criteria" in changes:
        _check_criteria(changes["criteria"], default_locale)
        _apply_criteria(challenge, changes["criteria"])
    for simple in ("challenge_type", "seeker_anonymous", "invite_only", "ip_terms", "target_trl",
                   "requirement_codes_public"):
        if simple in changes:
            setattr(challenge, simple, changes[simple])
    if "field" in changes:
        challenge.field = changes["field"].strip()
    if "appeals" in changes:
        from marketplace.reviews.appeals import check_window_days

        challenge.appeals_window_days = check_window_days(changes["appeals"])
    if "deadline" in changes:
        move_current_deadline(challenge, _check_deadline(changes["deadline"]))
    if "award_currency" in changes:
        if not is_currency(changes["award_currency"]):
            raise _fail("award_currency", _l("Use an ISO 4217 currency code such as USD."))
        challenge.award_currency = changes["award_currency"]
    if "premium_pct" in changes:
        challenge.premium_pct = pricing.check_premium(Decimal(str(changes["premium_pct"])))
    if "eligibility" in changes:
        challenge.excluded_countries = _check_countries((changes["eligibility"] or {}).get("excluded_countries", []))
    if "requirement_codes" in changes:
        from marketplace.programs.models import Program

        program = db.session.get(Program, challenge.program_id) if challenge.program_id else None
        challenge.requirements = _requirements(program, changes["requirement_codes"] or [])
    _check_trl(challenge)
    _price(challenge)
    if changes:
        challenge.note_text_change(actor)
    db.session.flush()
    record("challenge.edited", "challenge", challenge.id, actor=actor, fields=sorted(changes))
    if challenge.status == "cleared":
        warnings = _screen_for_clearance(challenge, actor)
        move(challenge, "in_clearance", actor=actor, action="challenge.clearance_revoked_by_edit",
             marker_warnings=warnings)
    return challenge


# --- clearance -----------------------------------------------------------------------------------

def _screen_for_clearance(challenge: Challenge, actor) -> list[dict]:
    """Screen every public text (422 on a block); store the warnings for the officer and who asked."""
    warnings = clearance.screen_public_text(clearance.challenge_fields(challenge),
                                            codes=clearance.internal_codes(challenge))
    challenge.clearance_warnings = [w.as_dict() for w in warnings]
    challenge.clearance_requested_by_id = actor.id
    return challenge.clearance_warnings


def request_clearance(challenge: Challenge, actor) -> Challenge:
    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can request clearance."))
    require_state(challenge, "draft")
    warnings = _screen_for_clearance(challenge, actor)
    move(challenge, "in_clearance", actor=actor, action="challenge.clearance_requested", marker_warnings=warnings)
    return challenge


def _approve(challenge: Challenge, officer, note: str, acknowledge_warnings: bool) -> None:
    warnings = clearance.screen_public_text(clearance.challenge_fields(challenge),
                                            codes=clearance.internal_codes(challenge))
    challenge.clearance_warnings = [w.as_dict() for w in warnings]
    if warnings and not acknowledge_warnings:
        messages = [m for found in clearance.describe(warnings).values() for m in found]
        raise ValidationFailed(_l("The screening found possible classification markers. Read them and "
                                  "acknowledge them to approve."), errors={"acknowledge_warnings": messages})
    challenge.cleared_by_id, challenge.cleared_at, challenge.clearance_note = officer.id, utcnow(), note
    challenge.text_editor_ids = []  # the two-person rule starts again from this clearance
    move(challenge, "cleared", actor=officer, action="challenge.cleared", note=note,
         acknowledged_warnings=challenge.clearance_warnings)


def decide_clearance(challenge: Challenge, officer, *, decision: str, note: str = "",
                     acknowledge_warnings: bool = False) -> Challenge:
    """A security officer of the organization approves or rejects (two-person rule: Challenge.can_clear)."""
    refusal = challenge.clearance_refusal(officer)
    if refusal:
        raise Forbidden(refusal)
    require_state(challenge, "in_clearance")
    if decision == "approve":
        _approve(challenge, officer, note, acknowledge_warnings)
    elif decision == "reject":
        if not note.strip():
            raise _fail("note", _l("Say why the challenge is rejected."))
        challenge.clearance_note = note
        move(challenge, "draft", actor=officer, action="challenge.clearance_rejected", note=note)
    else:
        raise _fail("decision", _l("Decide approve or reject."))
    return challenge


# --- publishing and closing ------------------------------------------------------------------------

def publish(challenge: Challenge, actor) -> Challenge:
    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can publish its challenges."))
    if challenge.status != "cleared":
        raise Conflict(_l("Only a cleared challenge can be published."))
    if not challenge.funded:
        raise Conflict(_l("The award is not funded yet: a finance officer must confirm the money first."))
    if challenge.deadline <= utcnow():
        raise Conflict(_l("The deadline has passed; move it before publishing."))
    challenge.published_at = utcnow()
    move(challenge, "open", actor=actor, action="challenge.published")
    notify_followers(challenge)
    indexing.schedule(challenge.id)
    return challenge


def close(challenge: Challenge, actor=None, *, reason: str = "manual") -> Challenge:
    if actor is not None and not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can close its challenges."))
    require_state(challenge, "open")
    challenge.closed_at = utcnow()
    move(challenge, "closed", actor=actor, action="challenge.closed", reason=reason)
    indexing.schedule(challenge.id)
    return challenge


def close_due(now: datetime | None = None) -> list[int]:
    """Close every open challenge whose deadline has passed. Safe to run concurrently."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Challenge).where(Challenge.status == "open", Challenge.deadline <= now).with_for_update(skip_locked=True)
    ).all()
    for challenge in due:
        close(challenge, reason="deadline")
    return [c.id for c in due]


def close_if_due(challenge: Challenge) -> bool:
    """Lazy closing on read: a challenge past its deadline is closed the moment anyone looks."""
    if challenge.status == "open" and challenge.deadline <= utcnow():
        close(challenge, reason="deadline")
        return True
    return False


def cancel(challenge: Challenge, actor, *, reason: str) -> Challenge:
    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can cancel its challenges."))
    if not reason.strip():
        raise _fail("reason", _l("Say why the challenge is cancelled."))
    move(challenge, "cancelled", actor=actor, action="challenge.cancelled", reason=reason)
    from marketplace.payments.escrow import schedule_refunds

    schedule_refunds(challenge, actor, reason=reason)  # what escrow holds goes back to the center
    indexing.schedule(challenge.id)
    return challenge


# --- amendments to an open challenge ----------------------------------------------------------------

def _amend_award_and_deadline(challenge: Challenge, data: dict) -> dict[str, dict]:
    """The award may only rise (in its currency) and the deadline only move later."""
    changes: dict[str, dict] = {}
    if data.get("award") is not None:
        new_award: Money = data["award"]
        if new_award.currency != challenge.award_currency:
            raise _fail("award", _l("The award stays in %(currency)s.", currency=challenge.award_currency))
        if new_award.minor <= challenge.award_minor:
            raise _fail("award", _l("An amendment may only raise the award."))
        changes["award"] = {"from": challenge.award.as_dict(), "to": new_award.as_dict()}
        challenge.award_minor = new_award.minor
        from marketplace.challenges.funding import refresh_funded

        refresh_funded(challenge)
    if data.get("deadline") is not None:
        if data["deadline"].tzinfo is None or data["deadline"] <= challenge.deadline:
            raise _fail("deadline", _l("An amendment may only move the deadline later."))
        changes["deadline"] = {"from": challenge.deadline.isoformat(), "to": data["deadline"].isoformat()}
        move_current_deadline(challenge, data["deadline"])
    return changes


def amend(challenge: Challenge, actor, data: dict) -> Amendment:
    """Change the rules of an open challenge: a dated, published amendment.

    The award may only rise and the deadline only move later; a change to the criteria needs
    every solver to accept the agreement again before their next submission.
    """
    from marketplace.challenges.agreements import notify_amendment

    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can amend its challenges."))
    require_state(challenge, "open")
    changes = _amend_award_and_deadline(challenge, data)
    text_changes = {f: data[f] for f in TEXT_FIELDS if data.get(f)}
    if text_changes:
        merged = {f: {**challenge.text_map(f), **text_changes.get(f, {})} for f in TEXT_FIELDS}
        _apply_texts(challenge, _check_texts(merged, challenge.default_locale))
        changes["texts"] = {"fields": sorted(text_changes)}
    requires_reacceptance = False
    if data.get("criteria"):
        _check_criteria(data["criteria"], challenge.default_locale)
        _apply_criteria(challenge, data["criteria"])
        changes["criteria"] = {"to": data["criteria"]}
        requires_reacceptance = True
    if not changes:
        raise _fail("_schema", _l("The amendment changes nothing."))
    note = data.get("note") or {}
    if not note.get(challenge.default_locale, "").strip():
        raise _fail("note", _l("Explain the amendment in the default language."))
    warnings = clearance.screen_public_text({**clearance.challenge_fields(challenge), "note": note},
                                            codes=clearance.internal_codes(challenge))
    if text_changes or requires_reacceptance:
        challenge.note_text_change(actor)
    amendment_count = db.session.scalar(select(db.func.count(Amendment.id)).where(
        Amendment.challenge_id == challenge.id)) or 0
    if requires_reacceptance:
        base = (challenge.agreement_version or "1").split("+")[0]
        challenge.agreement_version = f"{base}+a{amendment_count + 1}"
    amendment = Amendment(challenge_id=challenge.id, author_id=actor.id, note=note, changes=changes,
                          requires_reacceptance=requires_reacceptance,
                          agreement_version=challenge.agreement_version)
    db.session.add(amendment)
    db.session.flush()
    record("challenge.amended", "challenge", challenge.id, actor=actor, amendment=amendment.id, changes=changes,
           requires_reacceptance=requires_reacceptance, marker_warnings=[w.as_dict() for w in warnings])
    notify_amendment(challenge, amendment)
    indexing.schedule(challenge.id)
    return amendment


# --- reading -----------------------------------------------------------------------------------

def get_visible(challenge_id: int, user) -> Challenge:
    """The challenge if `user` may see it, else NotFound (never leak existence)."""
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not challenge.can_view(user):
        raise NotFound(_l("No such challenge."))
    return challenge


def eligibility_problem(challenge: Challenge, user) -> str | None:
    """Why `user` may not take part (excluded or sanctioned country), or None."""
    country = getattr(user, "country", None)
    if country and country in challenge.excluded_countries:
        return str(_l("Residents of %(country)s cannot take part in this challenge (excluded by the center).",
                      country=country))
    if country and country in sanctioned_countries():
        return str(_l("Residents of %(country)s cannot take part: the platform's sanctions list applies.",
                      country=country))
    return None
