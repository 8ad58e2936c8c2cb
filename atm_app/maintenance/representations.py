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


def atm_ref(atm):
    """The short form of an ATM inside a ticket."""
    return {"id": atm.id, "terminal_id": atm.terminal_id, "city": atm.city,
            "address": atm.address}


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
    """The `ticket` object as `viewer` sees it now."""
    now = now or utcnow()
    return {
        "id": ticket.id,
        "atm": atm_ref(ticket.atm),
        "city": ticket.city,
        "kind": ticket.kind,
        "priority": ticket.priority,
        "title": ticket.title,
        "description": ticket.description,
        "out_of_service": ticket.out_of_service,
        "status": ticket.status,
        "assignee": user_ref(ticket.assignee),
        "reported_by": user_ref(ticket.reported_by),
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
