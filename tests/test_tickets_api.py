"""The tickets API: raising (/api/tickets/ POST), reading, listing with every
filter, sort and cursor, editing (PATCH), notes, the timeline, ETag/If-Match,
overdue and the service-level due times."""
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from atm_app.extensions import db as _db
from atm_app.models import IdempotencyKey, Ticket

ISO_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
TICKET_KEYS = {"id", "atm", "city", "kind", "priority", "title", "description",
               "out_of_service", "status", "assignee", "reported_by", "created_at",
               "assigned_at", "started_at", "resolved_at", "closed_at", "response_due_at",
               "restore_due_at", "hold_reason", "resolution", "reopen_count", "version",
               "overdue", "actions"}
RESPONSE_MINUTES = {"critical": 60, "high": 240, "normal": 480, "low": 1440}
RESTORE_MINUTES = {"critical": 240, "high": 480, "normal": 1440, "low": 4320}


def parse(iso):
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")


def ticket_count():
    _db.session.expire_all()
    return _db.session.execute(_db.select(_db.func.count(Ticket.id))).scalar_one()


def set_ticket(ticket_id, **values):
    """Test setup: write columns of a stored ticket directly (naive UTC times)."""
    _db.session.execute(_db.update(Ticket).where(Ticket.id == ticket_id).values(**values))
    _db.session.commit()
    _db.session.expire_all()


def listing(fleet, who, query=""):
    response = fleet.client.get(f"/api/tickets/?{query}", headers=fleet.headers(who))
    assert response.status_code == 200, (query, response.get_json())
    return response.get_json()


def listed_ids(fleet, who, query=""):
    return [ticket["id"] for ticket in listing(fleet, who, query)["tickets"]]


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


# --- POST /api/tickets/ -------------------------------------------------------

def test_raising_a_ticket_answers_201_with_an_open_unassigned_normal_fault(fleet, clock):
    response = fleet.post_ticket("ltech1", {"atm_id": fleet.atms["LAG-001"],
                                            "title": "Card reader jammed"})
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/tickets/{body['id']}/"
    assert response.headers["ETag"] == '"1"'
    assert body == {
        "id": body["id"],
        "atm": {"id": fleet.atms["LAG-001"], "terminal_id": "LAG-001", "city": "Lagos",
                "address": "12 Marina Road"},
        "city": "Lagos", "kind": "fault", "priority": "normal", "title": "Card reader jammed",
        "description": None, "out_of_service": False, "status": "open", "assignee": None,
        "reported_by": {"id": fleet.users["ltech1"], "username": "ltech1"},
        "created_at": clock.iso(0), "assigned_at": None, "started_at": None,
        "resolved_at": None, "closed_at": None,
        "response_due_at": clock.iso(480 * 60), "restore_due_at": clock.iso(1440 * 60),
        "hold_reason": None, "resolution": None, "reopen_count": 0, "version": 1,
        "overdue": False, "actions": ["assign"],
    }
    assert fleet.get_ticket(body["id"]) == {**body, "actions": ["assign", "cancel"]}


def test_a_ticket_may_name_its_atm_by_terminal_id_in_any_case(fleet):
    for terminal in ("LAG-002", "lag-002", "Lag-002"):
        response = fleet.post_ticket("lsup", {"terminal_id": terminal, "title": "Empty"})
        assert response.status_code == 201, (terminal, response.get_json())
        assert response.get_json()["atm"] == {"id": fleet.atms["LAG-002"],
                                              "terminal_id": "LAG-002", "city": "Lagos",
                                              "address": "4 Broad Street"}


def test_given_fields_are_stored_trimmed(fleet):
    ticket = fleet.raise_ticket("host", fleet.atms["KAN-001"], title="  Screen dark \n",
                                description="  No display at all  ", priority="critical",
                                out_of_service=True, kind="fault")
    assert {key: ticket[key] for key in ("title", "description", "priority", "out_of_service",
                                         "kind", "city")} == {
        "title": "Screen dark", "description": "No display at all", "priority": "critical",
        "out_of_service": True, "kind": "fault", "city": "Kano"}


def test_the_longest_title_and_description_are_accepted(fleet):
    ticket = fleet.raise_ticket("host", fleet.atms["LAG-001"], title="t" * 200,
                                description="d" * 5000)
    assert (len(ticket["title"]), len(ticket["description"])) == (200, 5000)


def test_due_times_are_created_at_plus_the_priority_minutes(fleet):
    found, expected = {}, {}
    for priority in RESPONSE_MINUTES:
        ticket = fleet.raise_ticket("host", fleet.atms["LAG-001"], priority=priority)
        assert all(ISO_SECONDS.match(ticket[key]) for key in ("created_at", "response_due_at",
                                                             "restore_due_at"))
        created = parse(ticket["created_at"])
        found[priority] = (parse(ticket["response_due_at"]) - created,
                           parse(ticket["restore_due_at"]) - created)
        expected[priority] = (timedelta(minutes=RESPONSE_MINUTES[priority]),
                              timedelta(minutes=RESTORE_MINUTES[priority]))
    assert found == expected


INVALID_CREATES = [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": 5}, "title"),
    ({"title": None}, "title"),
    ({"description": "x" * 5001}, "description"),
    ({"description": 5}, "description"),
    ({"priority": "urgent"}, "priority"),
    ({"priority": 1}, "priority"),
    ({"priority": ""}, "priority"),
    ({"kind": "repair"}, "kind"),
    ({"kind": True}, "kind"),
    ({"out_of_service": "yes"}, "out_of_service"),
    ({"out_of_service": 1}, "out_of_service"),
    ({"atm_id": "LAG"}, "atm_id"),
    ({"atm_id": True}, "atm_id"),
    ({"atm_id": 1.5}, "atm_id"),
    ({"atm_id": 2**31}, "atm_id"),
    ({"atm_id": 999_999}, "atm_id"),
    ({"colour": "red"}, "colour"),
    ({"status": "closed"}, "status"),
    ({"assignee_id": 1}, "assignee_id"),
]


def test_raising_a_ticket_with_an_invalid_field_is_400_naming_it(fleet):
    found = {}
    for changes, field in INVALID_CREATES:
        body = {"atm_id": fleet.atms["LAG-001"], "title": "Card reader jammed", **changes}
        response = fleet.post_ticket("host", body)
        found[repr(changes)] = (response.status_code,
                                field in response.get_json().get("errors", {}))
    assert found == {repr(changes): (400, True) for changes, _ in INVALID_CREATES}
    assert ticket_count() == 0


def test_a_blank_description_is_400_like_every_blank_text(fleet):
    response = fleet.post_ticket("host", {"atm_id": fleet.atms["LAG-001"], "title": "Jammed",
                                          "description": " \t "})
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["description"]
    assert ticket_count() == 0


def test_raising_a_ticket_without_a_title_is_400(fleet):
    response = fleet.post_ticket("host", {"atm_id": fleet.atms["LAG-001"]})
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["title"]


def test_raising_a_ticket_naming_no_atm_is_400(fleet):
    response = fleet.post_ticket("host", {"title": "Card reader jammed"})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) & {"atm_id", "terminal_id"}
    assert ticket_count() == 0


def test_raising_a_ticket_for_an_unknown_terminal_id_is_400(fleet):
    for value in (5, "", "NOPE-1", "LAG 001", None):
        response = fleet.post_ticket("host", {"terminal_id": value, "title": "Jammed"})
        assert response.status_code == 400, value
        assert list(response.get_json()["errors"]) == ["terminal_id"], value
    assert ticket_count() == 0


def test_a_body_that_is_not_a_json_object_is_400_non_field_errors(fleet):
    for body in ([], "ticket", 7, 1.5, True):
        response = fleet.post_ticket("host", body)
        assert response.status_code == 400, body
        assert "non_field_errors" in response.get_json()["errors"], body


def test_a_body_that_is_not_json_is_415(fleet):
    response = fleet.client.post("/api/tickets/", data="title=x",
                                 headers=fleet.headers("host", **{
                                     "Content-Type": "application/x-www-form-urlencoded"}))
    assert response.status_code == 415
    assert set(response.get_json()) == {"detail"}


def test_an_atm_the_caller_cannot_see_is_a_400_field_error(fleet, make_user):
    make_user("roamer", role="technician", city=None)
    make_user("drifter", role="supervisor", city=None)
    cases = [("ltech1", "KAN-001"), ("lsup", "KAN-002"), ("ksup", "LAG-001"),
             ("ktech", "LAG-003"), ("roamer", "LAG-001"), ("drifter", "KAN-001")]
    found = {}
    for caller, terminal in cases:
        by_id = fleet.post_ticket(caller, {"atm_id": fleet.atms[terminal], "title": "Jammed"})
        by_terminal = fleet.post_ticket(caller, {"terminal_id": terminal, "title": "Jammed"})
        found[caller, terminal] = (
            by_id.status_code, list(by_id.get_json().get("errors", {})),
            by_terminal.status_code, list(by_terminal.get_json().get("errors", {})))
    assert found == {case: (400, ["atm_id"], 400, ["terminal_id"]) for case in cases}
    assert ticket_count() == 0


def test_every_role_raises_tickets_for_the_atms_it_sees(fleet):
    for caller, terminal in [("host", "KAN-002"), ("lsup", "LAG-003"), ("ltech2", "LAG-001"),
                             ("ksup", "KAN-001"), ("ktech", "KAN-002")]:
        ticket = fleet.raise_ticket(caller, fleet.atms[terminal])
        assert (ticket["atm"]["terminal_id"], ticket["reported_by"]["username"]) == (
            terminal, caller)
    assert ticket_count() == 5


def test_a_decommissioned_atm_takes_no_new_ticket(fleet):
    response = fleet.client.patch(f"/api/atms/{fleet.atms['LAG-003']}/",
                                  headers=fleet.headers("host"), json={"is_active": False})
    assert response.status_code == 200
    for body, field in [({"atm_id": fleet.atms["LAG-003"]}, "atm_id"),
                        ({"terminal_id": "LAG-003"}, "terminal_id")]:
        answer = fleet.post_ticket("host", {**body, "title": "Jammed"})
        assert (answer.status_code, list(answer.get_json()["errors"])) == (400, [field])
    assert ticket_count() == 0


def test_an_atm_has_at_most_one_unresolved_preventive_ticket(fleet):
    first = fleet.raise_ticket("lsup", fleet.atms["LAG-001"], kind="preventive",
                               title="Quarterly service")
    assert (first["kind"], first["priority"], first["out_of_service"]) == (
        "preventive", "normal", False)
    again = fleet.post_ticket("host", {"atm_id": fleet.atms["LAG-001"], "kind": "preventive",
                                       "title": "Quarterly service"})
    assert again.status_code == 409
    assert set(again.get_json()) == {"detail"}
    # Faults, and preventive work on other ATMs, are not affected.
    fleet.raise_ticket("host", fleet.atms["LAG-001"])
    fleet.raise_ticket("host", fleet.atms["LAG-002"], kind="preventive")
    assert ticket_count() == 3
    # Once the first is done, the next may be raised.
    fleet.drive(first["id"], "resolved")
    fleet.raise_ticket("host", fleet.atms["LAG-001"], kind="preventive")
    assert ticket_count() == 4


def test_a_preventive_ticket_cannot_put_the_atm_out_of_service(fleet):
    response = fleet.post_ticket("host", {"atm_id": fleet.atms["LAG-001"], "kind": "preventive",
                                          "title": "Service", "out_of_service": True})
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["out_of_service"]
    assert ticket_count() == 0


def test_raising_a_ticket_without_a_token_is_401(fleet):
    response = fleet.client.post("/api/tickets/", json={"atm_id": fleet.atms["LAG-001"],
                                                        "title": "Jammed"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- Idempotency-Key ------------------------------------------------------------

def test_a_retried_create_with_the_same_key_answers_with_the_first_ticket(fleet):
    body = {"atm_id": fleet.atms["LAG-001"], "title": "Card reader jammed"}
    first = fleet.post_ticket("ltech1", body, **{"Idempotency-Key": "retry-1"})
    again = fleet.post_ticket("ltech1", {**body, "title": "Something else"},
                              **{"Idempotency-Key": "retry-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["title"] == "Card reader jammed"
    assert again.headers["Location"] == f"/api/tickets/{first.get_json()['id']}/"
    assert ticket_count() == 1


def test_another_user_or_another_key_gets_its_own_ticket(fleet):
    body = {"atm_id": fleet.atms["LAG-001"], "title": "Card reader jammed"}
    mine = fleet.post_ticket("ltech1", body, **{"Idempotency-Key": "k-1"}).get_json()["id"]
    theirs = fleet.post_ticket("ltech2", body, **{"Idempotency-Key": "k-1"}).get_json()["id"]
    other = fleet.post_ticket("ltech1", body, **{"Idempotency-Key": "k-2"}).get_json()["id"]
    plain = [fleet.post_ticket("ltech1", body).get_json()["id"] for _ in range(2)]
    assert len({mine, theirs, other, *plain}) == 5
    assert ticket_count() == 5


def test_a_refused_create_does_not_use_up_its_key(fleet):
    refused = fleet.post_ticket("host", {"atm_id": fleet.atms["LAG-001"]},
                                **{"Idempotency-Key": "k-1"})
    assert refused.status_code == 400
    body = {"atm_id": fleet.atms["LAG-001"], "title": "Jammed"}
    created = fleet.post_ticket("host", body, **{"Idempotency-Key": "k-1"})
    replay = fleet.post_ticket("host", body, **{"Idempotency-Key": "k-1"})
    assert (created.status_code, replay.status_code) == (201, 201)
    assert created.get_json()["id"] == replay.get_json()["id"]
    assert ticket_count() == 1


def test_a_key_older_than_24_hours_no_longer_replays(fleet):
    body = {"atm_id": fleet.atms["LAG-001"], "title": "Jammed"}
    first = fleet.post_ticket("host", body, **{"Idempotency-Key": "k-1"}).get_json()["id"]
    _db.session.execute(_db.update(IdempotencyKey).values(
        created_at=utcnow() - timedelta(hours=24, minutes=5)))
    _db.session.commit()
    again = fleet.post_ticket("host", body, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201
    assert again.get_json()["id"] != first
    assert ticket_count() == 2


# --- GET /api/tickets/<id>/ --------------------------------------------------------

def test_a_ticket_is_read_by_who_sees_it_with_its_etag(fleet):
    ticket = fleet.ticket_in("assigned")
    answers = {}
    for caller in ("host", "lsup", "ltech1", "ltech2", "ksup", "ktech"):
        response = fleet.client.get(f"/api/tickets/{ticket['id']}/",
                                    headers=fleet.headers(caller))
        answers[caller] = (response.status_code, response.headers.get("ETag"))
    assert answers == {"host": (200, '"2"'), "lsup": (200, '"2"'), "ltech1": (200, '"2"'),
                       "ltech2": (404, None), "ksup": (404, None), "ktech": (404, None)}


def test_a_ticket_object_has_exactly_the_contract_keys(fleet):
    ticket = fleet.ticket_in("resolved")
    assert set(ticket) == TICKET_KEYS
    assert set(ticket["atm"]) == {"id", "terminal_id", "city", "address"}
    assert ticket["assignee"] == {"id": fleet.users["ltech1"], "username": "ltech1"}
    assert ticket["reported_by"] == {"id": fleet.users["host"], "username": "host"}
    for key in ("created_at", "assigned_at", "started_at", "resolved_at"):
        assert ISO_SECONDS.match(ticket[key]), key


def test_a_user_without_a_city_sees_no_ticket(fleet, make_user):
    make_user("roamer", role="technician", city=None)
    make_user("drifter", role="supervisor", city=None)
    ticket = fleet.ticket_in("open")
    for who in ("roamer", "drifter"):
        response = fleet.client.get(f"/api/tickets/{ticket['id']}/", headers=fleet.headers(who))
        assert response.status_code == 404
        assert listing(fleet, who) == {"tickets": [], "next": None}


def test_a_ticket_that_does_not_exist_is_404(fleet):
    for path in ("/api/tickets/999999/", f"/api/tickets/{2**31}/", f"/api/tickets/{2**63}/",
                 f"/api/tickets/{2**31}/events/", f"/api/tickets/{2**31}/notes/"):
        response = (fleet.client.post(path, headers=fleet.headers("host"), json={"text": "x"})
                    if path.endswith("notes/") else
                    fleet.client.get(path, headers=fleet.headers("host")))
        assert response.status_code == 404, path
        assert set(response.get_json()) == {"detail"}, path


def test_city_comparisons_ignore_case_and_spaces(fleet, make_user):
    make_user("shouty", role="supervisor", city="  LAGOS ")
    atm = fleet.create_atm(terminal_id="LAG-900", city=" lagos  ", address="1 Quay")
    assert atm["city"] == "lagos"
    ticket = fleet.raise_ticket("ltech1", atm["id"])
    assert fleet.get_ticket(ticket["id"], "shouty")["id"] == ticket["id"]
    assert fleet.get_ticket(ticket["id"], "lsup")["id"] == ticket["id"]
    assert ticket["id"] in listed_ids(fleet, "shouty")


# --- GET /api/tickets/ -----------------------------------------------------------

BOARD = {  # name: (terminal, status, kind, priority, title, technician)
    "t1": ("LAG-001", "open", "fault", "critical", "Card reader jammed", None),
    "t2": ("LAG-002", "assigned", "fault", "high", "Cash dispenser empty", "ltech1"),
    "t3": ("LAG-003", "in_progress", "preventive", "normal", "Quarterly service", "ltech1"),
    "t4": ("LAG-001", "resolved", "fault", "low", "Screen flickers", "ltech2"),
    "t5": ("KAN-001", "on_hold", "fault", "normal", "Printer out of paper", "ktech"),
    "t6": ("KAN-002", "cancelled", "fault", "critical", "Duplicate report", None),
}
# Hours from now: created (t1 oldest), restore due (t1, t4, t6 past).
CREATED_HOURS = {"t1": -10, "t2": -9, "t3": -8, "t4": -7, "t5": -6, "t6": -5}
DUE_HOURS = {"t1": -2, "t2": 5, "t3": 1, "t4": -3, "t5": 3, "t6": -1}


@pytest.fixture
def board(fleet):
    """Six tickets in Lagos and Kano with known ages and due times: name -> id."""
    now = utcnow()
    ids = {}
    for name, (terminal, status, kind, priority, title, technician) in BOARD.items():
        ticket = fleet.ticket_in(status, terminal, technician, kind=kind, priority=priority,
                                 title=title)
        ids[name] = ticket["id"]
        set_ticket(ticket["id"], created_at=now + timedelta(hours=CREATED_HOURS[name]),
                   restore_due_at=now + timedelta(hours=DUE_HOURS[name]))
    return ids


def test_every_list_filter_selects_its_tickets_newest_first(fleet, board):
    queries = {
        "": "t6 t5 t4 t3 t2 t1",
        "status=open": "t1",
        "status=assigned,in_progress": "t3 t2",
        "status=resolved,closed,cancelled": "t6 t4",
        "status=on_hold": "t5",
        "priority=critical": "t6 t1",
        "priority=high,low": "t4 t2",
        "kind=preventive": "t3",
        "kind=fault": "t6 t5 t4 t2 t1",
        "city=Kano": "t6 t5",
        "city=kano": "t6 t5",
        f"city={quote(' LAGOS ')}": "t4 t3 t2 t1",
        f"atm_id={fleet.atms['LAG-001']}": "t4 t1",
        f"atm_id={fleet.atms['KAN-002']}": "t6",
        f"assignee_id={fleet.users['ltech1']}": "t3 t2",
        f"assignee_id={fleet.users['ktech']}": "t5",
        "overdue=true": "t1",
        "overdue=1": "t1",
        "overdue=false": "t6 t5 t4 t3 t2",
        "overdue=0": "t6 t5 t4 t3 t2",
        "q=Card": "t1",
        "q=KAN-00": "t6 t5",
        "q=LAG-001": "t4 t1",
        "q=service": "t3",
        "q=nothing-like-this": "",
        "sort=created": "t6 t5 t4 t3 t2 t1",
        "sort=due": "t4 t1 t6 t3 t5 t2",
        "status=open,assigned&city=Lagos&sort=due": "t1 t2",
        "priority=critical&status=open": "t1",
        "kind=fault&overdue=false&city=Lagos": "t4 t2",
    }
    names = {ticket_id: name for name, ticket_id in board.items()}
    found = {query: " ".join(names[ticket_id] for ticket_id in listed_ids(fleet, "host", query))
             for query in queries}
    assert found == queries


def test_q_matches_titles_and_terminal_ids_in_any_case(fleet, board):
    names = {ticket_id: name for name, ticket_id in board.items()}
    found = {query: [names[i] for i in listed_ids(fleet, "host", query)]
             for query in ("q=card", "q=kan-00", "q=SCREEN")}
    assert found == {"q=card": ["t1"], "q=kan-00": ["t6", "t5"], "q=SCREEN": ["t4"]}


def test_each_role_lists_exactly_the_tickets_it_sees(fleet, board, make_user):
    make_user("roamer", role="technician", city=None)
    make_user("drifter", role="supervisor", city=None)
    names = {ticket_id: name for name, ticket_id in board.items()}
    expected = {"host": "t6 t5 t4 t3 t2 t1", "lsup": "t4 t3 t2 t1", "ksup": "t6 t5",
                "ltech1": "t3 t2 t1", "ltech2": "t4 t1", "ktech": "t5", "roamer": "",
                "drifter": ""}
    found = {who: " ".join(names[i] for i in listed_ids(fleet, who)) for who in expected}
    assert found == expected


def test_filters_never_reach_past_what_the_caller_sees(fleet, board):
    assert listed_ids(fleet, "ltech1", f"assignee_id={fleet.users['ltech2']}") == []
    assert listed_ids(fleet, "lsup", "city=Kano") == []
    assert listed_ids(fleet, "ltech2", f"atm_id={fleet.atms['LAG-002']}") == []
    assert listed_ids(fleet, "ksup", "q=LAG") == []


def test_a_technician_sees_its_citys_open_unassigned_tickets_and_its_own(fleet, board):
    tickets = listing(fleet, "ltech2")["tickets"]
    assert [(t["id"], t["status"], t["assignee"]) for t in tickets] == [
        (board["t4"], "resolved", {"id": fleet.users["ltech2"], "username": "ltech2"}),
        (board["t1"], "open", None)]
    assert [t["overdue"] for t in tickets] == [False, True]


BAD_QUERIES = [
    ("status", "bogus"), ("status", "open,bogus"), ("priority", "urgent"), ("kind", "repair"),
    ("atm_id", "abc"), ("assignee_id", "x"), ("overdue", "yes"), ("overdue", "maybe"),
    ("sort", "title"), ("limit", "0"), ("limit", "201"), ("limit", "abc"), ("limit", "-1"),
    ("cursor", "garbage"),
]


def test_a_bad_query_value_is_400_naming_the_parameter(fleet):
    found = {}
    for param, value in BAD_QUERIES:
        response = fleet.client.get(f"/api/tickets/?{param}={value}",
                                    headers=fleet.headers("host"))
        found[param, value] = (response.status_code,
                               list(response.get_json().get("errors", {})))
    assert found == {(param, value): (400, [param]) for param, value in BAD_QUERIES}


def test_listing_without_a_token_is_401(client):
    response = client.get("/api/tickets/")
    assert response.status_code == 401
    assert set(response.get_json()) == {"detail"}


def test_the_default_page_is_50_and_limit_goes_up_to_200(fleet):
    made = [fleet.raise_ticket("host", fleet.atms["LAG-001"], title=f"T{i}")["id"]
            for i in range(52)]
    first = listing(fleet, "host")
    assert len(first["tickets"]) == 50 and first["next"] is not None
    second = listing(fleet, "host", f"cursor={quote(first['next'])}")
    assert second["next"] is None
    seen = [t["id"] for t in first["tickets"] + second["tickets"]]
    assert sorted(seen) == sorted(made) and len(seen) == 52
    whole = listing(fleet, "host", "limit=200")
    assert (len(whole["tickets"]), whole["next"]) == (52, None)
    exact = listing(fleet, "host", "limit=52")
    assert (len(exact["tickets"]), exact["next"]) == (52, None)


def walk(fleet, query, between=None):
    """Every page of a list, calling `between(page_number)` before each next page."""
    pages, cursor = [], None
    while True:
        suffix = f"&cursor={quote(cursor)}" if cursor else ""
        page = listing(fleet, "host", query + suffix)
        pages.append([t["id"] for t in page["tickets"]])
        cursor = page["next"]
        if cursor is None:
            return pages
        if between:
            between(len(pages))
        assert len(pages) < 50, "paging never ends"


def test_due_pages_never_repeat_or_skip_a_row_while_rows_are_added(fleet):
    base = utcnow().replace(second=0) + timedelta(days=3)
    due = {}

    def add(minutes):
        ticket_id = fleet.raise_ticket("host", fleet.atms["LAG-002"])["id"]
        due[ticket_id] = base + timedelta(minutes=minutes)
        set_ticket(ticket_id, restore_due_at=due[ticket_id])
        return ticket_id

    for minutes in (0, 0, 0, 60, 60, 120, 180, 180, 240):
        add(minutes)
    earlier = []

    def between(page_number):
        if page_number == 1:       # the cursor is on the third of the ties at 0
            add(0)                 # same due, larger id: after the cursor
            earlier.append(add(-60))  # before the cursor: never shown
            add(300)
        elif page_number == 2:
            add(60)
            add(180)

    pages = walk(fleet, "sort=due&limit=3", between)
    seen = [ticket_id for page in pages for ticket_id in page]
    expected = sorted((ticket_id for ticket_id in due if ticket_id not in earlier),
                      key=lambda ticket_id: (due[ticket_id], ticket_id))
    assert seen == expected
    assert all(len(page) == 3 for page in pages[:-1])


def test_created_pages_never_repeat_or_skip_a_row_while_rows_are_added(fleet):
    base = utcnow() - timedelta(days=1)
    created = {}

    def add(minutes):
        ticket_id = fleet.raise_ticket("host", fleet.atms["LAG-003"])["id"]
        if minutes is not None:
            created[ticket_id] = base + timedelta(minutes=minutes)
            set_ticket(ticket_id, created_at=created[ticket_id])
        return ticket_id

    for minutes in range(0, 70, 10):      # seven tickets, a day old, ten minutes apart
        add(minutes)
    newer = []

    def between(page_number):
        newer.append(add(None))           # brand new: before the cursor, never shown
        add(-5 - page_number)             # older than every row: shown at the end

    pages = walk(fleet, "sort=created&limit=2", between)
    seen = [ticket_id for page in pages for ticket_id in page]
    expected = sorted(created, key=lambda ticket_id: (created[ticket_id], ticket_id),
                      reverse=True)
    assert seen == expected
    assert not set(newer) & set(seen)


def test_a_tampered_cursor_is_400(fleet):
    for _ in range(3):
        fleet.raise_ticket("host", fleet.atms["LAG-001"])
    cursor = listing(fleet, "host", "limit=1")["next"]
    assert cursor
    flipped = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    for bad in (flipped, cursor[::-1], cursor + "x", "x" + cursor, "eyJpZCI6IDF9"):
        response = fleet.client.get(f"/api/tickets/?limit=1&cursor={quote(bad)}",
                                    headers=fleet.headers("host"))
        assert response.status_code == 400, bad
        assert list(response.get_json()["errors"]) == ["cursor"]


# --- PATCH /api/tickets/<id>/ ---------------------------------------------------

def test_a_supervisor_edits_the_editable_fields_and_the_version_grows(fleet):
    ticket = fleet.ticket_in("assigned", terminal="LAG-002")
    response = fleet.client.patch(f"/api/tickets/{ticket['id']}/", headers=fleet.headers("lsup"),
                                  json={"title": "  Dispenser jammed ", "description": "Notes",
                                        "priority": "critical", "out_of_service": True})
    assert response.status_code == 200
    body = response.get_json()
    assert response.headers["ETag"] == '"3"'
    assert {key: body[key] for key in ("title", "description", "priority", "out_of_service",
                                       "version", "status")} == {
        "title": "Dispenser jammed", "description": "Notes", "priority": "critical",
        "out_of_service": True, "version": 3, "status": "assigned"}
    created = parse(ticket["created_at"])
    assert parse(body["response_due_at"]) == created + timedelta(minutes=60)
    assert parse(body["restore_due_at"]) == created + timedelta(minutes=240)
    stored = fleet.get_ticket(ticket["id"], "lsup")
    assert stored == body


def test_the_host_edits_any_citys_ticket_and_a_resolved_one(fleet):
    ticket = fleet.ticket_in("resolved", terminal="KAN-001")
    response = fleet.client.patch(f"/api/tickets/{ticket['id']}/", headers=fleet.headers("host"),
                                  json={"title": "Printer replaced"})
    assert response.status_code == 200
    assert (response.get_json()["title"], response.get_json()["version"]) == (
        "Printer replaced", ticket["version"] + 1)


EDIT_ORDER = [  # caller, status, headers, body, the answer
    ("ksup", "assigned", {"If-Match": '"99"'}, {"title": ""}, 404),
    ("ltech2", "assigned", {"If-Match": '"99"'}, {"title": ""}, 404),
    ("ktech", "open", {}, {"title": "x"}, 404),
    ("ltech1", "assigned", {"If-Match": '"99"'}, {"title": ""}, 403),
    ("ltech2", "open", {}, {"title": "x"}, 403),
    ("lsup", "closed", {"If-Match": '"99"'}, {"title": ""}, 412),
    ("lsup", "closed", {}, {"priority": "urgent"}, 400),
    ("lsup", "closed", {}, {"title": "Too late"}, 409),
    ("host", "cancelled", {}, {"out_of_service": True}, 409),
]


def test_edit_checks_answer_in_order_404_403_412_400_409(fleet):
    tickets = {status: fleet.ticket_in(status) for status in ("open", "assigned", "closed",
                                                              "cancelled")}
    found = {}
    for number, (caller, status, headers, body, _) in enumerate(EDIT_ORDER):
        response = fleet.client.patch(f"/api/tickets/{tickets[status]['id']}/",
                                      headers=fleet.headers(caller, **headers), json=body)
        found[number, caller, status] = response.status_code
    assert found == {(number, case[0], case[1]): case[4]
                     for number, case in enumerate(EDIT_ORDER)}
    assert {status: fleet.get_ticket(ticket["id"]) for status, ticket in tickets.items()} == (
        tickets)


INVALID_EDITS = [
    ({"status": "closed"}, "status"), ({"kind": "preventive"}, "kind"),
    ({"atm_id": 2}, "atm_id"), ({"reopen_count": 0}, "reopen_count"),
    ({"title": ""}, "title"), ({"title": "x" * 201}, "title"), ({"title": 3}, "title"),
    ({"title": None}, "title"), ({"priority": "urgent"}, "priority"),
    ({"priority": None}, "priority"), ({"out_of_service": "no"}, "out_of_service"),
    ({"description": "x" * 5001}, "description"), ({"description": 12}, "description"),
]


def test_an_invalid_edit_is_400_naming_the_field_and_changes_nothing(fleet):
    ticket = fleet.ticket_in("open")
    found = {}
    for changes, field in INVALID_EDITS:
        response = fleet.client.patch(f"/api/tickets/{ticket['id']}/",
                                      headers=fleet.headers("host"), json=changes)
        found[repr(changes)] = (response.status_code,
                                list(response.get_json().get("errors", {})))
    assert found == {repr(changes): (400, [field]) for changes, field in INVALID_EDITS}
    assert fleet.get_ticket(ticket["id"]) == ticket


def test_an_edit_that_is_not_a_json_object_is_400_non_field_errors(fleet):
    ticket = fleet.ticket_in("open")
    response = fleet.client.patch(f"/api/tickets/{ticket['id']}/",
                                  headers=fleet.headers("host"), json=["title"])
    assert response.status_code == 400
    assert "non_field_errors" in response.get_json()["errors"]


def test_a_preventive_ticket_cannot_be_edited_out_of_service(fleet):
    ticket = fleet.raise_ticket("host", fleet.atms["LAG-001"], kind="preventive")
    response = fleet.client.patch(f"/api/tickets/{ticket['id']}/",
                                  headers=fleet.headers("host"), json={"out_of_service": True})
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["out_of_service"]


def test_an_edit_honours_if_match(fleet):
    found = {}
    for if_match in ('"1"', "*", '"2"', '"0"'):
        ticket = fleet.raise_ticket("host", fleet.atms["LAG-001"])
        response = fleet.client.patch(f"/api/tickets/{ticket['id']}/",
                                      headers=fleet.headers("host", **{"If-Match": if_match}),
                                      json={"title": "Renamed"})
        now = fleet.get_ticket(ticket["id"])
        found[if_match] = (response.status_code, now["title"], now["version"],
                           response.headers.get("ETag"))
    assert found == {'"1"': (200, "Renamed", 2, '"2"'), "*": (200, "Renamed", 2, '"2"'),
                     '"2"': (412, "Card reader jammed", 1, None),
                     '"0"': (412, "Card reader jammed", 1, None)}


def test_a_stale_if_match_after_an_action_is_412(fleet):
    ticket = fleet.raise_ticket("host", fleet.atms["LAG-001"])
    fleet.step("lsup", ticket["id"], "assign", {"assignee_id": fleet.users["ltech1"]})
    response = fleet.client.patch(f"/api/tickets/{ticket['id']}/",
                                  headers=fleet.headers("lsup", **{"If-Match": '"1"'}),
                                  json={"priority": "low"})
    assert response.status_code == 412
    assert fleet.get_ticket(ticket["id"])["priority"] == "normal"


# --- notes and the timeline -----------------------------------------------------------

def events_of(fleet, ticket_id, who="host"):
    response = fleet.client.get(f"/api/tickets/{ticket_id}/events/", headers=fleet.headers(who))
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["events"]
    return body["events"]


def test_a_note_is_201_and_does_not_change_the_version(fleet):
    ticket = fleet.ticket_in("assigned")
    response = fleet.client.post(f"/api/tickets/{ticket['id']}/notes/",
                                 headers=fleet.headers("ltech1"),
                                 json={"text": "  Site manager not in until 2pm  "})
    assert response.status_code == 201
    assert response.get_json() == {"detail": "Note added."}
    after = fleet.client.get(f"/api/tickets/{ticket['id']}/", headers=fleet.headers("host"))
    assert (after.get_json()["version"], after.headers["ETag"]) == (2, '"2"')
    last = events_of(fleet, ticket["id"])[-1]
    assert (last["action"], last["actor"]) == (
        "note", {"id": fleet.users["ltech1"], "username": "ltech1"})
    assert "Site manager not in until 2pm" in last["detail"]


def test_an_invalid_note_is_400_on_text(fleet):
    ticket = fleet.ticket_in("open")
    bodies = [{}, {"text": ""}, {"text": "   "}, {"text": "x" * 2001}, {"text": 5},
              {"text": None}]
    found = {}
    for body in bodies:
        response = fleet.client.post(f"/api/tickets/{ticket['id']}/notes/",
                                     headers=fleet.headers("host"), json=body)
        found[repr(body)] = (response.status_code, list(response.get_json().get("errors", {})))
    assert found == {repr(body): (400, ["text"]) for body in bodies}
    assert [event["action"] for event in events_of(fleet, ticket["id"])] == ["created"]


def test_the_longest_note_is_accepted(fleet):
    ticket = fleet.ticket_in("open")
    response = fleet.client.post(f"/api/tickets/{ticket['id']}/notes/",
                                 headers=fleet.headers("lsup"),
                                 json={"text": "  " + "n" * 2000 + "  "})
    assert response.status_code == 201


def test_notes_and_events_of_an_unseen_ticket_are_404(fleet):
    ticket = fleet.ticket_in("assigned")
    found = {}
    for who in ("ksup", "ktech", "ltech2"):
        note = fleet.client.post(f"/api/tickets/{ticket['id']}/notes/",
                                 headers=fleet.headers(who), json={"text": "Hello"})
        events = fleet.client.get(f"/api/tickets/{ticket['id']}/events/",
                                  headers=fleet.headers(who))
        found[who] = (note.status_code, events.status_code)
    assert found == {"ksup": (404, 404), "ktech": (404, 404), "ltech2": (404, 404)}
    assert [event["action"] for event in events_of(fleet, ticket["id"])] == ["created", "assign"]


def test_the_timeline_lists_creation_every_action_edit_and_note_oldest_first(fleet):
    ticket = fleet.raise_ticket("host", fleet.atms["LAG-001"])
    tid = ticket["id"]
    fleet.step("lsup", tid, "assign", {"assignee_id": fleet.users["ltech1"]})
    fleet.step("ltech1", tid, "start")
    fleet.step("ltech1", tid, "hold", {"reason": "Waiting for a card reader"})
    fleet.step("ltech1", tid, "start")
    fleet.step("ltech1", tid, "resolve", {"resolution": "Replaced the card reader"})
    assert fleet.client.patch(f"/api/tickets/{tid}/", headers=fleet.headers("lsup"),
                              json={"priority": "high"}).status_code == 200
    assert fleet.client.post(f"/api/tickets/{tid}/notes/", headers=fleet.headers("ltech1"),
                             json={"text": "Old reader kept for RMA"}).status_code == 201
    fleet.step("lsup", tid, "close")
    fleet.step("lsup", tid, "reopen", {"reason": "Customer reports it again"})
    fleet.step("lsup", tid, "cancel", {"reason": "Duplicate of another ticket"})

    events = events_of(fleet, tid, "lsup")
    assert all(set(event) == {"time", "actor", "action", "from_status", "to_status", "detail"}
               and ISO_SECONDS.match(event["time"]) for event in events)
    assert [event["time"] for event in events] == sorted(event["time"] for event in events)
    assert [(e["action"], e["actor"]["username"]) for e in events] == [
        ("created", "host"), ("assign", "lsup"), ("start", "ltech1"), ("hold", "ltech1"),
        ("start", "ltech1"), ("resolve", "ltech1"), ("edit", "lsup"), ("note", "ltech1"),
        ("close", "lsup"), ("reopen", "lsup"), ("cancel", "lsup")]
    transitions = [(e["action"], e["from_status"], e["to_status"]) for e in events
                   if e["action"] not in ("edit", "note")]
    assert transitions == [
        ("created", None, "open"), ("assign", "open", "assigned"),
        ("start", "assigned", "in_progress"), ("hold", "in_progress", "on_hold"),
        ("start", "on_hold", "in_progress"), ("resolve", "in_progress", "resolved"),
        ("close", "resolved", "closed"), ("reopen", "closed", "assigned"),
        ("cancel", "assigned", "cancelled")]
    details = {e["action"]: e["detail"] for e in events}
    assert "Waiting for a card reader" in details["hold"]
    assert "Replaced the card reader" in details["resolve"]
    assert "Old reader kept for RMA" in details["note"]
    assert "Customer reports it again" in details["reopen"]
    assert "Duplicate of another ticket" in details["cancel"]
    assert events[0]["actor"] == {"id": fleet.users["host"], "username": "host"}


def test_the_assignee_reads_its_tickets_timeline(fleet):
    ticket = fleet.ticket_in("in_progress")
    assert [e["action"] for e in events_of(fleet, ticket["id"], "ltech1")] == [
        "created", "assign", "start"]


# --- overdue ----------------------------------------------------------------------

def test_overdue_means_unresolved_with_restore_due_in_the_past(fleet):
    expected = {"open": True, "assigned": True, "in_progress": True, "on_hold": True,
                "resolved": False, "closed": False, "cancelled": False}
    tickets = {status: fleet.ticket_in(status)["id"] for status in expected}
    assert {status: fleet.get_ticket(tid)["overdue"] for status, tid in tickets.items()} == {
        status: False for status in expected}
    for tid in tickets.values():
        set_ticket(tid, restore_due_at=utcnow() - timedelta(minutes=1))
    assert {status: fleet.get_ticket(tid)["overdue"] for status, tid in tickets.items()} == (
        expected)
    assert sorted(listed_ids(fleet, "host", "overdue=true")) == sorted(
        tickets[status] for status, overdue in expected.items() if overdue)
