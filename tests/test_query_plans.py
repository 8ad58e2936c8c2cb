"""The plans behind the lists and the figures: an index in use, never a full scan
of the tickets table.

Each request below goes through the API as a real caller; every statement it
sends that reads `tickets` is captured and explained by the database itself.
SQLite must SEARCH or SCAN through an index; PostgreSQL, with sequential scans
priced out (`enable_seqscan = off`, so a tiny test table cannot hide a missing
index), must show no `Seq Scan on tickets`. The same on both databases.
"""
import re

import pytest
from sqlalchemy import event

from atm_app.extensions import db as _db

pytestmark = pytest.mark.postgres_too

UNRESOLVED = "open,assigned,in_progress,on_hold"
# (who asks, what): every list filter and sort, the dashboards' lists, the figures.
REQUESTS = [
    ("lsup", f"/api/tickets/?status={UNRESOLVED}&sort=due&limit=50"),
    ("lsup", "/api/tickets/?sort=due&limit=50"),
    ("lsup", "/api/tickets/?sort=created&limit=50"),
    ("lsup", "/api/tickets/?priority=critical,high"),
    ("lsup", "/api/tickets/?kind=preventive"),
    ("lsup", "/api/tickets/?overdue=true&sort=due"),
    ("lsup", "/api/tickets/?q=card"),
    ("ltech1", "/api/tickets/?sort=due"),
    ("ltech1", f"/api/tickets/?status=assigned,in_progress,on_hold&sort=due"),
    ("host", "/api/tickets/?limit=50"),
    ("host", "/api/tickets/?sort=due"),
    ("host", "/api/tickets/?status=open"),
    ("host", "/api/tickets/?city=lagos&sort=due"),
    ("host", "/api/tickets/?atm_id={atm}"),
    ("host", "/api/tickets/?assignee_id={technician}&status=assigned,in_progress"),
    ("host", "/api/tickets/?overdue=false"),
    ("host", "/api/atms/?down=true"),
    ("lsup", "/api/atms/?down=false"),
    ("lsup", "/api/atms/{atm}/"),
    ("lsup", "/api/reports/kpis/"),
    ("host", "/api/reports/kpis/"),
    ("host", "/api/reports/kpis/?city=Lagos"),
]


@pytest.fixture
def some_work(fleet):
    """A few tickets in every state, so every query has rows to plan for."""
    for status in ("open", "assigned", "in_progress", "on_hold", "resolved", "closed"):
        fleet.ticket_in(status, out_of_service=True)
    fleet.ticket_in("assigned", terminal="KAN-001")
    return fleet


def statements_reading_tickets(fleet, who, path):
    """(statement, parameters) of each SELECT from `tickets` that a request sends."""
    seen = []

    def capture(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) \
                and re.search(r"\btickets\b", statement):
            seen.append((statement, parameters))

    event.listen(_db.engine, "before_cursor_execute", capture)
    try:
        response = fleet.client.get(path, headers=fleet.headers(who))
    finally:
        event.remove(_db.engine, "before_cursor_execute", capture)
    assert response.status_code == 200, response.get_json()
    return seen


def plan(statement, parameters):
    """The database's plan of one statement, as text lines."""
    connection = _db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        if _db.engine.dialect.name == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            return [row[-1] for row in cursor.fetchall()]
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN " + statement, parameters)
        return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


def full_scans_of_tickets(lines):
    """The plan lines that read the whole tickets table without an index."""
    return [line for line in lines
            if re.match(r"\s*SCAN tickets\b(?!.*USING (COVERING )?INDEX)", line)
            or re.search(r"Seq Scan on tickets\b", line)]


@pytest.mark.parametrize(("who", "path"), REQUESTS, ids=[f"{who} {path}" for who, path in REQUESTS])
def test_lists_and_figures_read_tickets_through_an_index(some_work, who, path):
    path = path.format(atm=some_work.atms["LAG-001"], technician=some_work.users["ltech1"])
    statements = statements_reading_tickets(some_work, who, path)
    assert statements, "the request read no tickets"
    for statement, parameters in statements:
        lines = plan(statement, parameters)
        assert full_scans_of_tickets(lines) == [], "\n".join([statement, *lines])


def test_a_citys_unresolved_list_reads_only_the_unresolved_tickets(some_work):
    """The supervisor's everyday list goes through the index of unresolved tickets
    (migration 0005), whatever order the statuses are named in, instead of
    walking the city's whole history in due order."""
    path = "/api/tickets/?status=on_hold,open,in_progress,assigned&sort=due&limit=50"
    statements = statements_reading_tickets(some_work, "lsup", path)
    assert len(statements) == 1
    lines = plan(*statements[0])
    assert any("ix_tickets_city_unresolved_due" in line for line in lines), "\n".join(lines)
