"""Configuration classes, read from the environment (see docs/configuration.md).

`ATM_ENV` picks the class: development (default), production or testing.
Secrets have development-only defaults; production refuses to start without
real ones (`ProductionConfig.check`).
"""
import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# Known, public development secrets. Production refuses every one of them.
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"
DEV_JWT_SECRET_KEY = "dev-only-jwt-secret-key-do-not-use-in-production"
KNOWN_DEFAULT_SECRETS = {DEV_SECRET_KEY, DEV_JWT_SECRET_KEY, "", "changeme", "secret"}
MIN_SECRET_BYTES = 32
PRIORITIES = ("critical", "high", "normal", "low")  # as atm_app.models.PRIORITIES


def env_int(name, default):
    """An integer setting from the environment; a clear error when it is not one."""
    value = os.environ.get(name, default)
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}.") from None


def env_bool(name, default):
    """A true/false setting from the environment ("true", "1", "yes" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_minutes_per_priority(name, default):
    """Minutes per ticket priority, "critical=60,high=240,normal=480,low=1440" (decimals allowed)."""
    text = os.environ.get(name, default)
    minutes = {}
    for item in text.split(","):
        priority, _, value = item.partition("=")
        try:
            minutes[priority.strip()] = float(value)
        except ValueError:
            raise RuntimeError(f"{name}: {item.strip()!r} is not priority=minutes.") from None
    if set(minutes) != set(PRIORITIES) or min(minutes.values()) <= 0:
        raise RuntimeError(f"{name} must give every priority ({', '.join(PRIORITIES)}) "
                           f"a positive number of minutes, not {text!r}.")
    return minutes


def env_list(name):
    """A comma-separated setting as a list, blanks dropped."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


class Config:
    """Settings shared by every environment; `load()` overlays the environment."""

    ENV_NAME = "development"
    DEBUG = False  # waitress serves; the debugger is never on
    TESTING = False
    DEFAULT_DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'atm.sqlite3'}"

    JWT_ALGORITHM = "HS256"
    JWT_TOKEN_LOCATION = ["headers", "cookies"]
    JWT_COOKIE_SAMESITE = "Lax"
    JWT_COOKIE_SECURE = False
    # Cookies outlive the browser session: the refresh cookie is the sign-in.
    JWT_SESSION_COOKIE = False
    JWT_COOKIE_CSRF_PROTECT = True
    JWT_CSRF_CHECK_FORM = True
    # Pages put the double-submit value into their forms server-side, so no
    # script-readable CSRF cookie is needed: document.cookie holds nothing.
    JWT_CSRF_IN_COOKIES = False
    # The JWT double-submit token travels in its own form field, so it never
    # collides with Flask-WTF's `csrf_token` on the (anonymous) login form.
    JWT_ACCESS_CSRF_FIELD_NAME = "jwt_csrf_token"
    JWT_REFRESH_CSRF_FIELD_NAME = "jwt_csrf_token"
    JWT_ERROR_MESSAGE_KEY = "detail"
    JWT_REFRESH_JSON_KEY = "refresh"

    # OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1.
    ARGON2_TIME_COST = 2
    ARGON2_MEMORY_KIB = 19456
    ARGON2_PARALLELISM = 1

    # Bodies are small JSON objects or forms (a ticket's description, at most
    # 5,000 characters, is the largest); anything larger is refused (413).
    # The fleet's CSV upload raises it for its own page (IMPORT_MAX_BYTES).
    MAX_CONTENT_LENGTH = 64 * 1024
    IMPORT_MAX_BYTES = 5 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # Strict-Transport-Security on every answer (OWASP ASVS 14.4.5); None: not sent.
    STRICT_TRANSPORT_SECURITY = None

    @classmethod
    def load(cls):
        """This environment's settings as a dict, read from `os.environ` now."""
        settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
        jwt_keys = env_list("JWT_SECRET_KEYS") or [
            os.environ.get("JWT_SECRET_KEY", DEV_JWT_SECRET_KEY)
        ]
        access_minutes = env_int("ACCESS_TOKEN_MINUTES", 60)
        refresh_days = env_int("REFRESH_TOKEN_DAYS", 7)
        database_url = os.environ.get("DATABASE_URL", cls.DEFAULT_DATABASE_URL)
        settings.update(
            SECRET_KEY=os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
            # Newest first: the first signs new tokens, all of them verify.
            JWT_SECRET_KEYS=jwt_keys,
            JWT_SECRET_KEY=jwt_keys[0],
            SQLALCHEMY_DATABASE_URI=database_url,
            SQLALCHEMY_ENGINE_OPTIONS=engine_options(database_url),
            # Argon2id hashes running at once in this process (serve.py sets
            # cores / processes, so the whole machine runs one per core).
            HASH_CONCURRENCY=env_int("HASH_CONCURRENCY", os.cpu_count() or 1),
            REDIS_URL=os.environ.get("REDIS_URL") or None,
            ACCESS_TOKEN_MINUTES=access_minutes,
            REFRESH_TOKEN_DAYS=refresh_days,
            JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=access_minutes),
            JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=refresh_days),
            REFRESH_ROTATION=env_bool("REFRESH_ROTATION", True),
            REFRESH_REUSE_GRACE_SECONDS=env_int("REFRESH_REUSE_GRACE_SECONDS", 10),
            FRESH_LOGIN_MINUTES=env_int("FRESH_LOGIN_MINUTES", 15),
            LIMIT_USER_ADDRESS=os.environ.get("LIMIT_USER_ADDRESS", "5 per 15 minutes"),
            LIMIT_USER=os.environ.get("LIMIT_USER", "20 per hour"),
            LIMIT_ADDRESS=os.environ.get("LIMIT_ADDRESS", "30 per 5 minutes"),
            TRUSTED_PROXY_COUNT=env_int("TRUSTED_PROXY_COUNT", 0),
            # Service levels: minutes from a ticket's creation to its first
            # start (response) and to its resolution (restore), per priority.
            SLA_RESPONSE_MINUTES=env_minutes_per_priority(
                "SLA_RESPONSE_MINUTES", "critical=60,high=240,normal=480,low=1440"),
            SLA_RESTORE_MINUTES=env_minutes_per_priority(
                "SLA_RESTORE_MINUTES", "critical=240,high=480,normal=1440,low=4320"),
        )
        cls.check(settings)
        return settings

    @staticmethod
    def check(settings):
        """Refuse settings that are unsafe for this environment (none here)."""


def engine_options(database_url):
    """SQLAlchemy engine options: a connection pool as large as the serving threads.

    Each waitress thread holds one connection during its request (serve.py sets
    DB_POOL_SIZE to its thread count): a smaller pool makes threads wait, and
    connections past it are opened and closed again under load. Only a
    database server can drop a connection, so only it is pinged on checkout.
    SQLite in memory keeps Flask-SQLAlchemy's one shared connection.
    """
    # Each statement its own transaction (why: atm_app/database.py). An error's
    # message never carries the statement's values (a hash, a token id) into
    # the log: hide_parameters.
    options = {"isolation_level": "AUTOCOMMIT", "hide_parameters": True}
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return options
    return {
        **options,
        "pool_size": env_int("DB_POOL_SIZE", 8),
        "max_overflow": env_int("DB_MAX_OVERFLOW", 4),
        "pool_pre_ping": url.get_backend_name() != "sqlite",
    }


class DevelopmentConfig(Config):
    """Local use: `make run`."""


class TestingConfig(Config):
    """The test suite: cheap hashing so tests stay fast, an in-memory database."""

    ENV_NAME = "testing"
    TESTING = True
    DEFAULT_DATABASE_URL = "sqlite://"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_KIB = 64


class ProductionConfig(Config):
    """Real deployments: real secrets, Secure cookies."""

    ENV_NAME = "production"
    JWT_COOKIE_SECURE = True
    SESSION_COOKIE_SECURE = True
    # A year, subdomains included: production is served over HTTPS only.
    STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"

    @staticmethod
    def check(settings):
        """Refuse to start with a missing, known or short secret."""
        secrets = [("SECRET_KEY", settings["SECRET_KEY"])]
        secrets += [("JWT_SECRET_KEY", key) for key in settings["JWT_SECRET_KEYS"]]
        for name, value in secrets:
            if value in KNOWN_DEFAULT_SECRETS or len(value.encode()) < MIN_SECRET_BYTES:
                raise RuntimeError(
                    f"{name} must be set to a random value of at least "
                    f"{MIN_SECRET_BYTES} bytes in production."
                )


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_for(name=None):
    """The configuration class for `name`, or for `ATM_ENV`."""
    name = name or os.environ.get("ATM_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"ATM_ENV must be one of {', '.join(CONFIGS)}, not {name!r}.") from None
