"""Solvers API: the expert profile, the expert database (staff), interests, alert settings, notifications."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from marketplace.api import PageArgs, login_required_api, problem
from marketplace.extensions import db
from marketplace.i18n import current_locale_id
from marketplace.solvers import alerts, experts, notifications, profiles, schemas
from marketplace.solvers.vocabulary import FIELDS, VOCABULARY, field_label

blp = Blueprint("solvers_api", __name__, url_prefix="/api/v1", description="Expert profiles, alerts, notifications")


def _json(view: dict) -> dict:
    """Timestamps as ISO 8601 with offset, as the contract wants (Flask would write RFC 822)."""
    if view.get("updated_at") is not None:
        view["updated_at"] = view["updated_at"].isoformat()
    return view


def _own_profile_view() -> dict:
    profile = profiles.get_profile(current_user) or profiles.blank_profile(current_user)
    return _json(profiles.full_view(profile, current_user))


# --- the expert profile -----------------------------------------------------------------------------

@blp.get("/me/profile")
@login_required_api
def get_my_profile():
    """The caller's expert profile, every field (an empty profile before the first save)."""
    return _own_profile_view()


@blp.put("/me/profile")
@blp.arguments(schemas.ProfileIn)
@login_required_api
def put_my_profile(data):
    """Save the caller's expert profile. Fields left out keep their stored value."""
    profiles.save_profile(current_user, data, actor=current_user)
    db.session.commit()
    return _own_profile_view()


@blp.get("/solvers/<int:user_id>")
def get_solver(user_id: int):
    """A solver's public profile: only the fields they made public."""
    profile = profiles.public_profile(user_id)
    return profiles.public_view(profile, profile.user)


@blp.get("/expertise-vocabulary")
def expertise_vocabulary():
    """The controlled expertise tags per field (free tags are allowed too)."""
    return {"fields": [{"code": code, "label": field_label(code), "tags": list(VOCABULARY.get(code, ()))}
                       for code in FIELDS]}


# --- the expert database (staff) ---------------------------------------------------------------------

@blp.get("/experts")
@blp.arguments(schemas.ExpertArgs, location="query")
@login_required_api
def list_experts(args):
    """Search the expert database (any staff role): public fields; private ones for platform admins only."""
    if not current_user.is_staff:
        return problem(403, "Forbidden", str(_l("Only staff of an innovation center can search the expert database.")))
    query = experts.ExpertQuery.from_args(args)
    rows, total = experts.search_experts(query, viewer=current_user)
    return {"items": [_json(profiles.view_for(profile, profile.user, current_user)) for profile in rows],
            "page": query.page, "per_page": query.per_page, "total": total}


# --- interests and alert settings --------------------------------------------------------------------

@blp.get("/me/interests")
@login_required_api
def list_interests():
    items = schemas.InterestOut(many=True).dump(alerts.interests_of(current_user))
    return {"items": items, "page": 1, "per_page": max(len(items), 1), "total": len(items)}


@blp.post("/me/interests")
@blp.arguments(schemas.InterestIn)
@login_required_api
def follow(data):
    """Follow a field, a tag or a keyword: 201, or 200 when already followed."""
    interest, created = alerts.follow(current_user, data["kind"], data["value"], actor=current_user)
    db.session.commit()
    return schemas.InterestOut().dump(interest), 201 if created else 200


@blp.delete("/me/interests/<int:interest_id>")
@blp.response(204)
@login_required_api
def unfollow_by_id(interest_id: int):
    alerts.unfollow(current_user, alerts.find_interest(current_user, interest_id=interest_id), actor=current_user)
    db.session.commit()
    return "", 204


@blp.delete("/me/interests")
@blp.arguments(schemas.InterestQuery, location="query")
@blp.response(204)
@login_required_api
def unfollow(args):
    """Stop following: DELETE /me/interests?kind=tag&value=mems."""
    alerts.unfollow(current_user, alerts.find_interest(current_user, kind=args["kind"], value=args["value"]),
                    actor=current_user)
    db.session.commit()
    return "", 204


@blp.get("/me/alert-settings")
@login_required_api
def get_alert_settings():
    return schemas.AlertSettingsOut().dump(alerts.settings_of(current_user))


@blp.put("/me/alert-settings")
@blp.arguments(schemas.AlertSettingsIn)
@login_required_api
def put_alert_settings(data):
    """{"digest": true}: one summary mail (flask notifications digest) instead of a mail per challenge."""
    settings = alerts.set_digest(current_user, data["digest"], actor=current_user)
    db.session.commit()
    return schemas.AlertSettingsOut().dump(settings)


# --- notifications -----------------------------------------------------------------------------------

@blp.get("/me/notifications")
@blp.arguments(schemas.NotificationArgs, location="query")
@login_required_api
def list_notifications(args):
    """Newest first, each rendered in the caller's language; `unread` counts all unread ones."""
    rows, total = notifications.page_for(current_user, page=args["page"], per_page=args["per_page"],
                                         unread_only=args["unread"])
    locale = current_locale_id()
    return {"items": [_dump_notification(n, locale) for n in rows], "page": args["page"],
            "per_page": args["per_page"], "total": total, "unread": notifications.unread_count(current_user)}


def _dump_notification(notification, locale: str) -> dict:
    item = notifications.as_dict(notification, locale)
    for key in ("read_at", "created_at"):
        item[key] = item[key].isoformat() if item[key] else None
    return item


@blp.post("/me/notifications/read")
@blp.arguments(schemas.ReadIn)
@login_required_api
def read_notifications(data):
    """{"ids": [..]} or {"all": true}: mark the caller's notifications read (ids of others are ignored)."""
    updated = notifications.mark_read(current_user, None if data["all"] else data["ids"])
    db.session.commit()
    return {"updated": updated, "unread": notifications.unread_count(current_user)}


__all__ = ["blp", "PageArgs"]
