"""Page views (being built in the browser sign-in issue)."""
from flask import redirect, render_template, url_for

from . import bp


@bp.get("/")
def index():
    """Send visitors to the sign-in page."""
    return redirect(url_for("web.login"))


@bp.get("/login")
def login():
    """The sign-in page."""
    return render_template("base.html")
