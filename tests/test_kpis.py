"""GET /api/reports/kpis/: every figure against tickets whose times the test
sets (SQL UPDATEs as setup), the range rules, and who may ask for what.
Runs on SQLite and on PostgreSQL."""
from datetime import datetime, timedelta, timezone

import pytest

from atm_app.extensions import db as _db
from atm_app.models import Ticket

pytestmark = pytest.mark.postgres_too

RESPONSE_MINUTES = {"critical": 60, "high": 240, "normal": 480, "low": 1440}
RESTORE_MINUTES = {"critical": 240, "high": 480, "normal": 1440, "low": 4320}
KPI_KEYS = {"from", "to", "city", "atms", "tickets_opened", "tickets_resolved", "mtta_minutes",
            "mttr_minutes", "sla_response_met_pct", "sla_restore_met_pct", "first_time_fix_pct",
            "availability_pct", "backlog", "by_technician"}
NO_BACKLOG = {"open": 0, "assigned": 0, "in_progress": 0, "on_hold": 0}
RANGE = "from=2025-03-01&to=2025-03-10"  # ten days: 14,400 minutes


def march(day, hour=0, minute=0):
    return datetime(2025, 3, day, hour, minute)


def place(ticket, created, started=None, resolved=None, closed=None):
    """Set a ticket's times (and due times from its priority), as if it happened then."""
    priority = ticket["priority"]
    values = {"created_at": created,
              "response_due_at": created + timedelta(minutes=RESPONSE_MINUTES[priority]),
              "restore_due_at": created + timedelta(minutes=RESTORE_MINUTES[priority])}
    for column, value in (("started_at", started), ("resolved_at", resolved),
                          ("closed_at", closed)):
        if value is not None:
            values[column] = value
    _db.session.execute(_db.update(Ticket).where(Ticket.id == ticket["id"]).values(**values))
    _db.session.commit()


def kpis(fleet, who, query="", status=200):
    response = fleet.client.get(f"/api/reports/kpis/?{query}", headers=fleet.headers(who))
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.fixture
def history(fleet):
    """Work in March 2025 (times in comments are 2025-03 days, UTC); see each figure below."""
    lag4 = fleet.create_atm(terminal_id="LAG-004", city="Lagos", address="1 Old Road")["id"]
    # A: LAG-001 critical fault, down; created 2 00:00, started 00:30 (response met),
    #    resolved 06:01 (restore due 04:00: missed). ltech2.
    a = fleet.ticket_in("resolved", "LAG-001", "ltech2", priority="critical",
                        out_of_service=True)
    place(a, march(2), march(2, 0, 30), march(2, 6, 1))
    # B: LAG-001 fault, down, overlapping A; created 2 03:00, started 03:10, resolved
    #    09:00 after one reopen (both met). ltech2.
    b = fleet.ticket_in("resolved", "LAG-001", "ltech2", out_of_service=True)
    fleet.step("host", b["id"], "reopen", {"reason": "Down again"})
    fleet.step("ltech2", b["id"], "start")
    fleet.step("host", b["id"], "resolve", {"resolution": "Replaced the board"})
    place(b, march(2, 3), march(2, 3, 10), march(2, 9))
    # C: LAG-002 preventive; created 3 00:00, started 10:00 (due 08:00: missed),
    #    resolved 12:00 (met). ltech1.
    c = fleet.ticket_in("resolved", "LAG-002", "ltech1", kind="preventive")
    place(c, march(3), march(3, 10), march(3, 12))
    # D: LAG-003 high fault, not down, still open; created 5 00:00.
    d = fleet.ticket_in("open", "LAG-003", priority="high")
    place(d, march(5))
    # E: LAG-002 low fault, down, still in progress; created 9 00:00, started 01:00 (met).
    e = fleet.ticket_in("in_progress", "LAG-002", "ltech1", priority="low",
                        out_of_service=True)
    place(e, march(9), march(9, 1))
    # F: LAG-003 fault, down since Feb 20, resolved 1 06:00 (restore missed). ltech2.
    f = fleet.ticket_in("resolved", "LAG-003", "ltech2", out_of_service=True)
    place(f, datetime(2025, 2, 20), datetime(2025, 2, 20, 1), march(1, 6))
    # G: LAG-003 fault, down, cancelled: created 6 00:00, cancelled 02:00.
    g = fleet.ticket_in("cancelled", "LAG-003", out_of_service=True)
    place(g, march(6), closed=march(6, 2))
    # LAG-004: down all month, but decommissioned: no ATM, no downtime.
    old = fleet.raise_ticket("host", lag4, out_of_service=True)
    old = fleet.drive(old["id"], "resolved", "ltech1")
    place(old, datetime(2025, 2, 25), datetime(2025, 2, 25, 1), march(15))
    response = fleet.client.patch(f"/api/atms/{lag4}/", headers=fleet.headers("host"),
                                  json={"is_active": False})
    assert response.status_code == 200
    # K: KAN-001 fault, down; created 4 00:00, started 00:20, resolved 02:01. ktech.
    k = fleet.ticket_in("resolved", "KAN-001", "ktech", out_of_service=True)
    place(k, march(4), march(4, 0, 20), march(4, 2, 1))


def test_a_supervisor_gets_every_figure_of_its_city(fleet, history):
    assert kpis(fleet, "lsup", RANGE) == {
        "from": "2025-03-01", "to": "2025-03-10", "city": "Lagos",
        "atms": 3,                       # LAG-001..003; LAG-004 is decommissioned
        "tickets_opened": 6,             # A B C D E G
        "tickets_resolved": 4,           # A B C F
        "mtta_minutes": 175.0,           # (30 + 10 + 600 + 60) / 4
        "mttr_minutes": 4680.3,          # faults A B F: (361 + 360 + 13320) / 3
        "sla_response_met_pct": 75.0,    # A B E of A B C E
        "sla_restore_met_pct": 50.0,     # B C of A B C F
        "first_time_fix_pct": 66.7,      # A F of faults A B F (B was reopened)
        # Down: LAG-001 A+B merged 00:00-09:00 = 540; LAG-002 E from 9th to the end
        # = 2880; LAG-003 F 360 + G 120. 100 * (1 - 3900 / (3 * 14400)).
        "availability_pct": 91.0,
        "backlog": {"open": 1, "assigned": 0, "in_progress": 1, "on_hold": 0},
        "by_technician": [
            {"id": fleet.users["ltech1"], "username": "ltech1", "resolved": 1,
             "mttr_minutes": None},       # C only, preventive
            {"id": fleet.users["ltech2"], "username": "ltech2", "resolved": 3,
             "mttr_minutes": 4680.3},
        ],
    }


def test_the_host_gets_the_figures_of_all_cities(fleet, history):
    assert kpis(fleet, "host", RANGE) == {
        "from": "2025-03-01", "to": "2025-03-10", "city": None,
        "atms": 5,
        "tickets_opened": 7,
        "tickets_resolved": 5,
        "mtta_minutes": 144.0,           # (700 + 20) / 5
        "mttr_minutes": 3540.5,          # (14041 + 121) / 4
        "sla_response_met_pct": 80.0,
        "sla_restore_met_pct": 60.0,
        "first_time_fix_pct": 75.0,
        "availability_pct": 94.4,        # 100 * (1 - 4021 / (5 * 14400))
        "backlog": {"open": 1, "assigned": 0, "in_progress": 1, "on_hold": 0},
        "by_technician": [
            {"id": fleet.users["ktech"], "username": "ktech", "resolved": 1,
             "mttr_minutes": 121.0},
            {"id": fleet.users["ltech1"], "username": "ltech1", "resolved": 1,
             "mttr_minutes": None},
            {"id": fleet.users["ltech2"], "username": "ltech2", "resolved": 3,
             "mttr_minutes": 4680.3},
        ],
    }


def test_the_host_asks_for_one_city_in_any_case(fleet, history):
    kano = {
        "from": "2025-03-01", "to": "2025-03-10", "city": "Kano", "atms": 2,
        "tickets_opened": 1, "tickets_resolved": 1, "mtta_minutes": 20.0,
        "mttr_minutes": 121.0, "sla_response_met_pct": 100.0, "sla_restore_met_pct": 100.0,
        "first_time_fix_pct": 100.0,
        "availability_pct": 99.6,        # 100 * (1 - 121 / (2 * 14400))
        "backlog": NO_BACKLOG,
        "by_technician": [{"id": fleet.users["ktech"], "username": "ktech", "resolved": 1,
                           "mttr_minutes": 121.0}],
    }
    assert kpis(fleet, "host", RANGE + "&city=Kano") == kano
    assert kpis(fleet, "ksup", RANGE) == kano
    other_case = kpis(fleet, "host", RANGE + "&city=%20kANO%20")
    assert {**other_case, "city": "Kano"} == kano
    assert other_case["city"].strip().casefold() == "kano"


def test_a_period_without_work_has_null_means_and_full_availability(fleet):
    assert kpis(fleet, "lsup", RANGE) == {
        "from": "2025-03-01", "to": "2025-03-10", "city": "Lagos", "atms": 3,
        "tickets_opened": 0, "tickets_resolved": 0, "mtta_minutes": None,
        "mttr_minutes": None, "sla_response_met_pct": None, "sla_restore_met_pct": None,
        "first_time_fix_pct": None, "availability_pct": 100.0, "backlog": NO_BACKLOG,
        "by_technician": [],
    }


def test_availability_is_null_without_an_active_atm(fleet):
    body = kpis(fleet, "host", RANGE + "&city=Ibadan")
    assert (body["city"], body["atms"], body["availability_pct"], body["tickets_opened"]) == (
        "Ibadan", 0, None, 0)
    assert set(body) == KPI_KEYS


def test_backlog_counts_unresolved_tickets_now_by_status(fleet):
    for status, count in (("open", 1), ("assigned", 2), ("in_progress", 3), ("on_hold", 4),
                          ("resolved", 1), ("closed", 1), ("cancelled", 1)):
        for _ in range(count):
            fleet.ticket_in(status, "LAG-002")
    fleet.ticket_in("open", "KAN-001")
    figures = kpis(fleet, "lsup", RANGE)
    assert figures["backlog"] == {"open": 1, "assigned": 2, "in_progress": 3, "on_hold": 4}
    assert kpis(fleet, "host", RANGE)["backlog"] == {"open": 2, "assigned": 2,
                                                     "in_progress": 3, "on_hold": 4}


def test_the_range_holds_both_days_whole_and_nothing_outside(fleet):
    for created in (datetime(2025, 2, 28, 23, 59, 59), march(1), march(10, 23, 59),
                    march(11)):
        place(fleet.raise_ticket("host", fleet.atms["LAG-001"]), created)
    assert kpis(fleet, "lsup", RANGE)["tickets_opened"] == 2


def test_the_default_range_is_the_last_30_days_up_to_today(fleet):
    today = datetime.now(timezone.utc).date()
    first = datetime.combine(today - timedelta(days=29), datetime.min.time())
    fleet.raise_ticket("host", fleet.atms["LAG-001"])                        # today: in
    place(fleet.raise_ticket("host", fleet.atms["LAG-002"]), first + timedelta(seconds=30))
    place(fleet.raise_ticket("host", fleet.atms["LAG-003"]), first - timedelta(seconds=30))
    figures = kpis(fleet, "lsup")
    assert (figures["from"], figures["to"], figures["tickets_opened"]) == (
        (today - timedelta(days=29)).isoformat(), today.isoformat(), 2)
    only_to = kpis(fleet, "lsup", "to=2025-03-10")
    assert (only_to["from"], only_to["to"]) == ("2025-02-09", "2025-03-10")
    since = (today - timedelta(days=5)).isoformat()
    only_from = kpis(fleet, "lsup", f"from={since}")
    assert (only_from["from"], only_from["to"], only_from["tickets_opened"]) == (
        since, today.isoformat(), 1)


def test_a_range_reaching_today_ends_now(fleet):
    today = datetime.now(timezone.utc).date()
    midnight = datetime.combine(today, datetime.min.time())
    ticket = fleet.raise_ticket("host", fleet.atms["LAG-001"], out_of_service=True)
    place(ticket, midnight)
    figures = kpis(fleet, "lsup", f"from={today}&to={today}")
    # One ATM of three down for the whole range so far.
    assert figures["availability_pct"] == 66.7


RANGES = {  # query: accepted
    "from=2024-01-01&to=2024-12-31": True,     # 366 days
    "from=2024-01-01&to=2025-01-01": False,    # 367 days
    "from=2025-03-10&to=2025-03-10": True,
    "from=2025-03-10&to=2025-03-09": False,
}


def test_a_range_runs_forwards_over_at_most_366_days(fleet):
    found = {}
    for query in RANGES:
        response = fleet.client.get(f"/api/reports/kpis/?{query}", headers=fleet.headers("host"))
        body = response.get_json()
        found[query] = (response.status_code, set(body) == KPI_KEYS if response.status_code == 200
                        else bool(body["errors"]) and set(body["errors"]) <= {
                            "from", "to", "non_field_errors"})
    assert found == {query: (200 if ok else 400, True) for query, ok in RANGES.items()}


UNREADABLE = {"from=2025-02-30&to=2025-03-10": "from", "from=yesterday": "from",
              "from=2025/03/01&to=2025-03-10": "from", "from=2025-03-01&to=2025-13-01": "to",
              "to=soon": "to"}


def test_an_unreadable_date_is_400_naming_it(fleet):
    found = {}
    for query in UNREADABLE:
        response = fleet.client.get(f"/api/reports/kpis/?{query}", headers=fleet.headers("host"))
        found[query] = (response.status_code, list(response.get_json().get("errors", {})))
    assert found == {query: (400, [field]) for query, field in UNREADABLE.items()}


def test_technicians_and_supervisors_of_other_cities_get_403(fleet):
    cases = {("ltech1", ""): 403, ("ktech", "city=Kano"): 403, ("lsup", "city=Kano"): 403,
             ("ksup", "city=Lagos"): 403, ("lsup", "city=lagos"): 200,
             ("lsup", "city=%20LAGOS"): 200}
    found = {}
    for who, query in cases:
        response = fleet.client.get(f"/api/reports/kpis/?{query}", headers=fleet.headers(who))
        body = response.get_json()
        found[who, query] = (response.status_code, body["city"].strip().casefold()
                             if response.status_code == 200 else sorted(body))
    assert found == {case: (status, "lagos" if status == 200 else ["detail"])
                     for case, status in cases.items()}


def test_the_figures_need_a_token(client):
    response = client.get("/api/reports/kpis/")
    assert response.status_code == 401
