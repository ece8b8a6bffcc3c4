"""Small helpers for the challenge pages: time left, the viewer's currency, language marks."""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel import Locale
from babel.core import get_global
from babel.numbers import get_territory_currencies
from flask import request
from flask_babel import format_date, format_time, get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from marketplace.i18n import current_locale_id
from marketplace.money import Money
from marketplace.pricing import services as pricing


def as_datetime(value: datetime | str) -> datetime:
    """Presenters hand out ISO strings; pages want datetimes."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def when(value: datetime | str | None) -> str:
    """A date and time to the minute, in the viewer's time zone and language ("Mar 1, 2027, 8:00 PM")."""
    if not value:
        return ""
    moment = as_datetime(value)
    locale = get_locale()
    pattern = str(locale.datetime_formats["medium"]) if locale else "{1}, {0}"
    return pattern.replace("{1}", format_date(moment, "medium")).replace("{0}", format_time(moment, "short"))


def day(value: date | datetime | str | None) -> str:
    """A date in the viewer's language ("Jan 5, 2027"); ISO strings too."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, "medium") if value else ""


def time_left(deadline: datetime | str, now: datetime | None = None) -> str:
    """"12 days left", "5 hours left", "Deadline passed": coarse on purpose, exact date beside it."""
    remaining = as_datetime(deadline) - (now or datetime.now(UTC))
    seconds = remaining.total_seconds()
    if seconds <= 0:
        return _("Deadline passed")
    if remaining.days >= 2:
        return ngettext("%(num)d day left", "%(num)d days left", remaining.days)
    if seconds >= 3600:
        hours = int(seconds // 3600)
        return ngettext("%(num)d hour left", "%(num)d hours left", hours)
    minutes = max(1, int(seconds // 60))
    return ngettext("%(num)d minute left", "%(num)d minutes left", minutes)


def lang_attr(locale: str | None) -> Markup:
    """` lang="zh-Hans"` when user content is in another language than the page, else nothing."""
    if not locale or locale == current_locale_id():
        return Markup("")
    return Markup(' lang="%s"') % escape(locale.replace("_", "-"))


def country_name(code: str) -> str:
    try:
        return Locale.parse(current_locale_id()).territories.get(code, code)
    except (ValueError, TypeError):
        return code


def viewer_country(user) -> str | None:
    """The signed-in user's country; for visitors, the region of their language (en -> US, de -> DE)."""
    if user is not None and user.is_authenticated and user.country:
        return user.country
    for value, _quality in request.accept_languages:
        parts = value.replace("-", "_").split("_")
        if len(parts) > 1 and len(parts[-1]) == 2 and parts[-1].isalpha():
            return parts[-1].upper()
        break
    likely = get_global("likely_subtags").get(current_locale_id().split("_")[0])
    return likely.split("_")[-1] if likely else None


def viewer_currency(user) -> str | None:
    country = viewer_country(user)
    if not country:
        return None
    currencies = get_territory_currencies(country, date.today(), tender=True)
    return currencies[0] if currencies else None


def approximate_for_viewer(award: Money, user) -> Money | None:
    """The award in the viewer's currency at the latest rates, or None (same currency, or no rate)."""
    currency = viewer_currency(user)
    if not currency or currency == award.currency:
        return None
    return pricing.approximate(award, currency)
