"""Reading JSON request bodies: 415 for the wrong type, 400 with field errors."""
from flask import request
from werkzeug.exceptions import BadRequest

from .errors import ApiError


def json_object(optional=False):
    """The request body as a dict; raises ApiError 415/400 otherwise.

    With `optional`, an empty body counts as `{}`.
    """
    if optional and not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise ApiError(415)
    try:
        data = request.get_json()
    except BadRequest:  # `null` is valid JSON, so silent=True's None can't tell them apart
        raise ApiError(400, "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    with_nul = {name: [NO_NUL] for name, value in data.items() if holds_nul([name, value])}
    if with_nul:
        raise ApiError(400, "Some fields are missing or invalid.", with_nul)
    return data


NO_NUL = "Text may not contain NUL characters."


def holds_nul(value):
    """Whether a JSON value holds a NUL character anywhere.

    No field legitimately does, and PostgreSQL refuses NUL in text: caught
    here, it is a 400 instead of a database error.
    """
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


def string_fields(data, required=(), optional=(), max_length=256):
    """Check that the named fields are non-blank strings; return them.

    Missing required fields, wrong types, blank values and overlong strings
    are collected per field and raised together as one 400.
    """
    errors, values = {}, {}
    for name in (*required, *optional):
        if name not in data or data[name] is None:
            if name in required:
                errors[name] = ["This field is required."]
            continue
        value = data[name]
        if not isinstance(value, str):
            errors[name] = ["Must be a string."]
        elif not value.strip():
            errors[name] = ["This field may not be blank."]
        elif len(value) > max_length:
            errors[name] = [f"Ensure this field has no more than {max_length} characters."]
        else:
            values[name] = value
    if errors:
        raise ApiError(400, "Some fields are missing or invalid.", errors)
    return values
