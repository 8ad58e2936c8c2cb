"""The fleet API (/api/atms/): list with filters and cursor, create, read,
edit and decommission, validation, and who sees which ATM."""
import json
import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from atm_app.extensions import db as _db
from atm_app.models import Atm, AuditEvent, Ticket

ATM_KEYS = {"id", "terminal_id", "city", "address", "model", "pm_interval_days", "is_active",
            "down", "open_tickets", "next_pm_due", "created_at"}
ISO_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
FLEET_ORDER = ["KAN-001", "KAN-002", "LAG-001", "LAG-002", "LAG-003"]


def atm_count():
    _db.session.expire_all()
    return _db.session.execute(_db.select(_db.func.count(Atm.id))).scalar_one()


def terminals(fleet, who="host", query=""):
    response = fleet.client.get(f"/api/atms/?{query}", headers=fleet.headers(who))
    assert response.status_code == 200, (query, response.get_json())
    return [atm["terminal_id"] for atm in response.get_json()["atms"]]


def get_atm(fleet, atm_id, who="host"):
    response = fleet.client.get(f"/api/atms/{atm_id}/", headers=fleet.headers(who))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def patch_atm(fleet, atm_id, body, who="host"):
    return fleet.client.patch(f"/api/atms/{atm_id}/", headers=fleet.headers(who), json=body)


def age(model, row_id, **values):
    """Test setup: write a stored row's columns (naive UTC) directly."""
    _db.session.execute(_db.update(model).where(model.id == row_id).values(**values))
    _db.session.commit()
    _db.session.expire_all()


def today():
    return datetime.now(timezone.utc).date()


# --- POST /api/atms/ --------------------------------------------------------------

def test_the_host_creates_an_atm_with_defaults_and_a_location(fleet, clock):
    response = fleet.client.post("/api/atms/", headers=fleet.headers("host"), json={
        "terminal_id": "ABJ-001", "city": "Abuja", "address": "1 Unity Road"})
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/atms/{body['id']}/"
    created = clock.start.date()
    assert body == {"id": body["id"], "terminal_id": "ABJ-001", "city": "Abuja",
                    "address": "1 Unity Road", "model": None, "pm_interval_days": 90,
                    "is_active": True, "down": False, "open_tickets": 0,
                    "next_pm_due": (created + timedelta(days=90)).isoformat(),
                    "created_at": clock.iso(0)}
    assert get_atm(fleet, body["id"]) == body


def test_given_atm_fields_are_stored_trimmed(fleet):
    atm = fleet.create_atm(terminal_id="abj_2-x", city="  Abuja ", address=" 2 Unity Road ",
                           model=" NCR SelfServ 84 ", pm_interval_days=30)
    created = date.fromisoformat(atm["created_at"][:10])
    assert {key: atm[key] for key in ("terminal_id", "city", "address", "model",
                                      "pm_interval_days", "next_pm_due")} == {
        "terminal_id": "abj_2-x", "city": "Abuja", "address": "2 Unity Road",
        "model": "NCR SelfServ 84", "pm_interval_days": 30,
        "next_pm_due": (created + timedelta(days=30)).isoformat()}


def test_the_edges_of_terminal_id_and_interval_are_accepted(fleet):
    for terminal_id, pm_interval_days in (("A" * 32, 1), ("z", 3650), ("a-_9", 365)):
        atm = fleet.create_atm(terminal_id=terminal_id, city="Abuja", address="1 Road",
                               pm_interval_days=pm_interval_days)
        assert (atm["terminal_id"], atm["pm_interval_days"]) == (terminal_id, pm_interval_days)


INVALID_CREATES = [
    ({"terminal_id": ""}, "terminal_id"),
    ({"terminal_id": "A" * 33}, "terminal_id"),
    ({"terminal_id": "ABJ 001"}, "terminal_id"),
    ({"terminal_id": "ABJ/001"}, "terminal_id"),
    ({"terminal_id": "ÄBJ-001"}, "terminal_id"),
    ({"terminal_id": 1001}, "terminal_id"),
    ({"terminal_id": None}, "terminal_id"),
    ({"city": ""}, "city"),
    ({"city": "   "}, "city"),
    ({"city": 5}, "city"),
    ({"address": ""}, "address"),
    ({"address": 5}, "address"),
    ({"model": 5}, "model"),
    ({"model": "   "}, "model"),
    ({"pm_interval_days": 0}, "pm_interval_days"),
    ({"pm_interval_days": -1}, "pm_interval_days"),
    ({"pm_interval_days": 3651}, "pm_interval_days"),
    ({"pm_interval_days": "90"}, "pm_interval_days"),
    ({"pm_interval_days": True}, "pm_interval_days"),
    ({"pm_interval_days": 1.5}, "pm_interval_days"),
    ({"pm_interval_days": 2**31}, "pm_interval_days"),
    ({"is_active": "yes"}, "is_active"),
    ({"colour": "blue"}, "colour"),
    ({"down": True}, "down"),
]


def test_creating_an_atm_with_an_invalid_field_is_400_naming_it(fleet):
    found = {}
    for changes, field in INVALID_CREATES:
        body = {"terminal_id": "ABJ-001", "city": "Abuja", "address": "1 Unity Road", **changes}
        response = fleet.client.post("/api/atms/", headers=fleet.headers("host"), json=body)
        found[repr(changes)] = (response.status_code,
                                field in response.get_json().get("errors", {}))
    assert found == {repr(changes): (400, True) for changes, _ in INVALID_CREATES}
    assert atm_count() == 5


def test_creating_an_atm_without_a_required_field_is_400(fleet):
    for field in ("terminal_id", "city", "address"):
        body = {"terminal_id": "ABJ-001", "city": "Abuja", "address": "1 Unity Road"}
        del body[field]
        response = fleet.client.post("/api/atms/", headers=fleet.headers("host"), json=body)
        assert response.status_code == 400, field
        assert list(response.get_json()["errors"]) == [field]
    assert atm_count() == 5


def test_an_atm_body_that_is_not_a_json_object_is_400_non_field_errors(fleet):
    for body in ([], "atm", None, 12):
        response = fleet.client.post("/api/atms/", data=json.dumps(body), headers=fleet.headers(
            "host", **{"Content-Type": "application/json"}))
        assert response.status_code == 400, body
        assert "non_field_errors" in response.get_json()["errors"], body


def test_a_terminal_id_taken_in_any_case_is_409(fleet):
    for terminal_id in ("LAG-001", "lag-001", "Lag-001"):
        response = fleet.client.post("/api/atms/", headers=fleet.headers("host"), json={
            "terminal_id": terminal_id, "city": "Lagos", "address": "Elsewhere"})
        assert response.status_code == 409, terminal_id
        assert isinstance(response.get_json()["detail"], str)
    assert atm_count() == 5


def test_a_decommissioned_atms_terminal_id_stays_taken(fleet):
    assert patch_atm(fleet, fleet.atms["KAN-002"], {"is_active": False}).status_code == 200
    response = fleet.client.post("/api/atms/", headers=fleet.headers("host"), json={
        "terminal_id": "kan-002", "city": "Kano", "address": "New site"})
    assert response.status_code == 409


def test_only_the_host_creates_atms(fleet):
    for who in ("lsup", "ltech1", "ksup"):
        response = fleet.client.post("/api/atms/", headers=fleet.headers(who), json={
            "terminal_id": "LAG-010", "city": "Lagos", "address": "1 Road"})
        assert response.status_code == 403, who
        assert set(response.get_json()) == {"detail"}
    assert atm_count() == 5


def test_the_fleet_api_needs_a_token(fleet):
    assert fleet.client.get("/api/atms/").status_code == 401
    assert fleet.client.get(f"/api/atms/{fleet.atms['LAG-001']}/").status_code == 401
    response = fleet.client.post("/api/atms/", json={"terminal_id": "X", "city": "Lagos",
                                                     "address": "1 Road"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- who sees which ATM ----------------------------------------------------------------

def test_each_role_lists_the_atms_of_its_city_in_terminal_order(fleet, make_user):
    make_user("roamer", role="technician", city=None)
    make_user("drifter", role="supervisor", city=None)
    found = {who: terminals(fleet, who) for who in ("host", "lsup", "ltech1", "ltech2", "ksup",
                                                     "ktech", "roamer", "drifter")}
    lagos, kano = FLEET_ORDER[2:], FLEET_ORDER[:2]
    assert found == {"host": FLEET_ORDER, "lsup": lagos, "ltech1": lagos, "ltech2": lagos,
                     "ksup": kano, "ktech": kano, "roamer": [], "drifter": []}


def test_an_atm_outside_the_callers_city_is_404(fleet, make_user):
    make_user("roamer", role="technician", city=None)
    answers = {}
    for who in ("host", "lsup", "ltech1", "ksup", "ktech", "roamer"):
        for terminal in ("LAG-001", "KAN-001"):
            answers[who, terminal] = fleet.client.get(
                f"/api/atms/{fleet.atms[terminal]}/", headers=fleet.headers(who)).status_code
    assert answers == {
        ("host", "LAG-001"): 200, ("host", "KAN-001"): 200,
        ("lsup", "LAG-001"): 200, ("lsup", "KAN-001"): 404,
        ("ltech1", "LAG-001"): 200, ("ltech1", "KAN-001"): 404,
        ("ksup", "LAG-001"): 404, ("ksup", "KAN-001"): 200,
        ("ktech", "LAG-001"): 404, ("ktech", "KAN-001"): 200,
        ("roamer", "LAG-001"): 404, ("roamer", "KAN-001"): 404,
    }


def test_an_atm_that_does_not_exist_is_404(fleet):
    for path in ("/api/atms/999999/", f"/api/atms/{2**31}/", f"/api/atms/{2**40}/"):
        for response in (fleet.client.get(path, headers=fleet.headers("host")),
                         fleet.client.patch(path, headers=fleet.headers("host"),
                                            json={"address": "x"})):
            assert response.status_code == 404, path
            assert set(response.get_json()) == {"detail"}


def test_a_users_city_matches_atms_whatever_its_case_and_spaces(fleet, make_user):
    make_user("shouty", role="technician", city="  LAGOS  ")
    fleet.create_atm(terminal_id="LAG-004", city="lagos ", address="2 Creek Road")
    assert terminals(fleet, "shouty") == ["LAG-001", "LAG-002", "LAG-003", "LAG-004"]
    assert terminals(fleet, "lsup") == ["LAG-001", "LAG-002", "LAG-003", "LAG-004"]


def test_the_list_is_ordered_by_terminal_id_ignoring_case(fleet):
    for terminal in ("b-2", "A-1", "c-3", "kan-0015"):
        fleet.create_atm(terminal_id=terminal, city="Kano", address="Somewhere")
    assert terminals(fleet, "ksup") == ["A-1", "b-2", "c-3", "KAN-001", "kan-0015", "KAN-002"]


# --- filters -----------------------------------------------------------------------

def test_every_atm_list_filter_selects_its_atms(fleet):
    down = fleet.raise_ticket("host", fleet.atms["LAG-002"], out_of_service=True)
    fleet.raise_ticket("host", fleet.atms["LAG-003"])                  # a fault, but not down
    assert patch_atm(fleet, fleet.atms["KAN-002"], {"is_active": False}).status_code == 200
    queries = {
        "city=Lagos": ["LAG-001", "LAG-002", "LAG-003"],
        "city=kano": ["KAN-001", "KAN-002"],
        f"city={quote('  LAGOS ')}": ["LAG-001", "LAG-002", "LAG-003"],
        "city=Ibadan": [],
        "q=LAG-00": ["LAG-001", "LAG-002", "LAG-003"],
        "q=002": ["KAN-002", "LAG-002"],
        "q=Marina": ["LAG-001"],
        "q=Street": ["LAG-002"],
        "down=true": ["LAG-002"],
        "down=1": ["LAG-002"],
        "down=false": ["KAN-001", "KAN-002", "LAG-001", "LAG-003"],
        "down=0": ["KAN-001", "KAN-002", "LAG-001", "LAG-003"],
        "is_active=false": ["KAN-002"],
        "is_active=0": ["KAN-002"],
        "is_active=true": ["KAN-001", "LAG-001", "LAG-002", "LAG-003"],
        "is_active=1": ["KAN-001", "LAG-001", "LAG-002", "LAG-003"],
        "city=Lagos&down=false&q=LAG": ["LAG-001", "LAG-003"],
        "city=Kano&is_active=true": ["KAN-001"],
    }
    assert {query: terminals(fleet, "host", query) for query in queries} == queries
    fleet.drive(down["id"], "resolved")
    assert terminals(fleet, "host", "down=true") == []


def test_q_matches_terminal_ids_and_addresses_in_any_case(fleet):
    found = {query: terminals(fleet, "host", query)
             for query in ("q=lag-001", "q=marina", "q=BROAD")}
    assert found == {"q=lag-001": ["LAG-001"], "q=marina": ["LAG-001"],
                     "q=BROAD": ["LAG-002"]}


def test_filters_stay_inside_what_the_caller_sees(fleet):
    assert terminals(fleet, "lsup", "city=Kano") == []
    assert terminals(fleet, "ktech", "q=LAG") == []


BAD_QUERIES = [
    ("down", "yes"), ("down", "2"), ("is_active", "maybe"), ("is_active", ""),
    ("limit", "0"), ("limit", "201"), ("limit", "ten"), ("limit", "-5"), ("cursor", "garbage"),
]


def test_a_bad_atm_query_value_is_400_naming_the_parameter(fleet):
    found = {}
    for param, value in BAD_QUERIES:
        response = fleet.client.get(f"/api/atms/?{param}={value}", headers=fleet.headers("host"))
        found[param, value] = (response.status_code,
                               list(response.get_json().get("errors", {})))
    assert found == {(param, value): (400, [param]) for param, value in BAD_QUERIES}


# --- paging ----------------------------------------------------------------------------

def atm_page(fleet, query):
    response = fleet.client.get(f"/api/atms/?{query}", headers=fleet.headers("host"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"atms", "next"}
    return [atm["terminal_id"] for atm in body["atms"]], body["next"]


def test_atm_pages_follow_the_cursor_and_take_rows_added_after_it(fleet):
    first, cursor = atm_page(fleet, "limit=2")
    assert first == ["KAN-001", "KAN-002"] and cursor
    fleet.create_atm(terminal_id="AAA-1", city="Lagos", address="Before the cursor")
    fleet.create_atm(terminal_id="kan-0015", city="Kano", address="Before the cursor too")
    fleet.create_atm(terminal_id="lag-0025", city="Lagos", address="After the cursor")
    second, cursor = atm_page(fleet, f"limit=2&cursor={quote(cursor)}")
    assert second == ["LAG-001", "LAG-002"] and cursor
    third, cursor = atm_page(fleet, f"limit=2&cursor={quote(cursor)}")
    assert (third, cursor) == (["lag-0025", "LAG-003"], None)


def test_the_last_full_page_has_no_next(fleet):
    assert atm_page(fleet, "limit=5") == (FLEET_ORDER, None)
    assert atm_page(fleet, "") == (FLEET_ORDER, None)
    assert atm_page(fleet, "limit=200") == (FLEET_ORDER, None)


def test_a_cursor_keeps_its_filter(fleet):
    first, cursor = atm_page(fleet, "city=Lagos&limit=2")
    second, last = atm_page(fleet, f"city=Lagos&limit=2&cursor={quote(cursor)}")
    assert (first, second, last) == (["LAG-001", "LAG-002"], ["LAG-003"], None)


def test_a_tampered_atm_cursor_is_400(fleet):
    _, cursor = atm_page(fleet, "limit=1")
    flipped = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    for bad in (flipped, cursor[::-1], cursor + "x"):
        response = fleet.client.get(f"/api/atms/?limit=1&cursor={quote(bad)}",
                                    headers=fleet.headers("host"))
        assert response.status_code == 400, bad
        assert list(response.get_json()["errors"]) == ["cursor"]


# --- PATCH /api/atms/<id>/ -------------------------------------------------------------

def test_the_host_edits_an_atm(fleet):
    atm_id = fleet.atms["LAG-001"]
    before = get_atm(fleet, atm_id)
    response = patch_atm(fleet, atm_id, {"address": " 14 Marina Road ", "model": "Hyosung",
                                         "pm_interval_days": 30})
    assert response.status_code == 200
    created = date.fromisoformat(before["created_at"][:10])
    assert response.get_json() == {**before, "address": "14 Marina Road", "model": "Hyosung",
                                   "pm_interval_days": 30,
                                   "next_pm_due": (created + timedelta(days=30)).isoformat()}
    assert get_atm(fleet, atm_id) == response.get_json()
    cleared = patch_atm(fleet, atm_id, {"model": None})
    assert (cleared.status_code, cleared.get_json()["model"]) == (200, None)


def test_moving_an_atm_to_another_city_moves_its_tickets_and_who_sees_them(fleet):
    ticket = fleet.raise_ticket("lsup", fleet.atms["LAG-003"])
    moved = patch_atm(fleet, fleet.atms["LAG-003"], {"city": "Kano"})
    assert (moved.status_code, moved.get_json()["city"]) == (200, "Kano")
    assert terminals(fleet, "lsup") == ["LAG-001", "LAG-002"]
    assert terminals(fleet, "ksup") == ["KAN-001", "KAN-002", "LAG-003"]
    url = f"/api/tickets/{ticket['id']}/"
    assert fleet.client.get(url, headers=fleet.headers("lsup")).status_code == 404
    seen = fleet.client.get(url, headers=fleet.headers("ksup"))
    assert seen.status_code == 200
    assert (seen.get_json()["city"], seen.get_json()["atm"]["city"]) == ("Kano", "Kano")


def test_a_moved_atms_tickets_each_get_a_timeline_line_and_one_audit_row_tells_of_it(fleet, db):
    ticket = fleet.raise_ticket("lsup", fleet.atms["LAG-003"])
    assert patch_atm(fleet, fleet.atms["LAG-003"], {"city": "Kano"}).status_code == 200
    seen = fleet.client.get(f"/api/tickets/{ticket['id']}/", headers=fleet.headers("ksup"))
    assert seen.get_json()["version"] == ticket["version"] + 1
    timeline = fleet.client.get(f"/api/tickets/{ticket['id']}/events/",
                                headers=fleet.headers("ksup")).get_json()["events"]
    assert [(event["action"], event["from_status"], event["to_status"], event["detail"])
            for event in timeline[1:]] == [
        ("edit", "open", "open", "city Lagos -> Kano (the ATM moved)")]
    audited = db.session.execute(db.select(AuditEvent.event).where(
        AuditEvent.event.in_(("atm_changed", "ticket_changed")))).scalars().all()
    assert audited == ["atm_changed"]


INVALID_EDITS = [
    ({"terminal_id": "LAG-100"}, "terminal_id"),
    ({"terminal_id": "LAG-001"}, "terminal_id"),
    ({"city": ""}, "city"), ({"city": 3}, "city"), ({"address": "  "}, "address"),
    ({"address": None}, "address"), ({"pm_interval_days": 0}, "pm_interval_days"),
    ({"pm_interval_days": 3651}, "pm_interval_days"),
    ({"pm_interval_days": "30"}, "pm_interval_days"),
    ({"is_active": "false"}, "is_active"), ({"is_active": 0}, "is_active"),
    ({"down": False}, "down"), ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
]


def test_an_invalid_atm_edit_is_400_and_changes_nothing(fleet):
    before = get_atm(fleet, fleet.atms["LAG-001"])
    found = {}
    for changes, field in INVALID_EDITS:
        response = patch_atm(fleet, fleet.atms["LAG-001"], changes)
        found[repr(changes)] = (response.status_code,
                                list(response.get_json().get("errors", {})))
    assert found == {repr(changes): (400, [field]) for changes, field in INVALID_EDITS}
    assert get_atm(fleet, fleet.atms["LAG-001"]) == before


def test_only_the_host_edits_atms_and_others_get_403_first(fleet):
    cases = [("lsup", "LAG-001"), ("lsup", "KAN-001"), ("ltech1", "LAG-001"),
             ("ktech", "LAG-001")]
    before = {terminal: get_atm(fleet, fleet.atms[terminal]) for _, terminal in cases}
    found = {case: patch_atm(fleet, fleet.atms[case[1]], {"address": "Moved"}, case[0])
             .status_code for case in cases}
    assert found == {case: 403 for case in cases}
    assert {terminal: get_atm(fleet, fleet.atms[terminal]) for terminal in before} == before


def test_decommissioning_keeps_the_atm_inactive_and_visible(fleet):
    response = patch_atm(fleet, fleet.atms["LAG-002"], {"is_active": False})
    assert (response.status_code, response.get_json()["is_active"]) == (200, False)
    assert get_atm(fleet, fleet.atms["LAG-002"], "lsup")["is_active"] is False
    assert terminals(fleet, "lsup", "is_active=false") == ["LAG-002"]
    refused = fleet.post_ticket("lsup", {"atm_id": fleet.atms["LAG-002"], "title": "Jammed"})
    assert (refused.status_code, list(refused.get_json()["errors"])) == (400, ["atm_id"])
    back = patch_atm(fleet, fleet.atms["LAG-002"], {"is_active": True})
    assert back.get_json()["is_active"] is True
    fleet.raise_ticket("lsup", fleet.atms["LAG-002"])


# --- down, open_tickets, next_pm_due ------------------------------------------------------

def test_down_follows_unresolved_out_of_service_fault_tickets(fleet):
    atm_id = fleet.atms["LAG-001"]
    first = fleet.raise_ticket("host", atm_id, out_of_service=True)
    second = fleet.ticket_in("on_hold", "LAG-001", out_of_service=True)
    fleet.raise_ticket("host", atm_id, kind="preventive")
    assert get_atm(fleet, atm_id)["down"] is True
    fleet.step("host", first["id"], "cancel", {"reason": "Duplicate"})
    assert get_atm(fleet, atm_id)["down"] is True
    fleet.step("ltech1", second["id"], "start")
    fleet.step("ltech1", second["id"], "resolve", {"resolution": "Fixed"})
    assert get_atm(fleet, atm_id)["down"] is False
    fleet.step("host", second["id"], "reopen", {"reason": "Down again"})
    assert get_atm(fleet, atm_id)["down"] is True


def test_down_follows_an_edit_of_out_of_service(fleet):
    ticket = fleet.raise_ticket("host", fleet.atms["LAG-001"])
    assert get_atm(fleet, fleet.atms["LAG-001"])["down"] is False
    fleet.client.patch(f"/api/tickets/{ticket['id']}/", headers=fleet.headers("host"),
                       json={"out_of_service": True})
    assert get_atm(fleet, fleet.atms["LAG-001"])["down"] is True


def test_open_tickets_counts_the_atms_unresolved_tickets(fleet):
    for status in ("open", "assigned", "in_progress", "on_hold", "resolved", "closed",
                   "cancelled"):
        fleet.ticket_in(status, "LAG-003")
    fleet.ticket_in("open", "LAG-002")
    assert get_atm(fleet, fleet.atms["LAG-003"])["open_tickets"] == 4
    assert get_atm(fleet, fleet.atms["LAG-002"])["open_tickets"] == 1
    assert get_atm(fleet, fleet.atms["LAG-001"])["open_tickets"] == 0
    listed = fleet.client.get("/api/atms/?city=Lagos", headers=fleet.headers("lsup")).get_json()
    assert [atm["open_tickets"] for atm in listed["atms"]] == [0, 1, 4]


def test_next_pm_due_counts_from_creation_or_the_last_preventive_resolve(fleet):
    atm_id = fleet.atms["LAG-001"]
    age(Atm, atm_id, created_at=datetime(2025, 1, 10, 23, 30))
    assert get_atm(fleet, atm_id)["next_pm_due"] == "2025-04-10"
    older = fleet.ticket_in("closed", "LAG-001", kind="preventive")
    age(Ticket, older["id"], resolved_at=datetime(2025, 3, 1, 8, 0))
    newer = fleet.ticket_in("resolved", "LAG-001", kind="preventive")
    age(Ticket, newer["id"], resolved_at=datetime(2025, 5, 20, 23, 59))
    fault = fleet.ticket_in("resolved", "LAG-001")
    age(Ticket, fault["id"], resolved_at=datetime(2025, 7, 1, 12, 0))
    assert get_atm(fleet, atm_id)["next_pm_due"] == "2025-08-18"
    assert patch_atm(fleet, atm_id, {"pm_interval_days": 10}).get_json()[
        "next_pm_due"] == "2025-05-30"
    # Work not finished does not count, nor work cancelled.
    fleet.ticket_in("cancelled", "LAG-001", kind="preventive")
    fleet.ticket_in("in_progress", "LAG-001", kind="preventive")
    assert get_atm(fleet, atm_id)["next_pm_due"] == "2025-05-30"


def test_an_atm_object_has_exactly_the_contract_keys(fleet):
    atm = get_atm(fleet, fleet.atms["KAN-001"], "ktech")
    assert set(atm) == ATM_KEYS
    assert ISO_SECONDS.match(atm["created_at"])
    assert date.fromisoformat(atm["next_pm_due"]) == today() + timedelta(days=90)
