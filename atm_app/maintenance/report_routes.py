"""JSON view of the figures: `/api/reports/kpis/`."""
from flask import jsonify, request
from flask_jwt_extended import current_user

from ..auth.roles import login_required
from . import bp, kpis, schemas


@bp.get("/reports/kpis/")
@login_required
def get_kpis():
    """The figures of the caller's scope for a range of days."""
    return jsonify(kpis.figures(current_user, schemas.load(schemas.KpiQuery, request.args)))
