"""merge the integrity and scale branches

Revision ID: 0010_merge
Revises: 0009a_award_override, 0009b_clearance_screening, 0009c_sessions_audit_scope,
         0009f_status_checks, 0009h_public_list_indexes, 0009i_search_documents
"""

revision = '0010_merge'
down_revision = ('0009a_award_override', '0009b_clearance_screening', '0009c_sessions_audit_scope',
                 '0009f_status_checks', '0009h_public_list_indexes', '0009i_search_documents')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
