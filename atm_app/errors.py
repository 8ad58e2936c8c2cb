"""Error responses: the JSON envelope under /api/, error pages elsewhere.

`error_response` is the one place an API error body is built; the handlers
registered here route every HTTP error through it or through a template.
"""
from flask import current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

# The `errors` key of a 400 that no single field caused (DRF's name, which
# the old backend's scripts already read).
NON_FIELD_ERRORS = "non_field_errors"
# One human sentence per status, for errors raised without their own detail.
DEFAULT_DETAILS = {
    400: "The request is not valid.",
    401: "Authentication credentials were not provided or are not valid.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "This conflicts with an existing resource.",
    412: "The resource changed since you read it.",
    413: "The request body is too large.",
    415: "Send the body as JSON (Content-Type: application/json).",
    429: "Too many attempts. Try again later.",
    500: "Something went wrong on our side.",
    503: "The service is unavailable.",
}


class Refused(Exception):
    """A request the rules refuse: an HTTP status, one sentence, and per-field errors.

    Services raise it; under /api/ it is answered with the JSON envelope,
    and a page either catches it to show the sentence beside its form or
    lets it become the error page of its status.
    """

    def __init__(self, status, detail=None, errors=None, headers=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail or DEFAULT_DETAILS.get(status, "Error.")
        self.errors = errors
        self.headers = headers or {}


class ApiError(Refused):
    """A refusal raised by an API view itself."""


def error_response(status, detail=None, errors=None, headers=None):
    """The API's JSON error: `{"detail": ..., "errors": {...}}`.

    A 400 always names what was wrong in `errors`, per field; one that no
    field caused (a body that is not JSON) lists its detail under
    `non_field_errors`.
    """
    body = {"detail": detail or DEFAULT_DETAILS.get(status, "Error.")}
    if status == 400:
        body["errors"] = errors or {NON_FIELD_ERRORS: [body["detail"]]}
    elif errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def is_api_request():
    """Whether the current request is for the JSON API."""
    return request.path == "/api" or request.path.startswith("/api/")


def handle_refused(error):
    """A `Refused` (or `ApiError`) that reached Flask: JSON under /api/, an error page elsewhere."""
    if is_api_request():
        return error_response(error.status, error.detail, error.errors, error.headers)
    return render_error_page(error.status, error.detail, error.headers)


def slash_variant_error(error):
    """A 405 rather than a 404 when the path exists with a trailing slash.

    Werkzeug's non-strict slashes match `/api/x` to the rule `/api/x/` only
    for the methods that rule allows; any other method it reports as 404.
    """
    if error.code != 404 or request.path.endswith("/") or request.url_rule is not None:
        return error
    try:
        current_app.create_url_adapter(request).match(request.path + "/", request.method)
    except MethodNotAllowed as not_allowed:
        return not_allowed
    except HTTPException:
        pass
    return error


def handle_http_exception(error):
    """Any HTTP error: JSON under /api/, the site's error page elsewhere."""
    error = slash_variant_error(error)
    status = error.code or 500
    headers = dict(error.get_headers()) if status in (405, 429) else {}
    headers.pop("Content-Type", None)
    detail = DEFAULT_DETAILS.get(status, "Error.")
    if is_api_request():
        return error_response(status, detail, headers=headers)
    return render_error_page(status, detail, headers)


def handle_unexpected_error(error):
    """An unhandled exception: logged here, answered without details."""
    current_app.logger.exception("Unhandled exception on %s %s", request.method, request.path)
    return handle_http_exception(InternalServerError())


def render_error_page(status, detail, headers=None):
    """The site's page for an HTTP error status."""
    template = f"errors/{status}.html" if status in (400, 403, 404, 429, 500) else "errors/generic.html"
    body = render_template(template, status=status, detail=detail)
    return body, status, headers or {}


def register_error_handlers(app):
    """Route every error through this module."""
    app.register_error_handler(Refused, handle_refused)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected_error)
