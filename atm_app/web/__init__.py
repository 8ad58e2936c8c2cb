"""The `web` blueprint: the sign-in form and the role dashboards, server-rendered."""
from flask import Blueprint

bp = Blueprint("web", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
