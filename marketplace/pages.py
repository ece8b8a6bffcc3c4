"""Site-wide pages and template helpers: home, language switcher, error pages."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from marketplace import http_cache, i18n, labels
from marketplace.audit.services import record
from marketplace.countries import country_name
from marketplace.errors import DomainError
from marketplace.extensions import csrf, db
from marketplace.text import render_markdown

bp = Blueprint("pages", __name__)


HOME_SHELVES = (("closing", "deadline"), ("highest", "award"), ("newest", "newest"))  # (shelf, list sort)
HOME_SHELF_SIZE = 3


@bp.get("/")
def home():
    """Open challenges three ways (closing soon, highest award, newest) and the figures that build trust."""
    from marketplace.analytics import cache, stats
    from marketplace.challenges.listing import public_page

    locale = i18n.current_locale_id()
    shelves = {name: public_page({"sort": sort, "per_page": HOME_SHELF_SIZE}, locale)
               for name, sort in HOME_SHELVES}
    figures, as_of = cache.cached("stats", stats.public_stats)
    http_cache.last_modified(as_of)
    return render_template("home.html", shelves=shelves, figures=figures, as_of=as_of)


@bp.post("/language")
@csrf.exempt
def switch_language():
    """Save the chosen interface language (on the account, or in the session) and go back.

    Signed-in users send the CSRF token (the choice is saved on their account). Visitors' pages
    carry no token, so a shared cache may serve them (see http_cache): their choice only touches
    their own session.
    """
    if current_user.is_authenticated:
        csrf.protect()
    chosen = i18n.normalise_locale(request.form.get("locale"))
    if chosen:
        i18n.remember_locale_choice(chosen)
        if current_user.is_authenticated and current_user.locale != chosen:
            current_user.locale = chosen
            record("user.settings_changed", "user", current_user.id, actor=current_user, locale=chosen)
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")))


def valid_next(target: str | None) -> str | None:
    """`target` if it is a same-site relative path, else None (the one home of the `next` rule).

    Control characters are refused too: browsers drop tabs and newlines from URLs,
    so "/<TAB>/evil.example" would become "//evil.example", and a newline cannot go in a header.
    """
    if (target and len(target) <= 2000 and target.startswith("/") and not target.startswith("//")
            and "\\" not in target and not any(ord(char) < 0x20 or ord(char) == 0x7F for char in target)):
        return target
    return None


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes home."""
    return valid_next(target) or url_for("pages.home")


def render_error_page(error: Exception):
    if isinstance(error, DomainError):
        status, message = error.status, str(error.detail or error.title)
    elif isinstance(error, HTTPException):
        status = error.code or 500
        message = {
            400: _("The request could not be understood."),
            401: _("Please sign in to continue."),
            403: _("You do not have permission to do this."),
            404: _("We could not find this page."),
            405: _("This action is not allowed here."),
            413: _("The upload is too large."),
            429: _("Too many attempts. Please wait a minute and try again."),
        }.get(status, _("Something went wrong on our side. Please try again."))
    else:
        status, message = 500, _("Something went wrong on our side. Please try again.")
    return render_template("error.html", status=status, message=message), status


def install(app: Flask) -> None:
    app.register_blueprint(bp)
    http_cache.install(app)
    app.jinja_env.globals.update(
        LANGUAGES=i18n.LANGUAGES,
        text_direction=i18n.text_direction,
        current_locale=i18n.current_locale_id,
        format_money=i18n.format_money,
        safe_next=_safe_next,
        role_label=labels.role_label,
        mail_status_label=labels.mail_status_label,
        challenge_type_label=labels.challenge_type_label,
        challenge_status_label=labels.challenge_status_label,
        stage_status_label=labels.stage_status_label,
        ip_terms_label=labels.ip_terms_label,
        proposal_status_label=labels.proposal_status_label,
        proposal_journey_label=labels.proposal_journey_label,
        member_status_label=labels.member_status_label,
        text_place_label=labels.text_place_label,
        award_status_label=labels.award_status_label,  # the award tables of awards/ and payments/
        country_name=country_name,  # the one template name for a country's localized name
        language_name=i18n.locale_display_name,
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": format_datetime(value, fmt) if value else ""
    app.jinja_env.globals["timezone_name"] = lambda: str(get_timezone())
    app.jinja_env.globals["now"] = lambda: datetime.now(get_timezone())

