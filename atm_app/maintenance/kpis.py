"""The figures a city is run on (`GET /api/reports/kpis/`), computed by the database.

Each figure is an aggregate over the tickets in scope, taken over the range
[from 00:00Z, min(to + 1 day 00:00Z, now)); every query picks its rows by
the indexed time column it is about (created, started, resolved), so a
city's figures cost the same however large the rest of the fleet is.
docs/maintenance.md gives each definition beside the query that computes it.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import DateTime, Float, and_, case, func, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from ..errors import Refused
from ..extensions import db
from ..models import UNRESOLVED, Atm, Ticket, User, city_key, utcnow
from .visibility import atms_visible_to, tickets_visible_to

DEFAULT_DAYS = 30
MAX_DAYS = 366


# --- two SQL functions the databases spell differently -----------------------------

class seconds_between(FunctionElement):
    """`later - earlier` in seconds, exact to the microsecond on both databases."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    # Whole epoch seconds plus the stored fraction: julianday() would round
    # to about a millisecond and disagree with PostgreSQL at the last digit.
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)

    def seconds(moment):
        return f"(strftime('%s', {moment}) + COALESCE(CAST(substr({moment}, 20) AS REAL), 0))"

    return f"({seconds(later)} - {seconds(earlier)})"


class later_of(FunctionElement):
    """The later of two times."""

    type = DateTime()
    inherit_cache = True


class earlier_of(FunctionElement):
    """The earlier of two times."""

    type = DateTime()
    inherit_cache = True


@compiles(later_of, "postgresql")
def _later_postgresql(element, compiler, **kw):
    return f"GREATEST({compiler.process(element.clauses, **kw)})"


@compiles(later_of, "sqlite")
def _later_sqlite(element, compiler, **kw):
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(earlier_of, "postgresql")
def _earlier_postgresql(element, compiler, **kw):
    return f"LEAST({compiler.process(element.clauses, **kw)})"


@compiles(earlier_of, "sqlite")
def _earlier_sqlite(element, compiler, **kw):
    return f"min({compiler.process(element.clauses, **kw)})"


# --- the range and the scope ---------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What the figures cover: the days asked for, their window, the city (None: all)."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime  # min(last day + 1, now)
    city: str | None


def scope_for(user, query, now):
    """The scope of a figures request; 400 for bad ranges, 403 for who may not ask."""
    if user.role == "technician":
        raise Refused(403, "The figures are for supervisors and data hosts.")
    last_day = query.get("to") or now.date()
    try:
        first_day = query.get("from_") or last_day - timedelta(days=DEFAULT_DAYS - 1)
        window_end = datetime.combine(last_day + timedelta(days=1), time())
    except OverflowError:
        raise Refused(400, "Some fields are missing or invalid.",
                      {"to": ["Ask for days between the years 1 and 9999."]}) from None
    if last_day < first_day:
        raise Refused(400, "Some fields are missing or invalid.",
                      {"to": ["The range ends before it starts."]})
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise Refused(400, "Some fields are missing or invalid.",
                      {"to": [f"Ask for at most {MAX_DAYS} days at a time."]})
    city = query.get("city", "").strip() or None
    if user.role == "supervisor":
        if city is not None and city_key(city) != city_key(user.city):
            raise Refused(403, "A supervisor sees the figures of its own city only.")
        city = user.city
    start = datetime.combine(first_day, time())
    end = min(window_end, now)
    return Scope(first_day, last_day, start, end, city)


def moment(value):
    """A time as an SQL value, stored the way DateTime columns are (SQLite compares text)."""
    return literal(value, DateTime)


def in_range(column, scope):
    """`column` falls in the scope's window."""
    return and_(column >= moment(scope.start),
                column < moment(scope.end))


def scoped_conditions(user, scope):
    """The tickets and the active ATMs a figure covers: the user's, in the scope's city."""
    tickets = tickets_visible_to(user)
    atms = and_(atms_visible_to(user), Atm.is_active.is_(True))
    if scope.city is not None:
        tickets = and_(tickets, Ticket.city_key == city_key(scope.city))
        atms = and_(atms, Atm.city_key == city_key(scope.city))
    return tickets, atms


def figures(user, query):
    """Every figure of the contract for `user`'s scope, as the API answers them."""
    now = utcnow()
    scope = scope_for(user, query, now)
    tickets, atms = scoped_conditions(user, scope)
    atm_count = db.session.execute(db.select(func.count()).select_from(Atm).where(atms)).scalar()
    started, resolved = started_figures(tickets, scope), resolved_figures(tickets, scope)
    return {
        "from": scope.first_day.isoformat(),
        "to": scope.last_day.isoformat(),
        "city": scope.city,
        "atms": atm_count,
        "tickets_opened": db.session.execute(
            db.select(func.count()).select_from(Ticket)
            .where(tickets, in_range(Ticket.created_at, scope))).scalar(),
        "tickets_resolved": resolved["count"],
        "mtta_minutes": minutes(started["wait_seconds"], started["count"]),
        "mttr_minutes": minutes(resolved["fault_restore_seconds"], resolved["faults"]),
        "sla_response_met_pct": percent(started["met"], started["count"]),
        "sla_restore_met_pct": percent(resolved["met"], resolved["count"]),
        "first_time_fix_pct": percent(resolved["fixed_first_time"], resolved["faults"]),
        "availability_pct": availability(tickets, atms, atm_count, scope, now),
        "backlog": backlog(tickets),
        "by_technician": by_technician(tickets, scope),
    }


def per_day(user, query):
    """(day, tickets opened, tickets resolved) for each day of the range, for the charts."""
    now = utcnow()
    scope = scope_for(user, query, now)
    tickets, _ = scoped_conditions(user, scope)
    counts = {}
    for column, slot in ((Ticket.created_at, 0), (Ticket.resolved_at, 1)):
        day = func.date(column)
        for value, count in db.session.execute(
                db.select(day, func.count()).where(tickets, in_range(column, scope))
                .group_by(day)).all():
            key = value if isinstance(value, date) else date.fromisoformat(value)
            counts.setdefault(key, [0, 0])[slot] = count
    days = (scope.last_day - scope.first_day).days + 1
    return [(day, *counts.get(day, (0, 0)))
            for day in (scope.first_day + timedelta(days=n) for n in range(days))]


def started_figures(tickets, scope):
    """Tickets first started in the range: how many, their total wait, how many in time."""
    count, wait, met = db.session.execute(
        db.select(
            func.count(),
            func.sum(seconds_between(Ticket.started_at, Ticket.created_at)),
            func.sum(case((Ticket.started_at <= Ticket.response_due_at, 1), else_=0)),
        ).where(tickets, in_range(Ticket.started_at, scope))
    ).one()
    return {"count": count, "wait_seconds": wait, "met": met}


def resolved_figures(tickets, scope):
    """Tickets resolved in the range: how many, how many in time; of the faults,
    how many, their total time to restore, and how many were never reopened."""
    fault = Ticket.kind == "fault"
    count, met, faults, restore, first_time = db.session.execute(
        db.select(
            func.count(),
            func.sum(case((Ticket.resolved_at <= Ticket.restore_due_at, 1), else_=0)),
            func.sum(case((fault, 1), else_=0)),
            func.sum(case((fault, seconds_between(Ticket.resolved_at, Ticket.created_at)))),
            func.sum(case((and_(fault, Ticket.reopen_count == 0), 1), else_=0)),
        ).where(tickets, in_range(Ticket.resolved_at, scope))
    ).one()
    return {"count": count, "met": met, "faults": faults, "fault_restore_seconds": restore,
            "fixed_first_time": first_time}


def backlog(tickets):
    """Unresolved tickets by status, now."""
    counts = dict(db.session.execute(
        db.select(Ticket.status, func.count()).where(tickets, Ticket.status.in_(UNRESOLVED))
        .group_by(Ticket.status)).all())
    return {status: counts.get(status, 0) for status in UNRESOLVED}


def by_technician(tickets, scope):
    """Per assignee of tickets resolved in the range: how many, and its faults' mean time to restore."""
    fault = Ticket.kind == "fault"
    rows = db.session.execute(
        db.select(
            User.id, User.username, func.count(),
            func.sum(case((fault, seconds_between(Ticket.resolved_at, Ticket.created_at)))),
            func.sum(case((fault, 1), else_=0)),
        ).join(User, User.id == Ticket.assignee_id)
        .where(tickets, in_range(Ticket.resolved_at, scope))
        .group_by(User.id, User.username).order_by(User.username)
    ).all()
    return [{"id": user_id, "username": username, "resolved": resolved,
             "mttr_minutes": minutes(restore, faults)}
            for user_id, username, resolved, restore, faults in rows]


def outage_end(now):
    """When an out-of-service ticket stopped keeping its ATM down (now, if it still does)."""
    return case(
        (Ticket.status.in_(("resolved", "closed")), Ticket.resolved_at),
        (Ticket.status == "cancelled", Ticket.closed_at),
        else_=moment(now),
    )


def downtime_seconds(tickets, atms, scope, now):
    """The seconds the ATMs in scope were down in the range: per ATM, the union of
    its outages (overlapping ones merged), clipped to the range, summed."""
    end = outage_end(now)
    outages = db.select(
        Ticket.atm_id,
        later_of(Ticket.created_at, moment(scope.start)).label("begins"),
        earlier_of(end, moment(scope.end)).label("ends"),
    ).where(
        tickets, Ticket.kind == "fault", Ticket.out_of_service.is_(True),
        Ticket.atm_id.in_(db.select(Atm.id).where(atms)),
        Ticket.created_at < moment(scope.end),
        end > moment(scope.start),
    ).subquery()
    # Gaps and islands: an outage starts a new island when it begins after
    # every earlier outage of its ATM has ended.
    window = {"partition_by": outages.c.atm_id, "order_by": (outages.c.begins, outages.c.ends)}
    reach = db.select(
        outages, func.max(outages.c.ends).over(**window, rows=(None, -1)).label("reach"),
    ).subquery()
    islands = db.select(
        reach.c.atm_id, reach.c.begins, reach.c.ends,
        func.sum(case((or_(reach.c.reach.is_(None), reach.c.begins > reach.c.reach), 1), else_=0))
        .over(partition_by=reach.c.atm_id, order_by=(reach.c.begins, reach.c.ends),
              rows=(None, 0)).label("island"),
    ).subquery()
    lengths = db.select(
        seconds_between(func.max(islands.c.ends), func.min(islands.c.begins)).label("seconds"),
    ).group_by(islands.c.atm_id, islands.c.island).subquery()
    return db.session.execute(db.select(func.sum(lengths.c.seconds))).scalar() or 0.0


def availability(tickets, atms, atm_count, scope, now):
    """100 × (1 − downtime ÷ (ATMs × range length)); None without ATMs or time."""
    length = (scope.end - scope.start).total_seconds()
    if not atm_count or length <= 0:
        return None
    down = float(downtime_seconds(tickets, atms, scope, now))
    return rounded(100 * (1 - down / (atm_count * length)))


def availability_of_atm(atm, days, now=None):
    """One ATM's availability over the last `days` days up to now (its outages merged)."""
    now = now or utcnow()
    start = now - timedelta(days=days)
    scope = Scope(start.date(), now.date(), start, now, None)
    down = float(downtime_seconds(Ticket.atm_id == atm.id, Atm.id == atm.id, scope, now))
    return rounded(100 * (1 - down / (now - start).total_seconds()))


def rounded(value):
    """A number to one decimal, halves up (2.25 -> 2.3)."""
    return float(Decimal(repr(float(value))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def minutes(total_seconds, count):
    """A mean in minutes to one decimal, or None over nothing."""
    if not count or total_seconds is None:
        return None
    return rounded(float(total_seconds) / count / 60)


def percent(part, whole):
    """part / whole as a percent to one decimal, or None over nothing."""
    if not whole:
        return None
    return rounded(100 * (part or 0) / whole)
