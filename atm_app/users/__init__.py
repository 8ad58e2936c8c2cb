"""The users API (`/api/users/`, `/api/technicians/`) and the user rules behind it."""
from flask import Blueprint

bp = Blueprint("users", __name__, url_prefix="/api")

from . import routes  # noqa: E402,F401  (registers the views on bp)
