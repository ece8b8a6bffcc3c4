"""Deadline reminders: 7 and 1 days before, once each, in the reader's language and time zone (both DBs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.mail.models import OutboxMail
from marketplace.reminders import services as reminders
from marketplace.reminders.models import SentReminder
from marketplace.solvers.models import Notification

DAY = timedelta(days=1)


@pytest.fixture
def center(make_org, make_user):
    org = make_org()
    return org, make_user(roles=[("center_manager", org)], country="CN")


@pytest.fixture
def solver(app, make_user):
    """solver(challenge, *, locale="en", timezone="UTC", draft=False, submit=False, withdraw=False) -> user."""
    from marketplace.accounts.models import User
    from marketplace.challenges import agreements
    from marketplace.challenges.models import Challenge
    from marketplace.proposals import services as proposals

    def make(challenge, *, locale="en", timezone="UTC", draft=False, submit=False, withdraw=False, accept=True):
        user = make_user(locale=locale)
        with app.test_request_context():
            row = db.session.get(User, user.id)
            row.timezone = timezone
            target = db.session.get(Challenge, challenge.id)
            if accept:
                agreements.accept(target, row, version=target.agreement_version)
            if draft or submit or withdraw:
                proposal = proposals.create_proposal(target, row, {"title": "A readout chain", "abstract": "Short.",
                                                                   "body": "The method."})
                if submit:
                    proposals.submit(proposal, row)
                if withdraw:
                    proposals.withdraw(proposal, row)
            db.session.commit()
        return user

    return make


def _reminder_mails(app, template="deadline_reminder"):
    with app.app_context():
        return db.session.scalars(select(OutboxMail).where(OutboxMail.template == template)
                                  .order_by(OutboxMail.id)).all()


def _run(app, now):
    with app.test_request_context():
        report = reminders.send_due_reminders(now)
        db.session.commit()
        return report


def _deadline(challenge):
    return challenge.deadline


def test_seven_and_one_day_windows_each_send_once(app, center, challenge_factory, solver):
    challenge = challenge_factory(*center, deadline=datetime.now(UTC) + 20 * DAY)
    user = solver(challenge)
    deadline = _deadline(challenge)

    assert _run(app, deadline - 8 * DAY).sent == 0  # before the 7-day window: nothing
    assert _reminder_mails(app) == []

    assert _run(app, deadline - 6 * DAY - timedelta(hours=20)).sent == 1  # inside the 7-day window
    assert _run(app, deadline - 6 * DAY).sent == 0  # the next minute's run: nothing new
    assert _run(app, deadline - 2 * DAY).sent == 0
    assert len(_reminder_mails(app)) == 1

    assert _run(app, deadline - timedelta(hours=20)).sent == 1  # the 1-day window
    assert _run(app, deadline - timedelta(hours=2)).sent == 0
    mails = _reminder_mails(app)
    assert [m.recipient for m in mails] == [user.email, user.email]
    assert "7 days" in mails[0].body_text and "1 day" in mails[1].body_text
    assert f"/challenges/{challenge.id}" in mails[0].body_text
    with app.app_context():
        offsets = db.session.scalars(select(SentReminder.offset_days).where(SentReminder.user_id == user.id)
                                     .order_by(SentReminder.offset_days)).all()
        assert offsets == [1, 7]
        notes = db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == "challenge_deadline")).all()
        assert len(notes) == 2


def test_late_joiner_gets_only_the_one_day_reminder(app, center, challenge_factory, solver):
    challenge = challenge_factory(*center, deadline=datetime.now(UTC) + 20 * DAY)
    solver(challenge)
    assert _run(app, _deadline(challenge) - timedelta(hours=10)).sent == 1
    with app.app_context():
        assert db.session.scalars(select(SentReminder.offset_days)).all() == [1]


def test_cli_twice_sends_one_mail_each(app, center, challenge_factory, solver):
    challenge = challenge_factory(*center, deadline=datetime.now(UTC) + 5 * DAY)
    first, second = solver(challenge), solver(challenge, draft=True)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "Reminders sent: 2" in result.output
    again = runner.invoke(args=["reminders", "send"])
    assert again.exit_code == 0, again.output
    assert "Reminders sent: 0" in again.output

    assert sorted(m.recipient for m in _reminder_mails(app)) == sorted([first.email, second.email])


def test_mail_in_the_solvers_language_and_time_zone(app, center, challenge_factory, solver):
    deadline = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
    challenge = challenge_factory(*center, deadline=deadline)
    german = solver(challenge, locale="de", timezone="Europe/Berlin")
    chinese = solver(challenge, locale="zh_Hans", timezone="Asia/Shanghai")
    _run(app, deadline - 3 * DAY)

    mails = {m.recipient: m for m in _reminder_mails(app)}
    assert mails[german.email].locale == "de" and mails[chinese.email].locale == "zh_Hans"
    assert "13:00" in mails[german.email].body_text and "Europe/Berlin" in mails[german.email].body_text
    assert "20:00" in mails[chinese.email].body_text and "Asia/Shanghai" in mails[chinese.email].body_text
    assert "用于晶圆缺陷检测的低噪声读出电路" in mails[chinese.email].body_text  # the challenge's Chinese title
    assert "Low-noise readout circuit" in mails[german.email].body_text  # no German text: the default locale


def test_submitted_withdrawn_and_strangers_are_not_reminded(app, center, challenge_factory, solver, make_user):
    challenge = challenge_factory(*center, deadline=datetime.now(UTC) + 20 * DAY)
    submitted = solver(challenge, submit=True)
    withdrawn = solver(challenge, withdraw=True)
    drafting = solver(challenge, draft=True)
    make_user()  # registered, never joined

    _run(app, _deadline(challenge) - 3 * DAY)
    assert [m.recipient for m in _reminder_mails(app)] == [drafting.email]
    assert submitted.email and withdrawn.email


def test_people_who_may_no_longer_take_part_are_not_reminded(app, center, challenge_factory, solver):
    """Accepted, then joined the center's staff or the reviewer pool: the participation rule drops them."""
    from marketplace.accounts import services as accounts
    from marketplace.accounts.models import User
    from marketplace.reviews.models import ChallengeReviewer

    challenge = challenge_factory(*center, deadline=datetime.now(UTC) + 20 * DAY)
    became_staff, became_reviewer, still_solver = solver(challenge), solver(challenge), solver(challenge)
    with app.test_request_context():
        accounts.grant_role(db.session.get(User, became_staff.id), "finance_officer", center[0])
        db.session.add(ChallengeReviewer(challenge_id=challenge.id, user_id=became_reviewer.id,
                                         added_by_id=center[1].id))
        db.session.commit()
    _run(app, _deadline(challenge) - 3 * DAY)
    assert [m.recipient for m in _reminder_mails(app)] == [still_solver.email]


def test_closed_and_cancelled_challenges_are_not_reminded(app, center, challenge_factory, solver):
    from marketplace.accounts.models import User
    from marketplace.challenges import services
    from marketplace.challenges.models import Challenge

    open_one = challenge_factory(*center, deadline=datetime.now(UTC) + 20 * DAY)
    cancelled = challenge_factory(*center, deadline=datetime.now(UTC) + 20 * DAY)
    solver(open_one)
    solver(cancelled)
    with app.test_request_context():
        services.cancel(db.session.get(Challenge, cancelled.id), db.session.get(User, center[1].id),
                        reason="Superseded by another challenge.")
        db.session.commit()
    _run(app, _deadline(open_one) - 3 * DAY)
    with app.app_context():
        assert db.session.scalars(select(SentReminder.object_id)).all() == [open_one.id]


def test_reviewers_are_reminded_of_due_reviews_once(app, center, challenge_factory, solver, make_user):
    from marketplace.accounts.models import User
    from marketplace.challenges import states
    from marketplace.challenges.models import Challenge
    from marketplace.proposals.models import Proposal
    from marketplace.reviews.models import Review

    challenge = challenge_factory(*center, deadline=datetime.now(UTC) + 2 * DAY)
    author = solver(challenge, submit=True)
    reviewer, finished = make_user(locale="fr"), make_user()
    due = datetime.now(UTC) + 10 * DAY
    with app.test_request_context():
        row = db.session.get(Challenge, challenge.id)
        manager = db.session.get(User, center[1].id)
        states.move(row, "closed", actor=manager, action="challenge.closed")
        states.move(row, "judging", actor=manager, action="challenge.judging")
        proposal = db.session.scalar(select(Proposal).where(Proposal.lead_id == author.id))
        db.session.add_all([
            Review(challenge_id=row.id, proposal_id=proposal.id, reviewer_id=reviewer.id, status="assigned",
                   pseudonym="P-1", due_at=due),
            Review(challenge_id=row.id, proposal_id=proposal.id, reviewer_id=finished.id, status="submitted",
                   pseudonym="P-1", due_at=due, submitted_at=datetime.now(UTC)),
        ])
        db.session.commit()

    assert _run(app, due - 5 * DAY).sent == 1
    assert _run(app, due - 5 * DAY + timedelta(minutes=1)).sent == 0
    mails = _reminder_mails(app, "review_due_reminder")
    assert [(m.recipient, m.locale) for m in mails] == [(reviewer.email, "fr")]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.kind == "review_due")) == 1


def test_notification_text_in_the_readers_language(app, center, challenge_factory, solver, login):
    challenge = challenge_factory(*center, deadline=datetime.now(UTC) + 20 * DAY)
    user = solver(challenge, locale="en")
    _run(app, _deadline(challenge) - 3 * DAY)
    client = login(user)
    page = client.get("/me/notifications")
    assert page.status_code == 200
    assert "Reminder: “Low-noise readout circuit for wafer defect sensors” closes on" in page.get_data(as_text=True)


def test_the_database_not_memory_keeps_it_once(app, center, challenge_factory, solver):
    """Another instance sends between this run's look-up and its send: the unique key makes this one skip."""
    challenge = challenge_factory(*center, deadline=datetime.now(UTC) + 20 * DAY)
    first, second = solver(challenge), solver(challenge)
    now = _deadline(challenge) - 3 * DAY
    with app.test_request_context():
        work = reminders.pending(now)
        assert sum(len(rows) for _kind, _offset, rows in work) == 2
        db.session.add(SentReminder(user_id=first.id, kind="challenge_deadline", object_id=challenge.id,
                                    offset_days=7, due_at=_deadline(challenge), sent_at=now))
        db.session.commit()
        report = reminders.send_due_reminders(now, work=work)
        db.session.commit()
    assert report.sent == 1
    assert [m.recipient for m in _reminder_mails(app)] == [second.email]
