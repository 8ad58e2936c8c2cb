"""Many clients presenting one refresh token at the same moment: exactly one wins.

Each thread has its own test client (so its own app context and database
connection) and waits at a barrier, so the requests really overlap. Runs on
SQLite and on the real PostgreSQL server.
"""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from atm_app.extensions import db as _db
from atm_app.models import AuditEvent

pytestmark = pytest.mark.postgres_too

RACERS = 16


def race(app, refresh_token, racers=RACERS):
    """Present `refresh_token` from `racers` clients at once; their responses."""
    barrier = threading.Barrier(racers)

    def present(_):
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post("/api/auth/refresh/", json={"refresh": refresh_token})
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=racers) as pool:
        return list(pool.map(present, range(racers)))


def test_of_simultaneous_refreshes_with_one_token_exactly_one_succeeds(app, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    results = race(app, tokens.refresh)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * (RACERS - 1)


def test_the_race_winners_tokens_work_and_the_session_lives_on(app, api, client, make_user):
    make_user("alice")
    tokens = api.login("alice")
    [winner] = [body for status, body in race(app, tokens.refresh) if status == 200]
    assert client.get("/api/auth/me/", headers=api.bearer(winner["access"])).status_code == 200
    assert api.refresh(winner["refresh"]).status_code == 200


def test_losing_a_race_within_grace_is_not_taken_for_theft(app, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    race(app, tokens.refresh)
    _db.session.expire_all()
    reuse = _db.session.execute(
        _db.select(AuditEvent).where(AuditEvent.event == "refresh_reuse_detected")
    ).scalars().all()
    assert reuse == []
