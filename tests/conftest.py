"""Shared fixtures: an app per test on SQLite (and PostgreSQL where asked), its
client and CLI runner, a user factory, and `api` / `web` helpers that sign in
through the JSON API or through the pages.

Per-test settings: `@pytest.mark.settings(REFRESH_ROTATION=False, ...)`.
Modules that must also run on the real PostgreSQL server set
`pytestmark = pytest.mark.postgres_too`; without a server those runs skip,
except under CI (`CI=true`), where they fail.
"""
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import jwt as pyjwt
import pytest
import sqlalchemy as sa
import time_machine
from flask import g
from jinja2 import BytecodeCache
from waitress.server import create_server

from atm_app import create_app
from atm_app.extensions import db as _db
from config import engine_options

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_SERVER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
IN_CI = os.environ.get("CI", "").lower() == "true"
STRONG_PASSWORD = "Vivid-Turbine-Lantern-42"
REPO = Path(__file__).resolve().parents[1]
FLASK = Path(sys.executable).parent / "flask"


def pytest_configure(config):
    config.addinivalue_line("markers", "settings(**config): app config overrides for one test")
    config.addinivalue_line("markers", "postgres_too: run the test on SQLite and on PostgreSQL")
    config.addinivalue_line("markers", "browser: drives real headless Chromium")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("postgres_too") is not None
        metafunc.parametrize("backend", ["sqlite", "postgresql"] if both else ["sqlite"],
                             indirect=True)


def unreachable(reason):
    """Skip, or fail under CI, when a required server is missing."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this server is required)")
    pytest.skip(reason)


@contextmanager
def fresh_postgres_database(prefix):
    """The URL of a new, empty PostgreSQL database, dropped afterwards.

    Skips (fails under CI) when the server is unreachable.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means "no server here"
        unreachable(f"PostgreSQL is unreachable at {POSTGRES_ADMIN_URL}: {type(error).__name__}")
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def empty_redis_database():
    """(client, URL) of a Redis database found empty, emptied again afterwards.

    Only an empty database is taken, so nobody else's keys are touched. Skips
    (fails under CI) when the server is unreachable.
    """
    import redis

    server = redis.Redis.from_url(f"{REDIS_SERVER_URL}/0", socket_connect_timeout=2)
    try:
        server.ping()
    except redis.RedisError as error:
        unreachable(f"Redis is unreachable at {REDIS_SERVER_URL}: {type(error).__name__}")
    try:
        databases = int(server.config_get("databases").get("databases", 16))
    except redis.RedisError:  # CONFIG may be disabled; 16 is Redis's default
        databases = 16
    for number in range(databases - 1, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_SERVER_URL}/{number}")
        if client.dbsize() == 0:
            break
    else:
        unreachable("Every Redis database holds keys; none is free for this test.")
    try:
        yield client, f"{REDIS_SERVER_URL}/{number}"
    finally:
        client.flushdb()
        client.close()
        server.close()


def flask_cli(database_url, *args, stdin=None):
    """Run the real `flask --app wsgi ...` against `database_url`."""
    env = {**os.environ, "DATABASE_URL": database_url, "ATM_ENV": "development"}
    return subprocess.run([str(FLASK), "--app", "wsgi", *args], cwd=REPO, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def upgrade(database_url):
    """Build the schema as production does: `flask --app wsgi db upgrade`."""
    result = flask_cli(database_url, "db", "upgrade")
    assert result.returncode == 0, result.stderr


# The tests run on the schema the migrations build, never on db.create_all()'s:
# the database's planner breaks ties between equally good indexes by the order
# they were created in, which the migrations fix and create_all does not.
@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory):
    """A SQLite file after `db upgrade`, built once; tests take copies (new_sqlite_database)."""
    path = tmp_path_factory.mktemp("schema") / "migrated.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def new_sqlite_database(migrated_sqlite_file):
    """new_sqlite_database(path): a copy of the migrated schema at `path`, as a URL."""
    def copy_to(path):
        shutil.copyfile(migrated_sqlite_file, path)
        return f"sqlite:///{path}"
    return copy_to


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database with the migrated schema, for the whole run."""
    with fresh_postgres_database("atm_pytest") as url:
        upgrade(url)
        yield url


@pytest.fixture
def backend(request):
    """Which database this test runs on: "sqlite" or "postgresql"."""
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path):
    """A database URL for one test: a new SQLite file, or the run's PostgreSQL database."""
    if backend == "sqlite":
        return request.getfixturevalue("new_sqlite_database")(tmp_path / "test.sqlite3")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def app(request, database_url, backend):
    """The app in testing configuration on an empty database."""
    # The engine options production derives from its URL (pool, SQLite autocommit).
    overrides = {"SQLALCHEMY_DATABASE_URI": database_url,
                 "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url)}
    for marker in reversed(list(request.node.iter_markers("settings"))):
        overrides.update(marker.kwargs)
    app = create_app("testing", overrides)
    with app.app_context():
        yield app
        _db.session.remove()
        if backend == "postgresql":
            tables = ", ".join(table.name for table in _db.metadata.sorted_tables)
            with _db.engine.begin() as connection:
                connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """The SQLAlchemy handle, inside the app context."""
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create a user through the same service the API uses; `.password` is kept on it."""
    from atm_app.users.service import create_user

    counter = iter(range(1, 10_000))

    def make(username=None, role="technician", city="Lagos", password=STRONG_PASSWORD,
             is_active=True):
        user = create_user(username or f"user{next(counter)}", password, role, city)
        if not is_active:  # set directly: the factory may make an inactive last host
            user.is_active = False
            _db.session.commit()
        user.password = password
        return user

    return make


@dataclass
class Tokens:
    access: str
    refresh: str
    user: dict

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.access}"}


class ApiActions:
    """Sign in through the public API, as a script would."""

    def __init__(self, client):
        self.client = client

    def login(self, username, password=STRONG_PASSWORD):
        response = self.client.post("/api/auth/login/", json={"username": username,
                                                              "password": password})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        return Tokens(body["access"], body["refresh"], body["user"])

    def refresh(self, refresh_token):
        return self.client.post("/api/auth/refresh/", json={"refresh": refresh_token})

    @staticmethod
    def bearer(token):
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(client):
    return ApiActions(client)


def hidden_value(html, name):
    """The value of the hidden input `name` in a page."""
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    assert match, f"no hidden {name} in the page"
    return match.group(1)


class WebActions:
    """Use the pages as a browser would; the test client keeps the cookies."""

    def __init__(self, client):
        self.client = client

    def login(self, username, password=STRONG_PASSWORD, next_path=None):
        """Fill in and send the sign-in form (with its Flask-WTF csrf_token)."""
        # The `app` fixture's app context spans every request of a test, and
        # Flask-WTF caches the signed token on `g`: drop it, so each client
        # gets the token of its own session, as with a real server.
        g.pop("csrf_token", None)
        token = hidden_value(self.client.get("/login").get_data(as_text=True), "csrf_token")
        url = "/login" if next_path is None else "/login?" + urlencode({"next": next_path})
        return self.client.post(url, data={"username": username, "password": password,
                                           "csrf_token": token})

    def cookie(self, name):
        """A cookie's value in the client, or None."""
        cookie = self.client.get_cookie(name)
        return cookie.value if cookie else None

    def access_claims(self):
        """The claims of the access cookie (read, not verified)."""
        return pyjwt.decode(self.cookie("access_token_cookie"), options={"verify_signature": False})

    def replace_access_token(self, expires_in=3600, lifetime=3600, fresh=False):
        """Swap the access cookie for one of the same session, expiring in `expires_in`
        seconds of a `lifetime`-second life (negative: already expired), not fresh."""
        from flask_jwt_extended import create_access_token

        from atm_app.models import User

        claims = self.access_claims()
        issued = int(time.time()) + expires_in - lifetime
        token = create_access_token(
            identity=_db.session.get(User, claims["user_id"]), fresh=fresh,
            expires_delta=timedelta(seconds=expires_in),
            additional_claims={"token_type": "access", "sid": claims["sid"], "csrf": claims["csrf"],
                               "iat": issued, "nbf": issued},
        )
        self.client.set_cookie("access_token_cookie", token)
        return token

    def post(self, path, data=None, **kwargs):
        """A signed-in form post carrying the double-submit value, as the pages' forms do."""
        form = {"jwt_csrf_token": self.access_claims()["csrf"], **(data or {})}
        return self.client.post(path, data=form, **kwargs)


@pytest.fixture
def web(client):
    return WebActions(client)


# --- maintenance fixtures (fleet, tickets) ---

FLEET_USERS = (  # username, role, city
    ("host", "host", None),
    ("lsup", "supervisor", "Lagos"),
    ("ltech1", "technician", "Lagos"),
    ("ltech2", "technician", "Lagos"),
    ("ksup", "supervisor", "Kano"),
    ("ktech", "technician", "Kano"),
)
FLEET_ATMS = (  # terminal_id, city, address
    ("LAG-001", "Lagos", "12 Marina Road"),
    ("LAG-002", "Lagos", "4 Broad Street"),
    ("LAG-003", "Lagos", "7 Allen Avenue"),
    ("KAN-001", "Kano", "3 Zoo Road"),
    ("KAN-002", "Kano", "9 Bank Road"),
)
# The actions that bring a new (open) ticket to each status: the host acts,
# except `start`, which only the assignee may take.
STATUS_PATHS = {
    "open": (),
    "assigned": ("assign",),
    "in_progress": ("assign", "start"),
    "on_hold": ("assign", "hold"),
    "resolved": ("assign", "start", "resolve"),
    "closed": ("assign", "start", "resolve", "close"),
    "cancelled": ("cancel",),
}


class Fleet:
    """A host; Lagos: supervisor `lsup`, technicians `ltech1`, `ltech2`, ATMs LAG-001..003;
    Kano: supervisor `ksup`, technician `ktech`, ATMs KAN-001..002 (all made through the API).

    `users` and `atms` map usernames and terminal ids to ids; sign-ins are made
    once per user, on first use.
    """

    def __init__(self, client, api, make_user):
        self.client, self.api = client, api
        self.users = {name: make_user(name, role=role, city=city).id
                      for name, role, city in FLEET_USERS}
        self.cities = {name: city for name, _, city in FLEET_USERS}
        self.signed_in = {}
        self.atms = {terminal: self.create_atm(terminal_id=terminal, city=city,
                                               address=address)["id"]
                     for terminal, city, address in FLEET_ATMS}
        self.atm_cities = {terminal: city for terminal, city, _ in FLEET_ATMS}

    def login(self, who):
        """`who`'s Tokens (a username, or Tokens passed through)."""
        if isinstance(who, Tokens):
            return who
        if who not in self.signed_in:
            self.signed_in[who] = self.api.login(who)
        return self.signed_in[who]

    def headers(self, who, **extra):
        return {**self.login(who).headers, **extra}

    def create_atm(self, **fields):
        """POST /api/atms/ as the host; the new ATM."""
        response = self.client.post("/api/atms/", headers=self.headers("host"), json=fields)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def post_ticket(self, who, body, **headers):
        """POST /api/tickets/ with `body`; the response."""
        return self.client.post("/api/tickets/", headers=self.headers(who, **headers), json=body)

    def raise_ticket(self, who, atm_id, **fields):
        """Raise a ticket (title defaulted) and return it; fails unless 201."""
        body = {"atm_id": atm_id, "title": "Card reader jammed", **fields}
        response = self.post_ticket(who, body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def act(self, who, ticket_id, action, body=None, **headers):
        """POST /api/tickets/<id>/<action>/; the response."""
        return self.client.post(f"/api/tickets/{ticket_id}/{action}/",
                                headers=self.headers(who, **headers), json=body or {})

    def step(self, who, ticket_id, action, body=None):
        """Take an action that must succeed; the ticket it answers with."""
        response = self.act(who, ticket_id, action, body)
        assert response.status_code == 200, (action, response.get_json())
        return response.get_json()

    def get_ticket(self, ticket_id, who="host"):
        response = self.client.get(f"/api/tickets/{ticket_id}/", headers=self.headers(who))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def body(self, action, technician="ltech1"):
        """A valid body for `action` taken by the host (assign: to `technician`)."""
        return {
            "assign": {"assignee_id": self.users[technician]},
            "hold": {"reason": "Waiting for a spare part"},
            "resolve": {"resolution": "Replaced the card reader"},
            "reopen": {"reason": "Fault came back"},
            "cancel": {"reason": "Raised twice"},
        }.get(action, {})

    def drive(self, ticket_id, status, technician=None):
        """Bring an open ticket to `status`; the ticket. Assigned to `technician`
        (default: ltech1 in Lagos, ktech in Kano) wherever the path assigns it."""
        if technician is None:
            city = self.get_ticket(ticket_id)["city"]
            technician = "ktech" if city == "Kano" else "ltech1"
        ticket = None
        for action in STATUS_PATHS[status]:
            who = technician if action == "start" else "host"
            ticket = self.step(who, ticket_id, action, self.body(action, technician))
        return ticket if ticket is not None else self.get_ticket(ticket_id)

    def ticket_in(self, status, terminal="LAG-001", technician=None, **fields):
        """A new ticket on `terminal`, raised by the host and brought to `status`."""
        ticket = self.raise_ticket("host", self.atms[terminal], **fields)
        if technician is None:
            technician = "ktech" if self.atm_cities.get(terminal) == "Kano" else "ltech1"
        return self.drive(ticket["id"], status, technician) if status != "open" else ticket


@pytest.fixture
def fleet(client, api, make_user):
    return Fleet(client, api, make_user)


class Clock:
    """Frozen time that a test moves on: `at(seconds)` after the start; `iso(seconds)`
    is that moment as the API writes it."""

    def __init__(self, traveller, start):
        self.traveller, self.start = traveller, start

    def at(self, seconds):
        self.traveller.move_to(self.start + timedelta(seconds=seconds))

    def iso(self, seconds):
        return (self.start + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def clock():
    """Time frozen on a whole second just ahead of now (so tokens signed now stay
    valid), moved on only by the test."""
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=2)
    with time_machine.travel(start, tick=False) as traveller:
        yield Clock(traveller, start)


# --- web maintenance fixtures ---

@dataclass
class PageForm:
    """One <form> of a page: where it posts, and what a browser would send as shown
    (`fields`), with the choices of each <select> (`options`: name -> [(value, text)])."""

    action: str
    method: str
    fields: dict
    options: dict


class FormReader(HTMLParser):
    """Reads every <form> of a page: inputs, checked boxes, textareas, selects."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.form = [], None
        self.textarea = self.select = self.option = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.form = PageForm(attrs.get("action", ""), attrs.get("method", "get").lower(),
                                 {}, {})
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "file"):
                self.form.fields[attrs["name"]] = attrs.get("value", "on" if kind == "checkbox"
                                                            else "")
        elif tag == "textarea" and attrs.get("name"):
            self.textarea = attrs["name"]
            self.form.fields[self.textarea] = ""
        elif tag == "select" and attrs.get("name"):
            self.select = attrs["name"]
            self.form.options[self.select] = []
        elif tag == "option" and self.select:
            self.option = [attrs.get("value", ""), ""]
            self.form.options[self.select].append(self.option)
            if "selected" in attrs or self.select not in self.form.fields:
                self.form.fields[self.select] = self.option[0]

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "textarea" and self.textarea:
            value = self.form.fields[self.textarea]  # a browser drops one leading newline
            self.form.fields[self.textarea] = value[1:] if value.startswith("\n") else value
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "option":
            self.option = None

    def handle_data(self, data):
        if self.textarea and self.form is not None:
            self.form.fields[self.textarea] += data
        elif self.option is not None:
            self.option[1] += data.strip()


def read_forms(html):
    """Every form of a page, in order."""
    reader = FormReader()
    reader.feed(html)
    return reader.forms


def main_of(html):
    """The <main> element of a page (its content, without the header and footer)."""
    match = re.search(r"<main\b.*?</main>", html, re.S)
    assert match, "the page has no <main>"
    return match.group(0)


def main_nav_links(html):
    """The texts of the links of the page's main navigation."""
    match = re.search(r'<nav class="topbar__nav" aria-label="Main">(.*?)</nav>', html, re.S)
    assert match, "the page has no main navigation"
    return re.findall(r"<a [^>]*>([^<]*)</a>", match.group(1))


class Pages:
    """A browser on the maintenance pages, with the `fleet` set up behind them.

    `sign_in(name)` signs the browser in through the sign-in form (signing out
    whoever was signed in first); `get` asserts the status; `form` finds the one
    form that posts to a path; `submit` sends a form as the page has it, with
    the values a person typed or chose.
    """

    def __init__(self, client, web, fleet):
        self.client, self.web, self.fleet = client, web, fleet
        self.user = None

    def sign_in(self, username):
        if self.user is not None:
            assert self.web.post("/logout").status_code == 303
        response = self.web.login(username)
        assert response.status_code == 303, response.get_data(as_text=True)
        self.user = username
        return self

    def get(self, path, status=200):
        response = self.client.get(path)
        assert response.status_code == status, (path, response.status_code)
        return response

    def html(self, path, status=200):
        return self.get(path, status).get_data(as_text=True)

    def forms(self, html, action=None):
        """The page's forms, or those posting to `action`."""
        return [form for form in read_forms(html) if action is None or form.action == action]

    def form(self, html, action):
        """The one form of the page posting to `action`."""
        found = self.forms(html, action)
        assert len(found) == 1, f"{len(found)} forms post to {action}"
        return found[0]

    def submit(self, form, drop=(), **typed):
        """Post `form` as shown, with `typed` values filled in and `drop`ped fields left out."""
        data = {name: value for name, value in {**form.fields, **typed}.items()
                if name not in drop}
        return self.client.post(form.action, data=data)

    def follow(self, response):
        """The page a 303 leads to (its flash messages shown once)."""
        assert response.status_code == 303, response.status_code
        return self.html(response.headers["Location"])


class SharedTemplateCode(BytecodeCache):
    """Compiled templates kept across the tests' apps (each app has its own Jinja
    environment, which would compile every template again); a changed template
    source has another checksum and is compiled afresh."""

    def __init__(self):
        self.code = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


SHARED_TEMPLATE_CODE = SharedTemplateCode()


@pytest.fixture
def pages(app, client, web, fleet):
    app.jinja_env.bytecode_cache = SHARED_TEMPLATE_CODE
    return Pages(client, web, fleet)


# --- real browsers (test_browser.py, test_browser_work.py) --------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@contextmanager
def served_in_thread(app):
    """waitress serving `app` in a background thread on a free 127.0.0.1 port; its address."""
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium, or a skip (a failure under CI) when it is not installed."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run `make test-deps` (Debian's chromium package)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(page, base_url, username, password=STRONG_PASSWORD):
    """Fill in and send the sign-in form like a person would."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def screenshot(page, name):
    """Save a full-page screenshot under artifacts/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
