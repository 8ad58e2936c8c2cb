"""The sign-in limits are shared between app processes through Redis.

Two app servers (`serve.py`, one process each) run on one migrated SQLite
database with REDIS_URL pointing at one empty Redis database: failures made
on one count on the other. Needs the Redis server (skipped without it,
failed under CI=true).
"""
import pytest

from conftest import STRONG_PASSWORD, empty_redis_database
from live_server import LiveServer, call, flask_cli, production_env


@pytest.fixture
def redis_db():
    """(client, URL) of an empty Redis database."""
    with empty_redis_database() as found:
        yield found


@pytest.fixture
def two_servers(tmp_path, redis_db):
    """Base URLs of two app servers on one database and the shared Redis; user alice."""
    _, redis_url = redis_db
    env = production_env(f"sqlite:///{tmp_path / 'shared.sqlite3'}", REDIS_URL=redis_url)
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "create-user", "alice", "--role", "technician", "--password-stdin",
              stdin=f"{STRONG_PASSWORD}\n")
    with LiveServer(env, tmp_path / "first.log", "--processes", "1", "--threads", "2") as first, \
            LiveServer(env, tmp_path / "second.log", "--processes", "1", "--threads", "2") as second:
        yield first.url, second.url


def login(base_url, password):
    """POST a sign-in for alice; (status, headers)."""
    status, _, headers = call("POST", f"{base_url}/api/auth/login/",
                              {"username": "alice", "password": password})
    return status, headers


def test_failures_on_one_process_count_on_the_other(two_servers, redis_db):
    first, second = two_servers
    statuses = [login(first, "wrong-password-1")[0] for _ in range(3)]
    statuses += [login(second, "wrong-password-2")[0] for _ in range(2)]
    assert statuses == [401] * 5

    on_first, first_headers = login(first, STRONG_PASSWORD)
    on_second, second_headers = login(second, STRONG_PASSWORD)

    assert (on_first, on_second) == (429, 429)
    assert int(first_headers["Retry-After"]) > 0 and int(second_headers["Retry-After"]) > 0
    client, _ = redis_db
    assert any(b"sign-in-failures" in key for key in client.scan_iter())


def test_four_failures_across_processes_leave_the_right_password_working(two_servers):
    first, second = two_servers
    statuses = [login(first, "wrong-password")[0], login(second, "wrong-password")[0],
                login(first, "wrong-password")[0], login(second, "wrong-password")[0]]

    assert statuses == [401] * 4
    assert login(second, STRONG_PASSWORD)[0] == 200
