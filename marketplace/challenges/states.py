"""The challenge state machine: the one table of allowed moves and the one function that moves."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.audit.services import record
from marketplace.errors import Conflict
from marketplace.labels import challenge_status_label

TRANSITIONS: dict[str, set[str]] = {
    "draft": {"in_clearance", "cancelled"},
    "in_clearance": {"cleared", "draft", "cancelled"},
    "cleared": {"open", "in_clearance", "cancelled"},  # an edit after clearance goes back through it
    "open": {"closed", "cancelled"},
    # Back to open only when a stage advances and the next stage starts taking proposals (stages.services).
    "closed": {"judging", "no_award", "cancelled", "open"},
    "judging": {"awarded", "no_award", "cancelled", "open"},
    "awarded": set(),
    "no_award": set(),
    "cancelled": set(),
}


def move(challenge, to: str, *, actor, action: str, **data) -> None:
    """Move `challenge` to state `to` or raise Conflict (409); audited."""
    if to not in TRANSITIONS.get(challenge.status, set()):
        raise Conflict(_l("This challenge is %(state)s; it cannot become %(target)s.",
                          state=challenge_status_label(challenge.status), target=challenge_status_label(to)))
    previous = challenge.status
    challenge.status = to
    record(action, "challenge", challenge.id, actor=actor, **{"from": previous, "to": to}, **data)


def require_state(challenge, *states: str, shown: bool = False) -> None:
    """Conflict (409) unless the challenge is in one of `states`. `shown`: as readers see it (Challenge.shown_status:
    open past its deadline is closed), for rules that must not act on a challenge close-due has yet to close."""
    status = challenge.shown_status if shown else challenge.status
    if status not in states:
        raise Conflict(_l("This challenge is %(state)s; this is possible only when it is %(allowed)s.",
                          state=challenge_status_label(status),
                          allowed=" / ".join(challenge_status_label(s) for s in states)))


# --- what a deadline means to a reader ------------------------------------------------------------

def deadline_phase(status: str, deadline, now=None) -> str:
    """The one home of "is the clock still running?" for a challenge in `status` with `deadline`.

    `counting` (open or not yet published, deadline ahead: show the time left), `closed` (closed, judging,
    or open past its deadline before close-due ran), `awarded`, `no_award`, `cancelled`, or `passed` (a
    draft whose deadline went by). Closed and awarded challenges never count down; page_helpers.deadline_note
    words each phase.
    """
    from datetime import UTC, datetime

    if status in ("awarded", "no_award", "cancelled"):
        return status
    if status in ("closed", "judging"):
        return "closed"
    if isinstance(deadline, str):
        deadline = datetime.fromisoformat(deadline)
    if deadline > (now or datetime.now(UTC)):
        return "counting"
    return "closed" if status == "open" else "passed"
