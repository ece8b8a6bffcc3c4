"""The database keeps states and amounts valid even where code would not: CHECK constraints built from the state
tables (migration 0015c_more_checks), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db

# (table, column, a value no state table allows, the constraint that must refuse it)
ON_EXISTING_ROWS = [
    ("challenges", "status", "published", "ck_challenges_status"),
    ("challenges", "award_minor", -1, "ck_challenges_award_not_negative"),
    ("proposals", "status", "accepted", "ck_proposals_status"),
    ("proposal_members", "status", "maybe", "ck_proposal_members_status"),
    ("proposal_members", "role", "owner", "ck_proposal_members_role"),
    ("outbox_mails", "status", "lost", "ck_outbox_mails_status"),
    ("funding_receipts", "amount_minor", 0, "ck_funding_receipts_amount_positive"),
]


@pytest.fixture
def team_proposal(world):
    """An open, funded challenge with a submitted team proposal (and the mails it sent)."""
    challenge = world.challenge()
    proposal = world.propose(challenge, world.solver("DE"), coauthors=[world.solver("FR")])
    return challenge, proposal


def _table(name: str) -> sa.Table:
    return db.metadata.tables[name]


@pytest.mark.parametrize(("table", "column", "value", "constraint"), ON_EXISTING_ROWS)
def test_a_bad_state_or_amount_is_refused_and_nothing_changes(app, team_proposal, table, column, value, constraint):
    with app.app_context():
        rows = _table(table)
        before = db.session.execute(sa.select(rows.c.id, rows.c[column]).order_by(rows.c.id)).all()
        assert before, f"the world has no {table} row to test on"
        with pytest.raises(IntegrityError) as refused:
            db.session.execute(sa.update(rows).values({column: value}))
            db.session.flush()
        db.session.rollback()
        assert constraint in str(refused.value)
        assert db.session.execute(sa.select(rows.c.id, rows.c[column]).order_by(rows.c.id)).all() == before


def test_a_review_result_or_funding_intent_with_a_bad_value_is_not_stored(app, world, team_proposal):
    from marketplace.payments.models import FundingIntent
    from marketplace.results.models import ResultRecord
    from marketplace.reviews.models import Review

    challenge, proposal = team_proposal
    bad_rows = {
        "ck_reviews_status": Review(challenge_id=challenge.id, proposal_id=proposal.id, reviewer_id=world.reviewer.id,
                                    pseudonym="P-1", status="approved"),
        "ck_result_records_status": ResultRecord(challenge_id=challenge.id, organization_id=world.org.id,
                                                 created_by_id=world.manager.id, default_locale="en",
                                                 field="sensors", status="public"),
        "ck_funding_intents_amount_positive": FundingIntent(challenge_id=challenge.id, provider="stripe",
                                                            amount_minor=-100, currency="EUR",
                                                            requested_by_id=world.finance.id),
    }
    with app.app_context():
        for constraint, row in bad_rows.items():
            db.session.add(row)
            with pytest.raises(IntegrityError) as refused:
                db.session.flush()
            db.session.rollback()
            assert constraint in str(refused.value)
        for model in (Review, ResultRecord, FundingIntent):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_the_migrated_database_has_every_check_the_models_declare(app):
    """The models build their checks from the state tables; the migrations must have created the same ones."""
    with app.app_context():
        inspector = sa.inspect(db.engine)
        for table in db.metadata.sorted_tables:
            declared = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint) and c.name}
            if not declared:
                continue
            in_database = {c["name"] for c in inspector.get_check_constraints(table.name)}
            assert declared <= in_database, (table.name, declared - in_database)


def test_the_migrated_database_allows_every_state_of_the_state_tables(app, team_proposal):
    """The migration copied the allowed values when it was written: a state added to a table since, without a
    migration, would be refused here (the models' own checks are built from the same tables)."""
    from marketplace.challenges.states import TRANSITIONS
    from marketplace.mail.models import MAIL_STATES
    from marketplace.proposals.models import MEMBER_ROLES, MEMBER_STATES, PROPOSAL_STATES

    allowed = [("challenges", "status", TRANSITIONS), ("proposals", "status", PROPOSAL_STATES),
               ("proposal_members", "status", MEMBER_STATES), ("proposal_members", "role", MEMBER_ROLES),
               ("outbox_mails", "status", MAIL_STATES)]
    with app.app_context():
        for table, column, states in allowed:
            rows = _table(table)
            for state in states:
                db.session.execute(sa.update(rows).values({column: state}))
                db.session.flush()  # an IntegrityError here: the database refuses a state the code writes
                assert db.session.scalar(sa.select(sa.func.count()).where(rows.c[column] != state)) == 0
            db.session.rollback()
