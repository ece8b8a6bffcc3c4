"""Calendar API: the caller's secret feed link (read, regenerate, revoke)."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.api import login_required_api
from marketplace.extensions import db
from marketplace.reminders import calendar

blp = Blueprint("reminders_api", __name__, url_prefix="/api/v1", description="Calendar feed link")


class CalendarUrlOut(ma.Schema):
    url = ma.fields.Url(required=True, metadata={
        "description": "The secret iCalendar feed of the caller's deadlines; anyone with it can read them."})


@blp.get("/me/calendar-url")
@blp.response(200, CalendarUrlOut)
@login_required_api
def get_calendar_url():
    """The caller's secret calendar feed URL (made on first use; the same URL until regenerated or revoked)."""
    feed = calendar.ensure_feed(current_user)
    db.session.commit()
    return {"url": calendar.feed_url(feed)}


@blp.post("/me/calendar-url")
@blp.response(201, CalendarUrlOut)
@login_required_api
def regenerate_calendar_url():
    """A new secret URL; the previous one answers 404 from now on."""
    feed = calendar.regenerate_feed(current_user)
    db.session.commit()
    return {"url": calendar.feed_url(feed)}


@blp.delete("/me/calendar-url")
@blp.response(204)
@login_required_api
def revoke_calendar_url():
    """Revoke the URL (404 from now on); a later GET makes a new one."""
    calendar.revoke_feed(current_user)
    db.session.commit()
