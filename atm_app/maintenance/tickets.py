"""Tickets: raising them, editing them, notes, lists, and the one way a change is written.

Every change to a ticket goes through `commit_change`: one compare-and-set
UPDATE on `version`, which writes the timeline event and the audit row
itself. What each action changes is decided in actions.py.
"""
from collections import namedtuple
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, bindparam, or_, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from .. import audit
from ..database import connection, transaction
from ..errors import Refused
from ..extensions import db
from ..models import (
    UNRESOLVED,
    Atm,
    IdempotencyKey,
    Ticket,
    TicketEvent,
    User,
    city_key,
    utcnow,
)
from . import cursors, sla
from .visibility import (
    atms_visible_to,
    by_id_for_each_role,
    tickets_visible_to,
    viewer_parameters,
    visible_row,
)

IDEMPOTENCY_WINDOW = timedelta(hours=24)
NO_SUCH_TICKET = "No ticket with that id."
FINISHED = ("closed", "cancelled")


# --- a ticket as the API shows it ------------------------------------------------

ASSIGNEE, REPORTER = aliased(User), aliased(User)
# What the API shows of a ticket: its columns (but its latest change's, which
# the database keeps for itself) and, under the names models.Ticket gives them,
# its ATM's and people's.
SHOWN_COLUMNS = (
    *(column for column in Ticket.__table__.c if not column.key.startswith("last_change_")),
    Atm.terminal_id.label("atm_terminal_id"), Atm.city.label("atm_city"),
    Atm.address.label("atm_address"), ASSIGNEE.username.label("assignee_username"),
    REPORTER.username.label("reporter_username"))
ShownTicket = namedtuple("ShownTicket", [column.key for column in SHOWN_COLUMNS])


def with_shown_columns(select):
    """A SELECT of tickets turned into one of their SHOWN_COLUMNS."""
    return (select.with_only_columns(*SHOWN_COLUMNS)
            .join(Atm, Atm.id == Ticket.atm_id)
            .outerjoin(ASSIGNEE, ASSIGNEE.id == Ticket.assignee_id)
            .outerjoin(REPORTER, REPORTER.id == Ticket.reported_by_id))


# Made once: building a statement costs several times what running it does.
SHOWN_TICKETS = with_shown_columns(db.select(Ticket))
SHOWN_TICKET_SEEN_BY = by_id_for_each_role(SHOWN_TICKETS, Ticket)


def shown_tickets(select, parameters=None):
    """The tickets of `select` (of SHOWN_COLUMNS) as ShownTicket tuples, not ORM
    objects: for a list, building those cost as much again as its SQL. (Plain
    tuples, not the database's rows, because JSON reads every field of each.)"""
    return [ShownTicket(*row) for row in connection().execute(select, parameters)]


def shown_ticket(user, ticket_id):
    """The ticket `ticket_id` as a ShownTicket if `user` may see it; else 404.

    What an action reads, and answers with: a change is written by Core
    statements, so it needs no ORM object, whose making costs more than the read.
    """
    parameters = viewer_parameters(user, ticket_id)
    found = parameters and shown_tickets(SHOWN_TICKET_SEEN_BY[user.role], parameters)
    if not found:
        raise Refused(404, NO_SUCH_TICKET)
    return found[0]


def visible_ticket(user, ticket_id):
    """The ticket `ticket_id` if `user` may see it, read afresh; else 404."""
    ticket = visible_row(user, Ticket, ticket_id)
    if ticket is None:
        raise Refused(404, NO_SUCH_TICKET)
    return ticket


def check_version(ticket, if_match):
    """412 when `If-Match` (werkzeug's ETags, possibly empty) names another version."""
    if if_match and not if_match.contains(str(ticket.version)) and not if_match.star_tag:
        raise Refused(412, f"The ticket changed since you read it: it is at version "
                           f"{ticket.version} now.")


TICKETS = Ticket.__table__
# A change of one ticket, made once: SQLAlchemy adds each parameter named
# after a column to its SET, and it applies only at the version read.
UPDATE_TICKET = (
    TICKETS.update()
    .where(TICKETS.c.id == bindparam("ticket_id"), TICKETS.c.version == bindparam("read_version"))
    .values(version=TICKETS.c.version + 1))
INSERT_TICKET_EVENT = TicketEvent.__table__.insert()


def commit_change(actor, ticket, values, event_action, detail, audit_event, guarded,
                  assignee_name=None):
    """Write `values` to `ticket` (a ShownTicket) with its timeline event and audit row,
    all or nothing.

    One UPDATE: it applies only while the ticket still has the version it
    was read at, so of several simultaneous changes exactly one wins (a
    loser gets 412 when it sent If-Match, `guarded`, else 409), and the
    database writes the event and audit row inside it
    (trigger `record_ticket_change`, migration 0006). Returns the ticket as it is now: the one
    read with `values` applied, which the version check makes exact;
    `assignee_name` names the assignee `values` sets, if any.
    """
    to_status = values.get("status", ticket.status)
    moved = f"{ticket.status} -> {to_status}" if to_status != ticket.status else None
    summary = "; ".join(part for part in (moved, detail) if part)
    now = utcnow()
    changed = connection().execute(UPDATE_TICKET, {
        **values, **last_change(actor, event_action, detail, audit_event, summary, now),
        "ticket_id": ticket.id, "read_version": ticket.version}).rowcount
    if changed != 1:
        current = shown_ticket(actor, ticket.id)
        if guarded:
            raise Refused(412, f"The ticket changed since you read it: it is at version "
                               f"{current.version} now.")
        raise Refused(409, f"The ticket changed meanwhile; it is {current.status} now.")
    audit.log_stored_event(audit_event, actor, now, f"ticket {ticket.id}: {summary}")
    if "assignee_id" in values:
        values = {**values, "assignee_username": assignee_name if values["assignee_id"] else None}
    return ticket._replace(**values, version=ticket.version + 1)


def last_change(actor, event_action, detail, audit_event, summary, now):
    """The last_change_* columns of a change, which the database turns into its
    timeline event and audit row (trigger `record_ticket_change`). The audit
    row's detail is "ticket <id>: " and `summary`; an `audit_event` of None
    writes no audit row (a change audited elsewhere)."""
    ip, user_agent = audit.client_details()
    return {
        "last_change_at": now, "last_change_by_id": actor.id if actor is not None else None,
        "last_change_action": event_action, "last_change_detail": detail,
        "last_change_audit_event": audit_event,
        "last_change_summary": audit.storable(summary[:255]),
        "last_change_ip": ip, "last_change_user_agent": audit.storable(user_agent),
    }


def write_event(ticket_id, actor, action, from_status, to_status, detail, now):
    """One timeline line that is not a change (a ticket's creation, a note), on the
    request's connection."""
    connection().execute(INSERT_TICKET_EVENT, {
        "ticket_id": ticket_id, "time": now, "actor_id": actor.id if actor is not None else None,
        "action": action, "from_status": from_status, "to_status": to_status, "detail": detail})


# --- raising a ticket ---------------------------------------------------------

def atm_for_new_ticket(user, fields):
    """The active ATM the new ticket is for, named by `atm_id` or `terminal_id`; else 400."""
    conditions = [atms_visible_to(user)]
    field = "atm_id" if "atm_id" in fields else "terminal_id"
    if "atm_id" in fields:
        conditions.append(Atm.id == fields["atm_id"])
    if "terminal_id" in fields:
        conditions.append(Atm.terminal_key == fields["terminal_id"].casefold())
    atm = db.session.execute(db.select(Atm).where(*conditions)).scalar_one_or_none()
    if atm is None:
        raise Refused(400, "Some fields are missing or invalid.",
                      {field: ["No ATM you can see has this id."]})
    if not atm.is_active:
        raise Refused(400, "Some fields are missing or invalid.",
                      {field: ["This ATM is decommissioned."]})
    return atm


def create_ticket(user, fields, idempotency_key=None):
    """Raise a ticket (`open`, unassigned); returns it.

    With an idempotency key, the same key from the same user within
    IDEMPOTENCY_WINDOW answers with the ticket the first call created.
    """
    if idempotency_key is not None:
        earlier = ticket_of_key(user, idempotency_key)
        if earlier is not None:
            return earlier
    atm = atm_for_new_ticket(user, fields)
    try:
        ticket, logged = insert_ticket(user, atm, fields, idempotency_key)
    except IntegrityError:
        # A simultaneous call won: the same key, or this ATM's one unresolved preventive ticket.
        earlier = ticket_of_key(user, idempotency_key) if idempotency_key else None
        if earlier is not None:
            return earlier
        if fields.get("kind") == "preventive":
            refuse_second_preventive(atm)
        raise
    audit.log_values(logged)
    return ticket


def insert_ticket(user, atm, fields, idempotency_key=None):
    """Write a new ticket, its `created` event and its audit row in one transaction.

    `user` None: the system raised it (plan-preventive); it has no reporter.
    """
    now = utcnow()
    kind = fields.get("kind", "fault")
    priority = fields.get("priority", "normal")
    ticket = Ticket(
        atm_id=atm.id, city=atm.city, kind=kind, priority=priority, title=fields["title"],
        description=fields.get("description") or None,
        out_of_service=fields.get("out_of_service", False), status="open",
        reported_by_id=user.id if user is not None else None, created_at=now,
        **sla.due_times(now, priority),
    )
    with transaction():
        if kind == "preventive":
            refuse_second_preventive(atm)
        db.session.add(ticket)
        db.session.flush()
        write_event(ticket.id, user, "created", None, "open", ticket.title, now)
        logged = audit.store("ticket_created", user=user,
                             username=None if user else "plan-preventive",
                             detail=f"ticket {ticket.id}: {kind}, {priority}, on {atm.terminal_id}")
        if idempotency_key is not None:
            forget_expired_key(user, idempotency_key, now)
            db.session.add(IdempotencyKey(user_id=user.id, key=idempotency_key,
                                          ticket_id=ticket.id, created_at=now))
            db.session.flush()
    return ticket, logged


def refuse_second_preventive(atm):
    """409 when this ATM has an unresolved preventive ticket already (one at a time)."""
    existing = db.session.execute(
        db.select(Ticket.id).where(Ticket.atm_id == atm.id, Ticket.kind == "preventive",
                                   Ticket.status.in_(UNRESOLVED))
    ).scalar()
    if existing is not None:
        raise Refused(409, f"ATM {atm.terminal_id} already has an unresolved preventive "
                           f"ticket (#{existing}).")


def ticket_of_key(user, key):
    """The ticket this user created with this idempotency key within the window, or None."""
    row = db.session.execute(
        db.select(IdempotencyKey.ticket_id).where(
            IdempotencyKey.user_id == user.id, IdempotencyKey.key == key,
            IdempotencyKey.created_at > utcnow() - IDEMPOTENCY_WINDOW)
    ).scalar()
    return db.session.get(Ticket, row, populate_existing=True) if row is not None else None


def forget_expired_key(user, key, now):
    """Drop this user's use of `key` from before the window, so the key works anew."""
    connection().execute(db.delete(IdempotencyKey).where(
        IdempotencyKey.user_id == user.id, IdempotencyKey.key == key,
        IdempotencyKey.created_at <= now - IDEMPOTENCY_WINDOW))


def purge_idempotency_keys():
    """Delete every key older than the window; returns how many went."""
    result = db.session.execute(
        db.delete(IdempotencyKey).where(IdempotencyKey.created_at <= utcnow() - IDEMPOTENCY_WINDOW)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


# --- editing, notes, timeline --------------------------------------------------

EDITABLE = ("title", "description", "priority", "out_of_service")


def edit_ticket(user, ticket_id, fields_of, if_match=None):
    """A supervisor's or host's change of title, description, priority or out_of_service.

    `fields_of` reads the body (schemas.load), called only once the caller
    may edit: the contract's order is 404, 403, 412, 400, then 409.
    """
    ticket = shown_ticket(user, ticket_id)
    if user.role not in ("supervisor", "host"):
        raise Refused(403, "Only a supervisor of the ticket's city or a data host may edit it.")
    check_version(ticket, if_match)
    fields = fields_of()
    if ticket.status in FINISHED:
        raise Refused(409, f"The ticket is {ticket.status}; it can no longer be edited.")
    if fields.get("out_of_service") and ticket.kind == "preventive":
        raise Refused(400, "Some fields are missing or invalid.",
                      {"out_of_service": ["Only a fault puts an ATM out of service."]})
    values = {name: fields[name] for name in EDITABLE
              if name in fields and fields[name] != getattr(ticket, name)}
    if "description" in values:
        values["description"] = values["description"] or None
    if "priority" in values:
        values.update(sla.due_times(ticket.created_at, values["priority"],
                                    ticket.response_held_seconds, ticket.restore_held_seconds))
    if not values:
        return ticket
    detail = "; ".join(f"{name} {describe(getattr(ticket, name))} -> {describe(values[name])}"
                       for name in EDITABLE if name in values)
    return commit_change(user, ticket, values, "edit", detail, "ticket_changed",
                         guarded=bool(if_match))


def describe(value):
    """A field value as the timeline shows it."""
    if value is None or value == "":
        return "(none)"
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def add_note(user, ticket_id, text):
    """Add a note to the ticket's timeline (the ticket itself does not change)."""
    ticket = visible_ticket(user, ticket_id)
    with transaction():
        write_event(ticket.id, user, "note", ticket.status, ticket.status, text, utcnow())


def ticket_events(user, ticket_id):
    """The timeline of a ticket the user may see, oldest first."""
    ticket = visible_ticket(user, ticket_id)
    return db.session.execute(
        db.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.time, TicketEvent.id)
    ).scalars().all()


# --- lists ------------------------------------------------------------------------

SORTS = {
    # name: (column, newest first?)
    "created": (Ticket.created_at, True),
    "due": (Ticket.restore_due_at, False),
}


@dataclass
class TicketPage:
    """One page of a ticket list and the cursor of the next (None: the last page)."""

    tickets: list
    next: str | None


def status_in(statuses):
    """`status IN (...)` with the names written into the SQL rather than bound:
    SQLite uses a partial index (the unresolved tickets', models.Ticket) only
    where it can read the condition as the index's own. The names are the
    table's, never a caller's text (schemas.CommaList checks them)."""
    return Ticket.status.in_(bindparam("statuses", tuple(statuses), expanding=True,
                                       literal_execute=True, unique=True))


def filtered_tickets(user, query, now=None):
    """The SELECT of the tickets `user` sees that match a list query (schemas.TicketQuery)."""
    now = now or utcnow()
    conditions = [tickets_visible_to(user)]
    if "status" in query:
        conditions.append(status_in(query["status"]))
    if "priority" in query:
        conditions.append(Ticket.priority.in_(query["priority"]))
    if "kind" in query:
        conditions.append(Ticket.kind == query["kind"])
    if "city" in query:
        conditions.append(Ticket.city_key == city_key(query["city"]))
    if "atm_id" in query:
        conditions.append(Ticket.atm_id == query["atm_id"])
    if "assignee_id" in query:
        conditions.append(Ticket.assignee_id == query["assignee_id"])
    if "overdue" in query:
        overdue = and_(status_in(UNRESOLVED), Ticket.restore_due_at < now)
        conditions.append(overdue if query["overdue"] else ~overdue)
    if "due_before" in query:  # the pages' "at risk": unresolved and due soon
        conditions.append(and_(status_in(UNRESOLVED), Ticket.restore_due_at < query["due_before"]))
    if query.get("q"):
        text = query["q"].casefold()
        conditions.append(or_(
            db.func.lower(Ticket.title).contains(text, autoescape=True),
            Ticket.atm_id.in_(db.select(Atm.id).where(
                Atm.terminal_key.contains(text, autoescape=True))),
        ))
    return db.select(Ticket).where(*conditions)


def ordered(select, sort):
    """`select` in the order of `sort`, ties broken by id."""
    column, newest_first = SORTS[sort]
    if newest_first:
        return select.order_by(column.desc(), Ticket.id.desc())
    return select.order_by(column, Ticket.id)


def list_tickets(user, query, as_rows=False):
    """One page of the tickets `user` sees for a list query, and the next page's cursor.

    Keyset pagination: the cursor holds the sort value and id of the last
    ticket shown, so a page starts right after it even while tickets are added.
    The tickets are models.Ticket objects, or with `as_rows` ShownTicket
    tuples (the JSON API, which needs no more).
    """
    sort, limit = query["sort"], query["limit"]
    column, newest_first = SORTS[sort]
    select = filtered_tickets(user, query)
    if query.get("cursor"):
        value, last_id = cursors.read(query["cursor"], sort)
        after = (tuple_(column, Ticket.id) < tuple_(value, last_id) if newest_first
                 else tuple_(column, Ticket.id) > tuple_(value, last_id))
        select = select.where(after)
    select = ordered(select, sort).limit(limit + 1)
    if as_rows:
        tickets = shown_tickets(with_shown_columns(select))
    else:
        tickets = db.session.execute(select).scalars().all()
    more = len(tickets) > limit
    tickets = tickets[:limit]
    last = tickets[-1] if tickets else None
    next_cursor = cursors.write(sort, getattr(last, column.key), last.id) if more else None
    return TicketPage(tickets, next_cursor)


def open_work_of(user, assignee_ids):
    """{assignee id: how many unresolved tickets it holds}, among the tickets `user` sees."""
    if not assignee_ids:
        return {}
    return dict(db.session.execute(
        db.select(Ticket.assignee_id, db.func.count())
        .where(tickets_visible_to(user), Ticket.assignee_id.in_(assignee_ids),
               status_in(UNRESOLVED))
        .group_by(Ticket.assignee_id)).all())


EXPORT_PAGE = 500


def all_tickets(user, query):
    """Every ticket of a list query, in its order, read a keyset page at a time (the
    CSV export): memory stays flat however many there are, and no server-side
    cursor is needed (the connection autocommits)."""
    page = {**query, "limit": EXPORT_PAGE, "cursor": None}
    while True:
        found = list_tickets(user, page)
        yield from found.tickets  # the session's identity map holds them weakly: they go
        if found.next is None:
            return
        page["cursor"] = found.next
