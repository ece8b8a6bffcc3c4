"""Who sees analytics: a center's managers, security and finance officers (not its reviewers, whose review
is blind), and platform admins. Everyone else gets 404, whatever the id."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.challenges.models import Challenge
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.permissions import Role

ANALYTICS_ROLES = (Role.CENTER_MANAGER, Role.SECURITY_OFFICER, Role.FINANCE_OFFICER)


def analytics_org_ids(user) -> set[int]:
    if not (user and user.is_authenticated):
        return set()
    return user.organization_ids(*ANALYTICS_ROLES)


def can_see(user, organization_id: int) -> bool:
    if not (user and user.is_authenticated):
        return False
    return user.is_admin or organization_id in analytics_org_ids(user)


def challenge_for(challenge_id: int, user) -> Challenge:
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not can_see(user, challenge.organization_id):
        raise NotFound(_l("No such challenge."))
    return challenge


def program_for(program_id: int, user):
    from marketplace.programs.models import Program

    program = db.session.get(Program, program_id)
    if program is None or not can_see(user, program.organization_id):
        raise NotFound(_l("No such program."))
    return program


def require_admin(user) -> None:
    if not (user and user.is_authenticated and user.is_admin):
        raise NotFound(_l("We could not find this page."))
