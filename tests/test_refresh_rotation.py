"""Refresh rotation, the reuse grace window and theft detection, through the API.

After the grace window is tested with REFRESH_REUSE_GRACE_SECONDS=0, so no
test sleeps.
"""
import jwt
import pytest

from atm_app.extensions import db as _db
from atm_app.models import AuditEvent

pytestmark = pytest.mark.postgres_too

NO_GRACE = pytest.mark.settings(REFRESH_REUSE_GRACE_SECONDS=0)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def sid_of(token):
    return jwt.decode(token, options={"verify_signature": False})["sid"]


def rotate(api, refresh_token):
    """Refresh successfully; the new (access, refresh) pair."""
    response = api.refresh(refresh_token)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return body["access"], body["refresh"]


def works(client, access):
    return client.get("/api/auth/me/", headers=bearer(access)).status_code == 200


def reuse_events():
    _db.session.expire_all()
    return _db.session.execute(
        _db.select(AuditEvent).where(AuditEvent.event == "refresh_reuse_detected")
    ).scalars().all()


class TestRotation:
    def test_each_refresh_hands_out_a_new_refresh_token_in_the_same_session(self, api, make_user):
        make_user("alice")
        tokens = api.login("alice")
        access, refresh = rotate(api, tokens.refresh)
        access2, refresh2 = rotate(api, refresh)
        assert len({tokens.refresh, refresh, refresh2}) == 3
        assert sid_of(access) == sid_of(access2) == sid_of(refresh2) == sid_of(tokens.access)

    def test_older_access_tokens_of_the_session_keep_working(self, api, client, make_user):
        make_user("alice")
        tokens = api.login("alice")
        access, _ = rotate(api, tokens.refresh)
        assert works(client, tokens.access) and works(client, access)

    def test_every_refresh_is_recorded(self, api, make_user):
        make_user("alice")
        tokens = api.login("alice")
        rotate(api, tokens.refresh)
        _db.session.expire_all()
        count = _db.session.execute(
            _db.select(_db.func.count()).where(AuditEvent.event == "refresh")
        ).scalar_one()
        assert count == 1

    def test_a_refresh_is_recorded_with_the_refreshing_client_not_the_signing_in_one(
            self, api, client, make_user):
        make_user("alice")
        tokens = api.login("alice")  # from 127.0.0.1, the test client's agent
        response = client.post("/api/auth/refresh/", json={"refresh": tokens.refresh},
                               headers={"User-Agent": "phone/2.0"},
                               environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert response.status_code == 200
        [event] = refresh_events()
        assert (event.username, event.user_id, event.ip, event.user_agent) == (
            "alice", tokens.user["id"], "10.1.2.3", "phone/2.0")

    def test_only_a_refresh_that_succeeds_is_recorded_as_one(self, api, make_user):
        make_user("alice")
        tokens = api.login("alice")
        rotate(api, tokens.refresh)
        assert api.refresh(tokens.refresh).status_code == 401  # already used, within grace
        assert api.refresh("not-a-token").status_code == 401
        assert len(refresh_events()) == 1

    @pytest.mark.settings(REFRESH_ROTATION=False)
    def test_with_rotation_off_each_refresh_is_still_recorded(self, api, make_user):
        make_user("alice")
        tokens = api.login("alice")
        for _ in range(2):
            assert api.refresh(tokens.refresh).status_code == 200
        assert len(refresh_events()) == 2


def refresh_events():
    _db.session.expire_all()
    return _db.session.execute(
        _db.select(AuditEvent).where(AuditEvent.event == "refresh")
    ).scalars().all()


class TestReuseWithinGrace:
    def test_the_used_token_gets_401_and_the_session_lives_on(self, api, client, make_user):
        make_user("alice")
        tokens = api.login("alice")
        access, refresh = rotate(api, tokens.refresh)
        response = api.refresh(tokens.refresh)
        assert response.status_code == 401
        assert response.get_json()["detail"]
        assert works(client, access) and works(client, tokens.access)
        rotate(api, refresh)
        assert reuse_events() == []

    def test_a_token_two_rotations_old_is_theft_even_within_grace(self, api, client, make_user):
        make_user("alice")
        tokens = api.login("alice")
        _, refresh = rotate(api, tokens.refresh)
        access, newest = rotate(api, refresh)
        assert api.refresh(tokens.refresh).status_code == 401
        assert api.refresh(newest).status_code == 401
        assert not works(client, access)
        assert len(reuse_events()) == 1


class TestReuseAfterGrace:
    @NO_GRACE
    def test_ends_the_whole_session_newest_tokens_included(self, api, client, make_user):
        make_user("alice")
        tokens = api.login("alice")
        access, refresh = rotate(api, tokens.refresh)
        response = api.refresh(tokens.refresh)
        assert response.status_code == 401
        assert "session has ended" in response.get_json()["detail"]
        assert api.refresh(refresh).status_code == 401
        assert not works(client, access)
        assert not works(client, tokens.access)

    @NO_GRACE
    def test_is_recorded_once_as_refresh_reuse_detected(self, api, make_user):
        user = make_user("alice")
        tokens = api.login("alice")
        rotate(api, tokens.refresh)
        api.refresh(tokens.refresh)
        api.refresh(tokens.refresh)  # the session is gone: nothing more to record
        [event] = reuse_events()
        assert event.user_id == user.id
        assert sid_of(tokens.access) in event.detail

    @NO_GRACE
    def test_leaves_the_users_other_sessions_alone(self, api, client, make_user):
        make_user("alice")
        stolen, other = api.login("alice"), api.login("alice")
        rotate(api, stolen.refresh)
        api.refresh(stolen.refresh)
        assert works(client, other.access)
        rotate(api, other.refresh)

    @NO_GRACE
    def test_the_session_disappears_from_the_session_list(self, api, client, make_user):
        make_user("alice")
        stolen, other = api.login("alice"), api.login("alice")
        rotate(api, stolen.refresh)
        api.refresh(stolen.refresh)
        sessions = client.get("/api/auth/sessions/", headers=other.headers).get_json()["sessions"]
        assert [s["id"] for s in sessions] == [sid_of(other.access)]


@NO_GRACE
def test_theft_attacker_refreshes_first_then_the_victim_both_are_signed_out(api, client,
                                                                           make_user):
    user = make_user("alice")
    victim = api.login("alice")
    stolen_refresh = victim.refresh  # copied off the victim's machine

    attacker_access, attacker_refresh = rotate(api, stolen_refresh)
    assert works(client, attacker_access)

    victim_try = api.refresh(victim.refresh)  # the victim's turn comes after the grace window
    assert victim_try.status_code == 401

    assert api.refresh(attacker_refresh).status_code == 401
    assert not works(client, attacker_access)
    assert not works(client, victim.access)
    [event] = reuse_events()
    assert event.user_id == user.id and event.username == "alice"
    assert victim.refresh not in (event.detail or "")  # no token in the audit trail


@pytest.mark.settings(REFRESH_ROTATION=False)
class TestRotationOff:
    def test_refresh_returns_only_an_access_token_in_the_same_session(self, api, client,
                                                                      make_user):
        make_user("alice")
        tokens = api.login("alice")
        response = api.refresh(tokens.refresh)
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == {"access"}
        assert sid_of(body["access"]) == sid_of(tokens.access)
        assert works(client, body["access"])

    @NO_GRACE
    def test_the_refresh_token_keeps_working_and_is_never_taken_for_theft(self, api, client,
                                                                         make_user):
        make_user("alice")
        tokens = api.login("alice")
        for _ in range(3):
            assert api.refresh(tokens.refresh).status_code == 200
        assert works(client, tokens.access)
        assert reuse_events() == []

    def test_logout_still_ends_the_refresh_token(self, api, client, make_user):
        make_user("alice")
        tokens = api.login("alice")
        client.post("/api/auth/logout/", headers=tokens.headers)
        assert api.refresh(tokens.refresh).status_code == 401

    def test_a_token_from_a_refresh_is_not_fresh(self, api, client, make_user):
        make_user("alice")
        tokens = api.login("alice")
        access = api.refresh(tokens.refresh).get_json()["access"]
        response = client.post("/api/auth/password/", headers=bearer(access),
                               json={"current_password": "x", "new_password": "y"})
        assert response.status_code == 401


def test_switching_rotation_off_honours_only_the_sessions_current_refresh_token(app, api,
                                                                                 make_user):
    make_user("alice")
    tokens = api.login("alice")
    _, current = rotate(api, tokens.refresh)
    app.config["REFRESH_ROTATION"] = False  # a redeploy with rotation switched off
    assert api.refresh(tokens.refresh).status_code == 401
    assert api.refresh(current).status_code == 200
