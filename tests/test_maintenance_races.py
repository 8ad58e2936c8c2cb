"""Concurrent writes to tickets: simultaneous actions, retried creates and
preventive planning runs never apply twice; a stale If-Match changes nothing.

Each racing thread has its own test client (its own app context and database
connection) and waits at a barrier so the requests overlap. Runs on SQLite and
on the real PostgreSQL server.
"""
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from atm_app.extensions import db as _db
from atm_app.models import Atm, IdempotencyKey, Ticket, TicketEvent
from live_server import PROJECT_DIR, production_env

pytestmark = pytest.mark.postgres_too

RACERS = 10


def race(app, requests):
    """Send `requests` (each: client -> response) at once; [(status, json)] in order."""
    barrier = threading.Barrier(len(requests))

    def send(request):
        client = app.test_client()
        barrier.wait(timeout=30)
        response = request(client)
        return response.status_code, response.get_json(), response.headers.get("ETag")

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))


def action(fleet, who, ticket_id, name, body=None, **headers):
    auth = fleet.headers(who, **headers)
    return lambda client: client.post(f"/api/tickets/{ticket_id}/{name}/", headers=auth,
                                      json=body or {})


def events(ticket_id):
    _db.session.expire_all()
    return _db.session.execute(
        _db.select(TicketEvent.action).where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.id)).scalars().all()


def stored(ticket_id):
    _db.session.expire_all()
    return _db.session.get(Ticket, ticket_id)


def test_of_simultaneous_starts_exactly_one_succeeds_and_one_event_is_written(app, fleet):
    ticket = fleet.ticket_in("assigned")
    results = race(app, [action(fleet, "ltech1", ticket["id"], "start")] * RACERS)
    assert sorted(status for status, _, _ in results) == [200] + [409] * (RACERS - 1)
    [winner] = [body for status, body, _ in results if status == 200]
    assert (winner["status"], winner["version"]) == ("in_progress", 3)
    assert all("in_progress" in body["detail"] for status, body, _ in results if status == 409)
    assert events(ticket["id"]) == ["created", "assign", "start"]
    assert (stored(ticket["id"]).status, stored(ticket["id"]).version) == ("in_progress", 3)


def test_of_simultaneous_resolves_and_holds_exactly_one_applies(app, fleet):
    ticket = fleet.ticket_in("in_progress")
    requests = ([action(fleet, "ltech1", ticket["id"], "resolve", {"resolution": "Fixed"})] * 5
                + [action(fleet, "lsup", ticket["id"], "hold", {"reason": "Parts"})] * 5)
    results = race(app, requests)
    assert sorted(status for status, _, _ in results) == [200] + [409] * 9
    [winner] = [index for index, (status, _, _) in enumerate(results) if status == 200]
    won = "resolve" if winner < 5 else "hold"
    assert events(ticket["id"]) == ["created", "assign", "start", won]
    row = stored(ticket["id"])
    assert (row.status, row.version) == ({"resolve": "resolved", "hold": "on_hold"}[won], 4)


def test_of_simultaneous_cancels_one_is_recorded(app, fleet):
    ticket = fleet.ticket_in("open")
    results = race(app, [action(fleet, "host", ticket["id"], "cancel",
                                {"reason": "Raised twice"})] * RACERS)
    assert sorted(status for status, _, _ in results) == [200] + [409] * (RACERS - 1)
    assert events(ticket["id"]) == ["created", "cancel"]
    assert stored(ticket["id"]).version == 2


def test_of_simultaneous_edits_with_one_if_match_exactly_one_applies(app, fleet):
    ticket = fleet.raise_ticket("host", fleet.atms["LAG-001"])
    headers = fleet.headers("lsup", **{"If-Match": '"1"'})

    def edit(title):
        return lambda client: client.patch(f"/api/tickets/{ticket['id']}/",
                                           json={"title": title}, headers=headers)

    requests = [edit(f"Title {n}") for n in range(RACERS)]
    results = race(app, requests)
    assert sorted(status for status, _, _ in results) == [200] + [412] * (RACERS - 1)
    [winner] = [body for status, body, _ in results if status == 200]
    row = stored(ticket["id"])
    assert (row.title, row.version) == (winner["title"], 2)
    assert events(ticket["id"]) == ["created", "edit"]


def test_the_same_idempotency_key_at_once_creates_exactly_one_ticket(app, fleet):
    body = {"atm_id": fleet.atms["LAG-001"], "title": "Card reader jammed"}
    headers = fleet.headers("ltech1", **{"Idempotency-Key": "script-run-42"})
    results = race(app, [lambda client: client.post("/api/tickets/", json=body,
                                                    headers=headers)] * RACERS)
    _db.session.expire_all()
    assert _db.session.execute(_db.select(_db.func.count(Ticket.id))).scalar_one() == 1
    assert _db.session.execute(_db.select(_db.func.count(IdempotencyKey.id))).scalar_one() == 1
    assert [status for status, _, _ in results] == [201] * RACERS
    assert len({body["id"] for _, body, _ in results}) == 1
    [ticket_id] = {body["id"] for _, body, _ in results}
    assert events(ticket_id) == ["created"]


def test_two_plan_preventive_runs_at_once_create_no_duplicate(app, fleet):
    # Every ATM of the fleet is due: created a hundred days ago (interval 90).
    _db.session.execute(_db.update(Atm).values(
        created_at=datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=100)))
    _db.session.commit()
    env = production_env(app.config["SQLALCHEMY_DATABASE_URI"], ATM_ENV="testing")
    runs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "plan-preventive"],
                             cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    counts = []
    for out, _ in outputs:
        [line] = [line for line in out.splitlines() if line.endswith("preventive tickets created")]
        counts.append(int(line.split()[0]))
    assert sum(counts) == 5
    _db.session.expire_all()
    rows = _db.session.execute(_db.select(Ticket.atm_id, Ticket.kind, Ticket.status)).all()
    assert sorted(rows) == sorted((atm_id, "preventive", "open")
                                  for atm_id in fleet.atms.values())


def test_a_write_with_a_stale_if_match_is_412_and_changes_nothing(app, fleet):
    ticket = fleet.ticket_in("assigned")          # version 2
    stale = {"If-Match": '"1"'}
    edit = fleet.client.patch(f"/api/tickets/{ticket['id']}/", json={"priority": "critical"},
                              headers=fleet.headers("lsup", **stale))
    start = fleet.act("ltech1", ticket["id"], "start", {}, **stale)
    assert (edit.status_code, start.status_code) == (412, 412)
    after = fleet.get_ticket(ticket["id"])
    assert after == ticket
    assert events(ticket["id"]) == ["created", "assign"]
