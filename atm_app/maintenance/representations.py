"""ATMs, tickets and timelines as the JSON API (and the CSV export) show them.

`overdue` and `actions` depend on who asks and when, so each ticket is shown
for a viewer at a moment.
"""
from ..models import isoformat, utcnow
from .actions import actions_for
from .fleet import AtmState, next_pm_due
from .sla import is_overdue


def user_ref(user):
    """`{"id", "username"}` of a user, or None."""
    return None if user is None else {"id": user.id, "username": user.username}


def named(user_id, username):
    """`{"id", "username"}` from a ticket's own columns, or None."""
    return None if user_id is None else {"id": user_id, "username": username}


def atm_json(atm, state=None):
    """The `atm` object; `state` (fleet.AtmState) from its tickets."""
    state = state or AtmState()
    return {
        "id": atm.id,
        "terminal_id": atm.terminal_id,
        "city": atm.city,
        "address": atm.address,
        "model": atm.model,
        "pm_interval_days": atm.pm_interval_days,
        "is_active": atm.is_active,
        "down": state.down,
        "open_tickets": state.open_tickets,
        "next_pm_due": next_pm_due(atm, state).isoformat(),
        "created_at": isoformat(atm.created_at),
    }


def ticket_json(ticket, viewer, now=None):
    """The `ticket` object as `viewer` sees it now.

    `ticket` is a models.Ticket or a tickets.ShownTicket (the API's
    lists): both carry the same names.
    """
    now = now or utcnow()
    return {
        "id": ticket.id,
        "atm": {"id": ticket.atm_id, "terminal_id": ticket.atm_terminal_id, "city": ticket.atm_city,
                "address": ticket.atm_address},
        "city": ticket.city,
        "kind": ticket.kind,
        "priority": ticket.priority,
        "title": ticket.title,
        "description": ticket.description,
        "out_of_service": ticket.out_of_service,
        "status": ticket.status,
        "assignee": named(ticket.assignee_id, ticket.assignee_username),
        "reported_by": named(ticket.reported_by_id, ticket.reporter_username),
        "created_at": isoformat(ticket.created_at),
        "assigned_at": isoformat(ticket.assigned_at),
        "started_at": isoformat(ticket.started_at),
        "resolved_at": isoformat(ticket.resolved_at),
        "closed_at": isoformat(ticket.closed_at),
        "response_due_at": isoformat(ticket.response_due_at),
        "restore_due_at": isoformat(ticket.restore_due_at),
        "hold_reason": ticket.hold_reason,
        "resolution": ticket.resolution,
        "reopen_count": ticket.reopen_count,
        "version": ticket.version,
        "overdue": is_overdue(ticket.status, ticket.restore_due_at, now),
        "actions": actions_for(viewer, ticket),
    }


def event_json(event):
    """One line of a ticket's timeline."""
    return {
        "time": isoformat(event.time),
        "actor": user_ref(event.actor),
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "detail": event.detail,
    }
