"""JSON views for user management (host) and the technician roster."""
from flask import jsonify
from flask_jwt_extended import current_user

from ..auth.roles import roles_accepted
from ..errors import ApiError
from ..extensions import db
from ..models import MAX_ROW_ID, User
from ..validation import json_object
from . import bp, service

UNKNOWN_FIELD = ["Unknown field."]


def refused(error):
    """An InvalidUser as the API's 400/409."""
    detail = "That username is taken." if error.status == 409 else "Some fields are missing or invalid."
    return ApiError(error.status, detail, error.errors)


def check_fields(data, allowed, required=()):
    """400 for missing required fields and for fields the call does not take."""
    errors = {name: ["This field is required."] for name in required if name not in data}
    errors.update({name: UNKNOWN_FIELD for name in data if name not in allowed})
    if errors:
        raise ApiError(400, "Some fields are missing or invalid.", errors)


@bp.get("/users/")
@roles_accepted("host")
def list_users():
    """Every user, with its status."""
    return jsonify(users=[user.to_dict(with_status=True) for user in service.list_users()])


@bp.post("/users/")
@roles_accepted("host", fresh=True)
def create_user():
    """Create a user."""
    data = json_object()
    check_fields(data, allowed=("username", "password", "role", "city"),
                 required=("username", "password", "role"))
    try:
        user = service.create_user(data["username"], data["password"], data["role"], data.get("city"))
    except service.InvalidUser as error:
        raise refused(error) from None
    return jsonify(user.to_dict(with_status=True)), 201


@bp.patch("/users/<int:user_id>/")
@roles_accepted("host", fresh=True)
def update_user(user_id):
    """Change a user's role, city, status or password."""
    data = json_object()
    check_fields(data, allowed=("role", "city", "is_active", "password"))
    user = db.session.get(User, user_id) if user_id <= MAX_ROW_ID else None
    if user is None:
        raise ApiError(404, "No user with that id.")
    try:
        service.update_user(user, data)
    except service.InvalidUser as error:
        raise refused(error) from None
    return jsonify(user.to_dict(with_status=True))


@bp.get("/technicians/")
@roles_accepted("supervisor", "host")
def list_technicians():
    """Technicians: a supervisor sees its own city's, a host sees all."""
    city = current_user.city if current_user.role == "supervisor" else None
    if current_user.role == "supervisor" and city is None:
        return jsonify(users=[])
    users = service.list_users(role="technician", city=city)
    return jsonify(users=[user.to_dict(with_status=True) for user in users])
