"""Maintenance models: the ATM fleet, tickets (work orders), their timeline,
and the idempotency keys of ticket creation.

The rules that change these rows live in atm_app/maintenance/ (who may see
what: visibility.py; what an action does: actions.py); the models only hold
the data and the indexes every list filter and sort needs.
"""
from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlalchemy.orm import validates

from ..extensions import db
from . import base
from .base import utcnow

KINDS = ("fault", "preventive")
PRIORITIES = ("critical", "high", "normal", "low")
STATUSES = ("open", "assigned", "in_progress", "on_hold", "resolved", "closed", "cancelled")
# Work not yet done: these count as the backlog and keep an out-of-service ATM down.
UNRESOLVED = ("open", "assigned", "in_progress", "on_hold")
TERMINAL_ID_MAX_LENGTH = 32


def sql_list(values):
    """A tuple of names as an SQL list: ('a', 'b')."""
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


class Atm(db.Model):
    """One ATM of the fleet. `terminal_id` never changes; decommissioned ones stay, inactive."""

    __tablename__ = "atms"
    __table_args__ = (
        CheckConstraint("pm_interval_days BETWEEN 1 AND 3650", name="pm_interval_range"),
        Index("ix_atms_city_key_terminal_key", "city_key", "terminal_key"),
    )

    id = db.Column(db.Integer, primary_key=True)
    terminal_id = db.Column(db.String(TERMINAL_ID_MAX_LENGTH), nullable=False)
    # terminal_id case-folded: unique, and the order lists take.
    terminal_key = db.Column(db.String(TERMINAL_ID_MAX_LENGTH), nullable=False, unique=True)
    city = db.Column(db.String(100), nullable=False)
    city_key = db.Column(db.String(100), nullable=False)
    address = db.Column(db.String(255), nullable=False)
    model = db.Column(db.String(100), nullable=True)
    pm_interval_days = db.Column(db.Integer, nullable=False, default=90)
    is_active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    @validates("terminal_id")
    def keep_terminal_key(self, _, terminal_id):
        """Every write of `terminal_id` also writes `terminal_key`."""
        self.terminal_key = terminal_id.casefold()
        return terminal_id

    @validates("city")
    def keep_city_key(self, _, city):
        """Every write of `city` also writes `city_key`."""
        self.city_key = base.city_key(city)
        return city


class Ticket(db.Model):
    """One piece of maintenance work on one ATM; its city is always its ATM's.

    `version` grows by one with every change: actions and edits update a
    ticket only where the version is still the one they read (compare and
    set), so of two racing changes exactly one applies.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(f"kind IN {sql_list(KINDS)}", name="kind_known"),
        CheckConstraint(f"priority IN {sql_list(PRIORITIES)}", name="priority_known"),
        CheckConstraint(f"status IN {sql_list(STATUSES)}", name="status_known"),
        # The lists: a city's work by status and due time or age, a
        # technician's queue, an ATM's tickets, and everything by age or due.
        Index("ix_tickets_city_status_due", "city_key", "status", "restore_due_at", "id"),
        Index("ix_tickets_city_created", "city_key", "created_at", "id"),
        Index("ix_tickets_city_due", "city_key", "restore_due_at", "id"),
        # A city's unresolved work by due time, the supervisor's everyday list
        # (migration 0005): most of a city's tickets are closed, which the
        # statistics of the other indexes cannot tell SQLite.
        Index("ix_tickets_city_unresolved_due", "city_key", "restore_due_at", "id",
              sqlite_where=db.text(f"status IN {sql_list(UNRESOLVED)}"),
              postgresql_where=db.text(f"status IN {sql_list(UNRESOLVED)}")),
        # Assigned tickets only: unassigned ones are reached by city, never
        # through one key that holds every city's (migration 0004).
        Index("ix_tickets_assignee_status_due", "assignee_id", "status", "restore_due_at", "id",
              sqlite_where=db.text("assignee_id IS NOT NULL"),
              postgresql_where=db.text("assignee_id IS NOT NULL")),
        Index("ix_tickets_atm_status", "atm_id", "status"),
        Index("ix_tickets_status_due", "status", "restore_due_at", "id"),
        Index("ix_tickets_created", "created_at", "id"),
        Index("ix_tickets_due", "restore_due_at", "id"),
        # The figures: tickets started and resolved in a range, per city and overall.
        Index("ix_tickets_city_started", "city_key", "started_at"),
        Index("ix_tickets_city_resolved", "city_key", "resolved_at"),
        Index("ix_tickets_started", "started_at"),
        Index("ix_tickets_resolved", "resolved_at"),
        # At most one unresolved preventive ticket per ATM, whoever creates it.
        Index(
            "uq_tickets_one_open_preventive", "atm_id", unique=True,
            sqlite_where=db.text(f"kind = 'preventive' AND status IN {sql_list(UNRESOLVED)}"),
            postgresql_where=db.text(f"kind = 'preventive' AND status IN {sql_list(UNRESOLVED)}"),
        ),
    )

    id = db.Column(db.Integer, primary_key=True)
    atm_id = db.Column(db.Integer, db.ForeignKey("atms.id"), nullable=False)
    city = db.Column(db.String(100), nullable=False)
    city_key = db.Column(db.String(100), nullable=False)
    kind = db.Column(db.String(12), nullable=False, default="fault")
    priority = db.Column(db.String(10), nullable=False, default="normal")
    title = db.Column(db.String(200), nullable=False)
    description = db.Column(db.Text, nullable=True)
    out_of_service = db.Column(db.Boolean, nullable=False, default=False)
    status = db.Column(db.String(12), nullable=False, default="open")
    assignee_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True)
    reported_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    assigned_at = db.Column(db.DateTime, nullable=True)
    started_at = db.Column(db.DateTime, nullable=True)
    resolved_at = db.Column(db.DateTime, nullable=True)
    # When the ticket was closed, or cancelled.
    closed_at = db.Column(db.DateTime, nullable=True)
    response_due_at = db.Column(db.DateTime, nullable=False)
    restore_due_at = db.Column(db.DateTime, nullable=False)
    # The hold clock (maintenance/sla.py): when the current hold began, and
    # the time held so far that moved each due time.
    held_since = db.Column(db.DateTime, nullable=True)
    response_held_seconds = db.Column(db.Float, nullable=False, default=0.0)
    restore_held_seconds = db.Column(db.Float, nullable=False, default=0.0)
    hold_reason = db.Column(db.String(1000), nullable=True)
    resolution = db.Column(db.String(1000), nullable=True)
    reopen_count = db.Column(db.Integer, nullable=False, default=0)
    version = db.Column(db.Integer, nullable=False, default=1)
    # The latest change, which the database turns into its timeline event and
    # audit row (the trigger `record_ticket_change`, below). Set by every UPDATE of `version`;
    # never shown.
    last_change_at = db.Column(db.DateTime, nullable=True)
    # No foreign key here: the event's actor_id, which the trigger copies it to, holds one.
    last_change_by_id = db.Column(db.Integer, nullable=True)
    last_change_action = db.Column(db.String(20), nullable=True)  # the event's action
    last_change_detail = db.Column(db.Text, nullable=True)  # the event's detail
    # The audit event, or None for a change audited elsewhere (an ATM's move).
    last_change_audit_event = db.Column(db.String(40), nullable=True)
    # The audit row's detail after "ticket <id>: ".
    last_change_summary = db.Column(db.String(255), nullable=True)
    last_change_ip = db.Column(db.String(45), nullable=True)
    last_change_user_agent = db.Column(db.String(255), nullable=True)

    atm = db.relationship("Atm", lazy="joined", innerjoin=True)
    assignee = db.relationship("User", foreign_keys=[assignee_id], lazy="joined")
    reported_by = db.relationship("User", foreign_keys=[reported_by_id], lazy="joined")

    # What a ticket shows of its ATM and people, under the names the API's
    # lists carry (maintenance.tickets.ShownTicket), so one function
    # (representations.ticket_json) shows a ticket either way.
    @property
    def atm_terminal_id(self):
        return self.atm.terminal_id

    @property
    def atm_city(self):
        return self.atm.city

    @property
    def atm_address(self):
        return self.atm.address

    @property
    def assignee_username(self):
        return self.assignee.username if self.assignee else None

    @property
    def reporter_username(self):
        return self.reported_by.username if self.reported_by else None

    @validates("city")
    def keep_city_key(self, _, city):
        """Every write of `city` also writes `city_key`."""
        self.city_key = base.city_key(city)
        return city


class TicketEvent(db.Model):
    """One line of a ticket's timeline: its creation, an action, an edit or a note.

    Written by the function that makes the change, in the same transaction,
    never reconstructed afterwards.
    """

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),)

    id = db.Column(db.Integer, primary_key=True)
    ticket_id = db.Column(db.Integer, db.ForeignKey("tickets.id", ondelete="CASCADE"),
                          nullable=False)
    time = db.Column(db.DateTime, nullable=False, default=utcnow)
    # Null for the system (plan-preventive).
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    action = db.Column(db.String(20), nullable=False)
    from_status = db.Column(db.String(12), nullable=True)
    to_status = db.Column(db.String(12), nullable=True)
    detail = db.Column(db.Text, nullable=True)

    actor = db.relationship("User", lazy="joined")


class IdempotencyKey(db.Model):
    """A ticket creation a script may retry: the same key from the same user answers
    with the same ticket for `IDEMPOTENCY_HOURS` (purged by `purge-tokens`)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    key = db.Column(db.String(255), nullable=False)
    ticket_id = db.Column(db.Integer, db.ForeignKey("tickets.id", ondelete="CASCADE"),
                          nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)


# A ticket's change is one UPDATE (maintenance.tickets.commit_change, or an
# ATM's move): the database's trigger `record_ticket_change` (migration 0006)
# writes its timeline event and audit row from the ticket's last_change_*
# columns, inside that statement. The change and its rows commit together
# without an explicit transaction, and on SQLite the write lock is held for
# one statement, not four (docs/performance.md).
