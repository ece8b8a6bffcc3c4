"""winner notices: each next step of an award told once per recipient

Revision ID: 0013c_account_email_change
Revises: 0012_merge
Create Date: 2026-12-06 03:10:00

(The id was reserved for the account work; the account page needed no schema change, the winners'
next-step notices did.)
"""
import sqlalchemy as sa
from alembic import op

revision = '0013c_account_email_change'
down_revision = '0012_merge'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('winner_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=30), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['award_recipients.id'],
                            name=op.f('fk_winner_notices_recipient_id_award_recipients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_winner_notices')),
    sa.UniqueConstraint('recipient_id', 'step', name=op.f('uq_winner_notices_recipient_id_step'))
    )


def downgrade():
    op.drop_table('winner_notices')
