"""The solver dashboard's query: two index lookups joined by UNION, not `lead_id = ? OR id IN (...)`."""

from __future__ import annotations

from marketplace.extensions import db


def test_proposals_of_is_a_union_of_index_lookups_and_finds_led_and_co_authored(app, make_user, challenge_factory,  # noqa: F811
                                                                                make_org):
    from marketplace.proposals.models import Proposal, ProposalMember
    from marketplace.proposals.services import proposals_of

    org = make_org("sh-icc")
    challenge = challenge_factory(org, make_user(roles=[("center_manager", org)]))
    solver, other, stranger = make_user(), make_user(), make_user()
    with app.app_context():
        def proposal(lead, title, members=()):
            row = Proposal(challenge_id=challenge.id, lead_id=lead.id, status="withdrawn", title=title, locale="en",
                           version=1)
            row.members = [ProposalMember(user_id=u.id, email=u.email, status=status) for u, status in members]
            db.session.add(row)
        proposal(solver, "mine")
        proposal(other, "co-authored", [(solver, "accepted")])
        proposal(other, "invited", [(solver, "invited")])
        proposal(other, "declined", [(solver, "declined")])
        proposal(stranger, "not mine", [(other, "accepted")])
        db.session.commit()
        statement = proposals_of(solver)
        sql = str(statement.compile(db.engine)).upper()
        assert "UNION" in sql and " OR " not in sql
        titles = [p.title for p in db.session.scalars(statement)]
    assert titles == ["invited", "co-authored", "mine"]
