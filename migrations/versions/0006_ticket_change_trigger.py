"""a ticket's change writes its own timeline event and audit row (a trigger)

Revision ID: 0006_ticket_change_trigger
Revises: 0005_unresolved_due_index
Create Date: 2026-12-07 08:00:00

A change was an UPDATE, an event INSERT and an audit INSERT inside BEGIN ...
COMMIT; on SQLite the write lock was held across all of them, each waiting
for Python's GIL, and every other writer waited behind. The ticket now
carries its latest change (who, what, why, from where) and the UPDATE that
applies it writes both rows itself, as a refresh does (0002).

The SQL is written out here, not imported from atm_app.models: a migration
must build what it built when it was written, whatever the models say later.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_ticket_change_trigger'
down_revision = '0005_unresolved_due_index'
branch_labels = None
depends_on = None

COLUMNS = [
    ('last_change_at', sa.DateTime()),
    ('last_change_by_id', sa.Integer()),
    ('last_change_action', sa.String(length=20)),
    ('last_change_detail', sa.Text()),
    ('last_change_audit_event', sa.String(length=40)),
    ('last_change_summary', sa.String(length=255)),
    ('last_change_ip', sa.String(length=45)),
    ('last_change_user_agent', sa.String(length=255)),
]
INSERTS = """
    INSERT INTO ticket_events (ticket_id, time, actor_id, action, from_status, to_status, detail)
    VALUES (NEW.id, NEW.last_change_at, NEW.last_change_by_id, NEW.last_change_action,
            OLD.status, NEW.status, NEW.last_change_detail);
    INSERT INTO audit_events (time, event, username, user_id, ip, user_agent, detail)
    SELECT NEW.last_change_at, NEW.last_change_audit_event,
           (SELECT username FROM users WHERE users.id = NEW.last_change_by_id),
           NEW.last_change_by_id, NEW.last_change_ip, NEW.last_change_user_agent,
           substr('ticket ' || NEW.id || ': ' || COALESCE(NEW.last_change_summary, ''), 1, 255)
    WHERE NEW.last_change_audit_event IS NOT NULL;
"""
CREATE_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER record_ticket_change AFTER UPDATE OF version ON tickets\n"
        f"BEGIN {INSERTS} END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION record_ticket_change() RETURNS trigger LANGUAGE plpgsql\n"
        f"AS $$ BEGIN {INSERTS} RETURN NULL; END $$",
        "CREATE TRIGGER record_ticket_change AFTER UPDATE OF version ON tickets\n"
        "FOR EACH ROW EXECUTE FUNCTION record_ticket_change()",
    ],
}
DROP_TRIGGER = {
    "sqlite": ["DROP TRIGGER IF EXISTS record_ticket_change"],
    "postgresql": ["DROP TRIGGER IF EXISTS record_ticket_change ON tickets",
                   "DROP FUNCTION IF EXISTS record_ticket_change()"],
}


def upgrade():
    # Plain ALTER TABLE ADD COLUMN, no batch copy of the table and its
    # indexes (hence no foreign key on last_change_by_id: the event row the
    # trigger writes holds it).
    for name, type_ in COLUMNS:
        op.add_column('tickets', sa.Column(name, type_, nullable=True))
    for statement in CREATE_TRIGGER[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    for statement in DROP_TRIGGER[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        for name, _ in COLUMNS:
            batch_op.drop_column(name)
