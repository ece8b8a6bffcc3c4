"""partial indexes for the public list of challenges (open, listed; sorted by newest, deadline or award)

Revision ID: 0009h_public_list_indexes
Revises: 0008_analytics_snapshots
"""
import sqlalchemy as sa
from alembic import op

revision = '0009h_public_list_indexes'
down_revision = '0008_analytics_snapshots'
branch_labels = None
depends_on = None

WHERE = {"postgresql_where": sa.text("status = 'open' AND invite_only IS false"),
         "sqlite_where": sa.text("status = 'open' AND invite_only IS 0")}
INDEXES = {"newest": "published_at", "deadline": "deadline", "award": "award_minor"}


def upgrade():
    for name, column in INDEXES.items():
        op.create_index(f"ix_challenges_public_{name}", "challenges", [column, "id"], unique=False, **WHERE)


def downgrade():
    for name in INDEXES:
        op.drop_index(f"ix_challenges_public_{name}", table_name="challenges", **WHERE)
