"""challenge translations: each language's mark (translated / reviewed) and invited translators

Revision ID: 0015a_translations
Revises: 0014_merge
"""
import sqlalchemy as sa
from alembic import op

revision = '0015a_translations'
down_revision = '0014_merge'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('challenge_translations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('translated_by_id', sa.Integer(), nullable=True),
    sa.Column('translated_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('translated', 'reviewed')", name=op.f('ck_challenge_translations_status')),
    sa.CheckConstraint("status <> 'reviewed' OR (reviewed_by_id IS NOT NULL AND reviewed_at IS NOT NULL)",
                       name=op.f('ck_challenge_translations_reviewed_has_reviewer')),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'],
                            name=op.f('fk_challenge_translations_challenge_id_challenges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['translated_by_id'], ['users.id'],
                            name=op.f('fk_challenge_translations_translated_by_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'],
                            name=op.f('fk_challenge_translations_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_translations')),
    sa.UniqueConstraint('challenge_id', 'locale', name=op.f('uq_challenge_translations_challenge_id_locale'))
    )
    op.create_index(op.f('ix_challenge_translations_challenge_id'), 'challenge_translations', ['challenge_id'])
    op.create_table('challenge_translators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('invited_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'],
                            name=op.f('fk_challenge_translators_challenge_id_challenges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_challenge_translators_user_id_users')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_challenge_translators_invited_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_translators'))
    )
    op.create_index(op.f('ix_challenge_translators_challenge_id'), 'challenge_translators', ['challenge_id'])
    op.create_index(op.f('ix_challenge_translators_user_id'), 'challenge_translators', ['user_id'])


def downgrade():
    op.drop_table('challenge_translators')
    op.drop_table('challenge_translations')
