"""GET /api/tickets/export.csv: the list's filters and visibility, every page,
a header row, and cells a spreadsheet would run written as text."""
import csv
import io
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from atm_app.extensions import db as _db
from atm_app.models import Ticket

HEADER = ["id", "terminal_id", "city", "address", "kind", "priority", "status", "title",
          "assignee", "reported_by", "created_at", "response_due_at", "restore_due_at",
          "started_at", "resolved_at", "closed_at", "overdue", "reopen_count"]


def export(fleet, who, query=""):
    """The export's data rows as dicts (the header checked)."""
    response = fleet.client.get(f"/api/tickets/export.csv?{query}", headers=fleet.headers(who))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))
    assert rows[0] == HEADER
    assert all(len(row) == len(HEADER) for row in rows)
    return [dict(zip(HEADER, row)) for row in rows[1:]]


def listed(fleet, who, query=""):
    """Every ticket of the list, page after page, in order."""
    tickets, cursor = [], None
    while True:
        suffix = f"&cursor={quote(cursor)}" if cursor else ""
        body = fleet.client.get(f"/api/tickets/?limit=200&{query}{suffix}",
                                headers=fleet.headers(who)).get_json()
        tickets += body["tickets"]
        cursor = body["next"]
        if cursor is None:
            return tickets


def ids(rows):
    return [int(row["id"]) for row in rows]


def test_the_export_holds_every_row_of_every_page_in_list_order(fleet):
    terminals = ["LAG-001", "LAG-002", "KAN-001", "KAN-002", "LAG-003"]
    for n in range(205):
        fleet.raise_ticket("host", fleet.atms[terminals[n % 5]], title=f"Ticket {n}")
    rows = export(fleet, "host")
    assert len(rows) == 205
    assert ids(rows) == [ticket["id"] for ticket in listed(fleet, "host")]
    due = export(fleet, "host", "sort=due")
    assert ids(due) == [ticket["id"] for ticket in listed(fleet, "host", "sort=due")]


def test_each_row_carries_the_tickets_fields(fleet):
    done = fleet.ticket_in("resolved", "LAG-001", title="Card reader jammed", priority="high")
    late = fleet.ticket_in("open", "KAN-001", title="Printer out of paper", kind="preventive")
    _db.session.execute(_db.update(Ticket).where(Ticket.id == late["id"]).values(
        restore_due_at=datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1)))
    _db.session.commit()
    late = fleet.get_ticket(late["id"])
    rows = {int(row["id"]): row for row in export(fleet, "host")}
    expected_done = {
        "id": str(done["id"]), "terminal_id": "LAG-001", "city": "Lagos",
        "address": "12 Marina Road", "kind": "fault", "priority": "high", "status": "resolved",
        "title": "Card reader jammed", "assignee": "ltech1", "reported_by": "host",
        "created_at": done["created_at"], "response_due_at": done["response_due_at"],
        "restore_due_at": done["restore_due_at"], "started_at": done["started_at"],
        "resolved_at": done["resolved_at"], "closed_at": "", "reopen_count": "0",
    }
    expected_late = {
        "id": str(late["id"]), "terminal_id": "KAN-001", "city": "Kano",
        "address": "3 Zoo Road", "kind": "preventive", "priority": "normal",
        "status": "open", "title": "Printer out of paper", "assignee": "",
        "reported_by": "host", "created_at": late["created_at"],
        "response_due_at": late["response_due_at"], "restore_due_at": late["restore_due_at"],
        "started_at": "", "resolved_at": "", "closed_at": "", "reopen_count": "0",
    }
    assert {k: v for k, v in rows[done["id"]].items() if k != "overdue"} == expected_done
    assert {k: v for k, v in rows[late["id"]].items() if k != "overdue"} == expected_late
    assert late["overdue"] is True and done["overdue"] is False
    assert {rows[late["id"]]["overdue"].lower(), rows[done["id"]]["overdue"].lower()} in (
        {"true", "false"}, {"1", "0"}, {"yes", "no"})
    assert rows[late["id"]]["overdue"].lower() in ("true", "1", "yes")


@pytest.fixture
def mixed(fleet):
    """A ticket in every status in Lagos (ltech1 assigned where assigned), a few in Kano."""
    made = [fleet.ticket_in(status, "LAG-002", priority=priority)
            for status, priority in (("open", "critical"), ("assigned", "high"),
                                     ("in_progress", "normal"), ("on_hold", "low"),
                                     ("resolved", "normal"), ("closed", "high"),
                                     ("cancelled", "normal"))]
    made += [fleet.ticket_in(status, "KAN-001") for status in ("open", "assigned")]
    made.append(fleet.ticket_in("resolved", "LAG-003", technician="ltech2", title="Other tech"))
    return made


FILTERS = ["status=open", "status=assigned,in_progress,on_hold", "priority=critical,high",
           "kind=fault", "city=Kano", "q=Other", "overdue=false", "sort=due",
           "status=resolved&sort=due", "assignee_id=ASSIGNEE", "atm_id=ATM"]


def test_the_export_takes_the_lists_filters(fleet, mixed):
    found, expected = {}, {}
    for query in FILTERS:
        query = query.replace("ASSIGNEE", str(fleet.users["ltech1"])).replace(
            "ATM", str(fleet.atms["LAG-002"]))
        expected[query] = [ticket["id"] for ticket in listed(fleet, "host", query)]
        assert expected[query], query  # every query here selects something
        found[query] = ids(export(fleet, "host", query))
    assert found == expected


def test_the_export_shows_what_the_list_shows_to_each_role(fleet, mixed, make_user):
    make_user("roamer", role="technician", city=None)
    roles = ("host", "lsup", "ltech1", "ltech2", "ksup", "ktech", "roamer")
    found = {who: ids(export(fleet, who)) for who in roles}
    assert found == {who: [ticket["id"] for ticket in listed(fleet, who)] for who in roles}
    assert found["roamer"] == [] and len(found["ltech2"]) == 2


def test_a_bad_export_query_is_a_json_400(fleet):
    for query, param in (("status=bogus", "status"), ("limit=0", "limit"),
                         ("overdue=perhaps", "overdue")):
        response = fleet.client.get(f"/api/tickets/export.csv?{query}",
                                    headers=fleet.headers("host"))
        assert response.status_code == 400, query
        assert list(response.get_json()["errors"]) == [param]


def test_the_export_needs_a_token(client):
    response = client.get("/api/tickets/export.csv")
    assert response.status_code == 401
    assert set(response.get_json()) == {"detail"}


def test_cells_a_spreadsheet_would_run_are_written_as_text(fleet, make_user):
    make_user("@eve", role="supervisor", city="Lagos")
    tech = make_user("-tech", role="technician", city="Lagos")
    atm = fleet.create_atm(terminal_id="LAG-777", city="Lagos", address="=HYPERLINK(\"x\")")
    titles = ["=SUM(A1:A9)", "+2348012345678", "-3 cash cassettes", "@cmd|' /C calc'!A0",
              "Card reader jammed", "a=b+c", "Cash 2+2"]
    made = {fleet.raise_ticket("@eve", atm["id"], title=title)["id"]: title for title in titles}
    first = next(iter(made))
    fleet.step("lsup", first, "assign", {"assignee_id": tech.id})
    rows = {int(row["id"]): row for row in export(fleet, "host")}
    cells = {made[ticket_id]: rows[ticket_id]["title"] for ticket_id in made}
    assert cells == {
        "=SUM(A1:A9)": "'=SUM(A1:A9)", "+2348012345678": "'+2348012345678",
        "-3 cash cassettes": "'-3 cash cassettes", "@cmd|' /C calc'!A0": "'@cmd|' /C calc'!A0",
        "Card reader jammed": "Card reader jammed", "a=b+c": "a=b+c", "Cash 2+2": "Cash 2+2",
    }
    assert {rows[ticket_id]["reported_by"] for ticket_id in made} == {"'@eve"}
    assert {rows[ticket_id]["address"] for ticket_id in made} == {"'=HYPERLINK(\"x\")"}
    assert rows[first]["assignee"] == "'-tech"
