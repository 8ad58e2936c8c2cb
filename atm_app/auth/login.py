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


def confirm_current_password(user, password):
    """Whether `password` is the signed-in user's own; a wrong one counts as a failure.

    Changing a password asks for the current one: without the sign-in limits
    here, a stolen session could guess it without bound.
    """
    check_sign_in_allowed(user.username)
    if verify_password(user.password_hash, password):
        return True
    record_failure(user.username)
    audit.record("login_failed", user=user, detail="wrong current password")
    return False
