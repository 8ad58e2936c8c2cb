"""Service levels: when a ticket's response and restore are due, and the hold clock.

A ticket is due to be started (response) and resolved (restore) within the
minutes `SLA_RESPONSE_MINUTES` and `SLA_RESTORE_MINUTES` give its priority,
counted from its creation. Time spent `on_hold` stops both clocks: when the
ticket leaves `on_hold`, each due time not yet met moves later by the time
held (the response clock only runs until the first start). The time held
is kept on the ticket, so a priority change can recompute both due times
from the creation.
"""
from datetime import timedelta

from flask import current_app

from ..models import UNRESOLVED


def minutes(clock, priority):
    """The minutes `clock` ("response" or "restore") allows a ticket of `priority`."""
    return current_app.config[f"SLA_{clock.upper()}_MINUTES"][priority]


def due_times(created_at, priority, response_held_seconds=0.0, restore_held_seconds=0.0):
    """`response_due_at` and `restore_due_at` for these creation, priority and time held."""
    return {
        "response_due_at": created_at + timedelta(minutes=minutes("response", priority),
                                                  seconds=response_held_seconds),
        "restore_due_at": created_at + timedelta(minutes=minutes("restore", priority),
                                                 seconds=restore_held_seconds),
    }


def resumed_clocks(ticket, now):
    """The column values that restart both clocks of a ticket leaving `on_hold` at `now`."""
    held = max(0.0, (now - ticket.held_since).total_seconds()) if ticket.held_since else 0.0
    response_held = ticket.response_held_seconds + (held if ticket.started_at is None else 0.0)
    restore_held = ticket.restore_held_seconds + held
    return {
        "held_since": None,
        "response_held_seconds": response_held,
        "restore_held_seconds": restore_held,
        **due_times(ticket.created_at, ticket.priority, response_held, restore_held),
    }


def is_overdue(status, restore_due_at, now):
    """Not yet resolved (nor closed or cancelled) and past its restore due time."""
    return status in UNRESOLVED and restore_due_at < now
