"""`GET /api/openapi.json`: the OpenAPI 3.1 description of the JSON API.

The source of truth is `docs/openapi.yaml`; it is read once per app and
served as JSON, so scripts and tools fetch it from the running service.
"""
import yaml
from flask import Blueprint, current_app, jsonify

from config import BASE_DIR

OPENAPI_PATH = BASE_DIR / "docs" / "openapi.yaml"

bp = Blueprint("openapi", __name__, url_prefix="/api")


def load_document():
    """The OpenAPI document as a dict, parsed once per app."""
    cache = current_app.extensions
    if "atm_openapi" not in cache:
        with OPENAPI_PATH.open(encoding="utf-8") as source:
            cache["atm_openapi"] = yaml.safe_load(source)
    return cache["atm_openapi"]


@bp.get("/openapi.json")
def openapi_document():
    """The API description, public like any published API reference."""
    return jsonify(load_document())
