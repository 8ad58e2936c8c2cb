"""What changes a ticket: the contract's action table, as data, and the one function
that applies it.

Each row says from which statuses an action may be taken, the status it
leads to, who may take it, the one body field it requires, and its effect on
the ticket's other columns. `take_action` checks a request against the row
in the contract's order (404, 403, 412, 400, 409) and writes the change;
`actions_for` lists what a caller may do now. Both read the same table, so
a ticket's `actions` and the answers to taking them cannot disagree.
"""
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import bindparam

from ..database import connection
from ..errors import Refused
from ..extensions import db
from ..models import MAX_ROW_ID, User, city_key, utcnow
from ..users.service import active_technician_of
from . import schemas, sla
from .tickets import check_version, commit_change, shown_ticket

# Who may take an action on a ticket.
ASSIGNEE = "the assignee"
SUPERVISOR = "a supervisor of the ticket's city"
HOST = "a data host"
SELF = "a technician, taking an open ticket for itself"


@dataclass(frozen=True)
class Action:
    """One row of the action table."""

    name: str
    sources: tuple  # the statuses it may be taken from
    target: str  # the status it leads to (reopen's effect may say `open` instead)
    takers: frozenset
    field: str | None  # the body field it requires
    effect: Callable  # (ticket, fields, now) -> the other columns it sets
    audit_event: str


def assign_to(ticket, fields, now):
    return {"assignee_id": fields["assignee_id"], "assigned_at": now}


def start_work(ticket, fields, now):
    return {"started_at": ticket.started_at or now}


def put_on_hold(ticket, fields, now):
    return {"hold_reason": fields["reason"], "held_since": now}


def record_resolution(ticket, fields, now):
    return {"resolution": fields["resolution"], "resolved_at": now}


def mark_closed(ticket, fields, now):
    return {"closed_at": now}


def reopen_work(ticket, fields, now):
    """Back to the same assignee while it is an active technician of the city, else open."""
    values = {"reopen_count": ticket.reopen_count + 1, "closed_at": None, "resolution": None}
    if active_technician(ticket.assignee_id, ticket.city) is not None:
        return {**values, "status": "assigned", "assigned_at": now}
    return {**values, "status": "open", "assignee_id": None, "assigned_at": None}


ACTIONS = {action.name: action for action in (
    Action("assign", ("open", "assigned", "on_hold"), "assigned",
           frozenset({SUPERVISOR, HOST, SELF}), "assignee_id", assign_to, "ticket_assigned"),
    Action("start", ("assigned", "on_hold"), "in_progress",
           frozenset({ASSIGNEE}), None, start_work, "ticket_started"),
    Action("hold", ("assigned", "in_progress"), "on_hold",
           frozenset({ASSIGNEE, SUPERVISOR, HOST}), "reason", put_on_hold, "ticket_held"),
    Action("resolve", ("in_progress",), "resolved",
           frozenset({ASSIGNEE, SUPERVISOR, HOST}), "resolution", record_resolution,
           "ticket_resolved"),
    Action("close", ("resolved",), "closed",
           frozenset({SUPERVISOR, HOST}), None, mark_closed, "ticket_closed"),
    Action("reopen", ("resolved", "closed"), "assigned",
           frozenset({SUPERVISOR, HOST}), "reason", reopen_work, "ticket_reopened"),
    Action("cancel", ("open", "assigned", "on_hold"), "cancelled",
           frozenset({SUPERVISOR, HOST}), "reason", mark_closed, "ticket_cancelled"),
)}


def parts_played(user, ticket):
    """Which takers of the table `user` is for this ticket."""
    parts = set()
    if user.role == "host":
        parts.add(HOST)
    if user.role == "supervisor" and user.city_key == ticket.city_key:
        parts.add(SUPERVISOR)
    if ticket.assignee_id is not None and ticket.assignee_id == user.id:
        parts.add(ASSIGNEE)
    if user.role == "technician" and ticket.status == "open" \
            and user.city_key == ticket.city_key:
        parts.add(SELF)
    return parts


def may_take(action, user, ticket, body=None, parts=None):
    """Whether the `who` column lets `user` take `action` on `ticket` now.

    A technician taking a ticket for itself must name itself as the assignee.
    `parts` (parts_played) may be given when asking about several actions.
    """
    parts = (parts_played(user, ticket) if parts is None else parts) & action.takers
    if parts - {SELF}:
        return True
    if SELF in parts:
        named = (body or {}).get("assignee_id", user.id)
        return named == user.id and type(named) is int
    return False


def actions_for(user, ticket):
    """The actions `user` may take on `ticket` now, in the table's order."""
    parts = parts_played(user, ticket)
    return [name for name, action in ACTIONS.items()
            if ticket.status in action.sources and may_take(action, user, ticket, parts=parts)]


# Built once: building a statement costs several times what running it does.
ACTIVE_TECHNICIAN_NAME = db.select(User.username).where(
    User.id == bindparam("user_id"), active_technician_of(bindparam("city_key")))


def active_technician(user_id, city):
    """The username of `user_id` if it is an active technician of `city`, else None."""
    key = city_key(city)
    if user_id is None or key is None or not 0 < user_id <= MAX_ROW_ID:
        return None
    return connection().execute(
        ACTIVE_TECHNICIAN_NAME, {"user_id": user_id, "city_key": key}).scalar()


def take_action(user, ticket_id, name, read_body, if_match=None):
    """Apply action `name` to a ticket for `user`; the ticket as it is after.

    The checks run in the contract's order and the first that fails
    answers, with nothing changed: 404 (unseen ticket, unknown action), 403
    (the `who` column), 412 (If-Match names another version), 400 (the
    required field, or an assignee who is not an active technician of the
    city), 409 (the ticket's status is not one the action starts from).
    `read_body` gives the request body; it is read only once the ticket is
    known to be seen (a technician's own assign needs it for the 403).
    """
    action = ACTIONS.get(name)
    ticket = shown_ticket(user, ticket_id)
    if action is None:
        raise Refused(404, f"There is no action {name!r}; the actions are {', '.join(ACTIONS)}.")
    body = read_body() if parts_played(user, ticket) & action.takers == {SELF} else None
    if not may_take(action, user, ticket, body):
        raise Refused(403, f"Only {' or '.join(sorted(action.takers))} may {name} this ticket.")
    check_version(ticket, if_match)
    fields = schemas.load(schemas.action_body(action.field), read_body() if body is None else body)
    assignee = None
    if action.field == "assignee_id":
        assignee = active_technician(fields["assignee_id"], ticket.city)
        if assignee is None:
            raise Refused(400, "Some fields are missing or invalid.",
                          {"assignee_id": [f"Choose an active technician of {ticket.city}."]})
    if ticket.status not in action.sources:
        raise Refused(409, f"The ticket is {ticket.status}; {name} works only on "
                           f"{', '.join(action.sources)} tickets.")
    now = utcnow()
    values = {"status": action.target, **action.effect(ticket, fields, now)}
    if ticket.status == "on_hold" and values["status"] != "on_hold":
        values.update(sla.resumed_clocks(ticket, now), hold_reason=None)
    detail = describe_action(action, fields, assignee)
    return commit_change(user, ticket, values, name, detail, action.audit_event,
                         guarded=bool(if_match), assignee_name=assignee)


def describe_action(action, fields, assignee):
    """The timeline's words for an action beside its two statuses: who it was
    assigned to, or the reason or resolution it carried (None for the others)."""
    if action.field == "assignee_id":
        return f"assigned to {assignee}"
    return fields[action.field] if action.field else None
