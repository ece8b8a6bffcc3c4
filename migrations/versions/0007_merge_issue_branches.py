"""merge the review, payments and openness branches

Revision ID: 0007_merge
Revises: 0006o_openness, 0006p_payments, 0006r_reviews
Create Date: 2026-11-27 10:45:00

"""

# revision identifiers, used by Alembic.
revision = '0007_merge'
down_revision = ('0006o_openness', '0006p_payments', '0006r_reviews')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
