"""The IP assignment each winning solver accepts before an award is paid.

The text is versioned (IP_TEXT_VERSION; change it whenever the wording changes) and depends on the
challenge's IP terms. What the solver saw, in the language they saw it, is stored with their
acceptance together with the version, so it can be shown exactly later.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marketplace.audit.services import record
from marketplace.awards import winner_notices
from marketplace.awards.models import Award, AwardRecipient
from marketplace.db import lock_for_update, utcnow
from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.i18n import format_money
from marketplace.money import Money

IP_TEXT_VERSION = "2027.1"


def text_version(challenge) -> str:
    return f"{IP_TEXT_VERSION}/{challenge.ip_terms}"


def _grant(challenge, center: str) -> str:
    if challenge.ip_terms == "exclusive_licence":
        return _("I grant %(center)s an exclusive, worldwide, perpetual and royalty-free licence to use, develop "
                 "and commercialise the intellectual property in my proposal; I will not license it to anyone else.",
                 center=center)
    if challenge.ip_terms == "non_exclusive_licence":
        return _("I grant %(center)s a non-exclusive, worldwide, perpetual and royalty-free licence to use, develop "
                 "and commercialise the intellectual property in my proposal; I keep the right to use and license "
                 "it myself.", center=center)
    if challenge.ip_terms == "solver_keeps":
        return _("I keep all intellectual property rights in my proposal. %(center)s may use the proposal as the "
                 "challenge agreement allows.", center=center)
    return _("I assign to %(center)s all rights, title and interest in the intellectual property in my proposal "
             "(inventions, designs, know-how, copyright and the right to apply for patents), and I will sign any "
             "further document needed to record this assignment.", center=center)


def assignment_text(award: Award, recipient: AwardRecipient) -> str:
    """The text in the current interface language, for this recipient of this award."""
    from marketplace.challenges.models import Challenge

    challenge = db.session.get(Challenge, award.challenge_id)
    _locale, title = challenge.localized("title", challenge.default_locale)
    center = challenge.organization.name
    amount = format_money(Money(recipient.amount_minor, award.currency).amount, award.currency)
    return "\n\n".join([
        _("Intellectual property assignment (version %(version)s)", version=text_version(challenge)),
        _("Challenge: %(title)s (#%(id)d). Award #%(award)d, my share: %(amount)s.",
          title=title, id=challenge.id, award=award.id, amount=amount),
        _grant(challenge, center),
        _("I confirm that the proposal is my own work (or my team's), that I have the right to make this "
          "declaration, and that it takes effect when my share of the award is paid to me."),
        _("Accepted by %(name)s.", name=recipient.user.display_name),
    ])


def recipient_of(award: Award, user) -> AwardRecipient | None:
    return next((r for r in award.recipients if r.user_id == getattr(user, "id", None)), None)


def can_view(award: Award, user) -> bool:
    from marketplace.challenges.models import Challenge

    if not (user and user.is_authenticated):
        return False
    return recipient_of(award, user) is not None or db.session.get(Challenge, award.challenge_id).is_staff(user)


def get_visible(award_id: int, user) -> Award:
    award = db.session.get(Award, award_id)
    if award is None or not can_view(award, user):
        raise NotFound(_l("No such award."))
    return award


def accept(award: Award, user, *, version: str | None = None) -> tuple[AwardRecipient, bool]:
    """Record the recipient's acceptance: (recipient, True) the first time, (recipient, False) after."""
    recipient = recipient_of(award, user)
    if recipient is None:
        raise Forbidden(_l("Only the winning solvers of this award accept its IP assignment."))
    lock_for_update(db.session, award)
    if award.status == "cancelled":
        raise Conflict(_l("This award was cancelled."))
    if recipient.ip_accepted_at is not None:
        return recipient, False
    current = text_version(award_challenge(award))
    if version is not None and version != current:
        raise Conflict(_l("The assignment text has changed (now version %(version)s). Read it again and accept "
                          "the current version.", version=current))
    recipient.ip_text = assignment_text(award, recipient)
    recipient.ip_text_version = current
    recipient.ip_accepted_at = utcnow()
    db.session.flush()
    record("award.ip_assigned", "award", award.id, actor=user, recipient_id=recipient.id, version=current)
    winner_notices.announce(recipient)  # e.g. "give your payee details next"
    return recipient, True


def award_challenge(award: Award):
    from marketplace.challenges.models import Challenge

    return db.session.get(Challenge, award.challenge_id)
