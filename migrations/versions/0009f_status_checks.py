"""CHECK constraints: payout, refund, award and recipient states; positive (or non-negative) amounts

The allowed values are copied from the state tables at the time of writing
(payments.models.PAYOUT_TRANSITIONS, REFUND_STATES; awards.models.AWARD_STATES, RECIPIENT_PAYOUT_STATES).

Revision ID: 0009f_status_checks
Revises: 0008_analytics_snapshots
Create Date: 2026-12-05 21:15:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009f_status_checks'
down_revision = '0008_analytics_snapshots'
branch_labels = None
depends_on = None


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in sorted(values))})"


CHECKS = {
    'payouts': [
        ('ck_payouts_status', _one_of('status', ('pending', 'sent', 'failed', 'paid', 'reversed'))),
        ('ck_payouts_amount_positive', 'amount_minor > 0'),
    ],
    'refunds': [
        ('ck_refunds_status', _one_of('status', ('scheduled', 'sending', 'sent', 'succeeded', 'failed'))),
        ('ck_refunds_amount_positive', 'amount_minor > 0'),
    ],
    'awards': [
        ('ck_awards_status', _one_of('status', ('awarded', 'release_requested', 'paying', 'paid', 'cancelled'))),
        ('ck_awards_amount_not_negative', 'amount_minor >= 0'),
    ],
    'award_recipients': [
        ('ck_award_recipients_payout_status',
         _one_of('payout_status', ('pending', 'paying', 'paid', 'failed', 'reversed', 'refused', 'cancelled'))),
        ('ck_award_recipients_amount_not_negative', 'amount_minor >= 0'),
    ],
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
