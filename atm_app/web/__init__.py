"""The `web` blueprint: the sign-in form and the role dashboards, server-rendered.

Pages authenticate with the httpOnly JWT cookies only (see docs/web.md):
renewal.py keeps them fresh, guards.py decides who may see or post what,
and the views live in sign_in.py (sign-in and out), dashboards.py,
account.py (your password and sessions) and host.py (user management).
Each module's templates sit in the folder of templates/ named after it.
"""
from flask import Blueprint

bp = Blueprint("web", __name__)

# Imported for their side effect: each registers its views and hooks on bp.
from . import (  # noqa: E402,F401
    account, atms, dashboards, display, host, paging, renewal, reports, sign_in, tickets,
)
