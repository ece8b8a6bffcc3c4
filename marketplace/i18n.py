"""Interface languages, locale negotiation and locale-aware formatting.

Locale identifiers are Babel's: `zh_Hans`, never `zh_CN` or `zh-Hans`.
"""

from __future__ import annotations

from decimal import Decimal

from babel import Locale, numbers
from flask import g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

# (identifier, name shown in the language switcher, text direction)
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "ltr"),
    "zh_Hans": ("中文", "ltr"),
    "de": ("Deutsch", "ltr"),
    "ja": ("日本語", "ltr"),
    "ko": ("한국어", "ltr"),
    "fr": ("Français", "ltr"),
    "es": ("Español", "ltr"),
    "ar": ("العربية", "rtl"),
}
DEFAULT_LOCALE = "en"


def normalise_locale(value: str | None) -> str | None:
    """Map what browsers and users send (zh-CN, zh_hans, de-AT, AR) to one of LANGUAGES.

    Babel would turn zh-CN into zh_Hans_CN, and Flask-Babel then never finds the
    zh_Hans catalog, so every Chinese variant is mapped here by hand.
    """
    if not value:
        return None
    tag = value.strip().replace("-", "_")
    if not tag or len(tag) > 35:
        return None
    parts = tag.split("_")
    language = parts[0].lower()
    if language == "zh":
        return "zh_Hans"  # the only Chinese interface we ship, for every zh variant
    return language if language in LANGUAGES else None


def negotiate_locale() -> str:
    """The user's saved preference, then ?lang=, then Accept-Language, then English.

    A visitor without an account saves a preference with the language switcher
    (kept in the session); it comes after an explicit ?lang= in the URL.
    """
    if not has_request_context():  # command line: English, or force_locale() for mails
        return DEFAULT_LOCALE
    if current_user and current_user.is_authenticated and current_user.locale:
        chosen = normalise_locale(current_user.locale)
        if chosen:
            return chosen
    for candidate in (request.args.get("lang"), session.get("locale")):
        chosen = normalise_locale(candidate)
        if chosen:
            return chosen
    for value, _quality in request.accept_languages:
        chosen = normalise_locale(value)
        if chosen:
            return chosen
    return DEFAULT_LOCALE


def select_timezone() -> str:
    if has_request_context() and current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return "UTC"


def text_direction() -> str:
    return LANGUAGES.get(str(get_locale()), ("", "ltr"))[1]


def current_locale_id() -> str:
    locale = get_locale()
    if locale is None:
        return DEFAULT_LOCALE
    return normalise_locale(str(locale)) or DEFAULT_LOCALE


def format_money(amount: Decimal | int | str, currency: str, locale: str | None = None) -> str:
    """Format money for display in the given (or current) interface locale."""
    return numbers.format_currency(Decimal(str(amount)), currency, locale=locale or current_locale_id())


def currency_digits(currency: str) -> int:
    return numbers.get_currency_precision(currency)


def locale_display_name(locale_id: str, in_locale: str | None = None) -> str:
    try:
        return Locale.parse(locale_id).get_display_name(in_locale or current_locale_id()) or locale_id
    except (ValueError, TypeError):
        return locale_id


def remember_locale_choice(locale_id: str) -> None:
    session["locale"] = locale_id
    g.pop("_flask_babel", None)
