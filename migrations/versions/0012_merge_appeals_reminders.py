"""merge expert-term visibility, score appeals and reminders

Revision ID: 0012_merge
Revises: 0011a2, 0011p, 0011r
"""

revision = '0012_merge'
down_revision = ('0011a2', '0011p', '0011r')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
