"""Amendments to an open challenge: a dated, published change of its award, deadline, texts or criteria."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.challenges import clearance, indexing
from marketplace.challenges.agreement_models import Amendment
from marketplace.challenges.authoring import TEXT_FIELDS, apply_criteria, apply_texts, check_criteria, check_texts, fail
from marketplace.challenges.models import Challenge
from marketplace.challenges.states import require_state
from marketplace.errors import Forbidden
from marketplace.extensions import db
from marketplace.money import Money


def _amend_award_and_deadline(challenge: Challenge, data: dict) -> dict[str, dict]:
    """The award may only rise (in its currency) and the deadline only move later."""
    changes: dict[str, dict] = {}
    if data.get("award") is not None:
        new_award: Money = data["award"]
        if new_award.currency != challenge.award_currency:
            raise fail("award", _l("The award stays in %(currency)s.", currency=challenge.award_currency))
        if new_award.minor <= challenge.award_minor:
            raise fail("award", _l("An amendment may only raise the award."))
        changes["award"] = {"from": challenge.award.as_dict(), "to": new_award.as_dict()}
        challenge.award_minor = new_award.minor
        from marketplace.payments.funding import refresh_funded

        refresh_funded(challenge)
    if data.get("deadline") is not None:
        if data["deadline"].tzinfo is None or data["deadline"] <= challenge.deadline:
            raise fail("deadline", _l("An amendment may only move the deadline later."))
        changes["deadline"] = {"from": challenge.deadline.isoformat(), "to": data["deadline"].isoformat()}
        challenge.move_deadline(data["deadline"])
    return changes


def amend(challenge: Challenge, actor, data: dict) -> Amendment:
    """Change the rules of an open challenge: a dated, published amendment.

    The award may only rise and the deadline only move later; a change to the criteria needs
    every solver to accept the agreement again before their next submission.
    """
    from marketplace.challenges.agreements import notify_amendment

    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can amend its challenges."))
    require_state(challenge, "open", shown=True)  # past its deadline it is closed, close-due or not
    changes = _amend_award_and_deadline(challenge, data)
    text_changes = {f: data[f] for f in TEXT_FIELDS if data.get(f)}
    if text_changes:
        merged = {f: {**challenge.text_map(f), **text_changes.get(f, {})} for f in TEXT_FIELDS}
        apply_texts(challenge, check_texts(merged, challenge.default_locale))
        changes["texts"] = {"fields": sorted(text_changes)}
    requires_reacceptance = False
    if data.get("criteria"):
        check_criteria(data["criteria"], challenge.default_locale)
        apply_criteria(challenge, data["criteria"])
        changes["criteria"] = {"to": data["criteria"]}
        requires_reacceptance = True
    if not changes:
        raise fail("_schema", _l("The amendment changes nothing."))
    note = data.get("note") or {}
    if not note.get(challenge.default_locale, "").strip():
        raise fail("note", _l("Explain the amendment in the default language."))
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
