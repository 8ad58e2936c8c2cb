"""`GET /healthz`: 200 when a real query on the database succeeds, 503 otherwise."""
from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Whether the app can reach its database right now."""
    try:
        db.session.execute(db.select(1)).scalar_one()
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.warning("Health check failed: %s", type(error).__name__)
        return jsonify(status="unavailable", detail="The database is unreachable."), 503
    return jsonify(status="ok")
