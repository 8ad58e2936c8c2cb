"""The sign-in limits are shared between app processes through Redis.

Two real waitress servers run the app on one migrated SQLite database with
REDIS_URL pointing at one empty Redis database: failures made on one count
on the other. Needs the Redis server (skipped without it, failed under
CI=true).
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from conftest import STRONG_PASSWORD, unreachable

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_SERVER = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
STARTUP_SECONDS = 30


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_db():
    """The URL of an empty Redis database, emptied again afterwards.

    Only a database found empty is used, so nobody else's keys are touched.
    """
    server = redis.Redis.from_url(f"{REDIS_SERVER}/0", socket_connect_timeout=2)
    try:
        server.ping()
    except redis.RedisError as error:
        unreachable(f"Redis is unreachable at {REDIS_SERVER}: {type(error).__name__}")
    try:
        databases = int(server.config_get("databases").get("databases", 16))
    except redis.RedisError:  # CONFIG may be disabled; 16 is Redis's default
        databases = 16
    for number in range(databases - 1, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_SERVER}/{number}")
        if client.dbsize() == 0:
            break
    else:
        unreachable("Every Redis database holds keys; none is free for this test.")
    yield client, f"{REDIS_SERVER}/{number}"
    client.flushdb()


@pytest.fixture
def app_env(tmp_path, redis_db):
    """Environment for app processes: one migrated database, the shared Redis."""
    _, redis_url = redis_db
    env = {
        **os.environ,
        "ATM_ENV": "testing",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "REDIS_URL": redis_url,
    }
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    subprocess.run([*flask, "create-user", "alice", "--role", "technician", "--password-stdin"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
                   input=f"{STRONG_PASSWORD}\n", text=True)
    return env


@pytest.fixture
def two_servers(app_env):
    """Base URLs of two waitress processes serving the same app."""
    processes, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(subprocess.Popen(
                [str(BIN / "waitress-serve"), f"--listen=127.0.0.1:{port}", "wsgi:app"],
                cwd=ROOT, env=app_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes):
            wait_until_healthy(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_healthy(url, process):
    """Poll /healthz until the server answers 200; fail if it dies or never does."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server for {url} exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the server for {url} did not become healthy in {STARTUP_SECONDS}s")


def login(base_url, password):
    """POST a sign-in for alice; (status, headers)."""
    request = urllib.request.Request(
        f"{base_url}/api/auth/login/",
        data=json.dumps({"username": "alice", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


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
