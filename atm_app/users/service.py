"""User management rules, shared by the API, the web pages and the CLI.

Each function validates, writes, records the audit event, and raises
`InvalidUser` with per-field messages when the input is refused.
"""
import re

from sqlalchemy import and_
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..auth.passwords import hash_password, password_problems
from ..auth.sessions import end_user_sessions
from ..database import paginate
from ..extensions import db
from ..models import ROLES, User, city_key

USERNAME_PATTERN = re.compile(r"^[\w.@+-]{1,150}$")
CITY_MAX_LENGTH = 100


class InvalidUser(Exception):
    """Input refused: `errors` maps each field to its messages; `status` is 400 or 409."""

    def __init__(self, errors, status=400):
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors
        self.status = status


def check_username(username):
    """Messages about a proposed username (empty: fine)."""
    # fullmatch: `$` alone would let a trailing newline through.
    if not isinstance(username, str) or not USERNAME_PATTERN.fullmatch(username):
        return ["Use 1 to 150 letters, digits and @ . + - _ only."]
    return []


def check_role(role):
    """Messages about a role (empty: fine)."""
    if role not in ROLES:
        return [f"Choose one of: {', '.join(ROLES)}."]
    return []


def normalise_city(city):
    """A city as stored: stripped, None when blank; raises InvalidUser when invalid."""
    if city is None:
        return None
    if not isinstance(city, str) or len(city) > CITY_MAX_LENGTH:
        raise InvalidUser({"city": [f"Use a text of at most {CITY_MAX_LENGTH} characters."]})
    if any(not character.isprintable() for character in city):
        raise InvalidUser({"city": ["Use printable characters only."]})
    return city.strip() or None


def check_password(password, username, city):
    """Messages about a new password under the policy (empty: fine)."""
    if not isinstance(password, str):
        return ["Must be a string."]
    return password_problems(password, username=username, city=city)


def create_user(username, password, role, city=None):
    """Create and return a user; raises InvalidUser (400, or 409 for a taken name)."""
    city = normalise_city(city)
    errors = {
        "username": check_username(username),
        "role": check_role(role),
        "password": check_password(password, username, city) if not check_username(username) else [],
    }
    errors = {field: msgs for field, msgs in errors.items() if msgs}
    if errors:
        raise InvalidUser(errors)
    if User.find_by_username(username) is not None:
        raise InvalidUser({"username": ["A user with that username already exists."]}, status=409)
    user = User(username=username, role=role, city=city, password_hash=hash_password(password))
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent create took the name first
        db.session.rollback()
        raise InvalidUser({"username": ["A user with that username already exists."]}, status=409)
    audit.record("user_created", user=user, detail=f"role {role}")
    return user


def set_password(user, password, keep_session_id=None):
    """Change a password under the policy; ends the user's other sessions."""
    problems = check_password(password, user.username, user.city)
    if problems:
        raise InvalidUser({"password": problems})
    user.password_hash = hash_password(password)
    db.session.commit()
    end_user_sessions(user, "password_changed", keep_session_id=keep_session_id)
    audit.record("password_changed", user=user)


def update_user(user, changes):
    """Apply the host's `role`, `city`, `is_active` and `password` changes.

    Every change is checked first (`check_changes`); only then is anything
    written (`apply_changes`). A new role, a new password or deactivation
    ends all of the user's sessions.
    """
    city = check_changes(user, changes)
    apply_changes(user, changes, city)
    return user


def check_changes(user, changes):
    """The user's city after `changes` (normalised); raises InvalidUser with every problem."""
    errors = {}
    if "role" in changes and check_role(changes["role"]):
        errors["role"] = check_role(changes["role"])
    if "is_active" in changes and not isinstance(changes["is_active"], bool):
        errors["is_active"] = ["Must be true or false."]
    city = user.city
    if "city" in changes:
        try:
            city = normalise_city(changes["city"])
        except InvalidUser as error:
            errors.update(error.errors)  # a new password is still judged, against the current city
    if "password" in changes:
        problems = check_password(changes["password"], user.username, city)
        if problems:
            errors["password"] = problems
    errors.update(last_host_problems(user, changes))
    if errors:
        raise InvalidUser(errors)
    return city


def apply_changes(user, changes, city):
    """Write checked changes, end the sessions they invalidate, record what changed."""
    ends_sessions = (
        ("role" in changes and changes["role"] != user.role)
        or "password" in changes
        or changes.get("is_active") is False
    )
    described = []
    for field in ("role", "is_active"):
        if field in changes and changes[field] != getattr(user, field):
            described.append(f"{field} {getattr(user, field)} -> {changes[field]}")
            setattr(user, field, changes[field])
    if "city" in changes and city != user.city:
        described.append(f"city {user.city} -> {city}")
        user.city = city
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
        described.append("password reset")
    db.session.commit()
    if ends_sessions:
        end_user_sessions(user, "user_changed")
    if described:
        audit.record("user_changed", user=user, detail="; ".join(described))


def last_host_problems(user, changes):
    """Refuse to demote or deactivate the last active host: nobody could manage users."""
    demoted = "role" in changes and changes["role"] != "host"
    deactivated = changes.get("is_active") is False
    if user.role != "host" or not user.is_active or not (demoted or deactivated):
        return {}
    other_hosts = db.session.execute(
        db.select(db.func.count()).select_from(User)
        .where(User.role == "host", User.is_active.is_(True), User.id != user.id)
    ).scalar_one()
    if other_hosts:
        return {}
    field = "is_active" if deactivated else "role"
    return {field: ["At least one active host must remain."]}


def deactivate_user(user):
    """Deactivate a user and end its sessions."""
    return update_user(user, {"is_active": False})


def list_users(role=None, city=None):
    """Users ordered by username, optionally of one role and city."""
    query = db.select(User).order_by(User.username_key)
    if role is not None:
        query = query.where(User.role == role)
    if city is not None:
        query = query.where(User.city == city)
    return db.session.execute(query).scalars().all()


def active_technician_of(key):
    """The SQL condition that picks the active technicians of the city `key`
    (models.city_key): who may be assigned its work."""
    return and_(User.role == "technician", User.is_active.is_(True), User.city_key == key)


def technicians_of(city):
    """The active technicians of a city (any case), by username: who may be assigned its work."""
    key = city_key(city)
    if key is None:
        return []
    return db.session.execute(
        db.select(User).where(active_technician_of(key)).order_by(User.username_key)
    ).scalars().all()


def page_of_technicians(city, page=1, per_page=10):
    """One page of a city's technicians (active or not), by username."""
    key = city_key(city)
    query = db.select(User).where(User.role == "technician", User.city_key == key)
    if key is None:
        query = query.where(db.false())
    return paginate(query.order_by(User.username_key), page, per_page)


def page_of_users(q="", role="", status="", page=1, per_page=20):
    """One page of users (a Flask-SQLAlchemy Pagination), ordered by username.

    `q` matches a username or city containing it, in any case; `role` and
    `status` ("active", "inactive") filter when given.
    """
    query = db.select(User)
    if q:
        query = query.where(
            User.username_key.contains(q.casefold(), autoescape=True)
            | db.func.lower(User.city).contains(q.lower(), autoescape=True)
        )
    if role:
        query = query.where(User.role == role)
    if status:
        query = query.where(User.is_active.is_(status == "active"))
    return paginate(query.order_by(User.username_key), page, per_page)


def active_users_by_role():
    """How many active users each role has, as {role: count}."""
    return dict(db.session.execute(
        db.select(User.role, db.func.count()).where(User.is_active.is_(True)).group_by(User.role)
    ).all())
