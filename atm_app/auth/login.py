"""Password sign-in, shared by the JSON API and the web form."""
from .. import audit
from ..extensions import db
from ..models import User
from .limits import check_sign_in_allowed, record_failure
from .passwords import burn_hash_time, hash_password, needs_rehash, verify_password

INVALID_CREDENTIALS = "Invalid username or password."


def authenticate(username, password):
    """The active user with these credentials, or None; records the attempt.

    A wrong password, an unknown user and a deactivated user cost the same
    hash work and get the same answer, so neither timing nor wording tells
    them apart. A hash made with older settings is upgraded on success.
    Past a brute-force limit it raises 429 before checking anything
    (limits.py); every failure counts toward the limits.
    """
    check_sign_in_allowed(username)
    user = User.find_by_username(username)
    if user is None:
        burn_hash_time(password)
        record_failure(username)
        audit.record("login_failed", username=username[:150], detail="unknown user")
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        reason = "wrong password" if user.is_active else "inactive user"
        record_failure(username)
        audit.record("login_failed", user=user, detail=reason)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    audit.record("login_succeeded", user=user)
    return user
