"""Ticket actions (POST /api/tickets/<id>/<action>/): who may take which action
from which status, the order in which the checks answer, and what each
action changes.

The role x status x action matrix is generated from the contract's table,
typed in below (ACTIONS); nothing here is read from the product code.
"""
import json

import pytest

from atm_app.extensions import db as _db
from atm_app.models import TicketEvent

STATUSES = ("open", "assigned", "in_progress", "on_hold", "resolved", "closed", "cancelled")

# The contract's table, "What changes a ticket": action -> (from, to, who).
# who: "host"; "supervisor" (of the ticket's city); "assignee" (the ticket's);
# "technician itself from open" (a technician assigning itself, from `open` only).
ACTIONS = {
    "assign": (("open", "assigned", "on_hold"), "assigned",
               ("supervisor", "host", "technician itself from open")),
    "start": (("assigned", "on_hold"), "in_progress", ("assignee",)),
    "hold": (("assigned", "in_progress"), "on_hold", ("assignee", "supervisor", "host")),
    "resolve": (("in_progress",), "resolved", ("assignee", "supervisor", "host")),
    "close": (("resolved",), "closed", ("supervisor", "host")),
    "reopen": (("resolved", "closed"), "assigned", ("supervisor", "host")),
    "cancel": (("open", "assigned", "on_hold"), "cancelled", ("supervisor", "host")),
}

# The callers the fleet makes, facing a Lagos ticket: username -> (role, city).
CALLERS = {
    "host": ("host", None),
    "lsup": ("supervisor", "Lagos"),
    "ksup": ("supervisor", "Kano"),
    "ltech1": ("technician", "Lagos"),  # the assignee, wherever the ticket has one
    "ltech2": ("technician", "Lagos"),
    "ktech": ("technician", "Kano"),
}
# The assignee of a ticket the fleet brings to each status (Fleet.ticket_in).
ASSIGNEE_IN = {"open": None, "assigned": "ltech1", "in_progress": "ltech1",
               "on_hold": "ltech1", "resolved": "ltech1", "closed": "ltech1",
               "cancelled": None}
NAMES_THE_STATUS = "detail names the status"


def sees(caller, status, assignee):
    """The visibility table, for a Lagos ticket."""
    role, city = CALLERS[caller]
    if role == "host":
        return True
    if city != "Lagos":
        return False
    return role == "supervisor" or assignee == caller or (status == "open" and assignee is None)


def may(caller, action, status, assignee):
    """The `who` column (a technician's assign: to itself, from `open` only)."""
    role, _ = CALLERS[caller]
    who = ACTIONS[action][2]
    if role in ("host", "supervisor"):
        return role in who
    return (("assignee" in who and assignee == caller)
            or ("technician itself from open" in who and status == "open"))


def expected_answer(caller, action, status, assignee):
    """(HTTP status, ticket status afterwards), checks in the contract's order."""
    sources, target, _ = ACTIONS[action]
    if not sees(caller, status, assignee):
        return 404, status
    if not may(caller, action, status, assignee):
        return 403, status
    if status not in sources:
        return 409, status
    return 200, target


def actions_for(caller, status, assignee):
    """The `actions` a ticket in `status` lists for `caller`, sorted."""
    return sorted(action for action, (sources, _, _) in ACTIONS.items()
                  if status in sources and may(caller, action, status, assignee))


def body_for(fleet, caller, action):
    """A valid body; an assign goes to the caller itself (technician) or to ltech2."""
    if action == "assign":
        technician = caller if CALLERS[caller][0] == "technician" else "ltech2"
        return {"assignee_id": fleet.users[technician]}
    return fleet.body(action)


def assignee_after(caller, action, assignee):
    if action == "assign":
        return caller if CALLERS[caller][0] == "technician" else "ltech2"
    return assignee


def event_actions(ticket_id):
    _db.session.expire_all()
    return _db.session.execute(
        _db.select(TicketEvent.action).where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.id)).scalars().all()


# --- the matrix ---------------------------------------------------------------

@pytest.mark.parametrize("action", ACTIONS)
def test_every_role_and_status_gets_the_answer_the_contract_table_gives(fleet, action):
    """For each (caller, starting status): the HTTP status, the status afterwards,
    the version change, and the body (the caller's `actions`, or a `detail`)."""
    expected, actual = {}, {}
    for status in STATUSES:
        assignee = ASSIGNEE_IN[status]
        untouched = None  # one ticket for every caller that must change nothing
        for caller in CALLERS:
            code, after = expected_answer(caller, action, status, assignee)
            if code == 200:
                ticket = fleet.ticket_in(status)
                extra = actions_for(caller, after, assignee_after(caller, action, assignee))
            else:
                untouched = untouched or fleet.ticket_in(status)
                ticket = untouched
                extra = ["detail"] + ([NAMES_THE_STATUS] if code == 409 else [])
            expected[status, caller] = (code, after, 1 if code == 200 else 0, extra)

            response = fleet.act(caller, ticket["id"], action, body_for(fleet, caller, action))
            body = response.get_json()
            if response.status_code == 200:
                now = body
                extra = sorted(body["actions"])
            else:
                now = fleet.get_ticket(ticket["id"])
                extra = sorted(body) + ([NAMES_THE_STATUS] if status in body.get("detail", "")
                                        and response.status_code == 409 else [])
            actual[status, caller] = (response.status_code, now["status"],
                                      now["version"] - ticket["version"], extra)
    assert actual == expected


def test_each_ticket_lists_the_actions_its_caller_may_take_now(fleet):
    tickets = {status: fleet.ticket_in(status)["id"] for status in STATUSES}
    expected, actual = {}, {}
    for caller in CALLERS:
        listed = {ticket["id"]: sorted(ticket["actions"]) for ticket in fleet.client.get(
            "/api/tickets/?limit=200", headers=fleet.headers(caller)).get_json()["tickets"]}
        for status, ticket_id in tickets.items():
            if sees(caller, status, ASSIGNEE_IN[status]):
                expected[caller, status] = actions_for(caller, status, ASSIGNEE_IN[status])
            else:
                expected[caller, status] = 404
            response = fleet.client.get(f"/api/tickets/{ticket_id}/",
                                        headers=fleet.headers(caller))
            actual[caller, status] = (sorted(response.get_json()["actions"])
                                      if response.status_code == 200 else response.status_code)
            # The list shows the same actions, and nothing the caller may not see.
            assert listed.get(ticket_id, 404) == actual[caller, status], (caller, status)
    assert actual == expected


def test_a_technician_sees_assign_on_its_citys_open_ticket_and_nothing_else(fleet):
    ticket = fleet.ticket_in("open")
    assert fleet.get_ticket(ticket["id"], "ltech2")["actions"] == ["assign"]
    assert sorted(fleet.get_ticket(ticket["id"], "lsup")["actions"]) == ["assign", "cancel"]


# --- the order of the checks ------------------------------------------------------

def assert_unchanged(fleet, ticket):
    now = fleet.get_ticket(ticket["id"])
    assert (now["status"], now["version"], now["assignee"]) == (
        ticket["status"], ticket["version"], ticket["assignee"])


STALE = '"99"'
# Each case fails several checks; the first in the contract's order answers.
# (caller, status, action, body, If-Match, answer); a body's "ME" is the caller's
# own id, any other username that user's id.
CHECK_ORDER = [
    # 1. unseen: 404, whatever else is wrong
    ("ksup", "resolved", "close", {}, STALE, 404),
    ("ktech", "open", "assign", {"assignee_id": None}, STALE, 404),
    ("ltech2", "assigned", "hold", {}, STALE, 404),
    ("ltech2", "in_progress", "start", {"colour": "red"}, STALE, 404),
    ("ltech1", "cancelled", "reopen", {}, STALE, 404),
    # 2. seen but not allowed: 403 before the version, the body and the status
    ("lsup", "assigned", "start", {}, STALE, 403),          # only the assignee starts
    ("host", "open", "start", {}, STALE, 403),              # nobody is the assignee yet
    ("ltech1", "resolved", "close", {}, STALE, 403),        # technicians do not close
    ("ltech1", "closed", "reopen", {}, STALE, 403),         # nor reopen (no reason given)
    ("ltech1", "assigned", "assign", {"assignee_id": "ME"}, STALE, 403),  # from open only
    ("ltech2", "open", "assign", {"assignee_id": "ltech1"}, STALE, 403),  # itself only
    ("ltech2", "open", "assign", {"assignee_id": "ltech1"}, None, 403),
    ("ltech1", "open", "cancel", {}, STALE, 403),
    ("ltech2", "open", "hold", {}, STALE, 403),             # not the assignee: none yet
    # 3. a version mismatch: 412 before the body and the status
    ("host", "assigned", "hold", {}, STALE, 412),
    ("host", "open", "close", {}, STALE, 412),
    ("lsup", "closed", "assign", {"assignee_id": "nobody"}, STALE, 412),
    # 4. a missing field or a bad assignee: 400 before the status
    ("lsup", "open", "hold", {}, None, 400),
    ("lsup", "open", "resolve", {"resolution": "  "}, None, 400),
    ("lsup", "closed", "cancel", {"reason": ""}, None, 400),
    ("lsup", "open", "reopen", {}, '"1"', 400),
    ("host", "closed", "assign", {"assignee_id": "ktech"}, None, 400),
    # 5. the wrong status: 409
    ("ltech1", "resolved", "start", {}, None, 409),
    ("host", "in_progress", "close", {}, "*", 409),
    ("host", "open", "resolve", {"resolution": "Done"}, None, 409),
    ("lsup", "cancelled", "cancel", {"reason": "Again"}, None, 409),
]


def test_the_checks_answer_in_order_404_403_412_400_409_and_change_nothing(fleet):
    tickets = {status: fleet.ticket_in(status) for status in STATUSES}
    tickets["open"] = fleet.get_ticket(tickets["open"]["id"])
    found, expected = {}, {}
    for number, (caller, status, action, body, if_match, answer) in enumerate(CHECK_ORDER):
        body = {key: (fleet.users[caller] if value == "ME" else fleet.users.get(value, value))
                if isinstance(value, str) else value for key, value in body.items()}
        headers = {"If-Match": if_match} if if_match else {}
        response = fleet.act(caller, tickets[status]["id"], action, body, **headers)
        reply = response.get_json()
        shape = sorted(reply)
        if response.status_code == 409:
            shape.append(status in reply["detail"])
        found[number, caller, status, action] = (response.status_code, shape)
        expected[number, caller, status, action] = (
            answer, ["detail", "errors"] if answer == 400 else ["detail"] + (
                [True] if answer == 409 else []))
    assert found == expected
    assert {status: fleet.get_ticket(ticket["id"]) for status, ticket in tickets.items()} == (
        tickets)


def test_a_bad_field_names_the_field(fleet):
    tickets = {status: fleet.ticket_in(status) for status in ("open", "closed")}
    cases = [("open", "hold", {}, "reason"), ("open", "resolve", {"resolution": " "},
                                               "resolution"),
             ("closed", "reopen", {"reason": ""}, "reason"),
             ("closed", "assign", {"assignee_id": fleet.users["ktech"]}, "assignee_id")]
    found = {(status, action): list(fleet.act("lsup", tickets[status]["id"], action, body)
                                    .get_json().get("errors", {}))
             for status, action, body, _ in cases}
    assert found == {(status, action): [field] for status, action, _, field in cases}


def test_an_unknown_action_or_ticket_is_404(fleet):
    ticket = fleet.ticket_in("assigned")
    for path in (f"/api/tickets/{ticket['id']}/explode/", "/api/tickets/999999/close/",
                 f"/api/tickets/{2**31}/close/", f"/api/tickets/{2**31 - 1}/assign/"):
        response = fleet.client.post(path, headers=fleet.headers("host"), json={})
        assert response.status_code == 404, path
        assert set(response.get_json()) == {"detail"}
    assert_unchanged(fleet, ticket)


def test_an_action_without_a_token_is_401(fleet):
    ticket = fleet.ticket_in("resolved")
    response = fleet.client.post(f"/api/tickets/{ticket['id']}/close/", json={})
    assert response.status_code == 401
    assert_unchanged(fleet, ticket)


# --- bodies ------------------------------------------------------------------------

@pytest.mark.parametrize("action, status, field", [
    ("hold", "assigned", "reason"),
    ("resolve", "in_progress", "resolution"),
    ("reopen", "resolved", "reason"),
    ("cancel", "open", "reason"),
])
def test_a_required_text_that_is_missing_blank_too_long_or_not_text_is_400(fleet, action,
                                                                           status, field):
    ticket = fleet.ticket_in(status)
    answers = {}
    for label, body in {"missing": {}, "null": {field: None}, "empty": {field: ""},
                        "blank": {field: " \t "}, "too long": {field: "x" * 1001},
                        "number": {field: 42}, "list": {field: ["x"]}}.items():
        response = fleet.act("host", ticket["id"], action, body)
        answers[label] = (response.status_code, sorted(response.get_json().get("errors", {})))
    assert answers == {label: (400, [field]) for label in answers}
    assert_unchanged(fleet, ticket)
    longest = fleet.step("host", ticket["id"], action, {field: "  " + "x" * 1000 + "  "})
    assert longest["status"] == ACTIONS[action][1]


def test_an_unknown_body_field_is_400_naming_it(fleet):
    ticket = fleet.ticket_in("assigned")
    response = fleet.act("host", ticket["id"], "hold", {"reason": "Parts", "colour": "red"})
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["colour"]
    assert_unchanged(fleet, ticket)


def test_a_body_that_is_not_a_json_object_is_400_non_field_errors(fleet):
    ticket = fleet.ticket_in("resolved")
    for body in ([], "close", 3, None, True):
        response = fleet.client.post(f"/api/tickets/{ticket['id']}/close/",
                                     data=json.dumps(body), headers=fleet.headers(
                                         "host", **{"Content-Type": "application/json"}))
        assert response.status_code == 400, body
        assert "non_field_errors" in response.get_json()["errors"], body
    assert_unchanged(fleet, ticket)


def test_a_body_that_is_not_json_is_415(fleet):
    ticket = fleet.ticket_in("resolved")
    response = fleet.client.post(f"/api/tickets/{ticket['id']}/close/", data="close",
                                 headers=fleet.headers("host", **{"Content-Type": "text/plain"}))
    assert response.status_code == 415
    assert_unchanged(fleet, ticket)


def test_an_action_without_a_body_at_all_is_taken(fleet):
    ticket = fleet.ticket_in("assigned")
    response = fleet.client.post(f"/api/tickets/{ticket['id']}/start/",
                                 headers=fleet.headers("ltech1"))
    assert response.status_code == 200
    assert response.get_json()["status"] == "in_progress"


def test_assigning_anyone_but_an_active_technician_of_the_city_is_400(fleet, make_user):
    named = {**fleet.users,
             "inactive": make_user("gone", role="technician", city="Lagos",
                                   is_active=False).id,
             "no city": make_user("roamer", role="technician", city=None).id}
    assignees = {name: named[name] for name in ("lsup", "ksup", "host", "ktech", "inactive",
                                                "no city")}
    assignees.update({"unknown": 999_999, "zero": 0, "negative": -1, "too large": 2**31,
                      "text": str(fleet.users["ltech2"]), "true": True, "decimal": 1.5,
                      "null": None, "list": [fleet.users["ltech2"]]})
    ticket = fleet.ticket_in("open")
    found = {}
    for label, assignee in assignees.items():
        response = fleet.act("lsup", ticket["id"], "assign", {"assignee_id": assignee})
        found[label] = (response.status_code, list(response.get_json().get("errors", {})))
    assert found == {label: (400, ["assignee_id"]) for label in assignees}
    assert_unchanged(fleet, ticket)


def test_a_technician_assigning_without_an_assignee_is_400(fleet):
    ticket = fleet.ticket_in("open")
    response = fleet.act("ltech2", ticket["id"], "assign", {})
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["assignee_id"]
    assert_unchanged(fleet, ticket)


def test_a_technician_takes_its_citys_open_ticket_by_assigning_itself(fleet):
    ticket = fleet.ticket_in("open")
    taken = fleet.step("ltech2", ticket["id"], "assign", {"assignee_id": fleet.users["ltech2"]})
    assert taken["status"] == "assigned"
    assert taken["assignee"] == {"id": fleet.users["ltech2"], "username": "ltech2"}
    # Now it is ltech2's: ltech1 no longer sees it.
    response = fleet.client.get(f"/api/tickets/{ticket['id']}/", headers=fleet.headers("ltech1"))
    assert response.status_code == 404


def test_a_supervisor_of_another_city_cannot_assign_even_to_its_own_technician(fleet):
    ticket = fleet.ticket_in("open")
    response = fleet.act("ksup", ticket["id"], "assign", {"assignee_id": fleet.users["ktech"]})
    assert response.status_code == 404
    assert_unchanged(fleet, ticket)


def test_a_kano_ticket_is_worked_by_kano_and_unseen_by_lagos(fleet):
    ticket = fleet.ticket_in("open", terminal="KAN-001")
    for caller in ("lsup", "ltech1"):
        assert fleet.act(caller, ticket["id"], "cancel", fleet.body("cancel")).status_code == 404
    assigned = fleet.step("ksup", ticket["id"], "assign", {"assignee_id": fleet.users["ktech"]})
    assert assigned["assignee"]["username"] == "ktech"
    assert fleet.step("ktech", ticket["id"], "start")["status"] == "in_progress"


# --- what each action changes ------------------------------------------------------

def test_assign_sets_the_assignee_and_assigned_at(fleet, clock):
    ticket = fleet.raise_ticket("host", fleet.atms["LAG-001"])
    assert ticket["assigned_at"] is None
    clock.at(5)
    response = fleet.act("lsup", ticket["id"], "assign", {"assignee_id": fleet.users["ltech1"]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["assignee"] == {"id": fleet.users["ltech1"], "username": "ltech1"}
    assert (body["status"], body["assigned_at"], body["version"]) == ("assigned", clock.iso(5), 2)
    assert response.headers["ETag"] == '"2"'
    clock.at(9)
    again = fleet.step("lsup", ticket["id"], "assign", {"assignee_id": fleet.users["ltech2"]})
    assert again["assignee"] == {"id": fleet.users["ltech2"], "username": "ltech2"}
    assert (again["status"], again["assigned_at"]) == ("assigned", clock.iso(9))


def test_only_the_first_start_sets_started_at(fleet, clock):
    ticket = fleet.ticket_in("assigned")
    clock.at(10)
    assert fleet.step("ltech1", ticket["id"], "start")["started_at"] == clock.iso(10)
    clock.at(20)
    fleet.step("ltech1", ticket["id"], "hold", {"reason": "No power at the site"})
    clock.at(30)
    again = fleet.step("ltech1", ticket["id"], "start")
    assert (again["status"], again["started_at"]) == ("in_progress", clock.iso(10))


@pytest.mark.parametrize("leave_by", ["start", "assign"])
def test_hold_keeps_its_trimmed_reason_and_leaving_the_hold_clears_it(fleet, leave_by):
    ticket = fleet.ticket_in("assigned")
    held = fleet.step("ltech1", ticket["id"], "hold", {"reason": "  No power at the site \n"})
    assert (held["status"], held["hold_reason"]) == ("on_hold", "No power at the site")
    who, body = ("ltech1", {}) if leave_by == "start" else (
        "lsup", {"assignee_id": fleet.users["ltech2"]})
    left = fleet.step(who, ticket["id"], leave_by, body)
    assert left["status"] == ACTIONS[leave_by][1]
    assert left["hold_reason"] is None


def test_the_supervisor_and_the_host_may_hold_and_resolve_the_assignees_work(fleet):
    ticket = fleet.ticket_in("in_progress")
    assert fleet.step("lsup", ticket["id"], "hold", {"reason": "Parts"})["status"] == "on_hold"
    fleet.step("ltech1", ticket["id"], "start")
    done = fleet.step("host", ticket["id"], "resolve", {"resolution": "Fixed"})
    assert (done["status"], done["resolution"], done["assignee"]["username"]) == (
        "resolved", "Fixed", "ltech1")


def test_resolve_sets_resolution_and_resolved_at_and_again_after_a_reopen(fleet, clock):
    ticket = fleet.ticket_in("in_progress")
    clock.at(10)
    first = fleet.step("ltech1", ticket["id"], "resolve", {"resolution": " Cleaned the reader "})
    assert (first["status"], first["resolution"], first["resolved_at"]) == (
        "resolved", "Cleaned the reader", clock.iso(10))
    clock.at(20)
    reopened = fleet.step("lsup", ticket["id"], "reopen", {"reason": "Jammed again"})
    assert (reopened["status"], reopened["reopen_count"]) == ("assigned", 1)
    assert reopened["assignee"] == {"id": fleet.users["ltech1"], "username": "ltech1"}
    clock.at(30)
    fleet.step("ltech1", ticket["id"], "start")
    clock.at(40)
    second = fleet.step("ltech1", ticket["id"], "resolve", {"resolution": "Replaced the reader"})
    assert (second["resolution"], second["resolved_at"], second["started_at"]) == (
        "Replaced the reader", clock.iso(40), ticket["started_at"])


def test_close_sets_closed_at(fleet, clock):
    ticket = fleet.ticket_in("resolved")
    assert ticket["closed_at"] is None
    clock.at(7)
    closed = fleet.step("lsup", ticket["id"], "close")
    assert (closed["status"], closed["closed_at"]) == ("closed", clock.iso(7))


def test_cancel_sets_closed_at_to_the_time_work_stopped(fleet, clock):
    tickets = {status: fleet.ticket_in(status)["id"] for status in ("open", "assigned",
                                                                     "on_hold")}
    found = {}
    for seconds, (status, ticket_id) in enumerate(tickets.items(), start=10):
        clock.at(seconds)
        cancelled = fleet.step("lsup", ticket_id, "cancel", {"reason": "Raised twice"})
        found[status] = (cancelled["status"], cancelled["closed_at"])
    assert found == {"open": ("cancelled", clock.iso(10)),
                     "assigned": ("cancelled", clock.iso(11)),
                     "on_hold": ("cancelled", clock.iso(12))}


def test_reopen_counts_every_reopen_from_resolved_and_from_closed(fleet):
    ticket = fleet.ticket_in("closed")
    first = fleet.step("host", ticket["id"], "reopen", {"reason": "Came back"})
    assert (first["status"], first["reopen_count"]) == ("assigned", 1)
    fleet.step("ltech1", ticket["id"], "start")
    fleet.step("ltech1", ticket["id"], "resolve", {"resolution": "Fixed again"})
    second = fleet.step("lsup", ticket["id"], "reopen", {"reason": "And again"})
    assert (second["status"], second["reopen_count"]) == ("assigned", 2)
    assert second["assignee"]["username"] == "ltech1"


@pytest.mark.parametrize("change, back_to", [
    ({"is_active": False}, "open"),
    ({"city": "Kano"}, "open"),
    ({"role": "supervisor"}, "open"),
    ({"city": "  LAGOS "}, "assigned"),
])
def test_reopen_goes_back_to_the_same_assignee_only_while_it_is_an_active_technician_of_the_city(
        fleet, change, back_to):
    ticket = fleet.ticket_in("resolved")
    response = fleet.client.patch(f"/api/users/{fleet.users['ltech1']}/",
                                  headers=fleet.headers("host"), json=change)
    assert response.status_code == 200, response.get_json()
    reopened = fleet.step("lsup", ticket["id"], "reopen", {"reason": "Came back"})
    assert (reopened["status"], reopened["reopen_count"]) == (back_to, 1)
    if back_to == "open":
        assert reopened["assignee"] is None
    else:
        assert reopened["assignee"] == {"id": fleet.users["ltech1"], "username": "ltech1"}


def test_every_action_adds_one_to_the_version_and_sends_it_as_the_etag(fleet):
    ticket = fleet.raise_ticket("host", fleet.atms["LAG-002"])
    assert ticket["version"] == 1
    steps = [("lsup", "assign", {"assignee_id": fleet.users["ltech1"]}),
             ("ltech1", "start", {}), ("ltech1", "hold", {"reason": "Parts"}),
             ("ltech1", "start", {}), ("ltech1", "resolve", {"resolution": "Done"}),
             ("lsup", "reopen", {"reason": "Again"}), ("ltech1", "start", {}),
             ("ltech1", "resolve", {"resolution": "Done"}), ("lsup", "close", {})]
    seen = []
    for who, action, body in steps:
        response = fleet.act(who, ticket["id"], action, body)
        assert response.status_code == 200, (action, response.get_json())
        seen.append((response.get_json()["version"], response.headers["ETag"]))
    assert seen == [(version, f'"{version}"') for version in range(2, 11)]
    assert event_actions(ticket["id"]) == ["created"] + [action for _, action, _ in steps]


def test_an_action_with_a_matching_if_match_is_taken(fleet):
    for if_match in ('"2"', "*"):
        ticket = fleet.ticket_in("assigned")
        response = fleet.act("ltech1", ticket["id"], "start", {}, **{"If-Match": if_match})
        assert response.status_code == 200, if_match
        assert response.headers["ETag"] == '"3"'


def test_an_action_with_a_stale_if_match_is_412_and_changes_nothing(fleet):
    ticket = fleet.ticket_in("assigned")
    response = fleet.act("ltech1", ticket["id"], "start", {}, **{"If-Match": '"1"'})
    assert response.status_code == 412
    assert_unchanged(fleet, ticket)
    assert event_actions(ticket["id"]) == ["created", "assign"]


def test_a_refused_action_writes_no_event(fleet):
    ticket = fleet.ticket_in("resolved")
    for who, action, body in [("ltech1", "close", {}), ("host", "start", {}),
                              ("host", "hold", {"reason": "x"}), ("host", "reopen", {})]:
        assert fleet.act(who, ticket["id"], action, body).status_code in (400, 403, 409)
    assert event_actions(ticket["id"]) == ["created", "assign", "start", "resolve"]
