"""What a winning solver does next for one award: the one rule every page, notice and mail asks.

    next_step(recipient) -> step code (or None once nothing more will happen, e.g. a cancelled award)

The solver's own steps come in this order: confirm the e-mail address, accept the IP assignment, give
the payee details, then the bank account (wire) or the payout account (Stripe). What is still missing
is not decided here but read from `payments.release.problems`, the rule the finance release checks, so
the solver is never told "done" while the release would still be refused. After the solver's steps the
award moves on through finance: waiting for the release, release requested, approved (paying), paid.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.awards.models import Award, AwardRecipient
from marketplace.extensions import db
from marketplace.i18n import format_money
from marketplace.money import Money

CONFIRM_EMAIL, ACCEPT_IP, PAYEE_DETAILS = "confirm_email", "accept_ip", "payee_details"
BANK_ACCOUNT, PAYOUT_ACCOUNT, BLOCKED = "bank_account", "payout_account", "blocked"
AWAIT_RELEASE, RELEASE_REQUESTED, PAYING = "await_release", "release_requested", "paying"
PAID, PAYOUT_FAILED = "paid", "payout_failed"

# The solver's own steps, first missing first: (the release check's problem code, the step).
SOLVER_STEPS = ((("email_unconfirmed",), CONFIRM_EMAIL), (("ip_not_assigned",), ACCEPT_IP),
                (("no_payee",), PAYEE_DETAILS), (("no_bank_account",), BANK_ACCOUNT),
                (("no_payout_account",), PAYOUT_ACCOUNT), (("sanctioned_country", "excluded_country"), BLOCKED))
# Steps that only finance can move on: nothing for the solver to do but wait.
WAITING = frozenset({AWAIT_RELEASE, RELEASE_REQUESTED, PAYING})


def next_step(recipient: AwardRecipient) -> str | None:
    """The recipient's next step for their award (see the module docstring), None when nothing is left."""
    award = recipient.award
    if award.status == "cancelled" or recipient.payout_status in ("cancelled", "refused"):
        return None
    if recipient.payout_status == "paid":
        return PAID
    if recipient.payout_status in ("failed", "reversed"):
        return PAYOUT_FAILED
    if award.status in ("paying", "paid"):
        return PAYING
    if award.status == "release_requested":
        return RELEASE_REQUESTED
    return _solver_step(award, recipient) or AWAIT_RELEASE


def _solver_step(award: Award, recipient: AwardRecipient) -> str | None:
    from marketplace.payments.release import problems

    missing = {p.code for p in problems(award) if p.recipient_id == recipient.id}
    return next((step for codes, step in SOLVER_STEPS if missing.intersection(codes)), None)


# --- words and links (rendered in the reader's language at the time of reading) -------------------------

def link_of(step: str, payload: dict) -> str:
    """Where the solver acts on (or reads about) this step: a site-relative path."""
    if step == CONFIRM_EMAIL:
        return "/account"
    if step == ACCEPT_IP:
        return f"/awards/{payload['award_id']}/ip-assignment"
    if step in (PAYEE_DETAILS, BANK_ACCOUNT):
        return "/me/payee"
    return "/me/payments"


def sentence(step: str, payload: dict, locale: str | None = None) -> str:
    """The step in one sentence in the current interface language; `payload` as `payload_of` builds it."""
    from marketplace.solvers.notifications import localized_title

    title = localized_title(payload, locale or "en")
    amount = format_money(Money(payload["amount_minor"], payload["currency"]).amount, payload["currency"])
    texts = {
        CONFIRM_EMAIL: lambda: _("Your award in “%(title)s”: next, confirm your e-mail address; unconfirmed "
                                 "accounts cannot be paid.", title=title),
        ACCEPT_IP: lambda: _("Your award in “%(title)s”: next, accept the IP assignment.", title=title),
        PAYEE_DETAILS: lambda: _("Your award in “%(title)s”: next, give your payee details (legal name, residence, "
                                 "tax form).", title=title),
        BANK_ACCOUNT: lambda: _("Your award in “%(title)s”: next, add the bank account the award is wired to.",
                                title=title),
        PAYOUT_ACCOUNT: lambda: _("Your award in “%(title)s”: next, connect your payout account and finish the "
                                  "provider's onboarding.", title=title),
        BLOCKED: lambda: _("Your award in “%(title)s” cannot be paid to you at the moment; the center's finance "
                           "team will contact you.", title=title),
        AWAIT_RELEASE: lambda: _("Your award in “%(title)s”: you have done every step. Next, the finance team "
                                 "releases the payment of %(amount)s.", title=title, amount=amount),
        RELEASE_REQUESTED: lambda: _("Your award in “%(title)s”: a finance officer requested the release of "
                                     "%(amount)s; a second officer approves it next.", title=title, amount=amount),
        PAYING: lambda: _("Your award in “%(title)s”: the release of %(amount)s was approved and the money is on "
                          "its way.", title=title, amount=amount),
        PAID: lambda: _("Your award in “%(title)s”: %(amount)s was sent to you.", title=title, amount=amount),
        PAYOUT_FAILED: lambda: _("Your award in “%(title)s”: the payment of %(amount)s did not go through; the "
                                 "finance team is looking into it.", title=title, amount=amount),
    }
    return texts[step]()


def payload_of(recipient: AwardRecipient, step: str) -> dict:
    """What a notice about this step stores: ids and values, never a sentence."""
    from marketplace.challenges.models import Challenge

    award = recipient.award
    challenge = db.session.get(Challenge, award.challenge_id)
    return {"step": step, "award_id": award.id, "proposal_id": award.proposal_id, "challenge_id": challenge.id,
            "title": challenge.text_map("title"), "default_locale": challenge.default_locale,
            "amount_minor": recipient.amount_minor, "currency": award.currency}


# --- for pages ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepView:
    code: str
    text: str
    link: str
    waiting: bool  # finance moves it on; the solver has nothing to do


def view_of(recipient: AwardRecipient, locale: str) -> StepView | None:
    step = next_step(recipient)
    if step is None:
        return None
    payload = payload_of(recipient, step)
    return StepView(step, sentence(step, payload, locale), link_of(step, payload), step in WAITING or step == PAID)


def for_proposal(proposal, user, locale: str) -> StepView | None:
    """The signed-in author's next step for the award of this proposal (None: no award, or not theirs)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    recipient = db.session.scalar(select(AwardRecipient).join(Award, Award.id == AwardRecipient.award_id)
                                  .where(Award.proposal_id == proposal.id, AwardRecipient.user_id == user.id))
    return view_of(recipient, locale) if recipient is not None else None
