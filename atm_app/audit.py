"""The audit trail: every authentication event and every change to the fleet and
its tickets, in the database and the app log.

Callers pass names and ids only; nothing here ever sees a password or token.
Two kinds of row come from the database itself, each from the UPDATE it
records: a refresh's (trigger `audit_refresh`, migration 0002) and a ticket
change's (trigger `record_ticket_change`, migration 0006); only their log lines
are written here.
"""
import json
import logging
import re
from datetime import timedelta

from flask import has_request_context, request

from . import database
from .extensions import db
from .models import AuditEvent, isoformat, utcnow

log = logging.getLogger("atm_app.audit")
INSERT_EVENT = AuditEvent.__table__.insert()

EVENTS = (
    "login_succeeded",
    "login_failed",
    "refresh",
    "refresh_reuse_detected",
    "logout",
    "session_ended",
    "rate_limited",
    "user_created",
    "user_changed",
    "password_changed",
    "atm_created",
    "atm_changed",
    "ticket_created",
    "ticket_changed",
    "ticket_assigned",
    "ticket_started",
    "ticket_held",
    "ticket_resolved",
    "ticket_closed",
    "ticket_reopened",
    "ticket_cancelled",
)


def client_details():
    """The client address and user agent of the current request, if any."""
    if not has_request_context():
        return None, None
    agent = request.headers.get("User-Agent")
    return request.remote_addr, agent[:255] if agent else None


def storable(text):
    """Client-supplied text as a column can hold it: PostgreSQL refuses NUL."""
    return text.replace("\x00", "\ufffd") if text else text


def record(event, user=None, username=None, detail=None):
    """Store and log one event.

    The row is committed as it is written (every engine autocommits,
    database.py), so it survives a failed request. The caller's own changes
    are committed by the caller, before: an event never stands before what
    it records.
    """
    log_values(store(event, user, username, detail))


def store(event, user=None, username=None, detail=None):
    """Write one event's row and return its values, without logging it yet.

    Inside `database.transaction()` the row commits with the change it
    records, or not at all; the caller logs the values (`log_values`) once
    the transaction has committed, so the log never tells of a change that
    was rolled back.
    """
    values = event_values(event, user, username, detail, utcnow())
    database.connection().execute(INSERT_EVENT, values)
    return values


def log_stored_event(event, user, time, detail=None):
    """Log an event whose row the database wrote itself: a refresh or a ticket change
    (the triggers `audit_refresh` and `record_ticket_change`)."""
    log_values(event_values(event, user, None, detail, time))


def event_values(event, user, username, detail, time):
    """One event as plain values in `AuditEvent.to_dict` order, from the current request.

    Not an ORM object: this runs on busy paths, and the ORM's instance and
    unit-of-work machinery cost more CPU than the write itself
    (docs/performance.md).
    """
    assert event in EVENTS, event
    ip, user_agent = client_details()
    return {
        "time": time,
        "event": event,
        "username": storable(user.username if user is not None else username),
        "user_id": user.id if user is not None else None,
        "ip": ip,
        "user_agent": storable(user_agent),
        "detail": storable(detail[:255] if detail else None),
    }


def log_values(values):
    """The app log's line for one event: a JSON object."""
    log.info(json.dumps({**values, "time": isoformat(values["time"])}))


class JsonLineFormatter(logging.Formatter):
    """Audit records are already JSON; other records become one JSON object a line."""

    def format(self, record):
        message = record.getMessage()
        if record.name == log.name:
            return message
        line = {"level": record.levelname, "logger": record.name, "message": message}
        if record.exc_info:
            # Where an unexpected error came from. No SQL parameter values in
            # it: every engine hides them (config.engine_options).
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


AGE_PATTERN = re.compile(r"^\s*(\d{1,5})\s*([smhdw])\s*$", re.IGNORECASE)
AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(age):
    """The moment `age` ago ("30m", "1h", "2d", "1w") as naive UTC; ValueError if unreadable."""
    match = AGE_PATTERN.match(age)
    if match is None:
        raise ValueError(f"Cannot read {age!r} as an age; use a number and s, m, h, d or w, "
                         "like 1h.")
    amount, unit = int(match.group(1)), match.group(2).lower()
    return utcnow() - timedelta(**{AGE_UNITS[unit]: amount})


def events_query(since=None, username=None, event=None):
    """Events newest first, filtered by time, username (any case) and kind."""
    query = db.select(AuditEvent)
    if since is not None:
        query = query.where(AuditEvent.time >= since)
    if username:
        query = query.where(db.func.lower(AuditEvent.username) == username.lower())
    if event:
        query = query.where(AuditEvent.event == event)
    return query.order_by(AuditEvent.time.desc(), AuditEvent.id.desc())


def find_events(since=None, username=None, event=None, limit=None):
    """The newest events (at most `limit`) as a list; see events_query."""
    query = events_query(since, username, event)
    if limit is not None:
        query = query.limit(limit)
    return db.session.execute(query).scalars().all()


def page_of_events(since=None, username=None, event=None, page=1, per_page=50):
    """One page of events (a Flask-SQLAlchemy Pagination); see events_query."""
    return database.paginate(events_query(since, username, event), page, per_page)
