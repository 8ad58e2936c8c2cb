"""The three role dashboards. Each shows who is signed in, the account panel
(password and live sessions) and the role's own work."""
from datetime import timedelta

from flask import render_template
from flask_jwt_extended import current_user, get_jwt

from ..auth.sessions import count_live_sessions, live_sessions, users_with_live_sessions
from ..maintenance import fleet, tickets
from ..models import utcnow
from ..users.service import active_users_by_role, list_users, page_of_technicians, technicians_of
from . import bp
from .forms import ChangePasswordForm
from .guards import page
from .host import user_list_context
from .paging import requested_page

SESSIONS_LISTED = 10
# The boards show the first rows of each list and link to the whole list, so a
# city with thousands of tickets and a hundred technicians still fits the job.
BOARD_ROWS = 10
TECHNICIAN_WORK_LISTED = 50
TECHNICIANS_PER_PAGE = 10
AT_RISK_WITHIN = timedelta(hours=1)


@bp.get("/dashboard/technician")
@page("technician")
def dashboard_technician():
    """A technician's queue, its city's open tickets to take, its supervisors and account."""
    return render_dashboard("technician")


@bp.get("/dashboard/supervisor")
@page("supervisor")
def dashboard_supervisor():
    """The supervisor's city board, its technicians and the account panel."""
    return render_dashboard("supervisor")


@bp.get("/dashboard/host")
@page("host")
def dashboard_host():
    """User management for the data host, with links to the fleet and the reports."""
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
    """Its work, soonest restore due first; its city's open tickets to take; its supervisors."""
    city = current_user.city
    supervisors = [user for user in list_users(role="supervisor", city=city)
                   if user.is_active] if city else []
    mine = tickets.list_tickets(current_user, {
        "status": ["assigned", "in_progress", "on_hold"], "assignee_id": current_user.id,
        "sort": "due", "limit": TECHNICIAN_WORK_LISTED})
    to_take = tickets.list_tickets(current_user, {"status": ["open"], "sort": "due",
                                                  "limit": BOARD_ROWS})
    return {"supervisors": supervisors, "my_work": mine, "to_take": to_take, "now": utcnow()}


def supervisor_context():
    """The city's board: ATMs down, work to assign, work late or at risk, each technician's load."""
    now = utcnow()
    board = {
        "down_atms": fleet.list_atms(current_user, {"down": True, "limit": BOARD_ROWS}),
        "unassigned": tickets.list_tickets(current_user, {"status": ["open"], "sort": "due",
                                                          "limit": BOARD_ROWS}),
        "at_risk": tickets.list_tickets(current_user, {
            "due_before": now + AT_RISK_WITHIN, "sort": "due", "limit": BOARD_ROWS}),
    }
    technicians = page_of_technicians(current_user.city, requested_page(), TECHNICIANS_PER_PAGE)
    ids = [user.id for user in technicians.items]
    return {
        **board,
        "technicians": technicians,
        "assignable": technicians_of(current_user.city),
        "signed_in_ids": users_with_live_sessions(ids),
        "open_work": tickets.open_work_of(current_user, ids),
        "now": now,
        "at_risk_minutes": int(AT_RISK_WITHIN.total_seconds() // 60),
    }


def host_context():
    """The user list with its filters, and how many active users each role has."""
    return {**user_list_context(), "active_counts": active_users_by_role()}


ROLE_CONTEXTS = {
    "technician": technician_context,
    "supervisor": supervisor_context,
    "host": host_context,
}
