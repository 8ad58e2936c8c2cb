"""JSON views of the `auth` blueprint."""
from flask import jsonify
from flask_jwt_extended import current_user, decode_token, get_jwt
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

from .. import audit
from ..errors import ApiError
from ..validation import json_object, string_fields
from . import bp
from .login import INVALID_CREDENTIALS, authenticate
from .roles import login_required
from .sessions import end_session, find_live_session, refresh_session, start_session
from .tokens import bearer_token, verified_refresh_claims


@bp.after_request
def never_cache(response):
    """Token responses must never be stored by a browser or proxy."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/login/")
def login():
    """Exchange a username and password for an access and a refresh token."""
    fields = string_fields(json_object(), required=("username", "password"))
    user = authenticate(fields["username"], fields["password"])
    if user is None:
        raise ApiError(401, INVALID_CREDENTIALS)
    tokens = start_session(user)
    return jsonify(access=tokens.access, refresh=tokens.refresh, user=user.to_dict())


@bp.post("/refresh/")
def refresh():
    """A new access token (and, with rotation, a new refresh token)."""
    data = json_object(optional=True)
    if "refresh" in data:
        encoded = string_fields(data, required=("refresh",), max_length=4096)["refresh"]
    else:
        encoded = bearer_token()
        if encoded is None:
            raise ApiError(400, "Some fields are missing or invalid.",
                           {"refresh": ["This field is required."]})
    tokens = refresh_session(verified_refresh_claims(encoded))
    body = {"access": tokens.access}
    if tokens.refresh is not None:
        body["refresh"] = tokens.refresh
    return jsonify(body)


@bp.get("/me/")
@login_required
def me():
    """The signed-in user."""
    return jsonify(current_user.to_dict())


@bp.post("/logout/")
@login_required
def logout():
    """End the session of this access token, and of the refresh token given."""
    data = json_object(optional=True)
    sessions = [find_live_session(current_user, get_jwt()["sid"])]
    if "refresh" in data:
        token = string_fields(data, required=("refresh",), max_length=4096)["refresh"]
        sessions.append(session_of_refresh_token(token))
    for session in sessions:
        if session is not None:
            end_session(session, "logout")
    audit.record("logout", user=current_user)
    return jsonify(detail="Logged out.")


def session_of_refresh_token(encoded_token):
    """The caller's live session of a refresh token they hand in, or None."""
    try:
        payload = decode_token(encoded_token)
    except (PyJWTError, JWTExtendedException):
        raise ApiError(400, "Some fields are missing or invalid.",
                       {"refresh": ["Not a valid refresh token."]}) from None
    if payload.get("type") != "refresh" or payload.get("user_id") != current_user.id:
        raise ApiError(400, "Some fields are missing or invalid.",
                       {"refresh": ["Not a valid refresh token of yours."]})
    return find_live_session(current_user, payload.get("sid"))
