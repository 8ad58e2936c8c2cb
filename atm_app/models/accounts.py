"""Account models: users, their sign-in sessions, and the audit trail."""
import uuid

from sqlalchemy import CheckConstraint, Index
from sqlalchemy.orm import validates

from ..extensions import db
from . import base
from .base import isoformat, utcnow

ROLES = ("host", "technician", "supervisor")


def new_session_id():
    """A fresh, unguessable session id."""
    return uuid.uuid4().hex


def username_key(username):
    """The case-insensitive form of a username, used for uniqueness and login."""
    return username.casefold()


class User(db.Model):
    """Someone who signs in. The password is only ever held as an Argon2id hash."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="role_known"),)

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(150), nullable=False)
    username_key = db.Column(db.String(150), nullable=False, unique=True)
    role = db.Column(db.String(20), nullable=False)
    city = db.Column(db.String(100), nullable=True)
    # The city as comparisons use it (base.city_key), kept in step with `city`.
    city_key = db.Column(db.String(100), nullable=True, index=True)
    is_active = db.Column(db.Boolean, nullable=False, default=True)
    password_hash = db.Column(db.String(255), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    sessions = db.relationship(
        "AuthSession", back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __init__(self, username, role, city=None, **kwargs):
        super().__init__(username=username, username_key=username_key(username),
                         role=role, city=city or None, **kwargs)

    @validates("city")
    def keep_city_key(self, _, city):
        """Every write of `city` also writes `city_key`."""
        self.city_key = base.city_key(city)
        return city

    @classmethod
    def find_by_username(cls, username):
        """The user with this username, whatever its case, or None."""
        if "\x00" in username:  # no username holds NUL, and PostgreSQL refuses it in a query
            return None
        return db.session.execute(
            USER_BY_USERNAME_KEY, {"username_key": username_key(username)}
        ).scalar_one_or_none()

    def to_dict(self, with_status=False):
        """The public view of the user: never the hash."""
        data = {"id": self.id, "username": self.username, "role": self.role, "city": self.city}
        if with_status:
            data["is_active"] = self.is_active
        return data

    def __repr__(self):
        return f"<User {self.id} {self.username!r} {self.role}>"


# Built once: every sign-in runs it, and building it cost more than running it.
USER_BY_USERNAME_KEY = db.select(User).where(User.username_key == db.bindparam("username_key"))


class AuthSession(db.Model):
    """One sign-in and every token that descends from it (a token family).

    Tokens carry the session id in their `sid` claim; ending the session stops
    its access and refresh tokens at once. `refresh_jti` is the one refresh
    token of the family that may still be used; rotation swaps it atomically.
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_live", "user_id", "ended_at"),)

    id = db.Column(db.String(32), primary_key=True, default=new_session_id)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_used_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False)
    ip = db.Column(db.String(45), nullable=True)
    user_agent = db.Column(db.String(255), nullable=True)
    # The client of the latest refresh; its audit row is written from them
    # (the trigger `audit_refresh`, below).
    last_used_ip = db.Column(db.String(45), nullable=True)
    last_used_user_agent = db.Column(db.String(255), nullable=True)
    refresh_jti = db.Column(db.String(36), nullable=False)
    previous_refresh_jti = db.Column(db.String(36), nullable=True)
    rotated_at = db.Column(db.DateTime, nullable=True)
    ended_at = db.Column(db.DateTime, nullable=True, index=True)
    end_reason = db.Column(db.String(32), nullable=True)

    user = db.relationship("User", back_populates="sessions")

    def is_live(self, now=None):
        """Whether tokens of this session may still be used."""
        return self.ended_at is None and self.expires_at > (now or utcnow())

    def to_dict(self, current_sid=None):
        """The session as the sessions API lists it."""
        return {
            "id": self.id,
            "created_at": isoformat(self.created_at),
            "last_used_at": isoformat(self.last_used_at),
            "ip": self.ip,
            "user_agent": self.user_agent,
            "current": self.id == current_sid,
        }


class AuditEvent(db.Model):
    """One audited event: sign-in, accounts, the fleet and tickets. Never holds a password,
    hash or token."""

    __tablename__ = "audit_events"

    id = db.Column(db.Integer, primary_key=True)
    time = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
    event = db.Column(db.String(40), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    username = db.Column(db.String(150), nullable=True, index=True)
    ip = db.Column(db.String(45), nullable=True)
    user_agent = db.Column(db.String(255), nullable=True)
    detail = db.Column(db.String(255), nullable=True)

    def to_dict(self):
        """The event as `audit --json` prints it."""
        return {
            "time": isoformat(self.time),
            "event": self.event,
            "username": self.username,
            "user_id": self.user_id,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "detail": self.detail,
        }


# The audit row of a refresh is written by the database, inside the UPDATE
# that accepts the refresh token (sessions.use_of_refresh_token, the only
# statement that sets last_used_at): the trigger `audit_refresh`, created by
# migration 0002 (and again by 0003, whose SQLite batch copy of auth_sessions
# drops it). The rotation and its audit row commit together or not at all,
# and the busiest write path runs one statement, not two (docs/performance.md).
# Every other event is written by audit.record.
