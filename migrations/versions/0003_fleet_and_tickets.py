"""the fleet and its tickets: ATMs, tickets, their timeline, idempotency keys; users.city_key

Revision ID: 0003_fleet_and_tickets
Revises: 0002_refresh_audit_trigger
Create Date: 2026-12-04 17:36:24

Users get `city_key`, the city as comparisons use it (trimmed, case-folded),
filled in here for the users that exist. The rule is written out, not
imported from atm_app: a migration must do what it did when it was written.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_fleet_and_tickets'
down_revision = '0002_refresh_audit_trigger'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('atms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terminal_id', sa.String(length=32), nullable=False),
    sa.Column('terminal_key', sa.String(length=32), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('city_key', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('pm_interval_days', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('pm_interval_days BETWEEN 1 AND 3650', name=op.f('ck_atms_pm_interval_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_atms')),
    sa.UniqueConstraint('terminal_key', name=op.f('uq_atms_terminal_key'))
    )
    with op.batch_alter_table('atms', schema=None) as batch_op:
        batch_op.create_index('ix_atms_city_key_terminal_key', ['city_key', 'terminal_key'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('atm_id', sa.Integer(), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('city_key', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('out_of_service', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('response_due_at', sa.DateTime(), nullable=False),
    sa.Column('restore_due_at', sa.DateTime(), nullable=False),
    sa.Column('held_since', sa.DateTime(), nullable=True),
    sa.Column('response_held_seconds', sa.Float(), nullable=False),
    sa.Column('restore_held_seconds', sa.Float(), nullable=False),
    sa.Column('hold_reason', sa.String(length=1000), nullable=True),
    sa.Column('resolution', sa.String(length=1000), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('fault', 'preventive')", name=op.f('ck_tickets_kind_known')),
    sa.CheckConstraint("priority IN ('critical', 'high', 'normal', 'low')", name=op.f('ck_tickets_priority_known')),
    sa.CheckConstraint("status IN ('open', 'assigned', 'in_progress', 'on_hold', 'resolved', 'closed', 'cancelled')", name=op.f('ck_tickets_status_known')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tickets_assignee_id_users')),
    sa.ForeignKeyConstraint(['atm_id'], ['atms.id'], name=op.f('fk_tickets_atm_id_atms')),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_tickets_reported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_assignee_status_due', ['assignee_id', 'status', 'restore_due_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_atm_status', ['atm_id', 'status'], unique=False)
        batch_op.create_index('ix_tickets_city_created', ['city_key', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_city_due', ['city_key', 'restore_due_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_city_resolved', ['city_key', 'resolved_at'], unique=False)
        batch_op.create_index('ix_tickets_city_started', ['city_key', 'started_at'], unique=False)
        batch_op.create_index('ix_tickets_city_status_due', ['city_key', 'status', 'restore_due_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_due', ['restore_due_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_resolved', ['resolved_at'], unique=False)
        batch_op.create_index('ix_tickets_started', ['started_at'], unique=False)
        batch_op.create_index('ix_tickets_status_due', ['status', 'restore_due_at', 'id'], unique=False)
        batch_op.create_index('uq_tickets_one_open_preventive', ['atm_id'], unique=True, sqlite_where=sa.text("kind = 'preventive' AND status IN ('open', 'assigned', 'in_progress', 'on_hold')"), postgresql_where=sa.text("kind = 'preventive' AND status IN ('open', 'assigned', 'in_progress', 'on_hold')"))

    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_idempotency_keys_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('user_id', 'key', name='uq_idempotency_keys_user_key')
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('time', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_ticket_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_events_ticket_id_id', ['ticket_id', 'id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('city_key', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_city_key'), ['city_key'], unique=False)
    fill_city_keys()


def fill_city_keys():
    """Every user's city_key from its city: trimmed and case-folded, None when blank."""
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('city', sa.String),
                     sa.column('city_key', sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c.city).where(users.c.city.is_not(None))).all()
    for user_id, city in rows:
        bind.execute(users.update().where(users.c.id == user_id)
                     .values(city_key=city.strip().casefold() or None))


# 0002's refresh audit trigger reads `users`; SQLite rebuilds `users` to drop a
# column (a batch copy), which its trigger does not survive: it is set aside
# around the copy. Written out as 0002 wrote it.
SQLITE_REFRESH_TRIGGER = """CREATE TRIGGER audit_refresh AFTER UPDATE OF last_used_at ON auth_sessions
BEGIN
    INSERT INTO audit_events (time, event, username, user_id, ip, user_agent)
    SELECT NEW.last_used_at, 'refresh', users.username, users.id,
           NEW.last_used_ip, NEW.last_used_user_agent
    FROM users WHERE users.id = NEW.user_id;
 END"""


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute('DROP TRIGGER IF EXISTS audit_refresh')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_city_key'))
        batch_op.drop_column('city_key')
    if sqlite:
        op.execute(SQLITE_REFRESH_TRIGGER)

    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_ticket_id_id')

    op.drop_table('ticket_events')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    op.drop_table('idempotency_keys')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('uq_tickets_one_open_preventive', sqlite_where=sa.text("kind = 'preventive' AND status IN ('open', 'assigned', 'in_progress', 'on_hold')"), postgresql_where=sa.text("kind = 'preventive' AND status IN ('open', 'assigned', 'in_progress', 'on_hold')"))
        batch_op.drop_index('ix_tickets_status_due')
        batch_op.drop_index('ix_tickets_started')
        batch_op.drop_index('ix_tickets_resolved')
        batch_op.drop_index('ix_tickets_due')
        batch_op.drop_index('ix_tickets_created')
        batch_op.drop_index('ix_tickets_city_status_due')
        batch_op.drop_index('ix_tickets_city_started')
        batch_op.drop_index('ix_tickets_city_resolved')
        batch_op.drop_index('ix_tickets_city_due')
        batch_op.drop_index('ix_tickets_city_created')
        batch_op.drop_index('ix_tickets_atm_status')
        batch_op.drop_index('ix_tickets_assignee_status_due')

    op.drop_table('tickets')
    with op.batch_alter_table('atms', schema=None) as batch_op:
        batch_op.drop_index('ix_atms_city_key_terminal_key')

    op.drop_table('atms')
