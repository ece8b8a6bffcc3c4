"""award decision: the written reason for deciding before every review was submitted

Revision ID: 0009a_award_override
Revises: 0008_analytics_snapshots
Create Date: 2026-12-05 20:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009a_award_override'
down_revision = '0008_analytics_snapshots'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('award_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('override_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('award_decisions', schema=None) as batch_op:
        batch_op.drop_column('override_reason')
