"""Headers every response carries: no sniffing, no framing, a strict CSP, and
in production HSTS (`STRICT_TRANSPORT_SECURITY`)."""
from flask import current_app

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def add_security_headers(response):
    """Set the contract's security headers; pages and API answers are never cached."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Referrer-Policy", "same-origin")
    # Only where the site is served over HTTPS (production): a browser that
    # saw it over plain HTTP in development ignores it anyway.
    if current_app.config["STRICT_TRANSPORT_SECURITY"]:
        headers.setdefault("Strict-Transport-Security", current_app.config["STRICT_TRANSPORT_SECURITY"])
    if response.status_code == 401 and headers.get("Content-Type", "").startswith("application/json"):
        headers.setdefault("WWW-Authenticate", "Bearer")
    # Everything but static files may show user data: never store it.
    if not response.direct_passthrough and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response
