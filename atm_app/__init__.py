"""ATM maintenance authentication core: the application factory.

`create_app` only wires; every piece lives in its own module:
auth/ (JSON sign-in, tokens, sessions, roles), users/ (user management),
maintenance/ (the fleet, tickets and figures), web/ (pages), models/,
cli.py (operator commands), errors.py, audit.py.
"""
import logging
import sys

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import BASE_DIR, INSTANCE_DIR, config_for

from . import database
from .audit import JsonLineFormatter
from .extensions import csrf, db, jwt
from .json_provider import OrjsonProvider


def create_app(config_name=None, overrides=None):
    """Build the app for `config_name` (default: `ATM_ENV`), with optional overrides."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.config.from_mapping(config_for(config_name).load())
    app.config.from_mapping(overrides or {})
    app.json = OrjsonProvider(app)
    app.url_map.strict_slashes = False
    INSTANCE_DIR.mkdir(exist_ok=True)

    register_logging(app)
    trust_proxies(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_logging(app):
    """One JSON object per line on standard error."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    for logger in (logging.getLogger("atm_app"), app.logger):
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False


def trust_proxies(app):
    """Read the client address from X-Forwarded-For only behind trusted proxies.

    Without TRUSTED_PROXY_COUNT the header is ignored: any client could
    forge it to dodge the sign-in limits or fake its audited address.
    """
    count = app.config["TRUSTED_PROXY_COUNT"]
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count)


def register_extensions(app):
    """Bind the extensions created in extensions.py."""
    from .auth.limits import configure_sign_in_counters
    from .auth.tokens import register_jwt_callbacks
    from .security_headers import add_security_headers
    from .web.page_session import PageOnlySessionInterface

    app.session_interface = PageOnlySessionInterface()
    db.init_app(app)
    jwt.init_app(app)
    csrf.init_app(app)
    configure_sign_in_counters(app)
    register_jwt_callbacks()
    app.after_request(add_security_headers)
    app.teardown_appcontext(database.release_connection)


def register_blueprints(app):
    """Mount the API, the pages and the health check."""
    from . import auth, health, maintenance, openapi, users, web

    app.register_blueprint(auth.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(maintenance.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(web.bp)
    # The JSON API authenticates with bearer tokens only: no CSRF to check there.
    csrf.exempt(auth.bp)
    csrf.exempt(users.bp)
    csrf.exempt(maintenance.bp)
    csrf.exempt(openapi.bp)


def register_error_handlers(app):
    """JSON errors under /api/, error pages elsewhere."""
    from .errors import register_error_handlers as register

    register(app)


def register_commands(app):
    """The operator CLI, and `flask db` (Flask-Migrate) when the `flask` command loads the app."""
    from .cli import register_commands as register

    register(app)
    # Alembic, under Flask-Migrate, costs each serving process memory and is
    # only ever used by `flask db ...`, which loads the app inside its click
    # command; waitress and serve.py never do (docs/performance.md).
    if click.get_current_context(silent=True) is not None:
        register_migrations(app)


def register_migrations(app):
    """Flask-Migrate, for `flask db upgrade` and friends."""
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
