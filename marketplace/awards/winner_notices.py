"""Telling a winning solver each next step of their award, in the app and by mail, once per step.

Every place where a step completes calls `announce` (one recipient) or `announce_user` / `announce_award`
(all the affected recipients); it asks `next_steps.next_step` what comes next and tells the solver unless
they were told that step already. "Once" is a database invariant: a `winner_notices` row per (recipient,
step), claimed with INSERT ... ON CONFLICT DO NOTHING, so a retried request, a replayed webhook or a
concurrent worker never sends a step twice.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.awards import next_steps
from marketplace.awards.models import Award, AwardRecipient
from marketplace.db import IdMixin, UTCDateTime, utcnow
from marketplace.extensions import db
from marketplace.mail.services import queue_mail

KIND = "award_next_step"  # the in-app notification kind; the payload carries the step
# Steps worth a notice; "blocked" is said on the proposal page only (finance contacts the solver).
ANNOUNCED = frozenset({next_steps.CONFIRM_EMAIL, next_steps.ACCEPT_IP, next_steps.PAYEE_DETAILS,
                       next_steps.BANK_ACCOUNT, next_steps.PAYOUT_ACCOUNT, next_steps.AWAIT_RELEASE,
                       next_steps.RELEASE_REQUESTED, next_steps.PAYING, next_steps.PAID, next_steps.PAYOUT_FAILED})
OPEN_AWARD_STATES = ("awarded", "release_requested", "paying")



class WinnerNotice(IdMixin, db.Model):
    """One step told to one award recipient; the unique pair makes a second notice impossible."""

    __tablename__ = "winner_notices"

    recipient_id: Mapped[int] = mapped_column(ForeignKey("award_recipients.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("recipient_id", "step"),)


def register_notification_kind() -> None:
    from marketplace.solvers.notifications import register_kind

    register_kind(KIND, text=lambda payload, locale: next_steps.sentence(payload["step"], payload, locale),
                  link=lambda payload: next_steps.link_of(payload["step"], payload))


def _claim(recipient_id: int, step: str) -> bool:
    """True for the one caller that records this (recipient, step); False when it was told already."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = WinnerNotice.__table__
    statement = (insert(table).values(recipient_id=recipient_id, step=step, created_at=utcnow())
                 .on_conflict_do_nothing().returning(table.c.id))
    return db.session.execute(statement).first() is not None


def announce(recipient: AwardRecipient) -> str | None:
    """Tell the recipient their next step, unless they were told it already. Returns the step told, or None."""
    from marketplace.solvers import notifications

    step = next_steps.next_step(recipient)
    if step not in ANNOUNCED or recipient.amount_minor <= 0 or not _claim(recipient.id, step):
        return None
    user = recipient.user
    payload = next_steps.payload_of(recipient, step)
    notifications.add(user.id, KIND, payload, mailed=user.active)
    if user.active:
        with force_locale(user.locale):
            text = next_steps.sentence(step, payload, user.locale)
        link = current_app.config["PUBLIC_URL"].rstrip("/") + next_steps.link_of(step, payload)
        queue_mail(user.email, "award_paid" if step == next_steps.PAID else "award_next_step", locale=user.locale,
                   user=user, sentence=text, link=link)
    return step


def announce_award(award: Award) -> list[str | None]:
    """After the award itself moved (release requested, approved, paid): tell each recipient."""
    return [announce(recipient) for recipient in award.recipients]


def announce_user(user) -> list[str | None]:
    """After something of the solver's own changed (payee details, payout account): every open award of theirs."""
    recipients = db.session.scalars(select(AwardRecipient).join(Award, Award.id == AwardRecipient.award_id)
                                    .where(AwardRecipient.user_id == user.id,
                                           Award.status.in_(OPEN_AWARD_STATES)).order_by(AwardRecipient.id)).all()
    return [announce(recipient) for recipient in recipients]
