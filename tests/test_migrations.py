"""`flask --app wsgi db upgrade` builds the schema the models describe, on SQLite and PostgreSQL."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import atm_app.models  # noqa: F401  (fills the metadata compared below)
from atm_app import create_app
from atm_app.extensions import db
from config import engine_options
from conftest import STRONG_PASSWORD, flask_cli, fresh_postgres_database, upgrade

TABLES = {"users", "auth_sessions", "audit_events", "alembic_version"}


def schema_differences(database_url):
    """What autogenerate would change to make the database match the models."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def table_names(database_url):
    engine = sa.create_engine(database_url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'fresh.sqlite3'}"


@pytest.fixture
def fresh_postgres_url():
    """A brand-new, empty PostgreSQL database, dropped afterwards."""
    with fresh_postgres_database("atm_migrate") as url:
        yield url


def test_upgrade_builds_the_schema_on_a_fresh_sqlite_file(sqlite_url):
    upgrade(sqlite_url)
    assert TABLES <= table_names(sqlite_url)


def test_migrated_sqlite_schema_matches_the_models(sqlite_url):
    upgrade(sqlite_url)
    assert schema_differences(sqlite_url) == []


def test_upgrade_builds_the_schema_on_a_fresh_postgres_database(fresh_postgres_url):
    upgrade(fresh_postgres_url)
    assert TABLES <= table_names(fresh_postgres_url)


def test_migrated_postgres_schema_matches_the_models(fresh_postgres_url):
    upgrade(fresh_postgres_url)
    assert schema_differences(fresh_postgres_url) == []


def assignee_index_condition(database_url):
    """The WHERE of the tickets' assignee index, as the database reports it."""
    engine = sa.create_engine(database_url)
    try:
        index, = [index for index in sa.inspect(engine).get_indexes("tickets")
                  if index["name"] == "ix_tickets_assignee_status_due"]
    finally:
        engine.dispose()
    conditions = [str(value) for key, value in index.get("dialect_options", {}).items()
                  if key.endswith("_where")]
    return " ".join(conditions)


@pytest.mark.parametrize("url_fixture", ["sqlite_url", "fresh_postgres_url"])
def test_the_assignee_index_holds_no_unassigned_ticket(url_fixture, request):
    """Unassigned tickets are found by city: under one NULL key they would make
    a technician's tickets to take cost as much as the whole fleet's."""
    database_url = request.getfixturevalue(url_fixture)
    upgrade(database_url)
    assert "assignee_id IS NOT NULL" in assignee_index_condition(database_url)


def test_upgrade_twice_changes_nothing(sqlite_url):
    upgrade(sqlite_url)
    upgrade(sqlite_url)
    assert schema_differences(sqlite_url) == []


def test_real_cli_creates_and_lists_a_user_on_the_migrated_database(sqlite_url):
    upgrade(sqlite_url)
    created = flask_cli(sqlite_url, "create-user", "alice", "--role", "host", "--password-stdin",
                        stdin="Quiet-Harbour-Falcon-77\n")
    assert created.returncode == 0, created.stderr
    listed = flask_cli(sqlite_url, "list-users")
    assert listed.stdout.splitlines() == [f"{created.stdout.strip()}\talice\thost\t-\tactive"]
    duplicate = flask_cli(sqlite_url, "create-user", "ALICE", "--role", "host",
                          "--password-stdin", stdin="Quiet-Harbour-Falcon-77\n")
    assert duplicate.returncode == 1
    assert len(duplicate.stderr.strip().splitlines()) == 1


def test_downgrade_to_the_first_revision_and_back_changes_nothing(sqlite_url):
    upgrade(sqlite_url)
    result = flask_cli(sqlite_url, "db", "downgrade", "0001_initial")
    assert result.returncode == 0, result.stderr
    upgrade(sqlite_url)
    assert schema_differences(sqlite_url) == []


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_refresh_on_the_migrated_database_writes_its_audit_row(database, request):
    url = request.getfixturevalue("sqlite_url" if database == "sqlite" else "fresh_postgres_url")
    upgrade(url)
    created = flask_cli(url, "create-user", "alice", "--role", "host", "--password-stdin",
                        stdin=f"{STRONG_PASSWORD}\n")
    assert created.returncode == 0, created.stderr
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url,
                                 "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url)})
    client = app.test_client()
    tokens = client.post("/api/auth/login/", json={"username": "alice",
                                                   "password": STRONG_PASSWORD}).get_json()

    response = client.post("/api/auth/refresh/", json={"refresh": tokens["refresh"]},
                           headers={"User-Agent": "script/1.0"})

    assert response.status_code == 200
    with app.app_context():
        rows = db.session.execute(sa.text(
            "SELECT username, ip, user_agent FROM audit_events WHERE event = 'refresh'")).all()
        db.engine.dispose()
    assert [tuple(row) for row in rows] == [("alice", "127.0.0.1", "script/1.0")]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_ticket_action_on_the_migrated_database_writes_its_event_and_audit_row(database,
                                                                                 request):
    """Migration 0006's trigger, not only the models' copy that the other tests build."""
    url = request.getfixturevalue("sqlite_url" if database == "sqlite" else "fresh_postgres_url")
    upgrade(url)
    created = flask_cli(url, "create-user", "alice", "--role", "host", "--password-stdin",
                        stdin=f"{STRONG_PASSWORD}\n")
    assert created.returncode == 0, created.stderr
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url,
                                 "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url)})
    client = app.test_client()
    tokens = client.post("/api/auth/login/", json={"username": "alice",
                                                   "password": STRONG_PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {tokens['access']}", "User-Agent": "script/1.0"}
    atm = client.post("/api/atms/", headers=headers, json={
        "terminal_id": "ABJ-001", "city": "Abuja", "address": "1 Unity Road"}).get_json()
    ticket = client.post("/api/tickets/", headers=headers,
                         json={"atm_id": atm["id"], "title": "Card reader jammed"}).get_json()

    response = client.post(f"/api/tickets/{ticket['id']}/cancel/", headers=headers,
                           json={"reason": "Raised twice."})

    assert response.status_code == 200
    assert response.get_json()["version"] == 2
    with app.app_context():
        events = db.session.execute(sa.text(
            "SELECT action, from_status, to_status, detail FROM ticket_events "
            "WHERE action = 'cancel'")).all()
        audited = db.session.execute(sa.text(
            "SELECT username, ip, user_agent, detail FROM audit_events "
            "WHERE event = 'ticket_cancelled'")).all()
        db.engine.dispose()
    assert [tuple(row) for row in events] == [("cancel", "open", "cancelled", "Raised twice.")]
    assert [tuple(row) for row in audited] == [
        ("alice", "127.0.0.1", "script/1.0",
         f"ticket {ticket['id']}: open -> cancelled; Raised twice.")]


def test_downgrading_the_fleet_keeps_the_refresh_audit_trigger(sqlite_url):
    upgrade(sqlite_url)
    result = flask_cli(sqlite_url, "db", "downgrade", "0002_refresh_audit_trigger")
    assert result.returncode == 0, result.stderr
    engine = sa.create_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            triggers = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars().all()
    finally:
        engine.dispose()
    assert triggers == ["audit_refresh"]
    assert not {"atms", "tickets", "ticket_events", "idempotency_keys"} & table_names(sqlite_url)
