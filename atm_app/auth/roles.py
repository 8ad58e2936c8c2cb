"""Role checks: one decorator for API views and pages alike.

`/api/` reads the bearer header only; pages read the httpOnly cookies only.
The role and `is_active` come from the database on every request (the user
is loaded by tokens.py), never from the token alone.
"""
from functools import wraps

from flask import abort
from flask_jwt_extended import current_user, verify_jwt_in_request

from ..errors import is_api_request

ROLE_FORBIDDEN = "You do not have permission to perform this action."


def token_locations():
    """Where this request's token may come from."""
    return ["headers"] if is_api_request() else ["cookies"]


def login_required(view=None, *, fresh=False):
    """401 (or the sign-in page) unless a valid access token is present."""
    return roles_accepted(fresh=fresh)(view) if view else roles_accepted(fresh=fresh)


def roles_accepted(*roles, fresh=False):
    """Allow only signed-in users whose role is one of `roles` (any, if none).

    Named as in Flask-Security-Too, where `roles_accepted` means any of the
    roles and `roles_required` all of them; a user here has exactly one.

    Not signed in: 401. Wrong role: 403. `fresh`: the sign-in must be recent.
    """

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            verify_jwt_in_request(fresh=fresh, locations=token_locations())
            if roles and current_user.role not in roles:
                abort(403, ROLE_FORBIDDEN)
            return view(*args, **kwargs)

        return guarded

    return decorator
