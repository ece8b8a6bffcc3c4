"""merge translations, PostgreSQL search speed and the state checks

Revision ID: 0016_merge
Revises: 0015a_translations, 0015b_search_pg, 0015c_more_checks
"""

revision = '0016_merge'
down_revision = ('0015a_translations', '0015b_search_pg', '0015c_more_checks')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
