"""Who may see a page or post a form, and the fresh sign-in sensitive actions need.

One CSRF mechanism per form (docs/web.md): the anonymous sign-in form carries
Flask-WTF's `csrf_token`; every form of a signed-in user carries the access
token's double-submit value as `jwt_csrf_token`, which Flask-JWT-Extended
checks inside `verify_jwt_in_request`. `action` switches Flask-WTF's check off
for exactly those views, and only together with the JWT check.
"""
import time
from functools import wraps

from flask import render_template, request, url_for
from flask_jwt_extended import current_user, get_jwt, verify_jwt_in_request

from ..auth.login import authenticate
from ..auth.roles import roles_accepted
from ..auth.tokens import mint_access_token
from ..extensions import csrf
from .cookies import page_state, use_tokens

REAUTH_FIELD = "reauth_password"
WRONG_PASSWORD = "That password is not right."
# Never written back into a page, not even as a hidden input.
SECRET_FIELDS = {"password", "new_password", "current_password", "confirm_password", REAUTH_FIELD}
NOT_CARRIED = SECRET_FIELDS | {"jwt_csrf_token", "csrf_token"}


def page(*roles):
    """A page for signed-in users of `roles` (any role when none), read from the cookies."""
    return roles_accepted(*roles)


def action(*roles):
    """A form post of a signed-in user: role check plus the JWT double-submit CSRF check."""

    def decorator(view):
        guarded = roles_accepted(*roles)(view)
        csrf.exempt(guarded)  # verify_jwt_in_request checks `jwt_csrf_token` instead
        return guarded

    return decorator


def is_fresh(claims):
    """Whether the access token comes from a recent password sign-in."""
    fresh = claims.get("fresh")
    if isinstance(fresh, bool):
        return fresh
    return isinstance(fresh, (int, float)) and fresh >= time.time()


def make_fresh():
    """Swap this session's access token for a fresh one, for this request and the browser."""
    claims = get_jwt()
    use_tokens(mint_access_token(current_user, claims["sid"], claims["csrf"], fresh=True))
    verify_jwt_in_request(locations=["cookies"])
    page_state().access_claims = get_jwt()


def confirm_password(password):
    """Check the signed-in user's password again (sign-in limits apply); fresh on success."""
    if not password:
        return False  # nothing typed: not an attempt worth counting
    user = authenticate(current_user.username, password)
    if user is None or user.id != current_user.id:
        return False
    make_fresh()
    return True


def confirm_page(action_url, hidden, notice=None, error=None):
    """The page asking for the password again, re-posting `hidden` fields to `action_url`."""
    return render_template("sign_in/confirm.html", action_url=action_url, hidden=hidden,
                           notice=notice, error=error)


def pending_fields():
    """The fields of this form post that the confirm page may carry back."""
    return [(name, value) for name, value in request.form.items(multi=True)
            if name not in NOT_CARRIED]


def carries_secret():
    """Whether this form post holds a password field the confirm page must not echo."""
    return any(request.form.get(name) for name in SECRET_FIELDS - {REAUTH_FIELD})


def fresh_required(back_to=None):
    """A sensitive form post: needs a recent sign-in, else asks for the password and carries on.

    The confirm page re-posts the pending form with the password. A form with
    a password in it is not echoed: the user confirms, then returns to
    `back_to(**view_args)` to type it again.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if is_fresh(get_jwt()):
                return view(*args, **kwargs)
            if back_to is not None and carries_secret():
                return confirm_page(
                    url_for("web.confirm_password"), [("next", back_to(**kwargs))],
                    notice="Confirm your password, then enter the new password again.",
                )
            if REAUTH_FIELD not in request.form:
                return confirm_page(request.path, pending_fields())
            if not confirm_password(request.form[REAUTH_FIELD]):
                return confirm_page(request.path, pending_fields(), error=WRONG_PASSWORD), 401
            return view(*args, **kwargs)

        return wrapped

    return decorator


def fresh_page(view):
    """A page whose forms carry passwords: confirm the password before showing it."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if is_fresh(get_jwt()):
            return view(*args, **kwargs)
        return confirm_page(url_for("web.confirm_password"),
                            [("next", request.full_path.rstrip("?"))])

    return wrapped
