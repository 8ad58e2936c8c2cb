"""The service-level clock: due times from the configured minutes (here a few
seconds), the hold clock that stops them, priority changes, and `overdue`.

Time is frozen and moved with time_machine (the `clock` fixture): `clock.at(s)`
puts the test `s` seconds after the moment the ticket is raised.
"""
import pytest

# In seconds: response 15 / 30 / 60 / 120, restore 60 / 120 / 240 / 480.
RESPONSE = {"critical": 0.25, "high": 0.5, "normal": 1, "low": 2}
RESTORE = {"critical": 1, "high": 2, "normal": 4, "low": 8}
pytestmark = pytest.mark.settings(SLA_RESPONSE_MINUTES=RESPONSE, SLA_RESTORE_MINUTES=RESTORE)


def seconds(minutes):
    return int(minutes * 60)


def due_times(ticket):
    return ticket["response_due_at"], ticket["restore_due_at"]


@pytest.fixture
def raise_at_zero(fleet, clock):
    """Raise a Lagos ticket at second 0 of the clock; the ticket."""
    def raise_(**fields):
        clock.at(0)
        return fleet.raise_ticket("host", fleet.atms["LAG-001"], **fields)
    return raise_


def test_due_times_are_creation_plus_the_configured_minutes(fleet, clock, raise_at_zero):
    found = {}
    for priority in RESPONSE:
        ticket = raise_at_zero(priority=priority)
        found[priority] = (ticket["created_at"], *due_times(ticket))
    assert found == {priority: (clock.iso(0), clock.iso(seconds(RESPONSE[priority])),
                                clock.iso(seconds(RESTORE[priority]))) for priority in RESPONSE}


def test_time_held_before_the_first_start_moves_both_due_times(fleet, clock, raise_at_zero):
    ticket = raise_at_zero()
    tid = ticket["id"]
    clock.at(2)
    fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})
    clock.at(10)
    fleet.step("ltech1", tid, "hold", {"reason": "Site closed"})
    clock.at(30)
    assert due_times(fleet.get_ticket(tid)) == (clock.iso(60), clock.iso(240))
    clock.at(50)
    started = fleet.step("ltech1", tid, "start")
    assert started["started_at"] == clock.iso(50)
    assert due_times(started) == (clock.iso(100), clock.iso(280))
    assert due_times(fleet.get_ticket(tid)) == (clock.iso(100), clock.iso(280))


def test_time_held_after_the_first_start_moves_only_the_restore_due_time(fleet, clock,
                                                                         raise_at_zero):
    tid = raise_at_zero()["id"]
    fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})
    clock.at(5)
    fleet.step("ltech1", tid, "start")
    clock.at(10)
    fleet.step("ltech1", tid, "hold", {"reason": "Waiting for parts"})
    clock.at(40)
    resumed = fleet.step("ltech1", tid, "start")
    assert due_times(resumed) == (clock.iso(60), clock.iso(270))


def test_leaving_a_hold_by_reassignment_moves_the_due_times(fleet, clock, raise_at_zero):
    tid = raise_at_zero()["id"]
    fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})
    clock.at(10)
    fleet.step("host", tid, "hold", {"reason": "Technician ill"})
    clock.at(25)
    moved = fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech2"]})
    assert due_times(moved) == (clock.iso(75), clock.iso(255))


def test_every_hold_adds_its_own_time(fleet, clock, raise_at_zero):
    tid = raise_at_zero()["id"]
    fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})
    clock.at(10)
    fleet.step("ltech1", tid, "hold", {"reason": "First wait"})
    clock.at(30)                                   # 20 s held, never started
    fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})
    clock.at(40)
    fleet.step("ltech1", tid, "hold", {"reason": "Second wait"})
    clock.at(50)                                   # 10 s more, still never started
    fleet.step("ltech1", tid, "start")
    clock.at(55)
    fleet.step("ltech1", tid, "hold", {"reason": "Third wait"})
    clock.at(100)                                  # 45 s after the start
    resumed = fleet.step("ltech1", tid, "start")
    assert due_times(resumed) == (clock.iso(60 + 30), clock.iso(240 + 75))


def test_a_priority_change_recomputes_due_times_from_creation_plus_time_held(fleet, clock,
                                                                             raise_at_zero):
    tid = raise_at_zero()["id"]
    fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})
    clock.at(10)
    fleet.step("ltech1", tid, "hold", {"reason": "Wait"})
    clock.at(30)
    fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})   # 20 s held
    clock.at(40)
    response = fleet.client.patch(f"/api/tickets/{tid}/", headers=fleet.headers("lsup"),
                                  json={"priority": "critical"})
    assert response.status_code == 200
    assert due_times(response.get_json()) == (clock.iso(15 + 20), clock.iso(60 + 20))


def test_a_priority_change_after_a_start_keeps_the_response_time_held_apart(fleet, clock,
                                                                            raise_at_zero):
    tid = raise_at_zero()["id"]
    fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})
    clock.at(5)
    fleet.step("ltech1", tid, "start")
    clock.at(10)
    fleet.step("ltech1", tid, "hold", {"reason": "Wait"})
    clock.at(30)
    fleet.step("ltech1", tid, "start")                                          # 20 s held
    clock.at(40)
    response = fleet.client.patch(f"/api/tickets/{tid}/", headers=fleet.headers("host"),
                                  json={"priority": "low"})
    assert due_times(response.get_json()) == (clock.iso(120), clock.iso(480 + 20))


def test_overdue_turns_on_once_the_restore_due_time_has_passed(fleet, clock, raise_at_zero):
    tid = raise_at_zero()["id"]
    clock.at(239)
    assert fleet.get_ticket(tid)["overdue"] is False
    assert [t["id"] for t in fleet.client.get("/api/tickets/?overdue=false", headers=fleet
                                              .headers("host")).get_json()["tickets"]] == [tid]
    clock.at(241)
    assert fleet.get_ticket(tid)["overdue"] is True
    assert [t["id"] for t in fleet.client.get("/api/tickets/?overdue=true", headers=fleet
                                              .headers("lsup")).get_json()["tickets"]] == [tid]


def test_overdue_after_a_hold_counts_from_the_moved_due_time(fleet, clock, raise_at_zero):
    tid = raise_at_zero()["id"]
    fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})
    clock.at(10)
    fleet.step("ltech1", tid, "hold", {"reason": "Wait"})
    clock.at(110)
    fleet.step("ltech1", tid, "start")             # restore due 240 + 100 = 340
    clock.at(300)
    assert fleet.get_ticket(tid)["overdue"] is False
    clock.at(341)
    assert fleet.get_ticket(tid)["overdue"] is True


def test_finished_work_is_never_overdue(fleet, clock, raise_at_zero):
    tickets = {status: raise_at_zero()["id"] for status in ("resolved", "closed", "cancelled")}
    clock.at(5)
    for status, tid in tickets.items():
        fleet.drive(tid, status)
    clock.at(1000)
    assert {status: fleet.get_ticket(tid)["overdue"] for status, tid in tickets.items()} == {
        "resolved": False, "closed": False, "cancelled": False}
    assert fleet.client.get("/api/tickets/?overdue=true", headers=fleet.headers(
        "host")).get_json()["tickets"] == []


def test_a_shorter_priority_can_make_a_ticket_overdue_at_once(fleet, clock, raise_at_zero):
    tid = raise_at_zero()["id"]
    clock.at(100)
    response = fleet.client.patch(f"/api/tickets/{tid}/", headers=fleet.headers("lsup"),
                                  json={"priority": "critical"})
    assert response.get_json()["overdue"] is True
    assert due_times(response.get_json()) == (clock.iso(15), clock.iso(60))


def test_service_levels_met_are_judged_against_the_moved_due_times(fleet, clock, raise_at_zero):
    held = raise_at_zero()["id"]
    plain = fleet.raise_ticket("host", fleet.atms["LAG-002"])["id"]
    for tid in (held, plain):
        fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})
    clock.at(5)
    fleet.step("ltech1", held, "hold", {"reason": "Site closed"})
    clock.at(70)
    fleet.step("ltech1", plain, "start")           # response due 60: missed
    clock.at(105)
    fleet.step("ltech1", held, "start")            # response due 60 + 100 = 160: met
    clock.at(300)
    for tid in (held, plain):                      # restore due 340 (met) and 240 (missed)
        fleet.step("ltech1", tid, "resolve", {"resolution": "Fixed"})
    clock.at(310)                                  # the range ends now: after the resolves
    day = clock.start.date().isoformat()
    figures = fleet.client.get(f"/api/reports/kpis/?from={day}&to={day}",
                               headers=fleet.headers("lsup")).get_json()
    assert {key: figures[key] for key in ("sla_response_met_pct", "sla_restore_met_pct",
                                          "mtta_minutes", "mttr_minutes")} == {
        "sla_response_met_pct": 50.0, "sla_restore_met_pct": 50.0,
        "mtta_minutes": 1.5,                       # (105 s + 70 s) / 2 = 1.46 min
        "mttr_minutes": 5.0}                       # 300 s each
