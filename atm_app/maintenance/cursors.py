"""Opaque, signed cursors for keyset pagination.

A cursor holds where the last page ended: the sort, the sort value and the
id of its last row. It is signed (itsdangerous, with SECRET_KEY), so a
cursor a client changed or made up is refused with a 400, never trusted.
"""
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..errors import Refused

BAD_CURSOR = {"cursor": ["This cursor is not one this list gave out; start again without it."]}


def serializer():
    """The signer of cursors, under the app's secret."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="list-cursor")


def write(sort, value, row_id):
    """The cursor after a row whose `sort` value is `value` and id `row_id`."""
    if isinstance(value, datetime):
        value = value.isoformat()
    return serializer().dumps([sort, value, row_id])


def read(cursor, sort):
    """(value, id) from a cursor of this `sort`; 400 for anything else."""
    try:
        kind, value, row_id = serializer().loads(cursor)
    except (BadSignature, ValueError, TypeError):
        raise Refused(400, "Some fields are missing or invalid.", BAD_CURSOR) from None
    if kind != sort or not isinstance(row_id, int):
        raise Refused(400, "Some fields are missing or invalid.", BAD_CURSOR)
    if sort in ("created", "due"):
        value = datetime.fromisoformat(value)
    return value, row_id
