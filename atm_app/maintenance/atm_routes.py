"""JSON views of the fleet: `/api/atms/`."""
from flask import jsonify, request, url_for
from flask_jwt_extended import current_user

from ..auth.roles import login_required, roles_accepted
from ..validation import json_object
from . import bp, fleet, schemas
from .representations import atm_json


@bp.get("/atms/")
@login_required
def list_atms():
    """The ATMs the caller sees, a page at a time."""
    page = fleet.list_atms(current_user, schemas.load(schemas.AtmQuery, request.args))
    return jsonify(atms=[atm_json(atm, page.states[atm.id]) for atm in page.atms],
                   next=page.next)


@bp.post("/atms/")
@roles_accepted("host")
def create_atm():
    """Add an ATM to the fleet."""
    atm = fleet.create_atm(current_user, schemas.load(schemas.AtmCreate, json_object()))
    response = jsonify(atm_json(atm))
    response.status_code = 201
    response.headers["Location"] = url_for("maintenance.get_atm", atm_id=atm.id)
    return response


@bp.get("/atms/<int:atm_id>/")
@login_required
def get_atm(atm_id):
    """One ATM the caller sees."""
    atm = fleet.visible_atm(current_user, atm_id)
    return jsonify(atm_json(atm, fleet.states_of([atm.id])[atm.id]))


@bp.patch("/atms/<int:atm_id>/")
@roles_accepted("host")
def update_atm(atm_id):
    """Change an ATM's city, address, model, interval, or decommission it."""
    fleet.visible_atm(current_user, atm_id)  # 404 before a body is judged
    atm = fleet.update_atm(current_user, atm_id, schemas.load(schemas.AtmChange, json_object()))
    return jsonify(atm_json(atm, fleet.states_of([atm.id])[atm.id]))
