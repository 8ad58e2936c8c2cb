"""Your account, on every dashboard: change your password, see and end your sessions."""
from flask import abort, flash, redirect, url_for
from flask_jwt_extended import current_user, get_jwt

from .. import audit
from ..auth.login import confirm_current_password
from ..auth.sessions import end_session, end_user_sessions, find_live_session
from ..users.service import InvalidUser, set_password
from . import bp
from .cookies import clear_sign_in
from .dashboards import render_dashboard
from .forms import ChangePasswordForm, add_errors
from .guards import action, is_fresh, make_fresh


@bp.post("/account/password")
@action()
def change_password():
    """Change your own password; your other sessions end, this one lives on.

    This needs a fresh sign-in like the API's password change, and the
    current-password field is that confirmation: typing the right one makes
    the sign-in fresh, so nobody is asked for the same password twice.
    """
    form = ChangePasswordForm()
    if not form.validate():
        return render_dashboard(current_user.role, form, 400)
    if not confirm_current_password(current_user, form.current_password.data):
        form.current_password.errors = ["That is not your current password."]
        return render_dashboard(current_user.role, form, 400)
    if form.new_password.data != form.confirm_password.data:
        form.confirm_password.errors = ["The two new passwords differ."]
        return render_dashboard(current_user.role, form, 400)
    if not is_fresh(get_jwt()):
        make_fresh()
    try:
        set_password(current_user, form.new_password.data, keep_session_id=get_jwt()["sid"])
    except InvalidUser as error:
        add_errors(form, error.errors, rename={"password": "new_password"})
        return render_dashboard(current_user.role, form, 400)
    flash("Your password was changed. Your other sessions were signed out.", "success")
    return redirect(url_for("web.dashboard"), 303)


@bp.post("/account/sessions/<session_id>/end")
@action()
def end_one_session(session_id):
    """End one of your sessions; ending this one signs you out here."""
    session = find_live_session(current_user, session_id)
    if session is None:
        abort(404)
    end_session(session, "ended_by_user")
    audit.record("session_ended", user=current_user, detail=f"session {session_id}")
    if session_id == get_jwt()["sid"]:
        flash("You have signed out on this device.", "success")
        return clear_sign_in(redirect(url_for("web.login"), 303))
    flash("That session was ended: it is signed out.", "success")
    return redirect(url_for("web.dashboard", _anchor="sessions"), 303)


@bp.post("/account/sessions/end-all")
@action()
def end_all_sessions():
    """Sign out everywhere, this browser included."""
    ended = end_user_sessions(current_user, "logout_all")
    audit.record("session_ended", user=current_user, detail=f"all sessions ({ended})")
    flash("You have signed out everywhere.", "success")
    return clear_sign_in(redirect(url_for("web.login"), 303))
