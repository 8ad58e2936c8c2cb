"""Serving on every core (serve.py), the work each request costs, and bounded
hashing. nginx in front of two app hosts: test_scale_out.py."""
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy import event

from conftest import STRONG_PASSWORD
from live_server import PROJECT_DIR, LiveServer, bearer, call, flask_cli, production_env

WORKERS = 2


# ---------------------------------------------------------------- work per request
@pytest.fixture
def statements(db):
    """Every SQL statement the app sends while the test runs, in order."""
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    yield sent
    event.remove(db.engine, "before_cursor_execute", record)


@pytest.mark.postgres_too
def test_me_costs_one_query_that_reads_user_and_session_together(make_user, api, client,
                                                                  statements):
    make_user("ada")
    tokens = api.login("ada")
    statements.clear()

    response = client.get("/api/auth/me/", headers=tokens.headers)

    assert response.status_code == 200
    assert len(statements) == 1, statements
    assert re.search(r"FROM users JOIN auth_sessions", statements[0]), statements[0]


@pytest.mark.postgres_too
def test_refresh_checks_its_owner_rotates_and_audits_in_one_update(make_user, api, statements):
    make_user("ada")
    tokens = api.login("ada")
    statements.clear()

    response = api.refresh(tokens.refresh)

    assert response.status_code == 200
    # The audit row: the UPDATE's trigger; the name for the log: the token.
    assert len(statements) == 1, statements
    [rotation] = statements
    assert rotation.startswith("UPDATE auth_sessions") and "FROM users" in rotation, statements
    # A write returning rows would hold SQLite's lock until they are fetched.
    assert "RETURNING" not in rotation, rotation


def test_a_sqlite_write_never_holds_the_write_lock_past_its_own_statement(make_user, db):
    make_user("ada")
    rename = sa.text("UPDATE users SET city = :city")
    with db.engine.connect() as first, db.engine.connect() as second:
        first.execute(rename, {"city": "Kano"})  # and no commit() yet
        second.exec_driver_sql("PRAGMA busy_timeout = 0")  # fail at once if locked

        second.execute(rename, {"city": "Abuja"})

    assert db.session.execute(sa.text("SELECT city FROM users")).scalar_one() == "Abuja"


def test_a_sqlite_connection_keeps_its_own_page_cache_to_512_kib(db):
    # Every pooled connection caches the pages it reads; on a large database
    # SQLite's default (about 2 MB) let the server's memory grow with the data.
    with db.engine.connect() as connection:
        cache_size = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()

    assert cache_size == -512  # negative: a size in KiB, not a count of pages


# ---------------------------------------------------------------- bounded hashing
@pytest.fixture
def hashes_in_flight(monkeypatch):
    """Watch every Argon2id verification: the most at once, and the threads they ran on."""
    seen = {"now": 0, "most": 0, "threads": set()}
    lock = threading.Lock()
    verify = PasswordHasher.verify

    def watched_verify(self, password_hash, password):
        with lock:
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
            seen["threads"].add(threading.get_ident())
        try:
            time.sleep(0.02)  # long enough for the other sign-ins to pile up
            return verify(self, password_hash, password)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(PasswordHasher, "verify", watched_verify)
    return seen


def sign_in_at_once(app, count, username, password):
    """`count` sign-ins started together, each with its own client; their statuses."""
    statuses = []
    start = threading.Barrier(count)

    def sign_in():
        client = app.test_client()
        start.wait()
        response = client.post("/api/auth/login/",
                               json={"username": username, "password": password})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=sign_in) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.settings(HASH_CONCURRENCY=2)
def test_simultaneous_sign_ins_hash_at_most_hash_concurrency_at_once(app, make_user,
                                                                      hashes_in_flight):
    make_user("ada")

    statuses = sign_in_at_once(app, 8, "ada", STRONG_PASSWORD)

    assert statuses == [200] * 8
    assert hashes_in_flight["most"] <= 2
    # Always the same few threads, so their 19 MiB work areas are reused.
    assert len(hashes_in_flight["threads"]) <= 2


@pytest.mark.settings(HASH_CONCURRENCY=1)
def test_unknown_users_wait_for_the_same_hashing_threads(app, make_user, hashes_in_flight):
    make_user("ada")

    statuses = sign_in_at_once(app, 4, "nobody", STRONG_PASSWORD)

    assert statuses == [401] * 4
    assert hashes_in_flight["most"] == 1
    assert len(hashes_in_flight["threads"]) == 1


# ---------------------------------------------------------------- serve.py
@pytest.fixture(scope="module")
def sqlite_server_env(tmp_path_factory):
    """Production settings on a migrated SQLite file with one user, `ada`."""
    folder = tmp_path_factory.mktemp("serve")
    env = production_env(f"sqlite:///{folder / 'serve.sqlite3'}")
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "create-user", "ada", "--role", "technician", "--city", "Lagos",
              "--password-stdin", stdin=STRONG_PASSWORD + "\n")
    return env, folder


@pytest.fixture(scope="module")
def server(sqlite_server_env):
    """serve.py with two workers, for the tests that leave it running as it was."""
    env, folder = sqlite_server_env
    with LiveServer(dict(env, TRUSTED_PROXY_COUNT="1"), folder / "server.log",
                    "--processes", str(WORKERS), "--threads", "4") as live:
        yield live


def sign_in(url, username="ada", headers=None):
    """Tokens of one API sign-in against a live server."""
    status, body, _ = call("POST", url + "/api/auth/login/",
                           {"username": username, "password": STRONG_PASSWORD}, headers)
    assert status == 200, body
    return body


def test_serve_runs_the_asked_number_of_workers_on_one_port(server):
    tokens = sign_in(server.url)

    status, body, _ = call("GET", server.url + "/api/auth/me/", headers=bearer(tokens["access"]))

    assert status == 200 and body["username"] == "ada"
    assert len(server.workers()) == WORKERS


def test_serve_shares_the_cores_out_between_its_workers(server):
    per_worker = max(1, len(os.sched_getaffinity(0)) // WORKERS)

    assert (f"with {WORKERS} processes x 4 threads, {per_worker} Argon2id hash(es) "
            "at a time and 4 database connections each") in server.log()


def test_serve_keeps_forwarded_headers_for_the_app_to_judge(server):
    # TRUSTED_PROXY_COUNT=1: the app (not waitress) takes the last hop.
    status, _, _ = call("POST", server.url + "/api/auth/login/",
                        {"username": "ada", "password": "not the password at all"},
                        {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"})

    assert status == 401
    assert wait_for(lambda: '"ip": "203.0.113.9"' in server.log())


def test_serve_answers_a_burst_of_clients_that_connect_at_once(server):
    address = server.url.removeprefix("http://")
    host, port = address.split(":")
    request = f"GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode()
    clients = [socket.create_connection((host, int(port)), timeout=30) for _ in range(300)]
    try:
        for client in clients:
            client.sendall(request)

        status_lines = [client.makefile("rb").readline() for client in clients]
    finally:
        for client in clients:
            client.close()

    assert status_lines == [b"HTTP/1.1 200 OK\r\n"] * 300


def test_serve_replaces_a_worker_that_dies(sqlite_server_env):
    env, folder = sqlite_server_env
    with LiveServer(env, folder / "restart.log", "--processes", "2", "--threads", "2") as live:
        victim = live.workers()[0]

        os.kill(victim, signal.SIGKILL)

        assert wait_for(lambda: len(live.workers()) == 2 and victim not in live.workers())
        assert "ended (signal SIGKILL); starting another" in live.log()
        for _ in range(6):  # new connections, spread over both sockets by the kernel
            assert call("GET", live.url + "/healthz")[0] == 200


def test_serve_stops_every_worker_on_sigterm(sqlite_server_env):
    env, folder = sqlite_server_env
    with LiveServer(env, folder / "stop.log", "--processes", "2", "--threads", "2") as live:
        workers = live.workers()

        live.process.send_signal(signal.SIGTERM)

        assert live.process.wait(20) == 0
        assert wait_for(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in workers))


def test_serve_refuses_to_start_in_production_with_a_default_secret(sqlite_server_env):
    env, _ = sqlite_server_env
    env = dict(env, SECRET_KEY="changeme")

    result = subprocess.run([".venv/bin/python", "serve.py", "--port", "0"], cwd=PROJECT_DIR,
                            env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 1
    assert "refusing to start: SECRET_KEY must be set" in result.stderr


def wait_for(condition, seconds=20):
    """Whether `condition()` became true within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
