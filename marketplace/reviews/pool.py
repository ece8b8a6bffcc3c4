"""A challenge's reviewer pool: who may review it, internal or external, and the reviewer agreement.

Anyone with an account may be asked to review (the expert database is where managers find them) except the
challenge's own solvers: a person on any proposal of the challenge, in any state, never reviews it. A pool member
sees nothing of the challenge's proposals until they accepted the reviewer agreement (confidentiality, no
conflicts, no use of the ideas); every later view and download is audited.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.challenges.models import Challenge
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.mail.services import queue_mail
from marketplace.permissions import ORGANIZATION_ROLES, Role
from marketplace.reviews.access import is_manager
from marketplace.reviews.conflicts.service import solver_ids
from marketplace.reviews.models import ChallengeReviewer, Review

AGREEMENT_VERSION = "reviewer-2027-01"
MAX_ADD_AT_ONCE = 200
CLOSED_STATES = ("awarded", "no_award", "cancelled")



def agreement_text() -> list[str]:
    """The reviewer agreement, paragraph by paragraph, in the reader's language."""
    return [
        _("Confidentiality. Proposals, their files and the other reviews are confidential. You will not share, "
          "copy or discuss them outside this platform, during the review or after it."),
        _("No conflicts of interest. You will declare any conflict of interest as soon as you notice it: you know "
          "or suspect who wrote a proposal, you worked, published or studied with an author in the last four "
          "years, you share an organization with an author, or you have any other reason that could bias your "
          "judgement. Declaring a conflict removes the proposal from your list without any blame."),
        _("No use of the ideas. You will not use, develop or pass on the ideas in the proposals you review, "
          "unless they become public by other means."),
        _("Blind review. You will not try to find out who wrote a proposal. Authors will not learn who you are."),
        _("Record. Every view and download of a proposal by you is recorded."),
    ]


def membership(challenge: Challenge, user) -> ChallengeReviewer | None:
    if not (user and user.is_authenticated):
        return None
    return db.session.scalar(select(ChallengeReviewer).where(
        ChallengeReviewer.challenge_id == challenge.id, ChallengeReviewer.user_id == user.id))


def has_accepted(member: ChallengeReviewer | None) -> bool:
    return bool(member and member.agreement_accepted_at and member.agreement_version == AGREEMENT_VERSION)


def require_agreement(challenge: Challenge, user) -> ChallengeReviewer:
    member = membership(challenge, user)
    if member is None:
        raise NotFound(_l("No such review."))
    if not has_accepted(member):
        raise Forbidden(_l("Accept the reviewer agreement (version %(version)s) before you see any proposal.",
                           version=AGREEMENT_VERSION))
    return member


def pool_of(challenge: Challenge) -> list[ChallengeReviewer]:
    return list(db.session.scalars(select(ChallengeReviewer).where(ChallengeReviewer.challenge_id == challenge.id)
                                   .order_by(ChallengeReviewer.id)))


def is_internal(challenge: Challenge, user: User) -> bool:
    """Internal reviewers are the center's own people (any role in the organization); the rest are external."""
    return challenge.organization_id in user.organization_ids(*ORGANIZATION_ROLES)


def add_reviewers(challenge: Challenge, actor, user_ids: list[int]) -> list[ChallengeReviewer]:
    """Add people to the pool; those already in it stay as they are. Returns the pool members for `user_ids`."""
    if not is_manager(challenge, actor):
        raise Forbidden(_l("Only center managers of this organization can do this."))
    if challenge.status in CLOSED_STATES:
        raise Conflict(_l("This challenge is %(state)s; its reviewer pool is closed.", state=challenge.status))
    wanted = list(dict.fromkeys(int(i) for i in user_ids))
    if not wanted:
        message = _l("Name at least one reviewer.")
        raise ValidationFailed(message, errors={"user_ids": [message]})
    if len(wanted) > MAX_ADD_AT_ONCE:
        message = _l("Add at most %(n)d reviewers at once.", n=MAX_ADD_AT_ONCE)
        raise ValidationFailed(message, errors={"user_ids": [message]})
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(wanted)))}
    problems = [str(_l("There is no active account %(id)d.", id=uid)) for uid in wanted
                if uid not in users or not users[uid].active]
    solvers = solver_ids(challenge.id)
    problems += [str(_l("%(name)s takes part in this challenge as a solver and can never review it.",
                        name=users[uid].display_name)) for uid in wanted if uid in users and uid in solvers]
    if problems:
        raise ValidationFailed(_l("Some people cannot join the reviewer pool."), errors={"user_ids": problems})

    existing = {m.user_id: m for m in pool_of(challenge)}
    members = []
    for uid in wanted:
        member = existing.get(uid)
        if member is None:
            member = ChallengeReviewer(challenge_id=challenge.id, user_id=uid, added_by_id=actor.id,
                                       internal=is_internal(challenge, users[uid]))
            db.session.add(member)
            db.session.flush()
            record("review.pool_added", "challenge", challenge.id, actor=actor, reviewer=uid,
                   internal=member.internal)
            _invite(challenge, users[uid])
        members.append(member)
    return members


def _invite(challenge: Challenge, user: User) -> None:
    _locale, title = challenge.localized("title", user.locale)
    link = current_app.config["PUBLIC_URL"].rstrip("/") + f"/reviews/agreement/{challenge.id}"
    queue_mail(user.email, "reviewer_invited", locale=user.locale, user=user, challenge_title=title, link=link)


def remove_reviewer(challenge: Challenge, actor, user_id: int) -> None:
    if not is_manager(challenge, actor):
        raise Forbidden(_l("Only center managers of this organization can do this."))
    member = db.session.scalar(select(ChallengeReviewer).where(
        ChallengeReviewer.challenge_id == challenge.id, ChallengeReviewer.user_id == user_id))
    if member is None:
        raise NotFound(_l("This person is not in the reviewer pool."))
    active = db.session.scalar(select(func.count(Review.id)).where(
        Review.challenge_id == challenge.id, Review.reviewer_id == user_id, Review.status != "released"))
    if active:
        raise Conflict(_l("This reviewer has reviews assigned; they leave the pool by declaring a conflict or "
                          "after the review."))
    db.session.delete(member)
    record("review.pool_removed", "challenge", challenge.id, actor=actor, reviewer=user_id)


def accept_agreement(challenge: Challenge, user, *, version: str) -> ChallengeReviewer:
    member = membership(challenge, user)
    if member is None:
        raise NotFound(_l("No such challenge."))
    if version != AGREEMENT_VERSION:
        message = _l("The agreement is now version %(version)s; read it again and accept that version.",
                     version=AGREEMENT_VERSION)
        raise ValidationFailed(message, errors={"version": [message]})
    if not has_accepted(member):
        member.agreement_version, member.agreement_accepted_at = AGREEMENT_VERSION, utcnow()
        record("review.agreement_accepted", "challenge", challenge.id, actor=user, version=AGREEMENT_VERSION)
    return member


def reviewer_role_holders(challenge: Challenge) -> list[User]:
    """The organization's people with the reviewer role: the internal reviewers a manager can add in one click."""
    from marketplace.accounts.models import RoleGrant

    return list(db.session.scalars(select(User).join(RoleGrant, RoleGrant.user_id == User.id).where(
        RoleGrant.role == Role.REVIEWER.value, RoleGrant.organization_id == challenge.organization_id,
        User.active.is_(True)).order_by(User.display_name)))
