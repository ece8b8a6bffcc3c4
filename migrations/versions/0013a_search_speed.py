"""search speed: facet values as tags in the search documents

Revision ID: 0013a_search_speed
Revises: 0012_merge

The PostgreSQL search backend filters by facet through tags in the document tsvector
(``'f:field=ai'``, see marketplace/search/postgres.py), so the GIN index answers text and facets
in one scan (issue 12). Documents indexed before get their tags from their facets here; a
`flask search reindex` gives the same result. On SQLite the table stays empty: nothing to do.
"""
from alembic import op

revision = '0013a_search_speed'
down_revision = '0012_merge'
branch_labels = None
depends_on = None



def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE search_documents SET document = document || array_to_tsvector("
                   "ARRAY(SELECT 'f:' || key || '=' || value FROM jsonb_each_text(facets)))")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE search_documents SET document = ts_delete(document, "
                   "ARRAY(SELECT 'f:' || key || '=' || value FROM jsonb_each_text(facets)))")
