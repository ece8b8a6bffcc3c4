"""expert search terms know whether they come from public fields (issue 10, defect 11)

Revision ID: 0011a2
Revises: 0010_merge

`expert_terms.public_weight`: the weight of a term counted over the profile's public fields only (0 when the
term comes from private fields alone), so the staff's expert search and the reviewer suggestions match only
what the solver made public. Profiles without a private field get public_weight = weight here; the others
keep 0 (never matched by a private term, but not found by their public ones either) until
`flask experts reindex` rebuilds their terms: run it once after this upgrade.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011a2'
down_revision = '0010_merge'
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    with op.batch_alter_table('expert_terms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_weight', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_index('ix_expert_terms_term')
        batch_op.create_index('ix_expert_terms_term', ['term', 'profile_id', 'weight', 'public_weight'],
                              unique=False)

    profiles = sa.table('expert_profiles', sa.column('id', sa.Integer), sa.column('visibility', sa.JSON))
    terms = sa.table('expert_terms', sa.column('profile_id', sa.Integer), sa.column('weight', sa.Integer),
                     sa.column('public_weight', sa.Integer))
    bind = op.get_bind()
    all_public = [row.id for row in bind.execute(sa.select(profiles.c.id, profiles.c.visibility))
                  if 'private' not in (row.visibility or {}).values()]
    for start in range(0, len(all_public), BATCH):
        bind.execute(terms.update().where(terms.c.profile_id.in_(all_public[start:start + BATCH]))
                     .values(public_weight=terms.c.weight))


def downgrade():
    with op.batch_alter_table('expert_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_expert_terms_term')
        batch_op.create_index('ix_expert_terms_term', ['term', 'profile_id', 'weight'], unique=False)
        batch_op.drop_column('public_weight')
