"""The three role dashboards. Each shows who is signed in, the account panel
(password and live sessions) and the role's own work."""
from flask import render_template
from flask_jwt_extended import current_user, get_jwt

from ..auth.sessions import count_live_sessions, live_sessions, users_with_live_sessions
from ..users.service import active_users_by_role, list_users
from . import bp
from .forms import ChangePasswordForm
from .guards import page
from .host import user_list_context

SESSIONS_LISTED = 10


@bp.get("/dashboard/technician")
@page("technician")
def dashboard_technician():
    """A technician's profile, supervisors and account."""
    return render_dashboard("technician")


@bp.get("/dashboard/supervisor")
@page("supervisor")
def dashboard_supervisor():
    """The technicians of the supervisor's city and their status."""
    return render_dashboard("supervisor")


@bp.get("/dashboard/host")
@page("host")
def dashboard_host():
    """User management for the data host."""
    return render_dashboard("host")


def render_dashboard(role, password_form=None, status=200):
    """The dashboard of `role` for the signed-in user, with an optional filled password form."""
    context = ROLE_CONTEXTS[role]()
    context.update(account_context(password_form))
    return render_template(f"dashboards/{role}.html", **context), status


def account_context(password_form=None):
    """The account panel: the change-password form and the live sessions.

    Only the newest sessions are listed (this one always): a script signing
    in often can leave hundreds, and "sign out everywhere" ends them all.
    """
    current_sid = get_jwt()["sid"]
    return {
        "password_form": password_form or ChangePasswordForm(formdata=None),
        "sessions": live_sessions(current_user, first_id=current_sid, limit=SESSIONS_LISTED),
        "session_count": count_live_sessions(current_user),
        "current_sid": current_sid,
    }


def technician_context():
    """Who supervises this technician's city."""
    city = current_user.city
    if city is None:
        return {"supervisors": []}
    supervisors = list_users(role="supervisor", city=city)
    return {"supervisors": [user for user in supervisors if user.is_active]}


def supervisor_context():
    """The technicians of the supervisor's city, and which of them are signed in."""
    city = current_user.city
    technicians = list_users(role="technician", city=city) if city else []
    signed_in_ids = users_with_live_sessions([user.id for user in technicians])
    return {"technicians": technicians, "signed_in_ids": signed_in_ids}


def host_context():
    """The user list with its filters, and how many active users each role has."""
    return {**user_list_context(), "active_counts": active_users_by_role()}


ROLE_CONTEXTS = {
    "technician": technician_context,
    "supervisor": supervisor_context,
    "host": host_context,
}
