"""CHECK constraints: challenge, proposal, team member, review, result and mail states; positive funding amounts

The allowed values are copied from the state tables at the time of writing (challenges.states.TRANSITIONS,
results.models.RESULT_STATES, the labels of proposal, member, review and mail states); the models declare the
same constraints from those tables, and tests/core/test_database_invariants.py checks both agree.

Revision ID: 0015c_more_checks
Revises: 0014_merge
Create Date: 2026-12-06 08:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015c_more_checks'
down_revision = '0014_merge'
branch_labels = None
depends_on = None


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in sorted(values))})"


CHALLENGE_STATES = ('draft', 'in_clearance', 'cleared', 'open', 'closed', 'judging', 'awarded', 'no_award',
                    'cancelled')

CHECKS = {
    'challenges': [
        ('ck_challenges_status', _one_of('status', CHALLENGE_STATES)),
        ('ck_challenges_award_not_negative', 'award_minor >= 0'),
    ],
    'proposals': [('ck_proposals_status', _one_of('status', ('draft', 'submitted', 'withdrawn')))],
    'proposal_members': [
        ('ck_proposal_members_status', _one_of('status', ('invited', 'accepted', 'declined'))),
        ('ck_proposal_members_role', _one_of('role', ('lead', 'coauthor'))),
    ],
    'reviews': [('ck_reviews_status', _one_of('status', ('assigned', 'draft', 'submitted', 'released')))],
    'result_records': [('ck_result_records_status', _one_of('status', ('draft', 'published', 'withdrawn')))],
    'outbox_mails': [('ck_outbox_mails_status', _one_of('status', ('pending', 'sending', 'sent')))],
    'funding_intents': [('ck_funding_intents_amount_positive', 'amount_minor > 0')],
    'funding_receipts': [('ck_funding_receipts_amount_positive', 'amount_minor > 0')],
}


def upgrade():
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, condition in checks:
                batch_op.create_check_constraint(op.f(name), condition)


def downgrade():
    for table, checks in reversed(list(CHECKS.items())):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _condition in checks:
                batch_op.drop_constraint(op.f(name), type_='check')
