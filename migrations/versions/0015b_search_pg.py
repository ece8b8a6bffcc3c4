"""search speed on PostgreSQL: an index per sort, and the generation counts are cached by

Revision ID: 0015b_search_pg
Revises: 0014_merge

Issue 12. Browsing the PostgreSQL search backend without text reads a page in the order of one of
these indexes (LIMIT rows, not a sort of every document); exact totals and facet counts are kept
per process for as long as the kind's generation (``search_generations``, renewed by every
write) stays the same (see marketplace/search/pg_counts.py). On SQLite both tables stay empty.
"""
import sqlalchemy as sa
from alembic import op

revision = '0015b_search_pg'
down_revision = '0014_merge'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_search_documents_newest': ['kind', sa.desc(sa.column('published')), 'doc_id'],
    'ix_search_documents_deadline': ['kind', 'deadline', sa.desc(sa.column('award')), 'doc_id'],
    'ix_search_documents_award': ['kind', sa.desc(sa.column('award')), 'deadline', 'doc_id'],
}


def upgrade():
    op.create_table(
        'search_generations',
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('kind', name=op.f('pk_search_generations')),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, 'search_documents', columns, unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # Kinds indexed before: a generation now, so their counts are kept before their next write.
        op.execute("INSERT INTO search_generations (kind, generation) SELECT kind, "
                   "(random() * 9e18)::bigint FROM search_documents GROUP BY kind")


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name='search_documents')
    op.drop_table('search_generations')
