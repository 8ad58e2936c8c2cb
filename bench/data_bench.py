"""`make bench-data`: how the cost of each page and call grows with the data.

Builds (bench/make_data.py) a small and a large database on SQLite and on
PostgreSQL, serves each with serve.py in production configuration, drives it
with wrk through the shared kit's loadbench (../shared/bench/loadbench, loaded
as a module: its runs, sampling and columns) at 50 and 300 connections, checks
the database after the transition runs, and prints one table and a last line
`targets met` or `targets missed: <which>`.

    .venv/bin/python bench/data_bench.py [--sizes small large] [--databases sqlite postgresql]
                                         [--duration 10] [--reuse] [--scenarios ...]

The scenarios (docs/performance.md has the why of each):
  me, refresh        the sign-in references of the same run
  tickets-city       a supervisor's unresolved work: ?status=open,assigned,in_progress,on_hold&sort=due&limit=50
  tickets-deep       the supervisor's whole list (sort=due, 50 a page) at its 20th page:
                     the unresolved list of a city is shorter than 20 pages
  tickets-all        a host's ?limit=50
  queue-page, board-page   the technician's and the supervisor's dashboards (cookies)
  kpi-city, kpi-all  a supervisor's and a host's GET /api/reports/kpis/
  transitions        each connection drives a ticket of its own: start, resolve, reopen, assign
  transitions-contended    every connection on the same ten tickets (409 expected)
"""
import argparse
import contextlib
import importlib.machinery
import importlib.util
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import sqlalchemy as sa

PROJECT = Path(__file__).resolve().parent.parent
KIT = PROJECT.parent / "shared" / "bench"
OUT = PROJECT / "bench" / "out"
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
LEVELS = (50, 300)
CONTENDED_TICKETS = 10
KPI_SAMPLES = 7
# Long enough for the kpi-all calls still queued when wrk stops at 300
# connections to finish before the next cell (or its sign-in) starts.
DRAIN_S = 600
UNRESOLVED = "status=open,assigned,in_progress,on_hold"
READS = ("tickets-city", "tickets-deep", "tickets-all", "queue-page", "board-page",
         "kpi-city", "kpi-all")
SCENARIOS = ("me",) + READS + ("refresh", "transitions")


def load_kit():
    """The shared kit's loadbench script, as a module."""
    loader = importlib.machinery.SourceFileLoader("loadbench", str(KIT / "loadbench"))
    spec = importlib.util.spec_from_loader("loadbench", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


lb = load_kit()
sys.path.insert(0, str(PROJECT / "bench"))
import make_data  # noqa: E402

PASSWORD = make_data.bench_password()
SUPERVISOR, TECHNICIAN, HOST = "sup-0001", "tech-0001-1", "bench-host"


def database_url(kind, size):
    """Where the bench database of this kind and size lives."""
    if kind == "sqlite":
        return f"sqlite:///{OUT / f'data-{size}.sqlite3'}"
    return f"{POSTGRES}/atm_bench_{size}"


def build(kind, size, reuse):
    """A fresh bench database (or the existing one with --reuse); its URL."""
    url = database_url(kind, size)
    if kind == "sqlite":
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"data-{size}.sqlite3"
        if reuse and path.exists():
            return url
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.exec_driver_sql(
                f"SELECT 1 FROM pg_database WHERE datname = 'atm_bench_{size}'").first()
            if reuse and exists:
                admin.dispose()
                return url
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "atm_bench_{size}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "atm_bench_{size}"')
        admin.dispose()
    make_data.build(url, make_data.SIZES[size])
    return url


class Server:
    """serve.py in production configuration on a free port, as `make bench` serves it."""

    def __init__(self, url, log_path):
        self.url, self.log_path = url, log_path

    def __enter__(self):
        self.port = lb_port()
        env = {**os.environ, "ATM_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
               "JWT_SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": self.url}
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "serve.py", "--port", str(self.port)], cwd=PROJECT, env=env,
            stdout=self.log, stderr=self.log, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if lb.fetch(self.base, "GET", "/healthz", timeout=5)[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"serve.py did not answer; see {self.log_path}")

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)
        self.log.close()


def lb_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(base, method, path, token, body=None):
    """(status, JSON) of one API call."""
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    status, _, data = lb.fetch(base, method, path, json.dumps(body) if body is not None else None,
                               headers)
    return status, json.loads(data) if data else None


class Run:
    """Everything a run of one database needs: tokens, cookies, a cursor, tickets."""

    def __init__(self, base):
        self.base = base
        self.tokens = {name: lb.login_api(base, "/api/auth/login/", name, PASSWORD)
                       for name in (SUPERVISOR, TECHNICIAN, HOST)}
        self.technician_id = self.tokens[TECHNICIAN]["user"]["id"]

    def access(self, name):
        return self.tokens[name]["access"]

    def deep_path(self):
        """The supervisor's whole list at its 20th page (a cursor taken now)."""
        path = "/api/tickets/?sort=due&limit=50"
        for _ in range(19):
            _, body = api(self.base, "GET", path, self.access(SUPERVISOR))
            path = "/api/tickets/?sort=due&limit=50&cursor=" + urllib.parse.quote(body["next"])
        return path

    def page_cookie(self, name, page):
        paths = {"page_auth": "form", "page_login": "/login", "page": page}
        cookie, why = lb.page_cookie(self.base, name, PASSWORD, paths)
        if cookie is None:
            raise RuntimeError(why)
        return cookie

    def fresh_tickets(self, count):
        """`count` new tickets of city 1, assigned to the bench technician."""
        _, fleet = api(self.base, "GET", "/api/atms/?limit=40", self.access(SUPERVISOR))
        ids = []
        for number in range(count):
            atm = fleet["atms"][number % len(fleet["atms"])]
            status, ticket = api(self.base, "POST", "/api/tickets/", self.access(TECHNICIAN),
                                 {"atm_id": atm["id"], "title": f"Bench transitions {number}"})
            assert status == 201, ticket
            status, _ = api(self.base, "POST", f"/api/tickets/{ticket['id']}/assign/",
                            self.access(SUPERVISOR), {"assignee_id": self.technician_id})
            assert status == 200
            ids.append(ticket["id"])
        return ids


def scenario_runs(run):
    """{scenario: (script, extra env)} for the read scenarios and the references."""
    sup, host, tech = (run.access(name) for name in (SUPERVISOR, HOST, TECHNICIAN))
    return {
        "me": ("me", {"LB_PATH": "/api/auth/me/", "LB_TOKEN": tech}),
        "tickets-city": ("me", {"LB_PATH": f"/api/tickets/?{UNRESOLVED}&sort=due&limit=50",
                                "LB_TOKEN": sup}),
        "tickets-deep": ("me", {"LB_PATH": run.deep_path(), "LB_TOKEN": sup}),
        "tickets-all": ("me", {"LB_PATH": "/api/tickets/?limit=50", "LB_TOKEN": host}),
        "queue-page": ("page", {"LB_PATH": "/dashboard/technician",
                                "LB_COOKIE": run.page_cookie(TECHNICIAN, "/dashboard/technician")}),
        "board-page": ("page", {"LB_PATH": "/dashboard/supervisor",
                                "LB_COOKIE": run.page_cookie(SUPERVISOR, "/dashboard/supervisor")}),
        "kpi-city": ("me", {"LB_PATH": "/api/reports/kpis/", "LB_TOKEN": sup}),
        "kpi-all": ("me", {"LB_PATH": "/api/reports/kpis/", "LB_TOKEN": host}),
    }


def drain(servers):
    """Wait until every server has answered the requests still queued from the last
    cell: one still busy with them would take CPU from the one measured next."""
    for server in servers:
        lb.drain(server.process.pid, DRAIN_S)


def measure(server, everyone, label, scenario, script, level, extra, duration):
    """One wrk run through the kit, once `everyone` served is idle; its row."""
    threads = os.cpu_count() or 2
    drain(everyone)
    row = lb.measure(server.process.pid, server.base + "/", script, level, duration, threads, 15,
                     extra, label)
    row["scenario"] = scenario
    return row


def refresh_row(server, everyone, label, level, duration):
    """The kit's refresh scenario (each connection its own rotating chain)."""
    drain(everyone)  # its sign-ins must not queue behind the last cell
    scenarios = lb.Scenarios(server.base, TECHNICIAN, PASSWORD,
                             {"login": "/api/auth/login/", "refresh": "/api/auth/refresh/"},
                             min(os.cpu_count() or 2, level), str(OUT))
    scenarios.prepare("refresh")
    extra = scenarios.env("refresh", level)
    extra["LB_PATH"] = "/api/auth/refresh/"
    return measure(server, everyone, label, "refresh", "refresh", level, extra, duration)


def transition_rows(server, everyone, run, label, level, duration, url, started):
    """Both transition scenarios at `level`, each followed by the database check."""
    rows = []
    lua = str(PROJECT / "bench" / "lua" / "transitions")
    for scenario, count in (("transitions", level), ("transitions-contended", CONTENDED_TICKETS)):
        extra = {"LB_TICKETS": ",".join(map(str, run.fresh_tickets(count))),
                 "LB_TECH_TOKEN": run.access(TECHNICIAN), "LB_SUP_TOKEN": run.access(SUPERVISOR),
                 "LB_TECH_ID": str(run.technician_id),
                 "LB_CONTENDED": "1" if scenario.endswith("contended") else "0",
                 "LB_PATH": "/api/tickets/"}
        row = measure(server, everyone, label, scenario, lua, level, extra, duration)
        lb.drain(server.process.pid, DRAIN_S)  # the requests still queued when wrk stopped
        row["check"] = check_database(url, started)
        rows.append(row)
    return rows


def check_database(url, since):
    """What is wrong after the transitions (empty: nothing): every ticket's version is
    its changes plus one, its status the last change's, and every change since the
    run began has its audit row."""
    engine = sa.create_engine(url)
    problems = []
    with engine.connect() as connection:
        wrong_versions = connection.exec_driver_sql("""
            SELECT count(*) FROM tickets t WHERE t.version != 1 + (
              SELECT count(*) FROM ticket_events e
              WHERE e.ticket_id = t.id AND e.action NOT IN ('created', 'note'))""").scalar()
        if wrong_versions:
            problems.append(f"{wrong_versions} tickets whose version is not their changes + 1")
        wrong_status = connection.exec_driver_sql("""
            SELECT count(*) FROM tickets t WHERE t.status != COALESCE((
              SELECT e.to_status FROM ticket_events e
              WHERE e.ticket_id = t.id AND e.action NOT IN ('note', 'edit')
              ORDER BY e.id DESC LIMIT 1), 'open')""").scalar()
        if wrong_status:
            problems.append(f"{wrong_status} tickets whose status is not their last change's")
        changes, audited = connection.execute(sa.text(
            "SELECT (SELECT count(*) FROM ticket_events WHERE time >= :since "
            "        AND action NOT IN ('created', 'note')), "
            "       (SELECT count(*) FROM audit_events WHERE time >= :since "
            "        AND event LIKE 'ticket_%' AND event != 'ticket_created')"),
            {"since": since}).one()
        if changes != audited:
            problems.append(f"{changes} changes but {audited} audit rows")
    engine.dispose()
    return problems


def kpi_floor_ms(url):
    """The database's own time for the whole fleet's figures, as one plain SQL statement
    (median of KPI_SAMPLES): the floor `kpi-all` is held against."""
    engine = sa.create_engine(url)
    statement = sa.text(KPI_FLOOR_SQL[engine.dialect.name])
    times = []
    with engine.connect() as connection:
        for _ in range(KPI_SAMPLES):
            started = time.perf_counter()
            connection.execute(statement).all()
            times.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return statistics.median(times)


def kpi_call_ms(base, token):
    """The time of one kpi-all call with nothing else running (median of KPI_SAMPLES)."""
    times = []
    for _ in range(KPI_SAMPLES):
        started = time.perf_counter()
        status, _ = api(base, "GET", "/api/reports/kpis/", token)
        assert status == 200
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# The figures of every city over the last 30 days in one statement: the same
# aggregates kpis.py computes (opened, started, resolved with their sums, the
# backlog, per technician, downtime with overlapping outages merged).
KPI_FLOOR_TEMPLATE = """
WITH w AS (SELECT {start} AS s, {now} AS e),
opened AS (SELECT count(*) AS n FROM tickets, w WHERE created_at >= w.s AND created_at < w.e),
started AS (SELECT count(*) AS n, sum({started_wait}) AS wait,
                   sum(CASE WHEN started_at <= response_due_at THEN 1 ELSE 0 END) AS met
            FROM tickets, w WHERE started_at >= w.s AND started_at < w.e),
resolved AS (SELECT count(*) AS n,
                    sum(CASE WHEN resolved_at <= restore_due_at THEN 1 ELSE 0 END) AS met,
                    sum(CASE WHEN kind = 'fault' THEN 1 ELSE 0 END) AS faults,
                    sum(CASE WHEN kind = 'fault' THEN {restore} END) AS restore,
                    sum(CASE WHEN kind = 'fault' AND reopen_count = 0 THEN 1 ELSE 0 END) AS ftf
             FROM tickets, w WHERE resolved_at >= w.s AND resolved_at < w.e),
backlog AS (SELECT status, count(*) AS n FROM tickets
            WHERE status IN ('open', 'assigned', 'in_progress', 'on_hold') GROUP BY status),
per_tech AS (SELECT assignee_id, count(*) AS n FROM tickets, w
             WHERE resolved_at >= w.s AND resolved_at < w.e GROUP BY assignee_id),
outages AS (SELECT atm_id, {later}(created_at, w.s) AS b,
                   {earlier}(CASE WHEN status IN ('resolved', 'closed') THEN resolved_at
                                  WHEN status = 'cancelled' THEN closed_at ELSE w.e END, w.e) AS f
            FROM tickets, w WHERE kind = 'fault' AND out_of_service AND created_at < w.e
              AND CASE WHEN status IN ('resolved', 'closed') THEN resolved_at
                       WHEN status = 'cancelled' THEN closed_at ELSE w.e END > w.s),
reach AS (SELECT atm_id, b, f, max(f) OVER (PARTITION BY atm_id ORDER BY b, f
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS r FROM outages),
islands AS (SELECT atm_id, b, f, sum(CASE WHEN r IS NULL OR b > r THEN 1 ELSE 0 END)
                   OVER (PARTITION BY atm_id ORDER BY b, f ROWS UNBOUNDED PRECEDING) AS i FROM reach),
down AS (SELECT sum({island}) AS seconds FROM (SELECT atm_id, i, min(b) AS b, max(f) AS f
         FROM islands GROUP BY atm_id, i) x)
SELECT (SELECT n FROM opened), started.*, resolved.*, (SELECT seconds FROM down),
       (SELECT count(*) FROM per_tech), (SELECT count(*) FROM atms WHERE is_active),
       (SELECT sum(n) FROM backlog)
FROM started, resolved
"""
KPI_FLOOR_SQL = {
    "sqlite": KPI_FLOOR_TEMPLATE.format(
        start="strftime('%Y-%m-%d 00:00:00.000000', 'now', '-29 days')",
        now="strftime('%Y-%m-%d %H:%M:%f000', 'now')",
        started_wait="(julianday(started_at) - julianday(created_at)) * 86400",
        restore="(julianday(resolved_at) - julianday(created_at)) * 86400",
        later="max", earlier="min", island="(julianday(f) - julianday(b)) * 86400"),
    "postgresql": KPI_FLOOR_TEMPLATE.format(
        start="date_trunc('day', now() AT TIME ZONE 'utc') - interval '29 days'",
        now="(now() AT TIME ZONE 'utc')",
        started_wait="EXTRACT(EPOCH FROM started_at - created_at)",
        restore="EXTRACT(EPOCH FROM resolved_at - created_at)",
        later="GREATEST", earlier="LEAST", island="EXTRACT(EPOCH FROM f - b)"),
}


def bench_database(kind, sizes, duration, reuse, scenarios):
    """The scenarios on one database at each size; its rows and its kpi timings by label.

    Every size is served at once and each cell runs at every size before the
    next cell starts, so a change in the machine's speed during the run lands
    on both sides of a large-to-small ratio, not on one.
    """
    urls = {size: build(kind, size, reuse) for size in sizes}
    rows, timings = [], {}
    with contextlib.ExitStack() as stack:
        servers = {size: stack.enter_context(Server(urls[size], OUT / f"serve-{kind}-{size}.log"))
                   for size in sizes}
        everyone = list(servers.values())
        runs = {size: Run(server.base) for size, server in servers.items()}
        reads = {size: scenario_runs(run) for size, run in runs.items()}
        for level in LEVELS:
            for scenario in [name for name in ("me",) + READS if name in scenarios]:
                for size in sizes:
                    script, extra = reads[size][scenario]
                    rows.append(measure(servers[size], everyone, f"{kind}-{size}", scenario,
                                        script, level, extra, duration))
            if "refresh" in scenarios:
                rows.extend(refresh_row(servers[size], everyone, f"{kind}-{size}", level,
                                        duration)
                            for size in sizes)
            if "transitions" in scenarios:
                for size in sizes:
                    rows.extend(transition_rows(servers[size], everyone, runs[size],
                                                f"{kind}-{size}", level, duration, urls[size],
                                                utc_now()))
        for size in sizes:
            timings[f"{kind}-{size}"] = {} if "kpi-all" not in scenarios else {
                "kpi_call_ms": kpi_call_ms(servers[size].base, runs[size].access(HOST)),
                "kpi_floor_ms": kpi_floor_ms(urls[size])}
    return sorted(rows, key=lambda row: row["label"].endswith("large")), timings


def utc_now():
    """Now, as the database stores times (naive UTC)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)


# --- the table and the targets -----------------------------------------------------------

COLUMNS = ("database", "scenario", "c", "rps", "p50 ms", "p95 ms", "p99 ms", "errors", "non-2xx",
           "peak MB", "other %", "check")


def table(rows):
    """The results as one markdown table."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(str(value) for value in (
            row["label"], row["scenario"], row["concurrency"], row["rps"], row["p50_ms"],
            row["p95_ms"], row["p99_ms"], row["errors"], row["non_2xx"], row["server_rss_mb"],
            row["other_cpu_pct"], "; ".join(row.get("check", [])) or ("clean" if "check" in row
                                                                       else ""))) + " |")
    return "\n".join(lines)


def rps(rows, label, scenario, level):
    return next(row["rps"] for row in rows if row["label"] == label
                and row["scenario"] == scenario and row["concurrency"] == level)


def targets(rows, timings, kinds, sizes, scenarios):
    """Each target whose scenarios ran, as (met, sentence)."""
    found = []
    for kind in kinds:
        for level in LEVELS:
            if {"small", "large"} <= set(sizes):
                for scenario in READS:
                    if scenario == "kpi-all" or scenario not in scenarios:
                        continue
                    ratio = rps(rows, f"{kind}-large", scenario, level) / max(
                        rps(rows, f"{kind}-small", scenario, level), 0.1)
                    found.append((ratio >= 0.8, f"{kind} {scenario} c={level}: large "
                                                f"{ratio:.2f}x small (>= 0.8)"))
            for size in sizes:
                label = f"{kind}-{size}"
                if {"tickets-city", "me"} <= scenarios:
                    ratio = rps(rows, label, "tickets-city", level) / rps(rows, label, "me", level)
                    found.append((ratio >= 0.3, f"{label} tickets-city c={level}: {ratio:.2f}x "
                                                "me (>= 0.3)"))
                if {"transitions", "refresh"} <= scenarios:
                    ratio = (rps(rows, label, "transitions", level)
                             / rps(rows, label, "refresh", level))
                    found.append((ratio >= 0.5, f"{label} transitions c={level}: {ratio:.2f}x "
                                                "refresh (>= 0.5)"))
        for size in sizes:
            label = f"{kind}-{size}"
            mine = [row for row in rows if row["label"] == label]
            bad = [f"{row['scenario']} c={row['concurrency']}" for row in mine
                   if row["scenario"] in READS + ("me",) and row["errors"]]
            found.append((not bad, f"{label}: 0 errors in every read scenario"
                                   + (f" (not: {', '.join(bad)})" if bad else "")))
            moves = [row for row in mine if row["scenario"].startswith("transitions")]
            bad = [f"{row['scenario']} c={row['concurrency']}" for row in moves
                   if row["socket_errors"] or any(status.startswith("5")
                                                  for status in row["statuses"])
                   or row.get("check")]
            if "transitions" in scenarios:
                found.append((not bad, f"{label}: transitions without socket errors, 5xx or "
                                       "database problems"
                                       + (f" (not: {', '.join(bad)})" if bad else "")))
        if "large" in sizes and timings[f"{kind}-large"]:
            timing = timings[f"{kind}-large"]
            ratio = timing["kpi_call_ms"] / timing["kpi_floor_ms"]
            found.append((ratio <= 2, f"{kind}-large kpi-all: {timing['kpi_call_ms']:.0f} ms a "
                                      f"call, {ratio:.2f}x the plain SQL's "
                                      f"{timing['kpi_floor_ms']:.0f} ms (<= 2)"))
        if {"small", "large"} <= set(sizes) and scenarios == set(SCENARIOS):
            peak = {size: max(row["server_rss_mb"] for row in rows
                              if row["label"] == f"{kind}-{size}") for size in sizes}
            ratio = peak["large"] / peak["small"]
            found.append((ratio <= 1.2, f"{kind} peak memory: large {peak['large']:.0f} MB, "
                                        f"{ratio:.2f}x small (<= 1.2)"))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["small", "large"], choices=("small", "large"))
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=("sqlite", "postgresql"))
    parser.add_argument("--duration", type=int, default=10, help="seconds a cell")
    parser.add_argument("--reuse", action="store_true", help="keep databases built before")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS,
                        help="a part of the run (transitions: both transition scenarios)")
    options = parser.parse_args()
    scenarios = set(options.scenarios)
    lb.raise_nofile()
    OUT.mkdir(parents=True, exist_ok=True)
    rows, timings = [], {}
    for kind in options.databases:
        found, timing = bench_database(kind, options.sizes, options.duration, options.reuse,
                                       scenarios)
        rows.extend(found)
        timings.update(timing)
    print(table(rows))
    print()
    for label, timing in timings.items():
        if timing:
            print(f"{label}: kpi-all {timing['kpi_call_ms']:.0f} ms a call alone, the plain SQL "
                  f"{timing['kpi_floor_ms']:.0f} ms")
    print()
    results = targets(rows, timings, options.databases, options.sizes, scenarios)
    for met, sentence in results:
        print(f"- [{'met' if met else 'MISSED'}] {sentence}")
    missed = [sentence.split(":")[0] for met, sentence in results if not met]
    if scenarios != set(SCENARIOS) or set(options.sizes) != {"small", "large"} \
            or set(options.databases) != {"sqlite", "postgresql"}:
        print("(a part of the run: only the targets of what ran are judged)")
    print("targets met" if not missed else f"targets missed: {'; '.join(missed)}")
    (OUT / "data-bench.json").write_text(json.dumps({"rows": rows, "timings": timings}, indent=1))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
