"""merge stages and the session's other branches

Revision ID: 0014_merge
Revises: 0013_stages, 0013a_search_speed, 0013c_account_email_change
"""

revision = '0014_merge'
down_revision = ('0013_stages', '0013a_search_speed', '0013c_account_email_change')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
