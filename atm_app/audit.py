"""The audit trail: every authentication event, in the database and the app log.

Callers pass names and ids only; nothing here ever sees a password or token.
"""
import json
import logging

from flask import has_request_context, request

from .extensions import db
from .models import AuditEvent, isoformat

log = logging.getLogger("atm_app.audit")

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
)


def client_details():
    """The client address and user agent of the current request, if any."""
    if not has_request_context():
        return None, None
    agent = request.headers.get("User-Agent")
    return request.remote_addr, agent[:255] if agent else None


def record(event, user=None, username=None, detail=None):
    """Store and log one event; commits on its own so it survives a failed request."""
    assert event in EVENTS, event
    ip, user_agent = client_details()
    row = AuditEvent(
        event=event,
        user_id=user.id if user is not None else None,
        username=(user.username if user is not None else username),
        ip=ip,
        user_agent=user_agent,
        detail=detail[:255] if detail else None,
    )
    db.session.add(row)
    db.session.commit()
    log.info(json.dumps({**row.to_dict(), "time": isoformat(row.time)}))
    return row


class JsonLineFormatter(logging.Formatter):
    """Audit records are already JSON; other records become one JSON object a line."""

    def format(self, record):
        message = record.getMessage()
        if record.name == log.name:
            return message
        return json.dumps({"level": record.levelname, "logger": record.name, "message": message})


def find_events(since=None, username=None, event=None, limit=50, offset=0):
    """Events newest first, filtered by time, username (any case) and kind.

    Returns (events, total) so pages can show "page 2 of 7".
    """
    query = db.select(AuditEvent)
    if since is not None:
        query = query.where(AuditEvent.time >= since)
    if username:
        query = query.where(db.func.lower(AuditEvent.username) == username.lower())
    if event:
        query = query.where(AuditEvent.event == event)
    total = db.session.execute(db.select(db.func.count()).select_from(query.subquery())).scalar_one()
    page = query.order_by(AuditEvent.time.desc(), AuditEvent.id.desc()).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return db.session.execute(page).scalars().all(), total
