"""Small helpers for the challenge pages: time left, the viewer's currency, language marks."""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.core import get_global
from babel.numbers import get_territory_currencies
from flask import request
from flask_babel import format_date, format_time, get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from marketplace.countries import country_name
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


def deadline_note(status: str, deadline: datetime | str, closed_at: datetime | str | None = None,
                  decided_at: datetime | str | None = None, now: datetime | None = None) -> str:
    """What every page prints beside a deadline: the time left while the clock runs, else closed or awarded
    with the date ("Closed on Jan 5, 2027", "Awarded on Feb 1, 2027"). The phase comes from
    states.deadline_phase; cards, search results, the dashboard, the challenge page and the API all use this."""
    from marketplace.challenges.states import deadline_phase
    from marketplace.labels import challenge_status_label

    phase = deadline_phase(status, deadline, now)
    if phase == "counting":
        return time_left(deadline, now)
    if phase == "passed":
        return _("Deadline passed")
    if phase == "cancelled":
        return challenge_status_label("cancelled")
    closed_on = as_datetime(closed_at or deadline)
    if phase == "awarded":
        return _("Awarded on %(date)s", date=day(as_datetime(decided_at) if decided_at else closed_on))
    if phase == "no_award":
        return _("Closed without an award on %(date)s", date=day(as_datetime(decided_at) if decided_at else closed_on))
    return _("Closed on %(date)s", date=day(min(closed_on, as_datetime(deadline))))


def challenge_deadline_note(challenge, decided_at: datetime | None = None) -> str:
    """deadline_note for a Challenge row; looks the decision date up when it is awarded and none is given."""
    if decided_at is None and challenge.status in ("awarded", "no_award"):
        decided_at = decision_dates([challenge.id]).get(challenge.id)
    return deadline_note(challenge.status, challenge.deadline, challenge.closed_at, decided_at)


def decision_dates(challenge_ids) -> dict[int, datetime]:
    """When the awards of these challenges were decided (awarded or no award), by challenge id; one query."""
    from sqlalchemy import select

    from marketplace.awards.models import AwardDecision
    from marketplace.extensions import db

    ids = list(challenge_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(AwardDecision.challenge_id, AwardDecision.created_at)
                              .where(AwardDecision.challenge_id.in_(ids)))
    return {challenge_id: decided_at for challenge_id, decided_at in rows}


def lang_attr(locale: str | None) -> Markup:
    """` dir="auto" lang="zh-Hans"` when user content is in another language than the page, else nothing.

    dir="auto" isolates it too: an English title keeps its own direction inside an Arabic sentence.
    """
    if not locale or locale == current_locale_id():
        return Markup("")
    return Markup(' dir="auto" lang="%s"') % escape(locale.replace("_", "-"))


def eligibility_in_words(excluded_countries: list[str], sanctioned_countries: list[str], *,
                         invite_only: bool = False) -> list[str]:
    """Who may take part, as sentences in the viewer's language: the page and the API say the same."""
    from babel.lists import format_list

    def countries(codes) -> str:
        return format_list([country_name(code) for code in codes], locale=current_locale_id())

    excluded = [c for c in excluded_countries if c not in sanctioned_countries]
    sentences = [_("Only solvers invited by the center may take part.") if invite_only else
                 _("Anyone who registers may take part, alone or in a team.")]
    if excluded:
        sentences.append(_("The center excludes residents of %(countries)s.", countries=countries(excluded)))
    if sanctioned_countries:
        sentences.append(_("Under the platform's sanctions list, residents of %(countries)s cannot take part in "
                           "any challenge.", countries=countries(sorted(sanctioned_countries))))
    if not excluded and not sanctioned_countries:
        sentences.append(_("Residents of every country may take part."))
    sentences.append(_("Staff of the center that posted the challenge and its reviewers cannot take part."))
    return sentences


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
