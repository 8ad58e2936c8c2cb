"""Where to send a browser after it signs in: a page of this site, nothing else.

A `next` value is kept only when it is a plain path (`/dashboard/host?page=2`)
that stays a plain path however many times it is percent-decoded, holds no
backslash or control character (browsers turn `/\\evil` into `//evil` and
drop tabs), and names a page of this site a browser may GET.
"""
from urllib.parse import unquote, urlsplit

from flask import current_app, request
from werkzeug.exceptions import HTTPException

MAX_LENGTH = 2000
# Decoding rounds to try: a value encoded more often than this is refused.
DECODE_ROUNDS = 3
# Pages that make no sense right after signing in.
NOT_AFTER_SIGN_IN = {"web.login", "web.confirm_password"}


def safe_next(value):
    """`value` if it is a same-site page path, else None."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return None
    decoded = value
    for _ in range(DECODE_ROUNDS + 1):
        if not is_plain_path(decoded):
            return None
        decoded, previous = unquote(decoded), decoded
        if decoded == previous:
            break
    else:
        return None
    endpoint = page_endpoint(urlsplit(value).path)
    if endpoint is None or endpoint in NOT_AFTER_SIGN_IN:
        return None
    return value


def is_plain_path(value):
    """A path with one leading slash and no scheme, host, backslash or control character."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value) or "\\" in value:
        return False
    if not value.startswith("/") or value.startswith("//"):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def page_endpoint(path):
    """The web page a GET of `path` would reach, or None."""
    try:
        endpoint, _ = current_app.create_url_adapter(request).match(unquote(path), method="GET")
    except HTTPException:
        return None
    return endpoint if endpoint.startswith("web.") else None
