"""Challenge authoring and lifecycle: create, edit, clearance, publish, close, cancel.

Every rule about a challenge's state lives here (and in states.py); what a challenge may say is
checked by authoring.py, and amendments to an open challenge are in amendments.py. Services
flush, never commit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.challenges import clearance, indexing
from marketplace.challenges.authoring import (
    IP_TERMS,
    TEXT_FIELDS,
    apply_criteria,
    apply_texts,
    check_countries,
    check_criteria,
    check_deadline,
    check_texts,
    fail,
    price,
    requirements_of,
)
from marketplace.challenges.models import Challenge
from marketplace.challenges.states import move, require_state
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.money import is_currency
from marketplace.permissions import Role, visible_or_not_found
from marketplace.pricing import services as pricing
from marketplace.solvers.alerts import notify_followers

# --- authoring ---------------------------------------------------------------------------------

def create_challenge(organization, author, data: dict) -> Challenge:
    """Create a draft challenge for `organization` by a center manager of it."""
    from marketplace.challenges.agreements import current_template
    from marketplace.programs.models import Program
    from marketplace.reviews.score_release import check_window_days
    from marketplace.stages.services import build_stages, checked_stages

    if not author.has_role(Role.CENTER_MANAGER, organization):
        raise Forbidden(_l("Only center managers of this organization can create its challenges."))
    default_locale = data["default_locale"]
    by_locale = check_texts(data, default_locale)
    if not is_currency(data["award_currency"]):
        raise fail("award_currency", _l("Use an ISO 4217 currency code such as USD."))
    # Without `stages`, one stage made of the challenge's deadline and criteria (as before stages existed).
    implicit = [{"deadline": data.get("deadline"), "criteria": data.get("criteria")}]
    stages = checked_stages(data.get("stages") or implicit, default_locale, data["award_currency"],
                            implicit=not data.get("stages"))
    program = None
    if data.get("program_id") is not None:
        program = db.session.get(Program, data["program_id"])
        if program is None or program.organization_id != organization.id:
            raise fail("program_id", _l("No such program in this organization."))
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
        excluded_countries=check_countries((data.get("eligibility") or {}).get("excluded_countries", [])),
        agreement_version=current_template(organization).version,
        appeals_window_days=check_window_days(data.get("appeals")),
    )
    _check_trl(challenge)
    price(challenge)
    challenge.requirements = requirements_of(program, data.get("requirement_codes") or [])
    db.session.add(challenge)
    apply_texts(challenge, by_locale)
    build_stages(challenge, stages)
    challenge.note_text_change(author)
    db.session.flush()
    record("challenge.created", "challenge", challenge.id, actor=author, organization=organization.slug,
           award=challenge.award.as_dict())
    return challenge


def _check_trl(challenge: Challenge) -> None:
    if challenge.ip_terms not in IP_TERMS:
        raise fail("ip_terms", _l("Choose one of the IP terms."))
    if challenge.target_trl is not None:
        if challenge.challenge_type != "rtp":
            raise fail("target_trl", _l("A target readiness level applies to reduction-to-practice challenges."))
        if not 1 <= challenge.target_trl <= 9:
            raise fail("target_trl", _l("The technology readiness level lies between 1 and 9."))


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
        by_locale = check_texts(merged_texts, default_locale)
        challenge.default_locale = default_locale
        apply_texts(challenge, by_locale)
    if "criteria" in changes:
        check_criteria(changes["criteria"], default_locale)
        apply_criteria(challenge, changes["criteria"])
    for simple in ("challenge_type", "seeker_anonymous", "invite_only", "ip_terms", "target_trl",
                   "requirement_codes_public"):
        if simple in changes:
            setattr(challenge, simple, changes[simple])
    if "field" in changes:
        challenge.field = changes["field"].strip()
    if "appeals" in changes:
        from marketplace.reviews.score_release import check_window_days

        challenge.appeals_window_days = check_window_days(changes["appeals"])
    if "deadline" in changes:
        challenge.move_deadline(check_deadline(changes["deadline"]))
    if "award_currency" in changes:
        if not is_currency(changes["award_currency"]):
            raise fail("award_currency", _l("Use an ISO 4217 currency code such as USD."))
        challenge.award_currency = changes["award_currency"]
    if "premium_pct" in changes:
        challenge.premium_pct = pricing.check_premium(Decimal(str(changes["premium_pct"])))
    if "eligibility" in changes:
        challenge.excluded_countries = check_countries((changes["eligibility"] or {}).get("excluded_countries", []))
    if "requirement_codes" in changes:
        from marketplace.programs.models import Program

        program = db.session.get(Program, challenge.program_id) if challenge.program_id else None
        challenge.requirements = requirements_of(program, changes["requirement_codes"] or [])
    _check_trl(challenge)
    price(challenge)
    if changes:
        challenge.note_text_change(actor)
    db.session.flush()
    record("challenge.edited", "challenge", challenge.id, actor=actor, fields=sorted(changes))
    if challenge.status == "cleared":
        warnings = screen_for_clearance(challenge, actor)
        move(challenge, "in_clearance", actor=actor, action="challenge.clearance_revoked_by_edit",
             marker_warnings=warnings)
    return challenge


# --- clearance -----------------------------------------------------------------------------------

def screen_for_clearance(challenge: Challenge, actor) -> list[dict]:
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
    warnings = screen_for_clearance(challenge, actor)
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
            raise fail("note", _l("Say why the challenge is rejected."))
        challenge.clearance_note = note
        move(challenge, "draft", actor=officer, action="challenge.clearance_rejected", note=note)
    else:
        raise fail("decision", _l("Decide approve or reject."))
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


def cancel(challenge: Challenge, actor, *, reason: str) -> Challenge:
    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can cancel its challenges."))
    if not reason.strip():
        raise fail("reason", _l("Say why the challenge is cancelled."))
    move(challenge, "cancelled", actor=actor, action="challenge.cancelled", reason=reason)
    from marketplace.payments.refunds import schedule_refunds

    schedule_refunds(challenge, actor, reason=reason)  # what escrow holds goes back to the center
    indexing.schedule(challenge.id)
    return challenge


# --- reading -----------------------------------------------------------------------------------

def get_visible(challenge_id: int, user) -> Challenge:
    return visible_or_not_found(Challenge, challenge_id, user, _l("No such challenge."))


def staff_challenge(challenge_id: int, user) -> Challenge:
    """The challenge for its staff (`Challenge.is_staff`); 404 for everyone else (existence is not leaked)."""
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not challenge.is_staff(user):
        raise NotFound(_l("No such challenge."))
    return challenge


def managed_challenge(challenge_id: int, user) -> Challenge:
    """The challenge for its center managers; 404 for outsiders, 403 for other staff."""
    challenge = staff_challenge(challenge_id, user)
    if not challenge.can_manage(user):
        raise Forbidden(_l("Only center managers of this organization can do this."))
    return challenge
