"""Translations of a challenge: who may translate which language, saving a language's texts, reviewing them,
and the translators a manager invites. Services flush, never commit; routes and the API commit.

Rules (one home each):
  may_translate(challenge, user, locale)   managers any language (the default one too); an invited translator
                                           only their language, never the default (the original)
  ChallengeTranslation.review_refusal       the two-person rule of reviews
  invitation_refusal(challenge, user)       who cannot be invited (they compete or judge)
  Challenge.conflict_of_interest            an active translator cannot take part (challenges/models.py)
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.audit.services import record
from marketplace.challenges import clearance, indexing
from marketplace.challenges.authoring import TEXT_FIELDS, apply_texts, check_texts, fail
from marketplace.challenges.models import Challenge
from marketplace.challenges.states import move, require_state
from marketplace.challenges.translation_models import ChallengeTranslation, ChallengeTranslator, is_active_translator
from marketplace.content_locales import is_content_locale
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.extensions import db

TRANSLATABLE_STATES = ("draft", "cleared", "open")  # as readers see them; in clearance the text is frozen
INVITABLE_STATES = ("draft", "in_clearance", "cleared", "open")
TRANSLATOR_INVITED = "translator_invited"
MAX_CRITERION_NAME = 200


# --- who may do what ------------------------------------------------------------------------------

def is_translatable(challenge: Challenge) -> bool:
    """Whether the texts may be translated now (the pages offer it; `save_translation` requires it)."""
    return challenge.shown_status in TRANSLATABLE_STATES


def work_of(user) -> list[ChallengeTranslator]:
    """The user's active invitations, newest first, with their challenges (one query each, not one per row)."""
    return list(db.session.scalars(
        select(ChallengeTranslator).where(ChallengeTranslator.user_id == user.id, ChallengeTranslator.is_active)
        .options(selectinload(ChallengeTranslator.challenge))
        .order_by(ChallengeTranslator.invited_at.desc(), ChallengeTranslator.id.desc())))


def marks_of(challenge_ids) -> dict[tuple[int, str], ChallengeTranslation]:
    """{(challenge id, locale): mark} for several challenges in one query."""
    rows = db.session.scalars(select(ChallengeTranslation).where(ChallengeTranslation.challenge_id.in_(challenge_ids)))
    return {(row.challenge_id, row.locale): row for row in rows}


def may_translate(challenge: Challenge, user, locale: str) -> bool:
    if challenge.can_manage(user):
        return True
    return locale != challenge.default_locale and is_active_translator(challenge.id, user, locale)


def may_see_translations(challenge: Challenge, user) -> bool:
    """Staff of the organization and the challenge's active translators (of any language)."""
    return challenge.is_staff(user) or is_active_translator(challenge.id, user)


def invitation_refusal(challenge: Challenge, user) -> str | None:
    """Why `user` cannot translate this challenge, or None: someone who competes in it (a proposal, drafts and
    withdrawn ones included) or judges it (its reviewer pool) would see the text early or change its words."""
    from marketplace.reviews.conflicts.service import solver_ids
    from marketplace.reviews.models import ChallengeReviewer

    if user.id in solver_ids(challenge.id):
        return str(_l("This person takes part in the challenge, so they cannot translate it."))
    in_pool = db.session.scalar(select(ChallengeReviewer.id).where(
        ChallengeReviewer.challenge_id == challenge.id, ChallengeReviewer.user_id == user.id).limit(1))
    if in_pool is not None:
        return str(_l("This person reviews the challenge, so they cannot translate it."))
    return None


def check_locale(locale: str) -> None:
    if not is_content_locale(locale):
        raise NotFound(_l("Unknown language code “%(locale)s”. Use a code such as de, ja or zh_Hans.",
                          locale=str(locale)[:20]))


# --- reading ------------------------------------------------------------------------------------

def marks(challenge: Challenge) -> dict[str, ChallengeTranslation]:
    rows = db.session.scalars(select(ChallengeTranslation).where(ChallengeTranslation.challenge_id == challenge.id))
    return {row.locale: row for row in rows if row.locale != challenge.default_locale}


def mark_of(challenge: Challenge, locale: str) -> ChallengeTranslation | None:
    return marks(challenge).get(locale)


def translators(challenge: Challenge, *, active_only: bool = True) -> list[ChallengeTranslator]:
    query = select(ChallengeTranslator).where(ChallengeTranslator.challenge_id == challenge.id)
    if active_only:
        query = query.where(ChallengeTranslator.is_active)
    return list(db.session.scalars(query.order_by(ChallengeTranslator.locale, ChallengeTranslator.id)))


def content_locales(challenge: Challenge, invited: list[ChallengeTranslator]) -> list[str]:
    """The challenge's languages and those its active translators (`invited`) were invited for, the default first."""
    others = set(challenge.available_locales) | {t.locale for t in invited}
    return [challenge.default_locale, *sorted(others - {challenge.default_locale})]


def public_marks(challenge: Challenge) -> dict[str, str]:
    """{locale: "translated" | "reviewed"} of the languages the challenge has a text in."""
    present = set(challenge.available_locales)
    return {locale: row.status for locale, row in sorted(marks(challenge).items()) if locale in present}


# --- saving a language's texts ---------------------------------------------------------------------

def _criteria_changes(challenge: Challenge, locale: str, names) -> list[tuple]:
    """[(criterion, new name)] for the current stage's criteria whose `locale` name changes."""
    if names is None:
        return []
    criteria = challenge.criteria
    if len(names) != len(criteria):
        raise fail("criteria", _l("Give one name per criterion, in order (%(n)d).", n=len(criteria)))
    changes = []
    for criterion, name in zip(criteria, names, strict=True):
        name = (name or "").strip()
        if len(name) > MAX_CRITERION_NAME:
            raise fail("criteria", _l("Use at most %(n)d characters.", n=MAX_CRITERION_NAME))
        if not name and locale == challenge.default_locale:
            raise fail("criteria", _l("Every criterion needs a name in the default language."))
        if name != (criterion.name or {}).get(locale, ""):
            changes.append((criterion, name))
    return changes


def _screen_open(challenge: Challenge, locale: str, texts: dict, names: list[tuple]) -> list[dict]:
    """An open challenge's new text is public at once: screen this language's fields like an amendment."""
    fields = {f: {locale: texts.get(f, challenge.text_map(f).get(locale, ""))} for f in TEXT_FIELDS}
    for criterion, name in names:
        fields[f"criteria#{criterion.position + 1}"] = {locale: name}
    return [w.as_dict() for w in clearance.screen_public_text(fields, codes=clearance.internal_codes(challenge))]


def save_translation(challenge: Challenge, actor, locale: str, data: dict) -> ChallengeTranslation | None:
    """Save `locale`'s title, summary, description and criteria names (`criteria`: names in order); None when
    nothing changed. Never changes weights nor, for a translator, the default language's text."""
    check_locale(locale)
    if not may_translate(challenge, actor, locale):
        raise Forbidden(_l("Only managers of this center and invited translators of this language can "
                           "translate it."))
    require_state(challenge, *TRANSLATABLE_STATES, shown=True)
    if challenge.status == "open" and locale == challenge.default_locale:
        raise Conflict(_l("The original text of an open challenge changes only through an amendment."))
    current = {f: challenge.text_map(f).get(locale, "") for f in TEXT_FIELDS}
    texts = {f: (data[f] or "").strip() for f in TEXT_FIELDS if data.get(f) is not None and f in data}
    texts = {f: text for f, text in texts.items() if text != current[f]}
    names = _criteria_changes(challenge, locale, data.get("criteria"))
    if not texts and not names:
        return mark_of(challenge, locale)
    by_locale = check_texts({f: {**challenge.text_map(f), **({locale: texts[f]} if f in texts else {})}
                             for f in TEXT_FIELDS}, challenge.default_locale)
    warnings = _screen_open(challenge, locale, texts, names) if challenge.status == "open" else []
    apply_texts(challenge, by_locale)
    for criterion, name in names:  # in place: ids, weights and scores stay
        criterion.name = {**{k: v for k, v in (criterion.name or {}).items() if k != locale},
                          **({locale: name} if name else {})}
    challenge.note_text_change(actor)  # a translator is an editor too: never the clearing officer's excuse
    mark = _mark(challenge, actor, locale)
    db.session.flush()
    record("challenge.translation_saved", "challenge", challenge.id, actor=actor, locale=locale,
           fields=sorted(texts) + (["criteria"] if names else []), marker_warnings=warnings)
    if challenge.status == "cleared":
        from marketplace.challenges.services import screen_for_clearance

        move(challenge, "in_clearance", actor=actor, action="challenge.clearance_revoked_by_edit",
             marker_warnings=screen_for_clearance(challenge, actor))
    if challenge.status == "open":
        indexing.schedule(challenge.id)
    return mark


def _mark(challenge: Challenge, actor, locale: str) -> ChallengeTranslation | None:
    if locale == challenge.default_locale:
        return None  # the original carries no mark
    mark = mark_of(challenge, locale)
    if mark is None:
        mark = ChallengeTranslation(challenge_id=challenge.id, locale=locale)
        db.session.add(mark)
    mark.mark_translated(actor)
    return mark


def review_translation(challenge: Challenge, actor, locale: str) -> ChallengeTranslation:
    check_locale(locale)
    mark = mark_of(challenge, locale)
    if mark is None or locale not in challenge.available_locales:
        raise NotFound(_l("There is no translation into this language to review."))
    if mark.status == "reviewed":
        raise Conflict(_l("This translation is already reviewed."))
    refusal = mark.review_refusal(actor)
    if refusal:
        raise Forbidden(refusal)
    mark.status, mark.reviewed_by_id, mark.reviewed_at = "reviewed", actor.id, utcnow()
    db.session.flush()
    record("challenge.translation_reviewed", "challenge", challenge.id, actor=actor, locale=locale,
           translated_by=mark.translated_by_id)
    return mark


# --- translators ------------------------------------------------------------------------------------

def invite_translator(challenge: Challenge, actor, *, email: str, locale: str) -> ChallengeTranslator:
    from marketplace.accounts.models import User

    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can invite translators."))
    require_state(challenge, *INVITABLE_STATES, shown=True)
    if not is_content_locale(locale or ""):
        raise fail("locale", _l("Choose a language."))
    if locale == challenge.default_locale:
        raise fail("locale", _l("The default language is the original; invite translators for other languages."))
    email = (email or "").strip()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.lower())) if email else None
    if user is None:
        raise fail("email", _l("No account uses this e-mail address. Ask them to register first."))
    refusal = invitation_refusal(challenge, user)
    if refusal:
        raise fail("email", refusal)
    if is_active_translator(challenge.id, user, locale):
        raise Conflict(_l("This person already translates this challenge into this language."))
    translator = ChallengeTranslator(challenge_id=challenge.id, user_id=user.id, locale=locale,
                                     invited_by_id=actor.id, invited_at=utcnow())
    db.session.add(translator)
    db.session.flush()
    record("challenge.translator_invited", "challenge", challenge.id, actor=actor, translator=translator.id,
           user=user.id, locale=locale)
    _notify_invited(challenge, user, locale)
    return translator


def revoke_translator(challenge: Challenge, actor, translator_id: int) -> ChallengeTranslator:
    if not challenge.can_manage(actor):
        raise Forbidden(_l("Only center managers of this organization can revoke translators."))
    translator = db.session.get(ChallengeTranslator, translator_id)
    if translator is None or translator.challenge_id != challenge.id:
        raise NotFound(_l("No such translator."))
    if translator.revoked_at is not None:
        raise Conflict(_l("This translator was already revoked."))
    translator.revoked_at = utcnow()
    db.session.flush()
    record("challenge.translator_revoked", "challenge", challenge.id, actor=actor, translator=translator.id,
           user=translator.user_id, locale=translator.locale)
    return translator


# --- telling the invited translator -----------------------------------------------------------------

def _invited_text(payload: dict, locale: str) -> str:
    from marketplace.i18n import locale_display_name
    from marketplace.solvers.notifications import localized_title

    return _("You are invited to translate “%(title)s” into %(language)s.", title=localized_title(payload, locale),
             language=locale_display_name(payload.get("locale", "")))


def register_notification() -> None:
    from marketplace.solvers.notifications import register_kind

    register_kind(TRANSLATOR_INVITED, text=_invited_text, link=lambda payload: "/me/translations")


def _notify_invited(challenge: Challenge, user, locale: str) -> None:
    from marketplace.i18n import locale_display_name
    from marketplace.mail.services import queue_mail
    from marketplace.solvers import notifications

    payload = {"challenge_id": challenge.id, "locale": locale, "title": challenge.text_map("title"),
               "default_locale": challenge.default_locale}
    notifications.add(user.id, TRANSLATOR_INVITED, payload, mailed=True)
    _shown, title = challenge.localized("title", user.locale)
    queue_mail(user.email, TRANSLATOR_INVITED, locale=user.locale, user=user, challenge=challenge, title=title,
               language=locale_display_name(locale, user.locale), locale_code=locale)
