"""Scale-out: two app instances (serve.py, one process each, different ports)
sharing one PostgreSQL database and one Redis, as two app hosts behind nginx
would. Whatever one instance decides, the other must honour at once.

Needs the real servers: skips without them, fails under CI=true.
"""
import os
import threading
import uuid

import pytest
import sqlalchemy as sa

from conftest import POSTGRES_ADMIN_URL, STRONG_PASSWORD, unreachable
from live_server import LiveServer, bearer, call, flask_cli, production_env

REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture(scope="module")
def postgres_database():
    """A fresh, empty PostgreSQL database for this module, dropped after."""
    name = f"atm_scale_{uuid.uuid4().hex[:10]}"
    try:
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means "no server here"
        unreachable(f"PostgreSQL is unreachable at {POSTGRES_ADMIN_URL}: {type(error).__name__}")
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def redis_database():
    """A Redis database number of its own, emptied before and after."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as error:
        unreachable(f"Redis is unreachable at {REDIS_TEST_URL}: {type(error).__name__}")
    yield REDIS_TEST_URL
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def instances(postgres_database, redis_database, tmp_path_factory):
    """Two running instances, A and B, on one migrated database with users ada and grace."""
    folder = tmp_path_factory.mktemp("scale_out")
    env = production_env(postgres_database, REDIS_URL=redis_database)
    flask_cli(env, "db", "upgrade")
    for username in ("ada", "grace"):
        flask_cli(env, "create-user", username, "--role", "technician", "--city", "Lagos",
                  "--password-stdin", stdin=STRONG_PASSWORD + "\n")
    with LiveServer(env, folder / "a.log", "--processes", "1", "--threads", "4") as a, \
            LiveServer(env, folder / "b.log", "--processes", "1", "--threads", "4") as b:
        assert a.url != b.url
        yield a.url, b.url


def sign_in(url, username="ada", password=STRONG_PASSWORD):
    """(status, body) of one API sign-in."""
    status, body, _ = call("POST", url + "/api/auth/login/",
                           {"username": username, "password": password})
    return status, body


def tokens_from(url, username="ada"):
    """The tokens of a successful sign-in on `url`."""
    status, body = sign_in(url, username)
    assert status == 200, body
    return body


def test_a_token_issued_by_one_instance_works_on_the_other(instances):
    a, b = instances
    tokens = tokens_from(a)

    me_status, me, _ = call("GET", b + "/api/auth/me/", headers=bearer(tokens["access"]))
    refresh_status, refreshed, _ = call("POST", b + "/api/auth/refresh/",
                                        {"refresh": tokens["refresh"]})

    assert me_status == 200 and me["username"] == "ada"
    assert refresh_status == 200 and refreshed["refresh"] != tokens["refresh"]


def test_logout_on_one_instance_is_refused_on_the_other_at_once(instances):
    a, b = instances
    tokens = tokens_from(a)
    assert call("GET", b + "/api/auth/me/", headers=bearer(tokens["access"]))[0] == 200

    logout_status = call("POST", a + "/api/auth/logout/", {"refresh": tokens["refresh"]},
                         bearer(tokens["access"]))[0]

    assert logout_status == 200
    assert call("GET", b + "/api/auth/me/", headers=bearer(tokens["access"]))[0] == 401
    assert call("POST", b + "/api/auth/refresh/", {"refresh": tokens["refresh"]})[0] == 401


def test_a_refresh_race_across_both_instances_has_exactly_one_winner(instances):
    a, b = instances
    tokens = tokens_from(a)
    racers = 8
    start = threading.Barrier(racers)
    answers = []

    def race(url):
        start.wait()
        status, body, _ = call("POST", url + "/api/auth/refresh/", {"refresh": tokens["refresh"]})
        answers.append((status, body))

    threads = [threading.Thread(target=race, args=(a if n % 2 else b,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [body for status, body in answers if status == 200]
    assert len(winners) == 1, answers
    assert sorted(status for status, _ in answers) == [200] + [401] * (racers - 1)
    # The winner's chain goes on, on either instance.
    assert call("POST", a + "/api/auth/refresh/", {"refresh": winners[0]["refresh"]})[0] == 200


def test_sign_in_failures_on_one_instance_count_on_the_other(instances):
    a, b = instances
    for _ in range(5):
        assert sign_in(a, "grace", "not the password at all")[0] == 401

    status, body = sign_in(b, "grace")

    assert status == 429, body
