"""JWTs: how they are minted, which key signs them, and how each is checked.

Every token carries `sid`, the id of the sign-in session it descends from.
Checking a token costs one indexed query that reads its user and its session
together (`token_owner`); a token is good only while both are live. That is
how revocation works: ending a session (sessions.py) or deactivating a user
stops every token at once, without a row per token. A refresh token is the
exception: `verified_refresh_claims` checks only the token, and the rotation
UPDATE that uses it checks its session and user (sessions.refresh_session).
"""
import hashlib
import uuid
from datetime import timedelta
from functools import lru_cache

import jwt as pyjwt
from flask import current_app, redirect, request, url_for
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from flask_jwt_extended.exceptions import (
    NoAuthorizationError,
    UserClaimsVerificationError,
    WrongTokenError,
)

from ..errors import error_response, is_api_request
from ..extensions import db, jwt
from ..models import AuthSession, User, utcnow

SIGN_IN_AGAIN = "Your sign-in is too old for this action. Sign in again."


@lru_cache(maxsize=16)
def key_id(secret):
    """A short public id for a signing key: a hash prefix, never the key itself."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def signing_keys():
    """The configured signing keys by `kid`, newest first."""
    return {key_id(secret): secret for secret in current_app.config["JWT_SECRET_KEYS"]}


def new_jti():
    """A fresh unique token id."""
    return str(uuid.uuid4())


def mint_access_token(user, session_id, csrf, fresh):
    """An access token for `user` in session `session_id`.

    `fresh` marks a token straight from a password sign-in; tokens from a
    refresh are never fresh.
    """
    fresh_for = timedelta(minutes=current_app.config["FRESH_LOGIN_MINUTES"]) if fresh else False
    return create_access_token(
        identity=user,
        fresh=fresh_for,
        additional_claims={"token_type": "access", "sid": session_id, "csrf": csrf},
    )


def mint_refresh_token(user, session_id, csrf, jti):
    """A refresh token with a given `jti`, the one its session expects next.

    It names its user (`username`; usernames never change), so a refresh
    logs its audit line without reading the user (sessions.refresh_session).
    """
    return create_refresh_token(
        identity=user,
        additional_claims={"token_type": "refresh", "sid": session_id, "csrf": csrf, "jti": jti,
                           "username": user.username},
    )


# Built once: making this statement anew on every request cost more CPU than
# running it (docs/performance.md).
TOKEN_OWNER_QUERY = (
    db.select(User, AuthSession)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(AuthSession.id == db.bindparam("sid"), User.id == db.bindparam("user_id"))
)


def token_owner(jwt_payload):
    """The (user, session) a verified token belongs to, or None if either is gone.

    One query, cached for the request so the blocklist check and the user
    lookup share it.
    """
    # Per request, not on `g`: an app context (and so `g`) can outlive many
    # requests, and a cached row must never outlive the user deleted after it.
    cache = request.environ.setdefault("atm_app.token_owners", {})
    jti = jwt_payload.get("jti")
    if not has_owner_claims(jwt_payload):
        return None
    if jti not in cache:
        cache[jti] = db.session.execute(
            TOKEN_OWNER_QUERY, {"sid": jwt_payload.get("sid"), "user_id": jwt_payload.get("user_id")}
        ).first()
    return cache[jti]


def has_owner_claims(jwt_payload):
    """Whether `sid`, `user_id` and `jti` have the types a lookup needs.

    The blocklist check runs before `claims_are_ours`, and a mistyped value
    must be a 401, not a database error: PostgreSQL refuses to compare text
    with integers, or an id past the 32-bit users.id column.
    """
    user_id = jwt_payload.get("user_id")
    return (
        isinstance(jwt_payload.get("sid"), str)
        and isinstance(jwt_payload.get("jti"), str)
        and type(user_id) is int
        and 0 < user_id < 2**31
    )


def claims_are_ours(jwt_header, jwt_payload):
    """Whether a verified token has the claims this app mints, with their types."""
    return (
        jwt_payload.get("token_type") == jwt_payload.get("type")
        and isinstance(jwt_payload.get("sid"), str)
        and isinstance(jwt_payload.get("user_id"), int)
        and jwt_payload.get("sub") == str(jwt_payload.get("user_id"))
    )


def verified_refresh_claims(encoded_token):
    """The claims of a refresh token with a good signature, unexpired and of our shape.

    Only what the token itself proves. Whether its session and user still
    live is settled by the statement that uses it (sessions.refresh_session):
    one UPDATE both checks and rotates, where a protected route would read
    the owner first. Failures raise Flask-JWT-Extended's own errors, so they
    are answered by the callbacks below exactly as on a protected route.
    """
    claims = decode_token(encoded_token)
    if claims.get("type") != "refresh":
        raise WrongTokenError("Only refresh tokens are allowed")
    if not (claims_are_ours({}, claims) and has_owner_claims(claims)):
        raise UserClaimsVerificationError("User claims verification failed", {}, claims)
    return claims


def bearer_token():
    """The token of an `Authorization: Bearer <token>` header, or None without the header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token.strip():
        raise NoAuthorizationError("Missing 'Bearer' type in 'Authorization' header.")
    return token.strip()


def auth_failure(detail):
    """A 401: the JSON envelope under /api/, the sign-in page elsewhere."""
    if is_api_request():
        return error_response(401, detail)
    return redirect(url_for("web.login", next=request.full_path.rstrip("?")))


def register_jwt_callbacks():
    """Bind the callbacks above to Flask-JWT-Extended."""

    @jwt.user_identity_loader
    def identity_of(user):
        return str(user.id)

    @jwt.additional_claims_loader
    def standard_claims(user):
        return {"user_id": user.id}

    @jwt.encode_key_loader
    def newest_key(identity):
        return current_app.config["JWT_SECRET_KEYS"][0]

    @jwt.additional_headers_loader
    def key_header(identity):
        return {"kid": key_id(current_app.config["JWT_SECRET_KEYS"][0])}

    @jwt.decode_key_loader
    def key_for_token(jwt_header, jwt_payload):
        secret = signing_keys().get(jwt_header.get("kid"))
        if secret is None:
            raise pyjwt.InvalidTokenError("Unknown signing key.")
        return secret

    jwt.token_verification_loader(claims_are_ours)

    @jwt.token_in_blocklist_loader
    def is_revoked(jwt_header, jwt_payload):
        owner = token_owner(jwt_payload)
        if owner is None:
            return True
        user, session = owner
        return not (user.is_active and session.is_live(utcnow()))

    @jwt.user_lookup_loader
    def user_of(jwt_header, jwt_payload):
        owner = token_owner(jwt_payload)
        return owner[0] if owner else None

    @jwt.unauthorized_loader
    def missing_token(reason):
        return auth_failure("Authentication credentials were not provided.")

    @jwt.invalid_token_loader
    def invalid_token(reason):
        return auth_failure("The token is invalid.")

    @jwt.expired_token_loader
    def expired_token(jwt_header, jwt_payload):
        return auth_failure("The token has expired.")

    @jwt.revoked_token_loader
    def revoked_token(jwt_header, jwt_payload):
        return auth_failure("The token has been revoked.")

    @jwt.user_lookup_error_loader
    def unknown_user(jwt_header, jwt_payload):
        return auth_failure("The token's user no longer exists.")

    @jwt.token_verification_failed_loader
    def foreign_claims(jwt_header, jwt_payload):
        return auth_failure("The token is invalid.")

    @jwt.needs_fresh_token_loader
    def stale_token(jwt_header, jwt_payload):
        return auth_failure(SIGN_IN_AGAIN)
