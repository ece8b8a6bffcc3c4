"""Deadline reminders: who is reminded of what, and the run that sends each reminder exactly once.

The rules live here and nowhere else:

- `deadline_participants()`: the solvers concerned by a challenge's deadline (accepted its agreement, or
  an accepted member of a draft proposal). The calendar feed lists these challenges too.
- `remindable_participants()`: of those, the ones still to be reminded: nobody whose proposal was
  submitted, nobody who withdrew (unless they hold a new draft), only open challenges.
- `review_due_rows()`: reviewers with open (assigned or draft) reviews of a challenge in judging.

`send_due_reminders(now)` sends, for every offset in REMINDER_DAYS (default 7 and 1 days), the
reminders whose deadline falls in that offset's window: (next smaller offset, offset] days from now.
A run that finds a user already in the 1-day window sends only the 1-day reminder. Each reminder is
inserted into `sent_reminders` first (unique per user, kind, object, offset; conflicts are skipped),
and only the rows this run inserted are mailed and notified, so neither a second run nor a second
instance can send one twice. Further kinds (stage deadlines, appeal windows) plug in with
`register_kind`.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from babel.dates import format_datetime
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select, text, union

from marketplace.accounts.models import User
from marketplace.audit.services import record
from marketplace.bulk import insert_rows
from marketplace.challenges.agreement_models import AgreementAcceptance
from marketplace.challenges.models import Challenge, ChallengeText
from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.i18n import normalise_locale
from marketplace.mail.services import queue_mails
from marketplace.proposals.models import Proposal, ProposalMember
from marketplace.reminders.models import SentReminder
from marketplace.reviews.models import Review
from marketplace.solvers.models import Notification
from marketplace.solvers.notifications import localized_title
from marketplace.solvers.notifications import register_kind as register_notification_kind

DEFAULT_REMINDER_DAYS = (7, 1)
BATCH_SIZE = 2000

CHALLENGE_DEADLINE = "challenge_deadline"
REVIEW_DUE = "review_due"



# --- who is concerned ------------------------------------------------------------------------------------

def _members_of(status: str):
    """(user_id, challenge_id) of the accepted members (lead included) of proposals in `status`."""
    return (select(ProposalMember.user_id.label("user_id"), Proposal.challenge_id.label("challenge_id"))
            .join(Proposal, Proposal.id == ProposalMember.proposal_id)
            .where(Proposal.status == status, ProposalMember.status == "accepted",
                   ProposalMember.user_id.is_not(None)))


def _is_member(status: str, user_id, challenge_id):
    """Whether the user is an accepted author of a proposal in `status` in the challenge's current stage."""
    return exists().where(ProposalMember.proposal_id == Proposal.id, Proposal.challenge_id == challenge_id,
                          Challenge.id == challenge_id, Proposal.stage_id == Challenge.current_stage_id,
                          Proposal.status == status,
                          ProposalMember.status == "accepted", ProposalMember.user_id == user_id)


def deadline_participants(*, user_id: int | None = None, challenge_ids: Iterable[int] | None = None):
    """(user_id, challenge_id) pairs: accepted the challenge's agreement (any version) or holds a draft."""
    accepted = select(AgreementAcceptance.user_id.label("user_id"),
                      AgreementAcceptance.challenge_id.label("challenge_id"))
    drafts = _members_of("draft")
    if user_id is not None:
        accepted = accepted.where(AgreementAcceptance.user_id == user_id)
        drafts = drafts.where(ProposalMember.user_id == user_id)
    if challenge_ids is not None:
        ids = list(challenge_ids)
        accepted = accepted.where(AgreementAcceptance.challenge_id.in_(ids))
        drafts = drafts.where(Proposal.challenge_id.in_(ids))
    return union(accepted, drafts).subquery("participants")


def remindable_participants(challenge_ids: Iterable[int]):
    """Participants still to be reminded: not submitted, not withdrawn (unless holding a new draft), and not
    people who may no longer take part (they joined the center's staff or the challenge's reviewer pool, or
    the challenge moved on to a stage they did not advance to)."""
    from marketplace.stages.rules import may_enter_clause

    people = deadline_participants(challenge_ids=challenge_ids)
    return (select(people.c.user_id, people.c.challenge_id)
            .where(~Challenge.conflict_clause(people.c.user_id, people.c.challenge_id),
                   may_enter_clause(people.c.user_id, people.c.challenge_id),
                   ~_is_member("submitted", people.c.user_id, people.c.challenge_id),
                   or_(_is_member("draft", people.c.user_id, people.c.challenge_id),
                       ~_is_member("withdrawn", people.c.user_id, people.c.challenge_id))))


def review_due_rows(*, user_id: int | None = None, due_after: datetime | None = None,
                    due_until: datetime | None = None):
    """(user_id, challenge_id, due_at, open reviews) per reviewer and challenge in judging; due_at is the
    earliest due date of the reviewer's open reviews there."""
    from marketplace.reviews.scoring import ACTIVE_STATES

    due = func.min(Review.due_at)
    statement = (select(Review.reviewer_id.label("user_id"), Review.challenge_id.label("challenge_id"),
                        due.label("due_at"), func.count(Review.id).label("open_reviews"))
                 .join(Challenge, Challenge.id == Review.challenge_id)
                 .where(Challenge.status == "judging", Review.status.in_(ACTIVE_STATES), Review.due_at.is_not(None))
                 .group_by(Review.reviewer_id, Review.challenge_id))
    if user_id is not None:
        statement = statement.where(Review.reviewer_id == user_id)
    if due_after is not None:
        statement = statement.having(and_(due > due_after, due <= due_until))
    return statement


# --- reminder kinds -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Due:
    user_id: int
    object_id: int
    due_at: datetime
    extra: dict


@dataclass(frozen=True)
class ReminderKind:
    name: str
    mail_template: str
    due: Callable[[datetime, datetime], list[Due]]  # (due_after, due_until) -> who is due, sorted
    describe: Callable[[list[int]], dict[int, dict]]  # object ids -> payload facts (title map, link ...)


_KINDS: dict[str, ReminderKind] = {}


def register_kind(kind: ReminderKind) -> None:
    """Add a reminder kind (e.g. stage deadlines or appeal windows) to every run."""
    _KINDS[kind.name] = kind


def open_deadlines_due(due_after: datetime, due_until: datetime, *, first_stage: bool):
    """(challenge id, deadline, current stage id) of the open challenges whose (current stage's) deadline falls in
    the window: in their first stage (everyone may take part) or in a later one (finalists only)."""
    from marketplace.stages.models import ChallengeStage

    position = ChallengeStage.position == 1 if first_stage else ChallengeStage.position > 1
    return db.session.execute(
        select(Challenge.id, Challenge.deadline, Challenge.current_stage_id)
        .join(ChallengeStage, ChallengeStage.id == Challenge.current_stage_id)
        .where(Challenge.status == "open", Challenge.deadline > due_after, Challenge.deadline <= due_until,
               position)).all()


def _challenge_deadlines_due(due_after: datetime, due_until: datetime) -> list[Due]:
    challenges = [(cid, deadline) for cid, deadline, _stage in open_deadlines_due(due_after, due_until,
                                                                                   first_stage=True)]
    if not challenges:
        return []
    deadlines = dict(challenges)
    rows = db.session.execute(remindable_participants(deadlines)
                              .order_by("challenge_id", "user_id")).all()
    return [Due(user_id, challenge_id, deadlines[challenge_id], {}) for user_id, challenge_id in rows]


def _reviews_due(due_after: datetime, due_until: datetime) -> list[Due]:
    rows = db.session.execute(review_due_rows(due_after=due_after, due_until=due_until)
                              .order_by(Review.challenge_id, Review.reviewer_id)).all()
    return [Due(row.user_id, row.challenge_id, row.due_at, {"open_reviews": row.open_reviews}) for row in rows]


def describe_challenges(challenge_ids: list[int]) -> dict[int, dict]:
    """Title map, default locale and link of each challenge (what mails and notifications show)."""
    facts: dict[int, dict] = {}
    for challenge_id, default_locale in db.session.execute(
            select(Challenge.id, Challenge.default_locale).where(Challenge.id.in_(challenge_ids))):
        facts[challenge_id] = {"challenge_id": challenge_id, "default_locale": default_locale, "title": {}}
    for challenge_id, locale, title in db.session.execute(
            select(ChallengeText.challenge_id, ChallengeText.locale, ChallengeText.title)
            .where(ChallengeText.challenge_id.in_(challenge_ids))):
        facts[challenge_id]["title"][locale] = title
    return facts


def register_kinds() -> None:
    """The reminder kinds this module sends (reminders.register_reminder_kinds; later stages: stage_deadlines)."""
    register_kind(ReminderKind(CHALLENGE_DEADLINE, "deadline_reminder", _challenge_deadlines_due, describe_challenges))
    register_kind(ReminderKind(REVIEW_DUE, "review_due_reminder", _reviews_due, describe_challenges))


# --- texts -------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def local_time(moment: datetime, timezone: str | None, locale: str) -> str:
    """`moment` in the reader's time zone and language, with the zone named."""
    try:
        zone = zoneinfo.ZoneInfo(timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone, timezone = zoneinfo.ZoneInfo("UTC"), "UTC"
    return f"{format_datetime(moment, 'medium', tzinfo=zone, locale=locale)} ({timezone or 'UTC'})"


def days_left(due_at: datetime, now: datetime) -> int:
    """Whole days left, rounded up (a deadline 20 hours away is "in 1 day")."""
    return max(0, -(-int((due_at - now).total_seconds()) // 86400))


def deadline_notification_text(message):
    def text(payload: dict, locale: str) -> str:
        from flask_babel import format_datetime as format_local

        due = datetime.fromisoformat(payload["due_at"])
        return message(title=localized_title(payload, locale), date=format_local(due, "medium"))
    return text


def register_notification_kinds() -> None:
    """How this module's reminders read in the notification list."""
    register_notification_kind(
        CHALLENGE_DEADLINE, link=lambda payload: f"/challenges/{payload['challenge_id']}",
        text=deadline_notification_text(lambda **values: _("Reminder: “%(title)s” closes on %(date)s.", **values)))
    register_notification_kind(
        REVIEW_DUE, link=lambda payload: "/reviews",
        text=deadline_notification_text(lambda **values: _(
            "Reminder: your reviews for “%(title)s” are due on %(date)s.", **values)))


# --- the run --------------------------------------------------------------------------------------------------

@dataclass
class RunReport:
    due: int = 0
    sent: int = 0
    by_kind: dict | None = None


def reminder_days() -> tuple[int, ...]:
    days = current_app.config.get("REMINDER_DAYS") or DEFAULT_REMINDER_DAYS
    return tuple(sorted({int(d) for d in days if int(d) > 0}, reverse=True))


def windows(now: datetime) -> list[tuple[int, datetime, datetime]]:
    """(offset, due_after, due_until) per offset: a deadline in (now + next offset, now + offset]."""
    days = reminder_days()
    return [(offset, now + timedelta(days=days[i + 1] if i + 1 < len(days) else 0), now + timedelta(days=offset))
            for i, offset in enumerate(days)]


def pending(now: datetime | None = None) -> list[tuple[ReminderKind, int, list[Due]]]:
    """What a run would send: per kind and offset, the due rows not sent yet."""
    now = now or utcnow()
    work = []
    for kind in _KINDS.values():
        for offset, due_after, due_until in windows(now):
            rows = kind.due(due_after, due_until)
            if rows:
                sent = _already_sent(kind.name, offset, {row.object_id for row in rows})
                rows = [row for row in rows if (row.user_id, row.object_id) not in sent]
            if rows:
                work.append((kind, offset, rows))
    return work


def _already_sent(kind: str, offset: int, object_ids: set[int]) -> set[tuple[int, int]]:
    return set(db.session.execute(select(SentReminder.user_id, SentReminder.object_id).where(
        SentReminder.kind == kind, SentReminder.offset_days == offset,
        SentReminder.object_id.in_(sorted(object_ids)))).all())


def _claim(kind: str, offset: int, rows: list[Due], now: datetime) -> list[Due]:
    """Insert the sent-reminder rows; return those this call inserted (a conflict means sent elsewhere)."""
    table = SentReminder.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement with three arrays: nothing for the driver to parse per row.
        inserted = db.session.execute(text(
            "INSERT INTO sent_reminders (user_id, kind, object_id, offset_days, due_at, sent_at) "
            "SELECT u, :kind, o, :offset, d, :now FROM unnest(:users, :objects, :dues) AS t(u, o, d) "
            "ON CONFLICT DO NOTHING RETURNING user_id, object_id"
        ), {"kind": kind, "offset": offset, "now": now.astimezone(UTC).replace(tzinfo=None),
            "users": [r.user_id for r in rows], "objects": [r.object_id for r in rows],
            "dues": [r.due_at.astimezone(UTC).replace(tzinfo=None) for r in rows]}).all()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        values = [{"user_id": r.user_id, "kind": kind, "object_id": r.object_id, "offset_days": offset,
                   "due_at": r.due_at, "sent_at": now} for r in rows]
        inserted = db.session.execute(sqlite_insert(table).on_conflict_do_nothing()
                                      .returning(table.c.user_id, table.c.object_id), values).all()
    mine = set(map(tuple, inserted))
    return [r for r in rows if (r.user_id, r.object_id) in mine]


def _send_batch(kind: ReminderKind, offset: int, rows: list[Due], facts: dict[int, dict], now: datetime) -> int:
    rows = _claim(kind.name, offset, rows, now)
    if not rows:
        return 0
    users = {u.id: u for u in db.session.execute(
        select(User.id, User.email, User.display_name, User.locale, User.timezone, User.active)
        .where(User.id.in_({r.user_id for r in rows}))).all()}
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    mails, notes = [], []
    for row in rows:
        user = users[row.user_id]
        if not user.active:
            continue
        fact = facts[row.object_id]
        payload = {**fact, "due_at": row.due_at.isoformat(), "offset_days": offset, **row.extra}
        notes.append({"user_id": user.id, "kind": kind.name, "payload": payload, "mailed": True, "created_at": now})
        locale = normalise_locale(user.locale) or "en"
        mails.append((user.email, locale, {
            "name": user.display_name, "title": localized_title(fact, locale), "extra": row.extra,
            "date": local_time(row.due_at, user.timezone, locale), "days_left": days_left(row.due_at, now),
            "link": f"{base}/challenges/{fact['challenge_id']}" if kind.mail_template == "deadline_reminder"
            else f"{base}/reviews",
        }))
    insert_rows(Notification.__table__, notes)
    sent = len(notes)
    queue_mails(kind.mail_template, mails)
    per_object: dict[int, int] = {}
    for row in rows:
        per_object[row.object_id] = per_object.get(row.object_id, 0) + 1
    for object_id, count in sorted(per_object.items()):
        record("reminder.sent", "challenge", object_id, kind=kind.name, offset_days=offset, recipients=count)
    db.session.flush()
    return sent


def send_due_reminders(now: datetime | None = None, *, work=None,
                       on_batch: Callable[[int, int], None] | None = None) -> RunReport:
    """Send every reminder that is due and not sent yet; flushes, never commits.

    `on_batch(due_in_batch, sent_in_batch)` is called after each flushed batch (the CLI commits there and
    moves its progress bar), so a crash loses at most one batch's work and never sends a reminder twice.
    """
    now = now or utcnow()
    work = pending(now) if work is None else work
    report = RunReport(due=sum(len(rows) for _kind, _offset, rows in work), by_kind={})
    for kind, offset, rows in work:
        facts = kind.describe(sorted({row.object_id for row in rows}))
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start:start + BATCH_SIZE]
            sent = _send_batch(kind, offset, batch, facts, now)
            report.sent += sent
            key = f"{kind.name}/{offset}"
            report.by_kind[key] = report.by_kind.get(key, 0) + sent
            if on_batch:
                on_batch(len(batch), sent)
    return report
