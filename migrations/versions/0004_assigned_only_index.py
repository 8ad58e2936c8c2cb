"""the assignee index keeps assigned tickets only

Revision ID: 0004_assigned_only_index
Revises: 0003_fleet_and_tickets
Create Date: 2026-12-05 08:30:00

Its `NULL` entries held every city's unassigned tickets under one key, and
SQLite's statistics, which count `NULL` as one ordinary value, sent a
technician's "open tickets to take" through them: a read that grew with the
whole fleet. Without them, the city's own index is the way to those tickets.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_assigned_only_index'
down_revision = '0003_fleet_and_tickets'
branch_labels = None
depends_on = None

COLUMNS = ['assignee_id', 'status', 'restore_due_at', 'id']
ASSIGNED = sa.text('assignee_id IS NOT NULL')


def upgrade():
    op.drop_index('ix_tickets_assignee_status_due', table_name='tickets')
    op.create_index('ix_tickets_assignee_status_due', 'tickets', COLUMNS,
                    sqlite_where=ASSIGNED, postgresql_where=ASSIGNED)


def downgrade():
    op.drop_index('ix_tickets_assignee_status_due', table_name='tickets')
    op.create_index('ix_tickets_assignee_status_due', 'tickets', COLUMNS)
