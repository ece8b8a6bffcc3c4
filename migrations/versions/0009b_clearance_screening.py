"""clearance screening: two-person clearance record, marker warnings, published requirement codes

Revision ID: 0009b_clearance_screening
Revises: 0008_analytics_snapshots
Create Date: 2026-12-05 20:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009b_clearance_screening'
down_revision = '0008_analytics_snapshots'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clearance_requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('text_changed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('text_editor_ids', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('clearance_warnings', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('requirement_codes_public', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_challenges_clearance_requested_by_id_users'), 'users',
                                    ['clearance_requested_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_challenges_text_changed_by_id_users'), 'users',
                                    ['text_changed_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_challenges_text_changed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_challenges_clearance_requested_by_id_users'), type_='foreignkey')
        batch_op.drop_column('requirement_codes_public')
        batch_op.drop_column('clearance_warnings')
        batch_op.drop_column('text_editor_ids')
        batch_op.drop_column('text_changed_by_id')
        batch_op.drop_column('clearance_requested_by_id')
