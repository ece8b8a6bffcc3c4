"""stages: ordered stages per challenge with their own criteria and milestone pools; every existing challenge
gets one stage made of its deadline and criteria, and its proposals belong to it

Revision ID: 0013_stages
Revises: 0012_merge
Create Date: 2026-12-06 03:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0013_stages'
down_revision = '0012_merge'
branch_labels = None
depends_on = None

FIRST_STAGE = "(SELECT c.current_stage_id FROM challenges c WHERE c.id = {table}.challenge_id)"


def upgrade():
    op.create_table(
        'challenge_stages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('challenge_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.JSON(), nullable=False),
        sa.Column('description', sa.JSON(), nullable=False),
        sa.Column('deadline', sa.DateTime(), nullable=False),
        sa.Column('advance', sa.Integer(), nullable=True),
        sa.Column('award_minor', sa.BigInteger(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('advance IS NULL OR advance >= 1', name=op.f('ck_challenge_stages_advance_positive')),
        sa.CheckConstraint('award_minor IS NULL OR award_minor > 0', name=op.f('ck_challenge_stages_award_positive')),
        sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'],
                                name=op.f('fk_challenge_stages_challenge_id_challenges'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_challenge_stages_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_stages')),
        sa.UniqueConstraint('challenge_id', 'position', name=op.f('uq_challenge_stages_challenge_id_position')),
    )
    with op.batch_alter_table('challenge_stages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_stages_challenge_id'), ['challenge_id'], unique=False)

    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('current_stage_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_challenges_current_stage_id_challenge_stages', 'challenge_stages',
                                    ['current_stage_id'], ['id'])
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('previous_proposal_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('advanced_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_id', sa.Integer(), nullable=True))

    # Every challenge so far has one stage: its deadline and its criteria; its proposals belong to it.
    op.execute("INSERT INTO challenge_stages (challenge_id, position, name, description, deadline) "
               "SELECT id, 1, '{}', '{}', deadline FROM challenges ORDER BY id")
    op.execute("UPDATE challenges SET current_stage_id = (SELECT s.id FROM challenge_stages s "
               "WHERE s.challenge_id = challenges.id AND s.position = 1)")
    for table in ('criteria', 'proposals'):
        op.execute(f"UPDATE {table} SET stage_id = {FIRST_STAGE.format(table=table)}")  # noqa: S608 - fixed names

    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.alter_column('stage_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_criteria_stage_id'), ['stage_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_criteria_stage_id_challenge_stages'), 'challenge_stages',
                                    ['stage_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.alter_column('stage_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_proposals_stage_id'), ['stage_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_proposals_stage_id_challenge_stages'), 'challenge_stages',
                                    ['stage_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_proposals_previous_proposal_id_proposals'), 'proposals',
                                    ['previous_proposal_id'], ['id'])
        batch_op.drop_index('uq_proposals_active_lead', sqlite_where=sa.text("status != 'withdrawn'"),
                            postgresql_where=sa.text("status != 'withdrawn'"))
        batch_op.create_index('uq_proposals_active_lead', ['stage_id', 'lead_id'], unique=True,
                              sqlite_where=sa.text("status != 'withdrawn'"),
                              postgresql_where=sa.text("status != 'withdrawn'"))
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.alter_column('decision_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_awards_stage_id'), ['stage_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_awards_stage_id_challenge_stages'), 'challenge_stages',
                                    ['stage_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_awards_decision_or_stage'),
                                         'decision_id IS NOT NULL OR stage_id IS NOT NULL')


def downgrade():
    # Milestone awards (without a decision) cannot exist in the one-stage schema.
    op.execute("DELETE FROM award_recipients WHERE award_id IN (SELECT id FROM awards WHERE decision_id IS NULL)")
    op.execute("DELETE FROM awards WHERE decision_id IS NULL")
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_awards_decision_or_stage'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_awards_stage_id_challenge_stages'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_awards_stage_id'))
        batch_op.alter_column('decision_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('stage_id')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index('uq_proposals_active_lead', sqlite_where=sa.text("status != 'withdrawn'"),
                            postgresql_where=sa.text("status != 'withdrawn'"))
        batch_op.create_index('uq_proposals_active_lead', ['challenge_id', 'lead_id'], unique=True,
                              sqlite_where=sa.text("status != 'withdrawn'"),
                              postgresql_where=sa.text("status != 'withdrawn'"))
        batch_op.drop_constraint(batch_op.f('fk_proposals_previous_proposal_id_proposals'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_proposals_stage_id_challenge_stages'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_proposals_stage_id'))
        batch_op.drop_column('advanced_at')
        batch_op.drop_column('previous_proposal_id')
        batch_op.drop_column('stage_id')
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_criteria_stage_id_challenge_stages'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_criteria_stage_id'))
        batch_op.drop_column('stage_id')
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_constraint('fk_challenges_current_stage_id_challenge_stages', type_='foreignkey')
        batch_op.drop_column('current_stage_id')
    with op.batch_alter_table('challenge_stages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_stages_challenge_id'))
    op.drop_table('challenge_stages')
