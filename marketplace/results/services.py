"""Open results: write a result record after an award, name winners only with their consent, publish.

    create_result(challenge, actor, data) -> ResultRecord        a draft, by a center manager
    update_result(result, actor, data) -> ResultRecord
    publish_result(result, actor) / withdraw_result(result, actor)
    decide_consent(result, user, *, consent, cited_name=None) -> WinnerConsent   by a winner
    get_visible(result_id, user) -> ResultRecord                  else NotFound (never leak a draft)

`data` keys (all optional on update): default_locale, title/abstract/licence_terms ({locale: text}),
field, patent_application, open_for_licensing, licensing_contact, named_winner_ids ([user ids]).
Follow-on challenges are in follow_ons.py. Services flush, never commit.
"""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.audit.services import record
from marketplace.awards.models import Award, AwardRecipient
from marketplace.challenges.models import Challenge
from marketplace.content_locales import is_content_locale
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.permissions import visible_or_not_found
from marketplace.results import indexing
from marketplace.results.models import ResultRecord, ResultText, WinnerConsent

TEXT_FIELDS = ("title", "abstract", "licence_terms")
MAX_LENGTHS = {"title": 300, "abstract": 20_000, "licence_terms": 5_000}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A patent application number as offices print it: CN202710012345.6, US 17/123,456, EP3456789A1, PCT/CN2027/012345.
PATENT_RE = re.compile(r"^[A-Z]{2,3}[A-Z0-9 /,.\-]{3,56}$")


def _fail(field: str, message) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def public_url(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


# --- who won --------------------------------------------------------------------------------

def award_recipients(challenge: Challenge) -> list[AwardRecipient]:
    """Every author of an award of `challenge` that was not cancelled, in award order."""
    return list(db.session.scalars(
        select(AwardRecipient).join(Award, Award.id == AwardRecipient.award_id)
        .where(Award.challenge_id == challenge.id, Award.status != "cancelled")
        .order_by(Award.id, AwardRecipient.id)))


def _require_award(challenge: Challenge) -> list[AwardRecipient]:
    recipients = award_recipients(challenge) if challenge.status == "awarded" else []
    if not recipients:
        raise Conflict(_l("A result can be published only for an awarded challenge; this challenge has no award."))
    return recipients


# --- validation -----------------------------------------------------------------------------

def _texts(data: dict, default_locale: str, existing: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """{locale: {title, abstract, licence_terms}} merged over `existing`; the default locale complete."""
    if not is_content_locale(default_locale):
        raise _fail("default_locale", _l("Unknown locale."))
    by_locale = {locale: dict(fields) for locale, fields in existing.items()}
    for field in TEXT_FIELDS:
        for locale, text in (data.get(field) or {}).items():
            if not is_content_locale(locale):
                raise _fail(field, _l("Unknown locale: %(locales)s", locales=locale))
            text = (text or "").strip()
            if len(text) > MAX_LENGTHS[field]:
                raise _fail(field, _l("Use at most %(n)d characters.", n=MAX_LENGTHS[field]))
            by_locale.setdefault(locale, {})[field] = text
    by_locale = {locale: fields for locale, fields in by_locale.items() if any(fields.values())}
    defaults = by_locale.get(default_locale, {})
    if not defaults.get("title"):
        raise _fail("title", _l("Give the title in the default language (%(locale)s).", locale=default_locale))
    if not defaults.get("abstract"):
        raise _fail("abstract", _l("Give the abstract in the default language (%(locale)s).", locale=default_locale))
    for locale, fields in by_locale.items():
        if not fields.get("title"):
            raise _fail("title", _l("Every language needs a title (missing for %(locale)s).", locale=locale))
    return by_locale


def _apply_texts(result: ResultRecord, by_locale: dict[str, dict[str, str]]) -> None:
    existing = {t.locale: t for t in result.texts}
    for locale, fields in by_locale.items():
        row = existing.pop(locale, None) or ResultText(locale=locale)
        row.title = fields.get("title", "")
        row.abstract = fields.get("abstract", "")
        row.licence_terms = fields.get("licence_terms", "")
        if row not in result.texts:
            result.texts.append(row)
    for stale in existing.values():
        result.texts.remove(stale)


def _apply_ip(result: ResultRecord, data: dict) -> None:
    if "patent_application" in data:
        number = (data["patent_application"] or "").strip().upper() or None
        if number is not None and (not PATENT_RE.match(number) or sum(c.isdigit() for c in number) < 5):
            raise _fail("patent_application", _l("Give the application number as the patent office prints it, "
                                                 "such as CN202710012345.6."))
        result.patent_application = number
    if "open_for_licensing" in data:
        result.open_for_licensing = bool(data["open_for_licensing"])
    if "licensing_contact" in data:
        result.licensing_contact = (data["licensing_contact"] or "").strip()
    if result.licensing_contact and not EMAIL_RE.match(result.licensing_contact):
        raise _fail("licensing_contact", _l("Give an e-mail address for licensing enquiries."))
    if result.open_for_licensing and not result.licensing_contact:
        raise _fail("licensing_contact", _l("A result open for licensing needs a contact for licensing enquiries."))


def _apply_named(result: ResultRecord, named_ids) -> None:
    if named_ids is None:
        return
    wanted = {int(i) for i in named_ids}
    known = {w.user_id for w in result.winners}
    strangers = wanted - known
    if strangers:
        raise _fail("named_winner_ids", _l("Only winners of this challenge can be named (not: %(ids)s).",
                                           ids=", ".join(str(i) for i in sorted(strangers))))
    for winner in result.winners:
        winner.named = winner.user_id in wanted


def _screen(result: ResultRecord) -> list[dict]:
    """The classification gate for a result's public text (422 on a block); the warnings, to audit."""
    from marketplace.challenges.clearance import internal_codes, screen_public_text

    fields = {f: {t.locale: getattr(t, f) for t in result.texts if getattr(t, f)} for f in TEXT_FIELDS}
    return [w.as_dict() for w in screen_public_text(fields, codes=internal_codes(result.challenge))]


def missing_consents(result: ResultRecord) -> list[WinnerConsent]:
    return [w for w in result.winners if w.named and w.consent != "given"]


def _require_consents(result: ResultRecord) -> None:
    """A named winner without consent blocks publication: 422 naming each of them."""
    missing = missing_consents(result)
    if missing:
        raise ValidationFailed(
            _l("Every named winner must consent before the result is published."),
            errors={"named_winner_ids": [
                str(_l("%(name)s has not consented to be named (consent: %(state)s).", name=w.user.display_name,
                       state=w.consent)) for w in missing]})


# --- writing -----------------------------------------------------------------------------------

def prefill_from_challenge(challenge: Challenge) -> dict:
    """A draft's starting point in every locale the challenge has: its title and summary."""
    return {
        "default_locale": challenge.default_locale,
        "title": challenge.text_map("title"),
        "abstract": challenge.text_map("summary"),
        "field": challenge.field,
    }


def create_result(challenge: Challenge, actor, data: dict) -> ResultRecord:
    """A draft result record for an awarded challenge; every winner is asked whether they may be named."""
    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can publish its results."))
    recipients = _require_award(challenge)
    prefilled = prefill_from_challenge(challenge)
    data = {**prefilled, **{k: v for k, v in data.items() if v is not None}}
    for field in ("title", "abstract"):  # texts merge per locale: what is given wins, the rest is prefilled
        data[field] = {**prefilled[field], **(data.get(field) or {})}
    default_locale = data["default_locale"]
    field = (data.get("field") or challenge.field).strip()[:60]
    result = ResultRecord(challenge_id=challenge.id, organization_id=challenge.organization_id,
                          created_by_id=actor.id, status="draft", default_locale=default_locale, field=field,
                          open_for_licensing=False, licensing_contact="")
    _apply_texts(result, _texts(data, default_locale, {}))
    _apply_ip(result, data)
    seen: set[int] = set()
    for recipient in recipients:
        if recipient.user_id not in seen:
            seen.add(recipient.user_id)
            result.winners.append(WinnerConsent(user_id=recipient.user_id, named=False, consent="pending"))
    db.session.add(result)
    db.session.flush()
    _apply_named(result, data.get("named_winner_ids"))
    db.session.flush()
    record("result.created", "result", result.id, actor=actor, challenge=challenge.id,
           named=[w.user_id for w in result.winners if w.named])
    _ask_for_consent(result, [w for w in result.winners if w.named])
    return result


def update_result(result: ResultRecord, actor, data: dict) -> ResultRecord:
    if not result.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can edit its results."))
    if result.status == "withdrawn":
        raise Conflict(_l("This result was withdrawn; publish it again before editing."))
    default_locale = data.get("default_locale") or result.default_locale
    existing = {t.locale: {f: getattr(t, f) for f in TEXT_FIELDS} for t in result.texts}
    if any(data.get(f) for f in TEXT_FIELDS) or default_locale != result.default_locale:
        _apply_texts(result, _texts(data, default_locale, existing))
        result.default_locale = default_locale
    if data.get("field"):
        result.field = data["field"].strip()[:60]
    _apply_ip(result, data)
    before = {w.user_id for w in result.winners if w.named}
    _apply_named(result, data.get("named_winner_ids"))
    warnings = []
    if result.status == "published":
        _require_consents(result)  # a published record never names anyone without consent
        warnings = _screen(result)
    db.session.flush()
    record("result.edited", "result", result.id, actor=actor, fields=sorted(k for k in data if data[k] is not None),
           marker_warnings=warnings)
    _ask_for_consent(result, [w for w in result.winners if w.named and w.user_id not in before])
    if result.status == "published":
        indexing.schedule(result.id)
    return result


def publish_result(result: ResultRecord, actor) -> ResultRecord:
    if not result.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can publish its results."))
    if result.status == "published":
        raise Conflict(_l("This result is already published."))
    _require_award(result.challenge)
    _require_consents(result)
    warnings = _screen(result)
    result.status = "published"
    result.published_at = result.published_at or utcnow()
    record("result.published", "result", result.id, actor=actor, challenge=result.challenge_id,
           locales=result.available_locales, named=[w.user_id for w in result.named_winners],
           marker_warnings=warnings)
    indexing.schedule(result.id)
    return result


def withdraw_result(result: ResultRecord, actor, *, reason: str) -> ResultRecord:
    if not result.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can withdraw its results."))
    if result.status != "published":
        raise Conflict(_l("Only a published result can be withdrawn."))
    if not (reason or "").strip():
        raise _fail("reason", _l("Say why the result is withdrawn."))
    result.status = "withdrawn"
    record("result.withdrawn", "result", result.id, actor=actor, reason=reason.strip())
    indexing.schedule(result.id)
    return result


def decide_consent(result: ResultRecord, user, *, consent: bool, cited_name: str | None = None) -> WinnerConsent:
    """A winner says yes or no to being named on this result (and may change their mind later)."""
    winner = next((w for w in result.winners if user.is_authenticated and w.user_id == user.id), None)
    if winner is None:
        raise NotFound(_l("No such result."))
    if cited_name is not None:
        cited_name = cited_name.strip()
        if len(cited_name) > 200:
            raise _fail("cited_name", _l("Use at most %(n)d characters.", n=200))
        winner.cited_name = cited_name
    winner.consent = "given" if consent else "declined"
    winner.decided_at = utcnow()
    db.session.flush()
    record("result.consent_given" if consent else "result.consent_declined", "result", result.id, actor=user)
    if result.status == "published":
        indexing.schedule(result.id)  # names are searchable, so a withdrawn consent leaves the index too
    return winner


def _ask_for_consent(result: ResultRecord, winners: list[WinnerConsent]) -> None:
    from marketplace.mail.services import queue_mail

    for winner in winners:
        if winner.consent == "pending":
            _, title = result.localized("title", winner.user.locale)
            queue_mail(winner.user.email, "result_consent_request", locale=winner.user.locale or "en",
                       name=winner.user.display_name, title=title,
                       link=public_url(f"/results/{result.id}/consent"))


# --- reading -----------------------------------------------------------------------------------

def get_visible(result_id: int, user) -> ResultRecord:
    return visible_or_not_found(ResultRecord, result_id, user, _l("No such result."))


def results_of_challenge(challenge: Challenge, user) -> list[ResultRecord]:
    rows = db.session.scalars(select(ResultRecord).where(ResultRecord.challenge_id == challenge.id)
                              .order_by(ResultRecord.id)).all()
    return [r for r in rows if r.can_view(user)]
