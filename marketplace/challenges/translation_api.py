"""Translations API: each language's mark, saving and reviewing a language, and the invited translators.

For the staff of the challenge's organization and its active translators (404 to everyone else); what each
may change is decided by challenges.translations (403 not allowed, 409 wrong state, 422 bad input or markers).
"""

from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.api import login_required_api
from marketplace.challenges import translations
from marketplace.challenges.models import Challenge
from marketplace.challenges.translation_models import ChallengeTranslation, ChallengeTranslator
from marketplace.errors import NotFound
from marketplace.extensions import db

blp = Blueprint("challenge_translations_api", __name__, url_prefix="/api/v1",
                description="Translations of a challenge and its translators")


class TranslationMarkOut(ma.Schema):
    locale = ma.fields.String()
    status = ma.fields.String(allow_none=True, metadata={"enum": ["translated", "reviewed", None],
                                                         "description": "null: the original, or no mark yet"})
    translated_by = ma.fields.Integer(allow_none=True)
    translated_at = ma.fields.DateTime(allow_none=True)
    reviewed_by = ma.fields.Integer(allow_none=True)
    reviewed_at = ma.fields.DateTime(allow_none=True)


class TranslationIn(ma.Schema):
    title = ma.fields.String(validate=ma.validate.Length(max=200))
    summary = ma.fields.String(validate=ma.validate.Length(max=2000))
    description = ma.fields.String(validate=ma.validate.Length(max=50_000))
    criteria = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=200)),
                              validate=ma.validate.Length(max=12),
                              metadata={"description": "the current stage's criteria names, in order"})


class TranslatorOut(ma.Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    display_name = ma.fields.String()
    locale = ma.fields.String()
    invited_by = ma.fields.Integer()
    invited_at = ma.fields.DateTime()
    revoked_at = ma.fields.DateTime(allow_none=True)


class TranslatorInviteIn(ma.Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    locale = ma.fields.String(required=True, validate=ma.validate.Length(max=16))


def _challenge(challenge_id: int) -> Challenge:
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not translations.may_see_translations(challenge, current_user):
        raise NotFound(_l("No such challenge."))
    return challenge


def _mark_json(locale: str, mark: ChallengeTranslation | None) -> dict:
    return {"locale": locale, "status": mark.status if mark else None,
            "translated_by": mark.translated_by_id if mark else None,
            "translated_at": mark.translated_at if mark else None,
            "reviewed_by": mark.reviewed_by_id if mark else None, "reviewed_at": mark.reviewed_at if mark else None}


def _translator_json(translator: ChallengeTranslator) -> dict:
    return {"id": translator.id, "user_id": translator.user_id, "display_name": translator.user.display_name,
            "locale": translator.locale, "invited_by": translator.invited_by_id, "invited_at": translator.invited_at,
            "revoked_at": translator.revoked_at}


@blp.get("/challenges/<int:challenge_id>/translations")
@blp.response(200, TranslationMarkOut(many=True))
@login_required_api
def list_translations(challenge_id: int):
    """Every language of the challenge but the default (the original), with its mark."""
    challenge = _challenge(challenge_id)
    marks = translations.marks(challenge)
    return [_mark_json(locale, marks.get(locale))
            for locale in sorted(set(challenge.available_locales) - {challenge.default_locale})]


@blp.put("/challenges/<int:challenge_id>/translations/<locale>")
@blp.arguments(TranslationIn)
@blp.response(200, TranslationMarkOut)
@login_required_api
def save_translation(data, challenge_id: int, locale: str):
    """Save one language's texts (given fields only); marks it translated and clears its review."""
    challenge = _challenge(challenge_id)
    mark = translations.save_translation(challenge, current_user, locale, data)
    db.session.commit()
    return _mark_json(locale, mark)


@blp.post("/challenges/<int:challenge_id>/translations/<locale>/review")
@blp.response(200, TranslationMarkOut)
@login_required_api
def review_translation(challenge_id: int, locale: str):
    """Mark a translation as reviewed (never by the person who translated it last)."""
    challenge = _challenge(challenge_id)
    mark = translations.review_translation(challenge, current_user, locale)
    db.session.commit()
    return _mark_json(locale, mark)


@blp.get("/challenges/<int:challenge_id>/translators")
@blp.response(200, TranslatorOut(many=True))
@login_required_api
def list_translators(challenge_id: int):
    return [_translator_json(t) for t in translations.translators(_challenge(challenge_id), active_only=False)]


@blp.post("/challenges/<int:challenge_id>/translators")
@blp.arguments(TranslatorInviteIn)
@blp.response(201, TranslatorOut)
@login_required_api
def invite_translator(data, challenge_id: int):
    """Invite an existing account (by e-mail) to translate into one language; not someone who competes or judges."""
    challenge = _challenge(challenge_id)
    translator = translations.invite_translator(challenge, current_user, email=data["email"], locale=data["locale"])
    db.session.commit()
    return _translator_json(translator)


@blp.delete("/challenges/<int:challenge_id>/translators/<int:translator_id>")
@blp.response(200, TranslatorOut)
@login_required_api
def revoke_translator(challenge_id: int, translator_id: int):
    challenge = _challenge(challenge_id)
    translator = translations.revoke_translator(challenge, current_user, translator_id)
    db.session.commit()
    return _translator_json(translator)
