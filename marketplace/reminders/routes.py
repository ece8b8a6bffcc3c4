"""Calendar pages: the secret feed, a challenge's public .ics file, and the link controls."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.i18n import current_locale_id, normalise_locale
from marketplace.reminders import calendar

bp = Blueprint("reminders", __name__, template_folder="templates", static_folder="static",
               static_url_path="/reminders/static")


def _ics(body: str, filename: str, *, public: bool) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=300" if public else "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _feed(token: str | None) -> Response:
    user = calendar.owner_of(token)
    if user is None:
        abort(404)
    locale = normalise_locale(user.locale) or "en"
    with force_locale(locale):
        body = calendar.render_calendar(calendar.events_for(user, locale), name=_("InnoBridge deadlines"))
    return _ics(body, "innobridge.ics", public=False)


@bp.get("/me/calendar.ics")
def my_feed():
    """The feed by query string (?token=...): what calendar apps subscribe to."""
    return _feed(request.args.get("token"))


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    return _feed(token)


@bp.get("/challenges/<int:challenge_id>/calendar.ics")
def challenge_ics(challenge_id: int):
    """A publicly visible challenge's deadline as a file; anything else is 404."""
    from marketplace.challenges.models import Challenge

    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not challenge.is_public:
        raise NotFound(_("This challenge does not exist or is not public."))
    locale = current_locale_id()
    body = calendar.render_calendar(calendar.challenge_deadline_events(challenge, locale),
                                    name=challenge.localized("title", locale)[1])
    return _ics(body, f"challenge-{challenge.id}.ics", public=True)


def current_feed_url() -> str | None:
    """For the panel on the account page (its forms carry csrf_token(), checked by CSRFProtect)."""
    if not current_user.is_authenticated:
        return None
    feed = calendar.feed_of(current_user)
    return calendar.feed_url(feed) if feed else None


@bp.post("/me/calendar-url")
@login_required
def make_link():
    """Create (first time) or regenerate (action=regenerate) the secret link."""
    if request.form.get("action") == "regenerate":
        calendar.regenerate_feed(current_user)
        flash(_("A new calendar link was made; the old one no longer works."), "success")
    else:
        calendar.ensure_feed(current_user)
        flash(_("Your calendar link is ready."), "success")
    db.session.commit()
    return redirect(url_for("accounts.settings") + "#calendar-heading")


@bp.post("/me/calendar-url/revoke")
@login_required
def revoke_link():
    calendar.revoke_feed(current_user)
    db.session.commit()
    flash(_("Your calendar link was revoked."), "success")
    return redirect(url_for("accounts.settings") + "#calendar-heading")
