"""The `auth` blueprint: sign-in, refresh, logout and sessions as JSON under /api/auth/.

The services it calls live beside it: login.py (passwords), sessions.py
(session lifecycle and revocation), tokens.py (minting and checking JWTs),
roles.py (the role decorators), passwords.py (hashing and policy).
"""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/api/auth")

from . import routes  # noqa: E402,F401  (registers the views on bp)
from . import session_routes  # noqa: E402,F401  (sessions and password views)
