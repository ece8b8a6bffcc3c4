"""appeals of provisional scores: the challenge's appeal window, score releases and appeals

Revision ID: 0011p
Revises: 0010_merge
Create Date: 2026-12-06 00:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011p'
down_revision = '0010_merge'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appeals_window_days', sa.Integer(), nullable=True))

    op.create_table(
        'score_releases',
        sa.Column('challenge_id', sa.Integer(), nullable=False),
        sa.Column('released_by_id', sa.Integer(), nullable=False),
        sa.Column('released_at', sa.DateTime(), nullable=False),
        sa.Column('window_closes_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'],
                                name=op.f('fk_score_releases_challenge_id_challenges'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_score_releases_released_by_id_users')),
        sa.PrimaryKeyConstraint('challenge_id', name=op.f('pk_score_releases')),
    )
    op.create_table(
        'score_appeals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('challenge_id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('review_id', sa.Integer(), nullable=False),
        sa.Column('criterion_id', sa.Integer(), nullable=False),
        sa.Column('appellant_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('original_score', sa.Integer(), nullable=False),
        sa.Column('new_score', sa.Integer(), nullable=True),
        sa.Column('response', sa.Text(), nullable=True),
        sa.Column('answer_due_at', sa.DateTime(), nullable=False),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('answered_as', sa.String(length=10), nullable=True),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'rescored', 'upheld')", name=op.f('ck_score_appeals_status')),
        sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'],
                                name=op.f('fk_score_appeals_challenge_id_challenges'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_score_appeals_proposal_id_proposals'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_score_appeals_review_id_reviews'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['criterion_id'], ['criteria.id'], name=op.f('fk_score_appeals_criterion_id_criteria'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['appellant_id'], ['users.id'], name=op.f('fk_score_appeals_appellant_id_users')),
        sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_score_appeals_answered_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_score_appeals')),
        sa.UniqueConstraint('review_id', 'criterion_id', name=op.f('uq_score_appeals_review_id_criterion_id')),
    )
    with op.batch_alter_table('score_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_appeals_challenge_id'), ['challenge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_appeals_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_appeals_review_id'), ['review_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_appeals_status'), ['status'], unique=False)


def downgrade():
    op.drop_table('score_appeals')
    op.drop_table('score_releases')
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_column('appeals_window_days')
