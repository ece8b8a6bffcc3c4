"""Deadline reminders of a challenge's later stages: to the finalists only, once per stage (a reminder kind of its
own, whose object is the stage, so stage 2's reminders are not taken for stage 1's already sent)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _

from marketplace.reminders import services as reminders

STAGE_DEADLINE = "stage_deadline"


def _stage_deadlines_due(due_after: datetime, due_until: datetime) -> list[reminders.Due]:
    from marketplace.extensions import db

    rows = reminders.open_deadlines_due(due_after, due_until, first_stage=False)
    if not rows:
        return []
    stage_of = {cid: (stage_id, deadline) for cid, deadline, stage_id in rows}
    people = db.session.execute(reminders.remindable_participants(stage_of).order_by("challenge_id", "user_id"))
    return [reminders.Due(user_id, stage_of[cid][0], stage_of[cid][1], {}) for user_id, cid in people]


def _describe_stages(stage_ids: list[int]) -> dict[int, dict]:
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.stages.models import ChallengeStage

    rows = db.session.execute(select(ChallengeStage.id, ChallengeStage.challenge_id, ChallengeStage.position)
                              .where(ChallengeStage.id.in_(stage_ids))).all()
    challenges = reminders.describe_challenges(sorted({cid for _sid, cid, _pos in rows}))
    return {sid: {**challenges[cid], "stage": position} for sid, cid, position in rows}


def register_reminder_kind() -> None:
    reminders.register_kind(reminders.ReminderKind(STAGE_DEADLINE, "deadline_reminder", _stage_deadlines_due,
                                                   _describe_stages))


def register_notification_kind() -> None:
    from marketplace.solvers.notifications import register_kind

    register_kind(
        STAGE_DEADLINE, link=lambda payload: f"/challenges/{payload['challenge_id']}",
        text=reminders.deadline_notification_text(lambda **values: _(
            "Reminder: the current stage of “%(title)s” closes on %(date)s.", **values)))
