"""Roles and the permission helpers that routes call first thing."""

from __future__ import annotations

import enum
import functools

from flask import abort
from flask_login import current_user

from marketplace.errors import NotFound
from marketplace.extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"
    CENTER_MANAGER = "center_manager"
    SECURITY_OFFICER = "security_officer"
    FINANCE_OFFICER = "finance_officer"
    REVIEWER = "reviewer"
    SOLVER = "solver"  # implicit: everyone who registers


ORGANIZATION_ROLES = (Role.CENTER_MANAGER, Role.SECURITY_OFFICER, Role.FINANCE_OFFICER, Role.REVIEWER)
STAFF_ROLES = (Role.ADMIN, *ORGANIZATION_ROLES)
# The center's own staff. A reviewer is not: reviewers must never see who wrote a proposal.
SEEKER_STAFF_ROLES = (Role.CENTER_MANAGER, Role.SECURITY_OFFICER, Role.FINANCE_OFFICER)


def require_roles(*roles: Role, not_found: bool = False):
    """Refuse (403, or 404 to hide existence) unless the user holds one of the roles anywhere."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401)
            if not any(current_user.has_role(role) for role in roles):
                abort(404 if not_found else 403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def visible_or_not_found(model, row_id: int, user, missing):
    """The `model` row if `user` may see it (its `can_view`), else NotFound saying `missing`.

    A row the user may not see reads exactly like one that does not exist: never leak existence.
    """
    row = db.session.get(model, row_id)
    if row is None or not row.can_view(user):
        raise NotFound(missing)
    return row
