"""The data host's pages: the user list, creating and changing users, the audit trail.

Every write needs a fresh sign-in (guards.fresh_required); pages whose
forms hold a new password ask for it before they are shown (fresh_page).
"""
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_jwt_extended import current_user

from ..audit import EVENTS, find_events, page_of_events
from ..auth.sessions import count_live_sessions
from ..extensions import db
from ..models import ROLES, User, utcnow
from ..users.service import InvalidUser, create_user, page_of_users, update_user
from . import bp
from .forms import ROLE_LABELS, NewUserForm, SetPasswordForm, UserDetailsForm, add_errors
from .guards import action, fresh_page, fresh_required, page
from .next_url import safe_next
from .paging import requested_page

USERS_PER_PAGE = 20
EVENTS_PER_PAGE = 50
STATUS_CHOICES = [("", "Any status"), ("active", "Active"), ("inactive", "Deactivated")]
SINCE_CHOICES = [("", "Any time"), ("1h", "Last hour"), ("24h", "Last 24 hours"),
                 ("7d", "Last 7 days"), ("30d", "Last 30 days")]
SINCE_DELTAS = {"1h": timedelta(hours=1), "24h": timedelta(days=1),
                "7d": timedelta(days=7), "30d": timedelta(days=30)}
EVENT_LABELS = {
    "login_succeeded": "Signed in",
    "login_failed": "Sign-in failed",
    "refresh": "Session renewed",
    "refresh_reuse_detected": "Token reuse detected",
    "logout": "Signed out",
    "session_ended": "Session ended",
    "rate_limited": "Sign-in blocked (too many attempts)",
    "user_created": "User created",
    "user_changed": "User changed",
    "password_changed": "Password changed",
}


@bp.app_template_filter("event_label")
def event_label(event):
    """An audit event kind as people say it."""
    return EVENT_LABELS.get(event, event)


def user_list_context():
    """The host's user list for the current `?q=&role=&status=&page=`."""
    filters = {"q": search_text("q"), "role": choice("role", ROLES),
               "status": choice("status", ("active", "inactive"))}
    return {
        "users_page": page_of_users(**filters, page=requested_page(), per_page=USERS_PER_PAGE),
        "filters": filters,
        "role_choices": [("", "Any role")] + [(role, ROLE_LABELS[role]) for role in ROLES],
        "status_choices": STATUS_CHOICES,
    }


def search_text(name):
    """A free-text query argument, trimmed and bounded (NUL dropped: PostgreSQL refuses it)."""
    return request.args.get(name, "").replace("\x00", "").strip()[:150]


def choice(name, allowed):
    """The query argument `name` when it is one of `allowed`, else "" (no filter)."""
    value = request.args.get(name, "")
    return value if value in allowed else ""


def user_or_404(user_id):
    """The user with this id, or the 404 page."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/dashboard/host/users/new")
@page("host")
@fresh_page
def host_new_user():
    """The form to create a user."""
    return render_template("host/new_user.html", form=NewUserForm(formdata=None))


@bp.post("/dashboard/host/users/new")
@action("host")
@fresh_required(back_to=lambda: url_for("web.host_new_user"))
def host_create_user():
    """Create a user; field errors are shown beside the fields."""
    form = NewUserForm()
    if not form.validate():
        return render_template("host/new_user.html", form=form), 400
    try:
        user = create_user(form.username.data.strip(), form.password.data, form.role.data,
                           form.city.data)
    except InvalidUser as error:
        add_errors(form, error.errors)
        return render_template("host/new_user.html", form=form), error.status
    where = f", {user.city}" if user.city else ""
    flash(f"Created {user.username} ({ROLE_LABELS[user.role]}{where}).", "success")
    return redirect(url_for("web.host_user", user_id=user.id), 303)


@bp.get("/dashboard/host/users/<int:user_id>")
@page("host")
def host_user(user_id):
    """One user: role, city, status, sessions and recent events."""
    return render_user_page(user_or_404(user_id))


def render_user_page(user, form=None, status=200):
    """The user page, with a filled details form when it was refused."""
    form = form or UserDetailsForm(formdata=None, role=user.role, city=user.city or "")
    events = find_events(username=user.username, limit=10)
    return render_template(
        "host/user.html", user=user, form=form, events=events,
        live_session_count=count_live_sessions(user), is_self=user.id == current_user.id,
    ), status


@bp.post("/dashboard/host/users/<int:user_id>")
@action("host")
@fresh_required()
def host_update_user(user_id):
    """Change a user's role or city; a new role ends the user's sessions."""
    user = user_or_404(user_id)
    form = UserDetailsForm()
    if not form.validate():
        return render_user_page(user, form, 400)
    if user.id == current_user.id and form.role.data != user.role:
        form.role.errors = ["You cannot change your own role. Ask another data host."]
        return render_user_page(user, form, 400)
    before = {"role": user.role, "city": user.city}
    try:
        update_user(user, {"role": form.role.data, "city": form.city.data})
    except InvalidUser as error:
        add_errors(form, error.errors)
        return render_user_page(user, form, 400)
    flash(describe_changes(user, before), "success")
    return redirect(url_for("web.host_user", user_id=user.id), 303)


def describe_changes(user, before):
    """The confirmation for a details change."""
    changes = []
    if user.role != before["role"]:
        changes.append(f"role {ROLE_LABELS[before['role']]} → {ROLE_LABELS[user.role]}")
    if user.city != before["city"]:
        changes.append(f"city {before['city'] or 'none'} → {user.city or 'none'}")
    if not changes:
        return f"Nothing to change for {user.username}."
    message = f"Saved {user.username}: {', '.join(changes)}."
    if user.role != before["role"]:
        message += " Their sessions were ended so the new role applies at once."
    return message


@bp.post("/dashboard/host/users/<int:user_id>/status")
@action("host")
@fresh_required()
def host_user_status(user_id):
    """Deactivate (ending every session) or reactivate a user."""
    user = user_or_404(user_id)
    back = safe_next(request.form.get("next")) or url_for("web.host_user", user_id=user.id)
    active = {"1": True, "0": False}.get(request.form.get("active"))
    if active is None:
        abort(400)
    if user.id == current_user.id and not active:
        flash("You cannot deactivate your own account. Ask another data host.", "error")
        return redirect(back, 303)
    try:
        update_user(user, {"is_active": active})
    except InvalidUser as error:  # e.g. the last active host
        messages = [message for field in error.errors.values() for message in field]
        flash(" ".join(messages), "error")
        return redirect(back, 303)
    if active:
        flash(f"{user.username} was reactivated and can sign in again.", "success")
    else:
        flash(f"{user.username} was deactivated and signed out everywhere.", "success")
    return redirect(back, 303)


@bp.get("/dashboard/host/users/<int:user_id>/password")
@page("host")
@fresh_page
def host_user_password(user_id):
    """The form to set a new password for a user."""
    user = user_or_404(user_id)
    if user.id == current_user.id:
        return own_password_elsewhere()
    return render_template("host/set_password.html", user=user, form=SetPasswordForm(formdata=None))


@bp.post("/dashboard/host/users/<int:user_id>/password")
@action("host")
@fresh_required(back_to=lambda user_id: url_for("web.host_user_password", user_id=user_id))
def host_set_user_password(user_id):
    """Set a user's password under the policy; the user is signed out everywhere."""
    user = user_or_404(user_id)
    if user.id == current_user.id:
        return own_password_elsewhere()
    form = SetPasswordForm()
    if not form.validate():
        return render_template("host/set_password.html", user=user, form=form), 400
    try:
        update_user(user, {"password": form.password.data})
    except InvalidUser as error:
        add_errors(form, error.errors)
        return render_template("host/set_password.html", user=user, form=form), 400
    flash(f"New password set for {user.username}. They were signed out everywhere.", "success")
    return redirect(url_for("web.host_user", user_id=user.id), 303)


def own_password_elsewhere():
    """A host changes its own password like everyone else: it needs the current one."""
    flash("To change your own password, use “Change my password” on your dashboard.", "info")
    return redirect(url_for("web.dashboard_host", _anchor="change-password"), 303)


@bp.get("/dashboard/host/audit")
@page("host")
def host_audit():
    """Authentication events, newest first, by user, kind and time."""
    filters = {"user": search_text("user"), "event": choice("event", EVENTS),
               "since": choice("since", SINCE_DELTAS)}
    since = utcnow() - SINCE_DELTAS[filters["since"]] if filters["since"] else None
    events_page = page_of_events(since=since, username=filters["user"] or None,
                                 event=filters["event"] or None, page=requested_page(),
                                 per_page=EVENTS_PER_PAGE)
    return render_template(
        "host/audit.html", events_page=events_page, filters=filters,
        event_choices=[("", "Any event")] + [(e, event_label(e)) for e in EVENTS],
        since_choices=SINCE_CHOICES,
    )
