"""Staying signed in: the cookies are checked, and renewed, before every page.

Before a page view runs (`establish_sign_in`):
- a valid access cookie: nothing to do;
- an expired, missing or refused access cookie with a valid refresh cookie:
  the session is refreshed (the refresh token rotates), the new access token
  counts for this very request, and both new cookies go out with the response;
- the refresh cookie gone, expired or revoked: the cookies are cleared and the
  sign-in page says the session ended (the page guard sends the browser there);
- two tabs racing with one refresh cookie: the loser, inside the grace window,
  is sent once to the same URL, by which time its browser holds the winner's
  cookies. It is never signed out for losing.

After the view (`send_cookies`), an access cookie in the last quarter of its
life is replaced by a new one of the same session (no rotation needed).
"""
import time

from flask import current_app, flash, redirect, request
from flask_jwt_extended import decode_token, unset_jwt_cookies
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

from ..auth.sessions import refresh_session
from ..auth.tokens import mint_access_token, token_owner
from ..errors import ApiError, render_error_page
from ..extensions import db
from ..models import AuthSession
from . import bp
from .cookies import (
    access_cookie_name,
    cookies_written,
    deliver_pending,
    page_state,
    pending_tokens,
    refresh_cookie_name,
    schedule_access,
    use_tokens,
)

SESSION_ENDED = "Your session has ended. Please sign in again."
RENEWING_ELSEWHERE = "Your sign-in is being renewed in another tab. Reload this page in a moment."
# Set on the one redirect a race loser gets, so a second loss cannot loop.
RETRY_COOKIE = "atm_renewal_retry"


@bp.before_request
def establish_sign_in():
    """Find who the cookies sign in, renewing a lapsed access token from the refresh token."""
    page_state().established = True
    if request.endpoint == "web.login" and request.method == "POST":
        return None  # a new sign-in replaces whatever the cookies held
    access = request.cookies.get(access_cookie_name())
    refresh = request.cookies.get(refresh_cookie_name())
    claims = live_claims(access, "access")
    if claims is not None:
        page_state().access_claims = claims
        return None
    if not access and not refresh:
        return None  # never signed in on this browser: nothing ended
    return renew(refresh)


def live_claims(encoded_token, token_type):
    """The claims of a cookie token usable right now (signature, expiry, live session), or None."""
    if not encoded_token:
        return None
    try:
        claims = decode_token(encoded_token)
    except (PyJWTError, JWTExtendedException):
        return None
    if claims.get("type") != token_type or claims.get("token_type") != token_type:
        return None
    owner = token_owner(claims)
    if owner is None:
        return None
    user, session = owner
    return claims if user.is_active and session.is_live() else None


def claims_without_renewal():
    """Who the cookies sign in, read only: nothing renewed, nothing cleared.

    For pages outside the web blueprint's routes (the 404 page of an unknown
    address, a 405), which show the signed-in header like every page but
    must not change anyone's sign-in. A lapsed access cookie beside a live
    refresh cookie still names its user: the next real page renews it.
    """
    for name, token_type in ((access_cookie_name(), "access"), (refresh_cookie_name(), "refresh")):
        claims = live_claims(request.cookies.get(name), token_type)
        if claims is not None:
            return claims
    return None


def renew(encoded_refresh):
    """Refresh the session of a valid refresh cookie; None lets the request go on."""
    refresh_claims = live_claims(encoded_refresh, "refresh")
    if refresh_claims is None:
        return session_ended()
    try:
        tokens = refresh_session(refresh_claims)
    except ApiError:
        if session_is_live(refresh_claims["sid"]):
            return lost_renewal_race()
        return session_ended()  # a retired token after the grace window: the session was ended
    use_tokens(tokens.access, tokens.refresh)
    page_state().access_claims = decode_token(tokens.access)
    return None


def session_is_live(session_id):
    """Whether the session still lives (read afresh from the database)."""
    db.session.expire_all()
    session = db.session.get(AuthSession, session_id)
    return session is not None and session.is_live()


def session_ended():
    """Clear the cookies with the response and tell the user on the sign-in page."""
    page_state().session_ended = True
    flash(SESSION_ENDED, "info")
    return None


def lost_renewal_race():
    """Another tab renewed first: come back once with its cookies, stay signed in."""
    grace = current_app.config["REFRESH_REUSE_GRACE_SECONDS"]
    if request.cookies.get(RETRY_COOKIE):
        page = render_error_page(503, RENEWING_ELSEWHERE, {"Retry-After": str(grace)})
        return current_app.make_response(page)
    # 307 repeats a POST with its form (the winner's token has the same CSRF value).
    code = 303 if request.method in ("GET", "HEAD") else 307
    response = redirect(request.full_path.rstrip("?"), code)
    response.set_cookie(RETRY_COOKIE, "1", max_age=max(grace, 1), httponly=True, samesite="Lax",
                        secure=current_app.config["JWT_COOKIE_SECURE"])
    return response


def nearly_expired(claims):
    """Whether an access token is in the last quarter of its life."""
    lifetime = claims["exp"] - claims["iat"]
    return claims["exp"] - time.time() < lifetime / 4


def renew_nearly_expired():
    """Mint a new access token of the same session when the current one is about to lapse."""
    claims = page_state().access_claims
    if claims is None or "access" in pending_tokens() or not nearly_expired(claims):
        return
    owner = token_owner(claims)
    if owner is None:
        return
    schedule_access(mint_access_token(owner[0], claims["sid"], claims["csrf"], fresh=False))


@bp.after_request
def send_cookies(response):
    """Deliver renewed tokens, or clear the cookies of an ended session."""
    if cookies_written():
        return response
    if page_state().session_ended:
        unset_jwt_cookies(response)
        return response
    renew_nearly_expired()
    deliver_pending(response)
    if request.cookies.get(RETRY_COOKIE) and page_state().access_claims:
        response.delete_cookie(RETRY_COOKIE, httponly=True, samesite="Lax",
                               secure=current_app.config["JWT_COOKIE_SECURE"])
    return response
