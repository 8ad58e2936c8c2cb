"""Scale-out: two app instances (serve.py, one process each, different ports)
sharing one PostgreSQL database and one Redis, as two app hosts behind nginx
would. Whatever one instance decides, the other must honour at once. Then
nginx with deploy/nginx.conf in front of both, as docs/deploy.md lays out.

Needs the real servers (and nginx): skips without them, fails under CI=true.
"""
import os
import shutil
import threading

import pytest

from conftest import STRONG_PASSWORD, empty_redis_database, fresh_postgres_database, unreachable
from live_server import LiveServer, NginxProxy, bearer, call, flask_cli, production_env

@pytest.fixture(scope="module")
def postgres_database():
    """A fresh, empty PostgreSQL database for this module (migrations build it)."""
    with fresh_postgres_database("atm_scale") as url:
        yield url


@pytest.fixture(scope="module")
def redis_database():
    """An empty Redis database for this module."""
    with empty_redis_database() as (_, url):
        yield url


@pytest.fixture(scope="module")
def servers(postgres_database, redis_database, tmp_path_factory):
    """Two running instances, A and B, on one migrated database, set up as the
    app hosts of deploy/ (one proxy in front); users ada, grace, hopper, linus."""
    folder = tmp_path_factory.mktemp("scale_out")
    env = production_env(postgres_database, REDIS_URL=redis_database, TRUSTED_PROXY_COUNT=1)
    flask_cli(env, "db", "upgrade")
    for username in ("ada", "grace", "hopper", "linus"):
        flask_cli(env, "create-user", username, "--role", "technician", "--city", "Lagos",
                  "--password-stdin", stdin=STRONG_PASSWORD + "\n")
    with LiveServer(env, folder / "a.log", "--processes", "1", "--threads", "4") as a, \
            LiveServer(env, folder / "b.log", "--processes", "1", "--threads", "4") as b:
        assert a.url != b.url
        yield a, b


@pytest.fixture(scope="module")
def instances(servers):
    """The base URLs of instances A and B."""
    return tuple(server.url for server in servers)


@pytest.fixture(scope="module")
def proxy(servers, tmp_path_factory):
    """nginx with deploy/nginx.conf in front of A and B; its base URL (https)."""
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        unreachable("nginx is not installed (make test installs Debian's nginx-light)")
    upstreams = [server.url.removeprefix("http://") for server in servers]
    with NginxProxy(tmp_path_factory.mktemp("nginx"), upstreams) as nginx:
        yield nginx.url


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


@pytest.mark.parametrize("path", ["/login", "/api/auth/me/"])
def test_nginx_answers_carry_hsts_once(proxy, path):
    _, _, headers = call("GET", proxy + path)
    assert headers.get_all("Strict-Transport-Security") == [
        "max-age=31536000; includeSubDomains"]


def test_sign_in_failures_on_one_instance_count_on_the_other(instances):
    a, b = instances
    for _ in range(5):
        assert sign_in(a, "grace", "not the password at all")[0] == 401

    status, body = sign_in(b, "grace")

    assert status == 429, body


def test_nginx_spreads_sign_ins_over_both_instances(servers, proxy):
    for _ in range(4):
        assert sign_in(proxy, "hopper")[0] == 200

    for server in servers:
        assert '"event": "login_succeeded", "username": "hopper"' in server.log()


def test_behind_nginx_a_forged_forwarded_for_neither_dodges_limits_nor_reaches_the_audit(
        servers, proxy):
    for n in range(5):
        forged = {"X-Forwarded-For": f"198.51.100.{n}"}
        status, _, _ = call("POST", proxy + "/api/auth/login/",
                            {"username": "linus", "password": "not the password at all"}, forged)
        assert status == 401

    status, _, headers = call("POST", proxy + "/api/auth/login/",
                              {"username": "linus", "password": STRONG_PASSWORD},
                              {"X-Forwarded-For": "198.51.100.99"})

    assert status == 429 and headers["Retry-After"]
    logs = "".join(server.log() for server in servers)
    assert '"username": "linus", "user_id": 4, "ip": "127.0.0.1"' in logs
    assert "198.51.100." not in logs


def test_nginx_carries_tokens_and_rotation_through(proxy):
    tokens = tokens_from(proxy, "hopper")

    refreshed = call("POST", proxy + "/api/auth/refresh/", {"refresh": tokens["refresh"]})
    me = call("GET", proxy + "/api/auth/me/", headers=bearer(refreshed[1]["access"]))
    reused = call("POST", proxy + "/api/auth/refresh/", {"refresh": tokens["refresh"]})

    assert refreshed[0] == 200 and me[0] == 200 and me[1]["username"] == "hopper"
    assert reused[0] == 401
