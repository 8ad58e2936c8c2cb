"""an index of each city's unresolved tickets by due time

Revision ID: 0005_unresolved_due_index
Revises: 0004_assigned_only_index
Create Date: 2026-12-05 09:40:00

A supervisor's everyday list is its city's unresolved tickets, soonest due
first. Most of a city's tickets are closed, which the statistics cannot tell
SQLite: it walked the city's whole history in due order to find the few
still open. This partial index holds exactly the unresolved ones.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_unresolved_due_index'
down_revision = '0004_assigned_only_index'
branch_labels = None
depends_on = None

UNRESOLVED = sa.text("status IN ('open', 'assigned', 'in_progress', 'on_hold')")


def upgrade():
    op.create_index('ix_tickets_city_unresolved_due', 'tickets',
                    ['city_key', 'restore_due_at', 'id'],
                    sqlite_where=UNRESOLVED, postgresql_where=UNRESOLVED)


def downgrade():
    op.drop_index('ix_tickets_city_unresolved_due', table_name='tickets')
