"""Sign-in sessions: starting them, rotating their refresh token, ending them.

This is where tokens are revoked. A session is a token family: the access
and refresh tokens minted at one sign-in and every rotation after it. Ending
the session (`end_session`, `end_user_sessions`) stops all of them at once,
because every token check reads its session (see tokens.py).

Rotation is a compare-and-set on `refresh_jti` in one UPDATE, so of several
requests racing with the same refresh token exactly one wins, on SQLite and
PostgreSQL alike. A retired token presented again after the grace window is
treated as stolen and ends its session (OAuth 2.0 Security BCP, rotation).
"""
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from .. import audit, database
from ..audit import client_details
from ..errors import ApiError
from ..extensions import db
from ..models import AuthSession, User, new_session_id, utcnow
from .tokens import mint_access_token, mint_refresh_token, new_jti


@dataclass
class TokenPair:
    """What a sign-in or a refresh hands back to the client."""

    access: str
    refresh: str | None
    session_id: str


def refresh_lifetime():
    """How long a refresh token (and an idle session) lives."""
    return current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]


def start_session(user):
    """Open a session for `user` after a password sign-in; fresh tokens.

    Written with Core statements, each committed as it runs (database.py):
    no ORM commit, which would expire `user` and make every later read of it
    another query.
    """
    session_id, refresh_jti, csrf = new_session_id(), new_jti(), secrets.token_urlsafe(16)
    tokens = TokenPair(
        access=mint_access_token(user, session_id, csrf, fresh=True),
        refresh=mint_refresh_token(user, session_id, csrf, refresh_jti),
        session_id=session_id,
    )
    ip, user_agent = client_details()
    now = utcnow()
    # Sign-in is rare and already slow (Argon2): a fine moment to drop this
    # user's ended sessions, so the table never grows with signed-out
    # sign-ins. Only ended ones: the (user_id, ended_at) index finds them
    # without reading the live ones, of which a script may keep thousands.
    # Sessions that expired unused go with `purge-tokens` (docs/security.md).
    database.connection().execute(DELETE_ENDED_SESSIONS, {"owner_id": user.id})
    database.connection().execute(INSERT_SESSION, {
        "id": session_id, "user_id": user.id, "created_at": now, "last_used_at": now,
        "expires_at": now + refresh_lifetime(), "ip": ip, "user_agent": user_agent,
        "refresh_jti": refresh_jti,
    })
    return tokens


# Built once, in Core, like every statement a busy endpoint runs: building
# one per request (with the ORM's checks) cost more CPU than running it.
INSERT_SESSION = AuthSession.__table__.insert()
DELETE_ENDED_SESSIONS = db.delete(AuthSession.__table__).where(
    AuthSession.__table__.c.user_id == db.bindparam("owner_id"),
    AuthSession.__table__.c.ended_at.is_not(None),
)


def refresh_session(refresh_claims):
    """New tokens for a verified refresh token (tokens.verified_refresh_claims).

    One UPDATE both authorises and, with rotation on, rotates: it matches
    only while the session is live, still expects this token and its user is
    active. Of several requests racing with one token exactly one matches;
    when none does, `refuse_refresh` says why. The same UPDATE writes the
    audit row, by the trigger `audit_refresh` (migration 0002). The user's name,
    for the audit line in the log, comes from the token (`refresh_token_owner`).

    No RETURNING: on SQLite a statement that returns rows keeps the write
    lock until Python has fetched them, across a wait for the GIL, and every
    other writer queues behind it (docs/performance.md).
    """
    session_id, jti, csrf = refresh_claims["sid"], refresh_claims["jti"], refresh_claims.get("csrf")
    rotating = current_app.config["REFRESH_ROTATION"]
    next_jti = new_jti() if rotating else None
    now = utcnow()
    ip, user_agent = client_details()
    params = {"session_id": session_id, "owner_id": refresh_claims["user_id"],
              "expected_jti": jti, "now": now,
              "client_ip": ip, "client_agent": audit.storable(user_agent)}
    if rotating:
        params.update(next_jti=next_jti, new_expiry=now + refresh_lifetime())
    statement = ROTATE_REFRESH_TOKEN if rotating else TOUCH_SESSION
    if database.connection().execute(statement, params).rowcount != 1:
        refuse_refresh(refresh_claims)
    owner = refresh_token_owner(refresh_claims)
    if owner is None:  # deleted since the UPDATE
        raise ApiError(401, "The token has been revoked.")
    tokens = TokenPair(
        access=mint_access_token(owner, session_id, csrf, fresh=False),
        refresh=mint_refresh_token(owner, session_id, csrf, next_jti) if rotating else None,
        session_id=session_id,
    )
    audit.log_stored_event("refresh", user=owner, time=now)  # its row: the UPDATE's trigger
    return tokens


@dataclass(frozen=True)
class TokenOwner:
    """A refresh token's user as minting and auditing read it."""

    id: int
    username: str


def refresh_token_owner(refresh_claims):
    """The user a verified refresh token names, with its `id` and `username`.

    Refresh tokens carry the username (it never changes), so the busiest
    write path reads no user row: one statement fewer per refresh
    (docs/performance.md). Tokens minted before they carried it are
    read by primary key; None when that user is gone.
    """
    username = refresh_claims.get("username")
    if isinstance(username, str):
        return TokenOwner(refresh_claims["user_id"], username)
    return database.connection().execute(USER_NAME, {"owner_id": refresh_claims["user_id"]}).first()


def use_of_refresh_token(**values):
    """The UPDATE that accepts a refresh token, setting `values`; see refresh_session.

    It always sets `last_used_at` and the client's address and agent, which
    fires the trigger that writes the refresh's audit row.

    Built once (below), in Core, like INSERT_SESSION.
    """
    sessions, users = AuthSession.__table__, User.__table__
    return (
        db.update(sessions)
        .where(
            sessions.c.id == db.bindparam("session_id"),
            sessions.c.user_id == db.bindparam("owner_id"),
            sessions.c.refresh_jti == db.bindparam("expected_jti"),
            sessions.c.ended_at.is_(None),
            sessions.c.expires_at > db.bindparam("now"),
            db.exists().where(users.c.id == sessions.c.user_id, users.c.is_active).correlate(sessions),
        )
        .values(**values, last_used_at=db.bindparam("now"), last_used_ip=db.bindparam("client_ip"),
                last_used_user_agent=db.bindparam("client_agent"))
    )


ROTATE_REFRESH_TOKEN = use_of_refresh_token(
    refresh_jti=db.bindparam("next_jti"),
    previous_refresh_jti=db.bindparam("expected_jti"),
    rotated_at=db.bindparam("now"),
    expires_at=db.bindparam("new_expiry"),
)
# Rotation off: the same token keeps working for the session's lifetime.
TOUCH_SESSION = use_of_refresh_token()
USER_NAME = db.select(User.__table__.c.id, User.__table__.c.username).where(
    User.__table__.c.id == db.bindparam("owner_id"))


def refuse_refresh(refresh_claims):
    """Raise the 401 for a refresh token the UPDATE did not accept, saying why.

    A revoked session or a deactivated or deleted user: "revoked". A live
    session that expects another token: this one was used already; inside
    the grace window that is a race (two tabs), after it a theft, and the
    session ends (OAuth 2.0 Security BCP, rotation).
    """
    session_id, jti = refresh_claims["sid"], refresh_claims["jti"]
    db.session.expire_all()
    user = db.session.get(User, refresh_claims["user_id"])
    session = db.session.get(AuthSession, session_id)
    if (user is None or not user.is_active or session is None
            or session.user_id != user.id or not session.is_live()):
        raise ApiError(401, "The token has been revoked.")
    if not current_app.config["REFRESH_ROTATION"]:
        raise ApiError(401, "The token has been revoked.")  # not the session's token
    grace = timedelta(seconds=current_app.config["REFRESH_REUSE_GRACE_SECONDS"])
    within_grace = (
        session.previous_refresh_jti == jti
        and session.rotated_at is not None
        and utcnow() - session.rotated_at < grace
    )
    if within_grace:
        raise ApiError(401, "This refresh token was already used.")
    end_session(session, "refresh_reuse")
    audit.record("refresh_reuse_detected", user=user, detail=f"session {session_id} ended")
    raise ApiError(401, "This refresh token was already used; the session has ended.")


def end_session(session, reason):
    """End one session: its access and refresh tokens stop working now."""
    if session.ended_at is None:
        session.ended_at = utcnow()
        session.end_reason = reason
    db.session.commit()


def end_user_sessions(user, reason, keep_session_id=None):
    """End every live session of `user` (but `keep_session_id`) in one UPDATE."""
    query = db.update(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.ended_at.is_(None)
    )
    if keep_session_id is not None:
        query = query.where(AuthSession.id != keep_session_id)
    result = db.session.execute(
        query.values(ended_at=utcnow(), end_reason=reason).execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def find_live_session(user, session_id):
    """The user's live session with this id, or None."""
    session = db.session.get(AuthSession, session_id)
    if session is None or session.user_id != user.id or not session.is_live():
        return None
    return session


def live_sessions_of(user):
    """The condition that picks the user's live sessions."""
    return db.and_(
        AuthSession.user_id == user.id,
        AuthSession.ended_at.is_(None),
        AuthSession.expires_at > utcnow(),
    )


def live_sessions(user, first_id=None, limit=None):
    """The user's live sessions, newest first, session `first_id` ahead of all; at most `limit`."""
    query = db.select(AuthSession).where(live_sessions_of(user))
    if first_id is not None:
        query = query.order_by(db.case((AuthSession.id == first_id, 0), else_=1))
    query = query.order_by(AuthSession.created_at.desc(), AuthSession.id).limit(limit)
    return db.session.execute(query).scalars().all()


def count_live_sessions(user):
    """How many live sessions the user has."""
    return db.session.execute(
        db.select(db.func.count()).select_from(AuthSession).where(live_sessions_of(user))
    ).scalar_one()


def users_with_live_sessions(user_ids):
    """The ids among `user_ids` that have a live session now."""
    if not user_ids:
        return set()
    return set(db.session.execute(
        db.select(AuthSession.user_id).distinct().where(
            AuthSession.user_id.in_(user_ids),
            AuthSession.ended_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
    ).scalars())


def purge_sessions():
    """Delete every ended and expired session; returns how many went.

    Their tokens are already refused; only live sessions still matter.
    """
    result = db.session.execute(
        db.delete(AuthSession)
        .where(AuthSession.ended_at.is_not(None) | (AuthSession.expires_at <= utcnow()))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount
