"""Operator commands of the maintenance work: `import-atms`, `plan-preventive`,
`purge-tokens` (idempotency keys), and the audit of ATM and ticket changes."""
import json
from datetime import datetime, time, timedelta, timezone

import pytest

from atm_app.extensions import db as _db
from atm_app.models import Atm, IdempotencyKey, Ticket

HEADER = "terminal_id,city,address,model,pm_interval_days\n"
MAINTENANCE_EVENTS = {"atm_created", "atm_changed", "ticket_created", "ticket_changed",
                      "ticket_assigned", "ticket_started", "ticket_held", "ticket_resolved",
                      "ticket_closed", "ticket_reopened", "ticket_cancelled"}


def fleet_rows():
    """Every stored ATM as (terminal_id, city, address, model, pm_interval_days, is_active)."""
    _db.session.expire_all()
    return [(atm.terminal_id, atm.city, atm.address, atm.model, atm.pm_interval_days,
             atm.is_active)
            for atm in _db.session.execute(_db.select(Atm).order_by(Atm.terminal_key))
            .scalars()]


def import_csv(runner, tmp_path, text):
    path = tmp_path / "fleet.csv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["import-atms", str(path)])


def today():
    return datetime.now(timezone.utc).date()


def days_ago(days):
    """A stored time on the UTC day `days` ago (just after its midnight)."""
    return datetime.combine(today() - timedelta(days=days), time(0, 0, 1))


# --- import-atms ---------------------------------------------------------------------

def test_import_creates_atms_and_prints_the_counts(runner, tmp_path):
    result = import_csv(runner, tmp_path, HEADER + "LAG-001,Lagos,12 Marina Road,NCR 6622,30\n"
                                                   "KAN-001, Kano ,3 Zoo Road,,\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "2 created, 0 updated"
    assert fleet_rows() == [("KAN-001", "Kano", "3 Zoo Road", None, 90, True),
                            ("LAG-001", "Lagos", "12 Marina Road", "NCR 6622", 30, True)]


def test_import_updates_atms_by_terminal_id_in_any_case(runner, tmp_path):
    import_csv(runner, tmp_path, HEADER + "LAG-001,Lagos,12 Marina Road,NCR 6622,30\n")
    result = import_csv(runner, tmp_path, HEADER + "lag-001,Lagos,14 Marina Road,Hyosung,\n"
                                                   "LAG-002,Lagos,4 Broad Street,,45\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "1 created, 1 updated"
    assert fleet_rows() == [("LAG-001", "Lagos", "14 Marina Road", "Hyosung", 30, True),
                            ("LAG-002", "Lagos", "4 Broad Street", None, 45, True)]


def test_import_reads_standard_input_given_a_dash(runner):
    result = runner.invoke(args=["import-atms", "-"],
                           input=HEADER + "ABJ-001,Abuja,1 Unity Road,,60\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "1 created, 0 updated"
    assert fleet_rows() == [("ABJ-001", "Abuja", "1 Unity Road", None, 60, True)]


def test_import_takes_a_file_without_the_optional_columns(runner, tmp_path):
    result = import_csv(runner, tmp_path, "terminal_id,city,address\nABJ-001,Abuja,1 Unity Road\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "1 created, 0 updated"
    assert fleet_rows() == [("ABJ-001", "Abuja", "1 Unity Road", None, 90, True)]


def test_imported_atms_are_seen_through_the_api(runner, tmp_path, fleet):
    import_csv(runner, tmp_path, HEADER + "LAG-050,Lagos,5 Creek Road,,\n")
    response = fleet.client.get("/api/atms/?q=LAG-050", headers=fleet.headers("ltech1"))
    assert [atm["terminal_id"] for atm in response.get_json()["atms"]] == ["LAG-050"]


def test_a_bad_line_fails_the_whole_import_with_each_line_and_reason(runner, tmp_path):
    import_csv(runner, tmp_path, HEADER + "LAG-001,Lagos,12 Marina Road,NCR 6622,30\n")
    before = fleet_rows()
    result = import_csv(runner, tmp_path, HEADER + (
        "LAG-002,Lagos,4 Broad Street,,\n"          # 2: fine
        "KAN-001,,3 Zoo Road,,\n"                   # 3: no city
        "KAN-002,Kano,9 Bank Road,,abc\n"           # 4: interval not a number
        "bad id!,Kano,1 Road,,\n"                   # 5: terminal id
        "lag-002,Lagos,Elsewhere,,\n"               # 6: LAG-002 a second time
        "KAN-003,Kano,2 Road,,0\n"                  # 7: interval out of range
        "LAG-001,Lagos,New address,,\n"             # 8: a fine update
        "KAN-004,Kano,,,\n"                         # 9: no address
    ))
    assert result.exit_code == 1
    assert result.stdout.strip() == ""
    lines = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert "line 3: city: This field is required." in lines
    reported = {int(line.split(":")[0].split()[1]): line for line in lines}
    assert sorted(reported) == [3, 4, 5, 6, 7, 9]
    for number, field in ((4, "pm_interval_days"), (5, "terminal_id"), (6, "terminal_id"),
                          (7, "pm_interval_days"), (9, "address")):
        assert reported[number].startswith(f"line {number}: {field}: "), reported[number]
    assert fleet_rows() == before


def test_an_import_without_a_required_column_writes_nothing(runner, tmp_path):
    result = import_csv(runner, tmp_path, "terminal_id,address\nLAG-001,12 Marina Road\n")
    assert result.exit_code == 1
    assert result.stderr.strip()
    assert fleet_rows() == []


# --- plan-preventive ----------------------------------------------------------------------

def plan(runner, *args):
    result = runner.invoke(args=["plan-preventive", *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def set_created(atm_id, days):
    _db.session.execute(_db.update(Atm).where(Atm.id == atm_id).values(created_at=days_ago(days)))
    _db.session.commit()


def preventive_rows():
    _db.session.expire_all()
    return _db.session.execute(
        _db.select(Ticket.atm_id, Ticket.status, Ticket.priority, Ticket.assignee_id,
                   Ticket.out_of_service)
        .where(Ticket.kind == "preventive").order_by(Ticket.atm_id, Ticket.id)).all()


@pytest.fixture
def due_fleet(fleet):
    """ATMs whose preventive maintenance falls at known days (interval 90 unless said)."""
    extra = {terminal: fleet.create_atm(terminal_id=terminal, city="Lagos", address="Quay")["id"]
             for terminal in ("LAG-010", "LAG-011", "LAG-012", "LAG-013")}
    atms = {**fleet.atms, **extra}
    set_created(atms["LAG-001"], 100)      # due 10 days ago
    set_created(atms["LAG-002"], 90)       # due today
    set_created(atms["LAG-003"], 85)       # due in 5 days
    set_created(atms["LAG-013"], 86)       # due in 4 days
    set_created(atms["LAG-012"], 0)        # due in 90 days
    set_created(atms["KAN-001"], 100)      # due, but its preventive ticket is open
    fleet.raise_ticket("ksup", atms["KAN-001"], kind="preventive", title="Service")
    set_created(atms["KAN-002"], 100)      # due, but decommissioned
    fleet.client.patch(f"/api/atms/{atms['KAN-002']}/", headers=fleet.headers("host"),
                       json={"is_active": False})
    set_created(atms["LAG-010"], 200)      # due, with an open fault: still planned
    fleet.raise_ticket("lsup", atms["LAG-010"])
    set_created(atms["LAG-011"], 200)      # serviced today: due in 90 days
    serviced = fleet.raise_ticket("host", atms["LAG-011"], kind="preventive", title="Service")
    fleet.drive(serviced["id"], "resolved", "ltech1")
    return atms


def test_plan_preventive_raises_one_ticket_per_active_atm_due_today(runner, fleet, due_fleet):
    before = preventive_rows()
    assert plan(runner) == "3 preventive tickets created"
    new = [row for row in preventive_rows() if row not in before]
    assert sorted(new) == sorted((due_fleet[terminal], "open", "normal", None, False)
                                 for terminal in ("LAG-001", "LAG-002", "LAG-010"))


def test_plan_preventive_run_again_creates_nothing_more(runner, fleet, due_fleet):
    plan(runner)
    rows = preventive_rows()
    assert plan(runner) == "0 preventive tickets created"
    assert preventive_rows() == rows


def test_plan_preventive_within_days_looks_ahead(runner, fleet, due_fleet):
    assert plan(runner, "--within", "3") == "3 preventive tickets created"
    assert plan(runner, "--within", "5") == "2 preventive tickets created"
    planned = {row.atm_id for row in preventive_rows() if row.status == "open"}
    assert {due_fleet["LAG-003"], due_fleet["LAG-013"]} <= planned
    assert due_fleet["LAG-012"] not in planned and due_fleet["LAG-011"] not in planned


def test_planned_tickets_are_seen_and_worked_like_any_other(runner, fleet, due_fleet):
    plan(runner)
    listed = fleet.client.get(f"/api/tickets/?kind=preventive&atm_id={due_fleet['LAG-002']}",
                              headers=fleet.headers("ltech1")).get_json()["tickets"]
    assert [(t["kind"], t["priority"], t["status"], t["assignee"]) for t in listed] == [
        ("preventive", "normal", "open", None)]
    events = fleet.client.get(f"/api/tickets/{listed[0]['id']}/events/",
                              headers=fleet.headers("lsup")).get_json()["events"]
    assert [(e["action"], e["actor"], e["to_status"]) for e in events] == [
        ("created", None, "open")]
    taken = fleet.step("ltech1", listed[0]["id"], "assign",
                       {"assignee_id": fleet.users["ltech1"]})
    assert taken["status"] == "assigned"


# --- purge-tokens and idempotency keys -------------------------------------------------------

def test_purge_tokens_drops_idempotency_keys_older_than_24_hours(runner, fleet):
    body = {"atm_id": fleet.atms["LAG-001"], "title": "Card reader jammed"}
    old = fleet.post_ticket("ltech1", body, **{"Idempotency-Key": "old"}).get_json()["id"]
    fresh = fleet.post_ticket("ltech1", body, **{"Idempotency-Key": "fresh"}).get_json()["id"]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for key, hours in (("old", 25), ("fresh", 23)):
        _db.session.execute(_db.update(IdempotencyKey).where(IdempotencyKey.key == key)
                            .values(created_at=now - timedelta(hours=hours)))
    _db.session.commit()

    result = runner.invoke(args=["purge-tokens"])
    assert result.exit_code == 0, result.stderr
    _db.session.expire_all()
    assert _db.session.execute(_db.select(IdempotencyKey.key)).scalars().all() == ["fresh"]

    again_old = fleet.post_ticket("ltech1", body, **{"Idempotency-Key": "old"})
    again_fresh = fleet.post_ticket("ltech1", body, **{"Idempotency-Key": "fresh"})
    assert (again_old.status_code, again_fresh.status_code) == (201, 201)
    assert again_old.get_json()["id"] not in (old, fresh)
    assert again_fresh.get_json()["id"] == fresh
    replay = fleet.post_ticket("ltech1", body, **{"Idempotency-Key": "old"})
    assert replay.get_json()["id"] == again_old.get_json()["id"]


# --- the audit ----------------------------------------------------------------------------

def audit_events(runner):
    """The maintenance events of `audit --json`, oldest first, as (event, username)."""
    result = runner.invoke(args=["audit", "--json"])
    assert result.exit_code == 0, result.stderr
    events = json.loads(result.stdout)
    return [(event["event"], event["username"]) for event in reversed(events)
            if event["event"] in MAINTENANCE_EVENTS]


def test_every_atm_and_ticket_change_is_an_audit_event(runner, fleet):
    assert fleet.client.patch(f"/api/atms/{fleet.atms['LAG-001']}/", headers=fleet.headers(
        "host"), json={"model": "Hyosung"}).status_code == 200
    ticket = fleet.raise_ticket("lsup", fleet.atms["LAG-001"])
    tid = ticket["id"]
    assert fleet.client.patch(f"/api/tickets/{tid}/", headers=fleet.headers("lsup"),
                              json={"priority": "high"}).status_code == 200
    fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})
    fleet.step("ltech1", tid, "start")
    fleet.step("ltech1", tid, "hold", {"reason": "Parts"})
    fleet.step("ltech1", tid, "start")
    fleet.step("ltech1", tid, "resolve", {"resolution": "Fixed"})
    fleet.step("lsup", tid, "close")
    fleet.step("lsup", tid, "reopen", {"reason": "Again"})
    fleet.step("lsup", tid, "cancel", {"reason": "Duplicate"})
    # Refused writes and reads leave no event.
    fleet.act("ltech2", tid, "start")
    fleet.client.get(f"/api/tickets/{tid}/", headers=fleet.headers("host"))

    assert audit_events(runner) == [("atm_created", "host")] * 5 + [
        ("atm_changed", "host"), ("ticket_created", "lsup"), ("ticket_changed", "lsup"),
        ("ticket_assigned", "lsup"), ("ticket_started", "ltech1"), ("ticket_held", "ltech1"),
        ("ticket_started", "ltech1"), ("ticket_resolved", "ltech1"), ("ticket_closed", "lsup"),
        ("ticket_reopened", "lsup"), ("ticket_cancelled", "lsup")]


def test_imports_and_planning_are_audited_too(runner, tmp_path):
    import_csv(runner, tmp_path, HEADER + "LAG-001,Lagos,1 Road,,\nLAG-002,Lagos,2 Road,,\n")
    import_csv(runner, tmp_path, HEADER + "LAG-001,Lagos,1 New Road,,\n")
    _db.session.execute(_db.update(Atm).values(created_at=days_ago(100)))
    _db.session.commit()
    assert plan(runner) == "2 preventive tickets created"
    assert [event for event, _ in audit_events(runner)] == [
        "atm_created", "atm_created", "atm_changed", "ticket_created", "ticket_created"]
