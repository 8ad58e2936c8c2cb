"""Flask's signed-cookie session, opened for the pages only.

The pages keep their flash messages and the sign-in form's CSRF token in it.
The JSON API never reads or writes it (tokens travel in headers or the JWT
cookies), and opening it costs every API request CPU for nothing
(docs/performance.md), so under /api/ the session is Flask's empty
NullSession, which refuses writes.
"""
from flask.sessions import SecureCookieSessionInterface

from ..errors import is_api_request


class PageOnlySessionInterface(SecureCookieSessionInterface):
    """Flask's default session interface, skipped under /api/."""

    def open_session(self, app, request):
        if is_api_request():
            return self.make_null_session(app)
        return super().open_session(app, request)
