"""The browser's JWT cookies: reading them, swapping them mid-request, writing them.

Views never call `set_access_cookies` on their own: they either hand new
tokens to `use_tokens` (renewal, fresh re-confirmation), which makes them
count for the rest of this request and delivers them with the response
(renewal.py), or write a whole new state with `write_sign_in` /
`clear_sign_in` (sign-in, sign-out), which wins over anything pending.
"""
from dataclasses import dataclass, field

from flask import current_app, request
from flask_jwt_extended import set_access_cookies, set_refresh_cookies, unset_jwt_cookies
from werkzeug.datastructures import ImmutableMultiDict


@dataclass
class PageState:
    """What this request knows about the browser's sign-in.

    Kept on the request, not on `g`: an app context (and its `g`) may span
    many requests, and sign-in state must never leak from one to the next.
    """

    established: bool = False  # the page guard has read the cookies (renewal.py)
    access_claims: dict | None = None  # the usable access token's claims, after any renewal
    pending: dict = field(default_factory=dict)  # tokens to send with the response
    cookies_written: bool = False  # a view set or cleared the cookies itself
    session_ended: bool = False  # the cookies hold a dead session: clear them


def page_state():
    """This request's PageState."""
    return request.environ.setdefault("atm_app.web_page_state", PageState())


def access_cookie_name():
    """The access token cookie's name."""
    return current_app.config["JWT_ACCESS_COOKIE_NAME"]


def refresh_cookie_name():
    """The refresh token cookie's name."""
    return current_app.config["JWT_REFRESH_COOKIE_NAME"]


def use_tokens(access, refresh=None):
    """Make new tokens count for the rest of this request, and send them back.

    Flask-JWT-Extended reads tokens from `request.cookies`; replacing the
    cookie there lets `verify_jwt_in_request` see the new access token in the
    very request that renewed it.
    """
    replaced = {access_cookie_name(): access}
    if refresh is not None:
        replaced[refresh_cookie_name()] = refresh
    kept = [(name, value) for name, value in request.cookies.items(multi=True)
            if name not in replaced]
    request.cookies = ImmutableMultiDict(kept + list(replaced.items()))
    schedule_access(access)
    if refresh is not None:
        page_state().pending["refresh"] = refresh


def schedule_access(access):
    """Send a new access token with the response (it does not count for this request)."""
    page_state().pending["access"] = access


def pending_tokens():
    """Tokens this request minted that the browser has not received yet."""
    return page_state().pending


def write_sign_in(response, tokens):
    """Set the cookies of a new sign-in on `response`."""
    set_access_cookies(response, tokens.access)
    set_refresh_cookies(response, tokens.refresh)
    page_state().cookies_written = True
    return response


def clear_sign_in(response):
    """Delete both JWT cookies with `response`."""
    unset_jwt_cookies(response)
    page_state().cookies_written = True
    return response


def cookies_written():
    """Whether a view already decided this response's cookies."""
    return page_state().cookies_written


def deliver_pending(response):
    """Set the tokens minted during this request on `response`."""
    pending = pending_tokens()
    if "access" in pending:
        set_access_cookies(response, pending["access"])
    if "refresh" in pending:
        set_refresh_cookies(response, pending["refresh"])
    return response
