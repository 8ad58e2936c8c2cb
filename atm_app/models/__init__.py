"""Database models: accounts (users, sessions, audit) and maintenance (ATMs, tickets).

Everything is importable from here (`from atm_app.models import Ticket`);
each aggregate lives in its own module.
"""
from .accounts import (  # noqa: F401
    ROLES,
    USER_BY_USERNAME_KEY,
    AuditEvent,
    AuthSession,
    User,
    new_session_id,
    username_key,
)
from .base import MAX_ROW_ID, city_key, isoformat, utcnow  # noqa: F401
from .maintenance import (  # noqa: F401
    KINDS,
    PRIORITIES,
    STATUSES,
    UNRESOLVED,
    Atm,
    IdempotencyKey,
    Ticket,
    TicketEvent,
)
