"""Brute-force limits on password sign-in, shared by the JSON API and the web form.

Three limits count failed sign-ins (config, Flask-Limiter notation):
`LIMIT_USER_ADDRESS` for one username from one client address, `LIMIT_USER`
for one username from every address, `LIMIT_ADDRESS` for one address whatever
the usernames. `authenticate()` (login.py) asks `check_sign_in_allowed` before
it verifies anything and calls `record_failure` after a failure, so both
sign-in doors share the same counters. Successes count toward nothing.

The counters are those of `limits`, the engine under Flask-Limiter: its
storage (memory, or Redis when `REDIS_URL` is set, so every app process sees
the same counts) and its moving-window strategy: "5 per 15 minutes" means at
most 5 failures in any 15-minute span, with no burst at a window boundary.
Flask-Limiter itself is not used: it adds its route checks to every request
(a cost docs/performance.md measures), and there are no route limits here,
only these counts of failures.
"""
import hashlib
import logging
import math
import time
from contextlib import contextmanager
from functools import lru_cache

from flask import current_app, request
from limits import parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from .. import audit
from ..models import User, username_key

log = logging.getLogger("atm_app.auth.limits")

# Every counter key starts with this, so it never meets another app's keys in a shared Redis.
SCOPE = "sign-in-failures"
# Each limit: its name (also part of its counter keys) and the setting it reads.
LIMIT_SETTINGS = (
    ("user+address", "LIMIT_USER_ADDRESS"),
    ("user", "LIMIT_USER"),
    ("address", "LIMIT_ADDRESS"),
)


def configure_sign_in_counters(app):
    """Give the app its failure counters; refuse malformed limit settings."""
    for _, setting in LIMIT_SETTINGS:
        parse_limit(app.config[setting])
    redis_url = app.config["REDIS_URL"]
    # Storage errors surface as StorageError (storage_guard below).
    options = {"wrap_exceptions": True}
    if redis_url:
        # A dead Redis must answer quickly, not hang every sign-in.
        options.update(socket_connect_timeout=2, socket_timeout=2)
    storage = storage_from_string(redis_url or "memory://", **options)
    app.extensions["atm_sign_in_counters"] = MovingWindowRateLimiter(storage)


def counters():
    """This app's moving-window counters."""
    return current_app.extensions["atm_sign_in_counters"]


@lru_cache(maxsize=32)
def parse_limit(notation):
    """A limit such as "5 per 15 minutes" as a `limits` item (ValueError if malformed)."""
    return parse(notation)


def client_address():
    """The client address: the socket's, or the proxy's report when proxies are trusted.

    ProxyFix (applied in create_app only when TRUSTED_PROXY_COUNT > 0) has
    already put the right value into `remote_addr`.
    """
    return request.remote_addr or "unknown"


def username_digest(username):
    """The case-insensitive username as a fixed-size key part.

    Hashing keeps usernames out of the counter store and stops a username
    containing "/" from colliding with another limit's key.
    """
    return hashlib.sha256(username_key(username).encode()).hexdigest()[:32]


def covering_limits(username):
    """(name, limit, counter key parts) of each limit that covers this sign-in attempt."""
    user, address = username_digest(username), client_address()
    keys = {"user+address": (user, address), "user": (user,), "address": (address,)}
    config = current_app.config
    return [
        (name, parse_limit(config[setting]), (SCOPE, name, *keys[name]))
        for name, setting in LIMIT_SETTINGS
    ]


def seconds_until_free(limit, keys):
    """Whole seconds until this exhausted limit accepts another attempt (at least 1)."""
    reset_at = counters().get_window_stats(limit, *keys).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def check_sign_in_allowed(username):
    """Raise 429 (with Retry-After) when any limit covering this attempt is used up.

    Checked before the password, so the right password is refused too until
    the window passes. Each refusal is recorded as a `rate_limited` event.
    """
    with storage_guard():
        exhausted = [
            (name, limit, keys)
            for name, limit, keys in covering_limits(username)
            if not counters().test(limit, *keys)
        ]
        if not exhausted:
            return
        retry_after = max(seconds_until_free(limit, keys) for _, limit, keys in exhausted)
    reached = ", ".join(f"{name} ({limit})" for name, limit, _ in exhausted)
    audit.record("rate_limited", user=User.find_by_username(username), username=username[:150],
                 detail=f"failure limit reached: {reached}; retry after {retry_after}s")
    raise TooManyRequests(retry_after=retry_after)


def record_failure(username):
    """Count one failed sign-in against every limit that covers it."""
    with storage_guard():
        for _, limit, keys in covering_limits(username):
            counters().hit(limit, *keys)


@contextmanager
def storage_guard():
    """Turn an unreachable counter store into a 503 instead of an unlimited sign-in.

    Failing closed: without counters, password guessing would be unbounded.
    Signed-in users keep working; only new sign-ins wait for the store.
    """
    try:
        yield
    except StorageError as error:
        log.error("Rate-limit storage unreachable: %s", type(error.storage_error).__name__)
        raise ServiceUnavailable() from error
