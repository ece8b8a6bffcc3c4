"""search documents for the PostgreSQL full-text backend

Revision ID: 0009i_search_documents
Revises: 0008_analytics_snapshots

The table exists on every database so both share one schema; only PostgreSQL fills it
(SEARCH_BACKEND=postgres): there ``document`` is a tsvector with a GIN index.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009i_search_documents'
down_revision = '0008_analytics_snapshots'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'search_documents',
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('doc_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('document', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=False),
        sa.Column('facets', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
        sa.Column('award', sa.BigInteger(), nullable=False),
        sa.Column('published', sa.DateTime(), nullable=False),
        sa.Column('deadline', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'doc_id', name=op.f('pk_search_documents')),
    )
    op.create_index('ix_search_documents_document', 'search_documents', ['document'], unique=False,
                    postgresql_using='gin')


def downgrade():
    op.drop_index('ix_search_documents_document', table_name='search_documents', postgresql_using='gin')
    op.drop_table('search_documents')
