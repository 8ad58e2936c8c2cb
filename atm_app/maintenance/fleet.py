"""The ATM fleet: adding, changing and decommissioning ATMs, listing them, and
what each one's tickets say about it (down, open work, next preventive visit)."""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, tuple_

from .. import audit
from ..database import connection, transaction
from ..errors import Refused
from ..extensions import db
from ..models import UNRESOLVED, Atm, Ticket, city_key, utcnow
from . import cursors
from .tickets import last_change
from .visibility import atms_visible_to, visible_row

NO_SUCH_ATM = "No ATM with that id."
CHANGEABLE = ("city", "address", "model", "pm_interval_days", "is_active")


@dataclass(frozen=True)
class AtmState:
    """What an ATM's tickets say about it now."""

    open_tickets: int = 0
    down: bool = False
    last_preventive_at: object = None  # when its last finished preventive ticket was resolved


def visible_atm(user, atm_id):
    """The ATM `atm_id` if `user` may see it; else 404."""
    atm = visible_row(user, Atm, atm_id)
    if atm is None:
        raise Refused(404, NO_SUCH_ATM)
    return atm


def visible_atm_by_terminal(user, terminal_id):
    """The ATM with this terminal id (any case) if `user` may see it, else None."""
    return db.session.execute(
        db.select(Atm).where(Atm.terminal_key == terminal_id.casefold(), atms_visible_to(user))
    ).scalar_one_or_none()


def terminal_taken(terminal_id):
    """409 when another ATM has this terminal id, in any case."""
    if db.session.execute(db.select(Atm.id).where(Atm.terminal_key == terminal_id.casefold())
                          ).first() is not None:
        raise Refused(409, f"An ATM with terminal id {terminal_id} exists already.",
                      {"terminal_id": ["This terminal id is taken."]})


def create_atm(user, fields):
    """Add an ATM to the fleet; 409 when its terminal id is taken."""
    terminal_taken(fields["terminal_id"])
    atm = Atm(**{name: fields[name] for name in ("terminal_id", "city", "address")},
              model=fields.get("model") or None,
              pm_interval_days=fields.get("pm_interval_days", 90),
              is_active=fields.get("is_active", True), created_at=utcnow())
    with transaction():
        db.session.add(atm)
        db.session.flush()
        logged = audit.store("atm_created", user=user,
                             detail=f"ATM {atm.id} {atm.terminal_id} in {atm.city}")
    audit.log_values(logged)
    return atm


def update_atm(user, atm_id, fields):
    """Change an ATM's city, address, model, interval or status; returns it.

    A ticket's city is always its ATM's: moving an ATM moves its tickets,
    each with a timeline line, in the same transaction.
    """
    atm = visible_atm(user, atm_id)
    if "model" in fields:
        fields = {**fields, "model": fields["model"] or None}
    changes = {name: fields[name] for name in CHANGEABLE
               if name in fields and fields[name] != getattr(atm, name)}
    if not changes:
        return atm
    detail = "; ".join(f"{name} {getattr(atm, name)} -> {value}" for name, value in changes.items())
    with transaction():
        if "city" in changes:
            move_tickets(user, atm, changes["city"])
        for name, value in changes.items():
            setattr(atm, name, value)
        db.session.flush()
        logged = audit.store("atm_changed", user=user,
                             detail=f"ATM {atm.id} {atm.terminal_id}: {detail}")
    audit.log_values(logged)
    return atm


def move_tickets(user, atm, city):
    """Give every ticket of `atm` its new city, each change on its timeline (the
    ATM's own audit row tells of the move, so the tickets' write none)."""
    moved = f"city {atm.city} -> {city} (the ATM moved)"
    connection().execute(db.update(Ticket).where(Ticket.atm_id == atm.id).values(
        city=city, city_key=city_key(city), version=Ticket.version + 1,
        **last_change(user, "edit", moved, None, moved, utcnow())))


# --- lists and state -------------------------------------------------------------

@dataclass
class AtmPage:
    """One page of the fleet, each ATM's state, and the next page's cursor."""

    atms: list
    states: dict
    next: str | None


def down_now():
    """The condition: an ATM has an unresolved out-of-service fault ticket."""
    return db.exists().where(Ticket.atm_id == Atm.id, Ticket.kind == "fault",
                             Ticket.out_of_service.is_(True), Ticket.status.in_(UNRESOLVED))


def filtered_atms(user, query):
    """The SELECT of the ATMs `user` sees that match a fleet query (schemas.AtmQuery)."""
    conditions = [atms_visible_to(user)]
    if query.get("city"):
        conditions.append(Atm.city_key == city_key(query["city"]))
    if query.get("q"):
        text = query["q"].casefold()
        conditions.append(Atm.terminal_key.contains(text, autoescape=True)
                          | func.lower(Atm.address).contains(text, autoescape=True))
    if "down" in query:
        conditions.append(down_now() if query["down"] else ~down_now())
    if "is_active" in query:
        conditions.append(Atm.is_active.is_(query["is_active"]))
    return db.select(Atm).where(*conditions)


def list_atms(user, query):
    """One page of the fleet `user` sees, in terminal id order, and the next cursor."""
    select = filtered_atms(user, query)
    if query.get("cursor"):
        terminal_key, last_id = cursors.read(query["cursor"], "terminal")
        select = select.where(tuple_(Atm.terminal_key, Atm.id) > tuple_(terminal_key, last_id))
    limit = query["limit"]
    atms = db.session.execute(select.order_by(Atm.terminal_key, Atm.id).limit(limit + 1)
                              ).scalars().all()
    more = len(atms) > limit
    atms = atms[:limit]
    next_cursor = cursors.write("terminal", atms[-1].terminal_key, atms[-1].id) if more else None
    return AtmPage(atms, states_of([atm.id for atm in atms]), next_cursor)


def states_of(atm_ids):
    """{atm id: AtmState} for each of these ATMs, from one grouped query over their tickets."""
    if not atm_ids:
        return {}
    unresolved = Ticket.status.in_(UNRESOLVED)
    rows = db.session.execute(
        db.select(
            Ticket.atm_id,
            func.sum(case((unresolved, 1), else_=0)),
            func.max(case((unresolved & (Ticket.kind == "fault") & Ticket.out_of_service, 1),
                          else_=0)),
            func.max(case(((Ticket.kind == "preventive")
                           & Ticket.status.in_(("resolved", "closed")), Ticket.resolved_at))),
        ).where(Ticket.atm_id.in_(atm_ids)).group_by(Ticket.atm_id)
    ).all()
    states = {atm_id: AtmState() for atm_id in atm_ids}
    states.update({atm_id: AtmState(int(open_count or 0), bool(down), last_preventive)
                   for atm_id, open_count, down, last_preventive in rows})
    return states


def next_pm_due(atm, state):
    """The day its next preventive visit is due: the last one's (else its creation) plus the interval."""
    since = state.last_preventive_at or atm.created_at
    return since.date() + timedelta(days=atm.pm_interval_days)


def pm_due_by(day):
    """(atm, state) of every active ATM whose next preventive visit is due on or before `day`."""
    atms = db.session.execute(db.select(Atm).where(Atm.is_active.is_(True)).order_by(Atm.id)
                              ).scalars().all()
    states = {}
    for start in range(0, len(atms), 500):
        states.update(states_of([atm.id for atm in atms[start:start + 500]]))
    for atm in atms:
        state = states.get(atm.id, AtmState())
        if next_pm_due(atm, state) <= day:
            yield atm, state


def today():
    """Today's date in UTC."""
    return utcnow().date()
