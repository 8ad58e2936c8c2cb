"""refresh audit rows written by the rotation UPDATE (a trigger), from the client it records

Revision ID: 0002_refresh_audit_trigger
Revises: 0001_initial
Create Date: 2026-12-01 03:00:00

The SQL is written out here, not imported from atm_app.models: a migration
must build what it built when it was written, whatever the models say later.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_refresh_audit_trigger'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

REFRESH_AUDIT_INSERT = """
    INSERT INTO audit_events (time, event, username, user_id, ip, user_agent)
    SELECT NEW.last_used_at, 'refresh', users.username, users.id,
           NEW.last_used_ip, NEW.last_used_user_agent
    FROM users WHERE users.id = NEW.user_id;
"""
CREATE_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER audit_refresh AFTER UPDATE OF last_used_at ON auth_sessions\n"
        f"BEGIN {REFRESH_AUDIT_INSERT} END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_refresh() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN {REFRESH_AUDIT_INSERT} RETURN NULL; END $$",
        "CREATE TRIGGER audit_refresh AFTER UPDATE OF last_used_at ON auth_sessions\n"
        "FOR EACH ROW EXECUTE FUNCTION audit_refresh()",
    ],
}
DROP_TRIGGER = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_refresh"],
    "postgresql": ["DROP TRIGGER IF EXISTS audit_refresh ON auth_sessions",
                   "DROP FUNCTION IF EXISTS audit_refresh()"],
}


def upgrade():
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_ip', sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column('last_used_user_agent', sa.String(length=255), nullable=True))
    for statement in CREATE_TRIGGER[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    for statement in DROP_TRIGGER[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('last_used_user_agent')
        batch_op.drop_column('last_used_ip')
