"""sessions and tokens revocable, audit entries scoped by organization, shared sign-in failure counts

Revision ID: 0009c_sessions_audit_scope
Revises: 0008_analytics_snapshots
Create Date: 2026-12-05 20:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009c_sessions_audit_scope'
down_revision = '0008_analytics_snapshots'
branch_labels = None
depends_on = None

# Where each kind of audited entity finds its organization (entries written before the column existed).
_BACKFILL = {
    "challenge": "SELECT c.organization_id FROM challenges c WHERE c.id = audit_entries.entity_id",
    "proposal": ("SELECT c.organization_id FROM proposals p JOIN challenges c ON c.id = p.challenge_id "
                 "WHERE p.id = audit_entries.entity_id"),
    "review": ("SELECT c.organization_id FROM reviews r JOIN challenges c ON c.id = r.challenge_id "
               "WHERE r.id = audit_entries.entity_id"),
    "award": ("SELECT c.organization_id FROM awards a JOIN challenges c ON c.id = a.challenge_id "
              "WHERE a.id = audit_entries.entity_id"),
    "result": "SELECT r.organization_id FROM result_records r WHERE r.id = audit_entries.entity_id",
    "program": "SELECT p.organization_id FROM programs p WHERE p.id = audit_entries.entity_id",
    "organization": "SELECT o.id FROM organizations o WHERE o.id = audit_entries.entity_id",
    "ledger_transaction": ("SELECT c.organization_id FROM ledger_transactions t "
                           "JOIN challenges c ON c.id = t.challenge_id WHERE t.id = audit_entries.entity_id"),
}

_SQLITE_TRIGGERS = {
    verb: f"""CREATE TRIGGER IF NOT EXISTS audit_entries_no_{verb.lower()} BEFORE {verb} ON audit_entries
              BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
}


def _backfill_audit_scope() -> None:
    """One UPDATE past the append-only guard (only the new column changes), then the guard is back."""
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
    for entity_type, lookup in _BACKFILL.items():
        op.execute(f"UPDATE audit_entries SET organization_id = ({lookup}) "  # noqa: S608 - constant SQL
                   f"WHERE entity_type = '{entity_type}' AND entity_id IS NOT NULL")
    if postgres:
        op.execute("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_change")
    else:
        op.execute(_SQLITE_TRIGGERS["UPDATE"])


def upgrade():
    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_failures_key_hash_created_at', ['key_hash', 'created_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(), nullable=True))

    # A plain ADD COLUMN (no table copy on SQLite), so the append-only triggers stay in place.
    op.add_column('audit_entries', sa.Column('organization_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_audit_entries_organization_id'), 'audit_entries', ['organization_id'], unique=False)
    _backfill_audit_scope()


def downgrade():
    op.drop_index(op.f('ix_audit_entries_organization_id'), table_name='audit_entries')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('organization_id')
    if op.get_bind().dialect.name != "postgresql":  # SQLite may have copied the table without its triggers
        for statement in _SQLITE_TRIGGERS.values():
            op.execute(statement)

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('auth_version')

    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_failures_key_hash_created_at')

    op.drop_table('sign_in_failures')
