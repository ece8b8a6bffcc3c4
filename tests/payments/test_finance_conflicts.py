"""Self-dealing: no finance officer releases money paid to themselves, a team-mate or their organization.

One predicate (payments.conflicts.finance_conflict) is asked by the release, the approval, the batch
job, the award page and the API; each kind of conflict is refused on both steps, state unchanged.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from tests.helpers import csrf_token_from

KINDS = ("self", "team_mate", "same_organization")


def _conflicted_award(world, make_org, kind: str) -> tuple[int, object]:
    """A ready award and a finance officer of the center who has a stake in it (of the given kind)."""
    from marketplace.proposals.models import Proposal, ProposalMember

    challenge = world.challenge(status="cleared")
    world.fund_by_wire(challenge)
    if kind == "self":
        officer = world.make_user(roles=[("finance_officer", world.org)], name="Officer Payee")
        world.give_payee(officer, "DE")
        winner = officer
    elif kind == "team_mate":
        officer = world.make_user(roles=[("finance_officer", world.org)])
        winner = world.solver("DE")
        other = world.challenge(status="cleared")
        with world.app.app_context():
            proposal = Proposal(challenge_id=other.id, lead_id=officer.id, status="draft", title="Side project",
                                locale="en")
            db.session.add(proposal)
            db.session.flush()
            db.session.add(ProposalMember(proposal_id=proposal.id, user_id=winner.id, email=winner.email,
                                          status="accepted"))
            db.session.commit()
    else:
        lab = make_org()
        officer = world.make_user(roles=[("finance_officer", world.org), ("reviewer", lab)])
        winner = world.make_user(roles=[("reviewer", lab)], name="Lab Colleague")
        world.give_payee(winner, "DE")
    [award_id] = world.ready_award(challenge, [([winner], "100")])
    return award_id, officer


def _requested(world, award_id: int) -> None:
    """Release requested by officer A (written directly: for a center member's award no officer may request it)."""
    from marketplace.awards.models import Award
    from marketplace.db import utcnow

    with world.app.app_context():
        award = db.session.get(Award, award_id)
        award.status, award.release_requested_by_id, award.release_requested_at = \
            "release_requested", world.finance_a.id, utcnow()
        db.session.commit()


def _audited(app, action: str, award_id: int) -> list:
    from marketplace.audit.models import AuditEntry

    with app.app_context():
        return db.session.scalars(select(AuditEntry).filter_by(action=action, entity_type="award",
                                                                entity_id=award_id)).all()


def _payout_count(app) -> int:
    from marketplace.payments.models import Payout

    with app.app_context():
        return len(db.session.scalars(select(Payout)).all())


@pytest.mark.parametrize("kind", KINDS)
def test_api_refuses_a_conflicted_officer_to_request_or_approve(app, world, make_org, kind):
    award_id, officer = _conflicted_award(world, make_org, kind)

    refused = world.post(f"/awards/{award_id}/release", officer)
    assert refused.status_code == 403
    assert "another finance officer must release it" in refused.get_json()["detail"]
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "awarded"
    assert _audited(app, "award.release_refused", award_id)

    _requested(world, award_id)
    refused = world.post(f"/awards/{award_id}/approve", officer)
    assert refused.status_code == 403
    assert "another finance officer must release it" in refused.get_json()["detail"]
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "release_requested"
    assert _payout_count(app) == 0
    assert _audited(app, "award.approval_refused", award_id)


@pytest.mark.parametrize("kind", KINDS)
def test_award_page_explains_the_conflict_and_refuses_the_post(app, world, make_org, login, kind):
    award_id, officer = _conflicted_award(world, make_org, kind)
    client = login(officer)

    page = client.get(f"/finance/awards/{award_id}")
    assert page.status_code == 200
    assert b"another finance officer must release it" in page.data
    assert b"Request the release" not in page.data
    posted = client.post(f"/finance/awards/{award_id}/release", data={"csrf_token": csrf_token_from(page)},
                         follow_redirects=True)
    assert b"another finance officer must release it" in posted.data
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "awarded"

    _requested(world, award_id)
    page = client.get(f"/finance/awards/{award_id}")
    assert b"Approve and pay" not in page.data
    client.post(f"/finance/awards/{award_id}/approve", data={"csrf_token": csrf_token_from(page)})
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "release_requested"
    assert _payout_count(app) == 0


def test_batch_release_skips_an_award_its_approver_is_paid_by(app, world, make_org):
    from marketplace.accounts.models import User
    from marketplace.payments import release

    award_id, officer = _conflicted_award(world, make_org, "self")
    _requested(world, award_id)
    with app.test_request_context():
        report = release.approve_and_pay([award_id], db.session.get(User, officer.id))
        assert report.approved == [] and "another finance officer" in str(report.refused[award_id].detail)
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "release_requested"
    assert _payout_count(app) == 0


def test_a_center_member_award_is_refused_to_every_officer_of_the_center(app, world, make_org):
    award_id, _officer = _conflicted_award(world, make_org, "self")
    refused = world.post(f"/awards/{award_id}/release", world.finance_a)
    assert refused.status_code == 403 and "shares an organization" in refused.get_json()["detail"]
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "awarded"


@pytest.mark.parametrize("kind", ("team_mate", "same_organization"))
def test_officers_without_a_stake_still_release(app, world, make_org, kind):
    award_id, _officer = _conflicted_award(world, make_org, kind)
    assert world.post(f"/awards/{award_id}/release", world.finance_a).status_code == 200
    assert world.post(f"/awards/{award_id}/approve", world.finance_b).status_code == 200
    assert world.get(f"/awards/{award_id}", world.finance_a).get_json()["status"] == "paying"
