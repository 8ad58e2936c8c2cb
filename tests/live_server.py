"""Real servers for tests that need more than the test client: `serve.py`
in a subprocess, nginx in front of them with deploy/nginx.conf, and a tiny
HTTP client to talk to them.

Used by test_serve.py and test_scale_out.py. Every server is stopped (its
whole process group) when its `with` block ends, whatever happened inside.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60
# Settings the app or serve.py read: a test server never inherits the caller's.
CONFIG_PREFIXES = ("ATM_", "WEB_", "DATABASE_", "REDIS_", "HASH_", "DB_", "JWT_", "SECRET_",
                   "LIMIT_", "TRUSTED_", "REFRESH_", "ACCESS_", "FRESH_")


def production_env(database_url, **extra):
    """The environment of a production server: fresh secrets, this database."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(CONFIG_PREFIXES)}
    env.update(ATM_ENV="production", SECRET_KEY=secrets.token_hex(32),
               JWT_SECRET_KEY=secrets.token_hex(32), DATABASE_URL=database_url)
    env.update({key: str(value) for key, value in extra.items()})
    return env


def flask_cli(env, *args, stdin=None):
    """Run `flask --app wsgi ARGS` in the project with `env`; fails loudly."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=PROJECT_DIR, env=env,
        input=stdin, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


class LiveServer:
    """`python serve.py --port 0 ...` in its own process group; its log in `log_path`."""

    def __init__(self, env, log_path, *args):
        self.env, self.log_path, self.args = env, Path(log_path), args
        self.process = None
        self.url = None

    def __enter__(self):
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "serve.py", "--port", "0", *self.args], cwd=PROJECT_DIR,
            env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        try:
            self.url = self.wait_for_url()
            self.wait_until_answering()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def log(self):
        """Everything the server wrote so far."""
        return self.log_path.read_text(errors="replace")

    def wait_for_url(self):
        """The address serve.py reports once its port is bound."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            match = re.search(r"serving on (http://\S+)", self.log())
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                raise AssertionError(f"serve.py exited {self.process.returncode}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"serve.py did not bind a port:\n{self.log()}")

    def wait_until_answering(self):
        """Wait until a worker answers /healthz (workers build the app after the bind)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            try:
                if call("GET", self.url + "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise AssertionError(f"serve.py exited {self.process.returncode}:\n{self.log()}")
            time.sleep(0.1)
        raise AssertionError(f"serve.py never answered:\n{self.log()}")

    def workers(self):
        """The pids of the supervisor's live worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except FileNotFoundError:
            return []

    def stop(self):
        """SIGTERM the whole group, SIGKILL what is left after a grace period."""
        if self.process is None:
            return
        for signum, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                break
            try:
                self.process.wait(grace)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # a worker may outlive the supervisor for a moment
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class NginxProxy:
    """nginx with deploy/nginx.conf as shipped, but for the addresses: it listens
    on free local ports, proxies to `upstreams` ("127.0.0.1:PORT") and serves
    a self-signed certificate made in `folder`."""

    def __init__(self, folder, upstreams):
        self.folder, self.upstreams = Path(folder), upstreams
        self.process = None
        self.url = None

    def __enter__(self):
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        https_port, http_port = free_port(), free_port()
        self.write_config(http_port, https_port)
        self.process = subprocess.Popen(
            [binary, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=(self.folder / "nginx.log").open("ab"),
            start_new_session=True,
        )
        self.url = f"https://127.0.0.1:{https_port}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("nginx exited:\n" + (self.folder / "nginx.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx never listened")

    def __exit__(self, *exc_info):
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(15)

    def write_config(self, http_port, https_port):
        """deploy/nginx.conf with local ports, these upstreams and a test certificate."""
        certificate, key = self.folder / "fullchain.pem", self.folder / "privkey.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=atm.example.org", "-keyout", str(key), "-out", str(certificate)],
                       check=True, capture_output=True)
        site = (PROJECT_DIR / "deploy" / "nginx.conf").read_text()
        shipped_upstreams = re.findall(r"^[ \t]*server 10\.0\.0\.\d+:8000 .*$", site, re.MULTILINE)
        assert len(shipped_upstreams) == 2, "deploy/nginx.conf changed shape: update this helper"
        site = site.replace(shipped_upstreams[0], "\n".join(
            f"    server {address} max_fails=3 fail_timeout=10s;" for address in self.upstreams))
        site = site.replace(shipped_upstreams[1], "")
        for shipped, local in (("listen 80;", f"listen 127.0.0.1:{http_port};"),
                               ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
                               ("/etc/ssl/atm/fullchain.pem", str(certificate)),
                               ("/etc/ssl/atm/privkey.pem", str(key))):
            assert shipped in site, f"deploy/nginx.conf has no {shipped!r}: update this helper"
            site = site.replace(shipped, local)
        (self.folder / "site.conf").write_text(site)
        # What /etc/nginx/nginx.conf gives a conf.d file, minus the system paths.
        (self.folder / "nginx.conf").write_text(
            f"pid {self.folder}/nginx.pid;\nerror_log {self.folder}/nginx.log;\n"
            "events {}\n"
            f"http {{\n  access_log off;\n  include {self.folder}/site.conf;\n}}\n"
        )


def free_port():
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The proxy's self-signed certificate: encrypted, not verified.
# The proxy's certificate is self-signed, made by the test.
UNVERIFIED_TLS = ssl.create_default_context()
UNVERIFIED_TLS.check_hostname = False
UNVERIFIED_TLS.verify_mode = ssl.CERT_NONE


def call(method, url, body=None, headers=None):
    """(status, JSON body or None, headers) of one HTTP request; no exception for 4xx/5xx."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    context = UNVERIFIED_TLS if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            status, raw, response_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, raw, response_headers = error.code, error.read(), error.headers
    try:
        return status, json.loads(raw) if raw else None, response_headers
    except ValueError:
        return status, None, response_headers


def bearer(token):
    """The Authorization header of a bearer token."""
    return {"Authorization": f"Bearer {token}"}
