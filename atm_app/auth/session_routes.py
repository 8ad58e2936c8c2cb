"""JSON views for the caller's own sessions and password, under /api/auth/."""
from flask import jsonify
from flask_jwt_extended import current_user, get_jwt

from .. import audit
from ..errors import ApiError
from ..users.service import InvalidUser, set_password
from ..validation import json_object, string_fields
from . import bp
from .login import confirm_current_password
from .roles import login_required
from .sessions import end_session, end_user_sessions, find_live_session, live_sessions

INVALID_FIELDS = "Some fields are missing or invalid."


@bp.get("/sessions/")
@login_required
def list_sessions():
    """The caller's live sessions, newest first; `current` marks this one."""
    current_sid = get_jwt()["sid"]
    sessions = live_sessions(current_user)
    return jsonify(sessions=[session.to_dict(current_sid) for session in sessions])


@bp.delete("/sessions/<session_id>/")
@login_required
def delete_session(session_id):
    """End one of the caller's live sessions: its tokens stop working now."""
    session = find_live_session(current_user, session_id)
    if session is None:
        raise ApiError(404, "You have no live session with that id.")
    end_session(session, "ended_by_user")
    audit.record("session_ended", user=current_user, detail=f"session {session_id}")
    return jsonify(detail="Session ended.")


@bp.post("/logout-all/")
@login_required
def logout_all():
    """End every session of the caller, this one included."""
    ended = end_user_sessions(current_user, "logout_all")
    audit.record("session_ended", user=current_user, detail=f"all sessions ({ended})")
    return jsonify(detail="Signed out everywhere.")


@bp.post("/password/")
@login_required(fresh=True)
def change_password():
    """Change the caller's password; their other sessions end, this one lives on."""
    fields = string_fields(json_object(), required=("current_password", "new_password"))
    if not confirm_current_password(current_user, fields["current_password"]):
        raise ApiError(400, INVALID_FIELDS,
                       {"current_password": ["The current password is wrong."]})
    try:
        set_password(current_user, fields["new_password"], keep_session_id=get_jwt()["sid"])
    except InvalidUser as error:
        raise ApiError(400, INVALID_FIELDS, {"new_password": error.errors["password"]}) from None
    return jsonify(detail="Password changed; your other sessions have ended.")
