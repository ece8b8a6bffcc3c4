"""Awards as the API shows them: to their solvers and to the challenge's staff."""

from __future__ import annotations

from marketplace.awards.ip_assignment import award_challenge
from marketplace.awards.models import Award
from marketplace.money import Money


def pct(value) -> str:
    return format(value.normalize(), "f")


def award_json(award: Award, viewer) -> dict:
    """{id, challenge_id, proposal_id, share_pct, amount, status, ip_assigned} plus recipients; payouts for staff."""
    from marketplace.payments.payouts import payouts_of

    is_staff = award_challenge(award).is_staff(viewer)
    body = {
        "id": award.id,
        "challenge_id": award.challenge_id,
        "proposal_id": award.proposal_id,
        "share_pct": pct(award.share_pct),
        "amount": Money(award.amount_minor, award.currency).as_dict(),
        "status": award.status,
        "ip_assigned": award.ip_assigned,
        "created_at": award.created_at.isoformat(),
        "release_requested_at": award.release_requested_at and award.release_requested_at.isoformat(),
        "approved_at": award.approved_at and award.approved_at.isoformat(),
        "paid_at": award.paid_at and award.paid_at.isoformat(),
        "recipients": [{
            "id": r.id,
            "user_id": r.user_id,
            "display_name": r.user.display_name,
            "share_pct": pct(r.share_pct),
            "amount": Money(r.amount_minor, award.currency).as_dict(),
            "ip_assigned": r.ip_accepted_at is not None,
            "ip_accepted_at": r.ip_accepted_at and r.ip_accepted_at.isoformat(),
            "ip_text_version": r.ip_text_version,
            "payout_status": r.payout_status,
        } for r in award.recipients],  # only its recipients and the center's staff get here (can_view)
    }
    if is_staff:
        body["payouts"] = [{
            "id": p.id, "award_recipient_id": p.award_recipient_id, "provider": p.provider, "status": p.status,
            "amount": Money(p.amount_minor, p.currency).as_dict(), "external_id": p.external_id,
            "reference": p.reference, "last_error": p.last_error,
            "completed_at": p.completed_at and p.completed_at.isoformat(),
        } for p in payouts_of(award)]
    return body
