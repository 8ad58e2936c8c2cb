"""The caller's own sessions and password: /api/auth/sessions/, logout-all/, password/."""
import re

import jwt
import pytest

from atm_app.extensions import db as _db
from atm_app.models import AuditEvent
from conftest import STRONG_PASSWORD

NEW_PASSWORD = "Quartz-Meadow-Harbour-77"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def sid_of(token):
    """The session id a token carries (read, not verified: the app verifies)."""
    return jwt.decode(token, options={"verify_signature": False})["sid"]


def sign_in(client, username, password=STRONG_PASSWORD, agent="pytest"):
    """Sign in from a client with a given user agent; the response body."""
    response = client.post("/api/auth/login/", json={"username": username, "password": password},
                           headers={"User-Agent": agent})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def works(client, access):
    """Whether an access token is still accepted."""
    return client.get("/api/auth/me/", headers=bearer(access)).status_code == 200


def refreshes(client, refresh):
    """Whether a refresh token is still accepted."""
    return client.post("/api/auth/refresh/", json={"refresh": refresh}).status_code == 200


def events(name):
    """The audit rows of one kind, oldest first."""
    _db.session.expire_all()
    return _db.session.execute(
        _db.select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.id)
    ).scalars().all()


class TestListingSessions:
    def test_lists_live_sessions_newest_first_with_their_details(self, client, make_user):
        make_user("alice")
        phone = sign_in(client, "alice", agent="Phone/1.0")
        laptop = sign_in(client, "alice", agent="Laptop/2.0")
        response = client.get("/api/auth/sessions/", headers=bearer(laptop["access"]))
        assert response.status_code == 200
        sessions = response.get_json()["sessions"]
        assert [s["id"] for s in sessions] == [sid_of(laptop["access"]), sid_of(phone["access"])]
        assert [s["user_agent"] for s in sessions] == ["Laptop/2.0", "Phone/1.0"]
        assert [s["current"] for s in sessions] == [True, False]
        for session in sessions:
            assert set(session) == {"id", "created_at", "last_used_at", "ip", "user_agent",
                                    "current"}
            assert session["ip"] == "127.0.0.1"
            assert ISO_UTC.match(session["created_at"])
            assert ISO_UTC.match(session["last_used_at"])

    def test_current_follows_the_token_used_to_ask(self, client, make_user):
        make_user("alice")
        phone, laptop = sign_in(client, "alice"), sign_in(client, "alice")
        sessions = client.get("/api/auth/sessions/", headers=bearer(phone["access"])).get_json()
        current = [s["id"] for s in sessions["sessions"] if s["current"]]
        assert current == [sid_of(phone["access"])] != [sid_of(laptop["access"])]

    def test_leaves_out_ended_sessions_and_other_users_sessions(self, client, make_user):
        make_user("alice")
        make_user("bob")
        ended = sign_in(client, "alice")
        client.post("/api/auth/logout/", headers=bearer(ended["access"]))
        sign_in(client, "bob")
        alice = sign_in(client, "alice")
        sessions = client.get("/api/auth/sessions/", headers=bearer(alice["access"])).get_json()
        assert [s["id"] for s in sessions["sessions"]] == [sid_of(alice["access"])]

    def test_a_refresh_keeps_the_session_and_its_id(self, client, make_user):
        make_user("alice")
        tokens = sign_in(client, "alice")
        refreshed = client.post("/api/auth/refresh/", json={"refresh": tokens["refresh"]})
        sessions = client.get("/api/auth/sessions/",
                              headers=bearer(refreshed.get_json()["access"])).get_json()
        assert [s["id"] for s in sessions["sessions"]] == [sid_of(tokens["access"])]
        assert sessions["sessions"][0]["current"] is True

    def test_without_a_token_is_401(self, client):
        response = client.get("/api/auth/sessions/")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"

    def test_with_a_refresh_token_is_401(self, client, make_user):
        make_user("alice")
        tokens = sign_in(client, "alice")
        response = client.get("/api/auth/sessions/", headers=bearer(tokens["refresh"]))
        assert response.status_code == 401

    def test_answers_without_the_trailing_slash_and_is_never_cached(self, client, make_user):
        make_user("alice")
        tokens = sign_in(client, "alice")
        response = client.get("/api/auth/sessions", headers=bearer(tokens["access"]))
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"


class TestEndingOneSession:
    def test_ends_that_sessions_access_and_refresh_tokens_at_once(self, client, make_user):
        make_user("alice")
        phone, laptop = sign_in(client, "alice"), sign_in(client, "alice")
        response = client.delete(f"/api/auth/sessions/{sid_of(phone['access'])}/",
                                 headers=bearer(laptop["access"]))
        assert response.status_code == 200
        assert response.get_json()["detail"]
        assert not works(client, phone["access"])
        assert not refreshes(client, phone["refresh"])
        assert works(client, laptop["access"])
        assert refreshes(client, laptop["refresh"])

    def test_can_end_the_current_session(self, client, make_user):
        make_user("alice")
        tokens = sign_in(client, "alice")
        response = client.delete(f"/api/auth/sessions/{sid_of(tokens['access'])}",
                                 headers=bearer(tokens["access"]))
        assert response.status_code == 200
        assert not works(client, tokens["access"])
        assert not refreshes(client, tokens["refresh"])

    def test_is_recorded_as_session_ended(self, client, make_user):
        user = make_user("alice")
        phone, laptop = sign_in(client, "alice"), sign_in(client, "alice")
        client.delete(f"/api/auth/sessions/{sid_of(phone['access'])}/",
                      headers=bearer(laptop["access"]))
        [event] = events("session_ended")
        assert event.user_id == user.id
        assert sid_of(phone["access"]) in event.detail

    def test_another_users_session_is_404_and_lives_on(self, client, make_user):
        make_user("alice")
        make_user("bob")
        alice, bob = sign_in(client, "alice"), sign_in(client, "bob")
        response = client.delete(f"/api/auth/sessions/{sid_of(bob['access'])}/",
                                 headers=bearer(alice["access"]))
        assert response.status_code == 404
        assert response.get_json()["detail"]
        assert works(client, bob["access"])
        assert events("session_ended") == []

    @pytest.mark.parametrize("session_id", ["0" * 32, "not-a-session", "x" * 200])
    def test_an_unknown_id_is_404(self, client, make_user, session_id):
        make_user("alice")
        tokens = sign_in(client, "alice")
        response = client.delete(f"/api/auth/sessions/{session_id}/",
                                 headers=bearer(tokens["access"]))
        assert response.status_code == 404

    def test_an_already_ended_session_is_404(self, client, make_user):
        make_user("alice")
        old, tokens = sign_in(client, "alice"), sign_in(client, "alice")
        client.post("/api/auth/logout/", headers=bearer(old["access"]))
        response = client.delete(f"/api/auth/sessions/{sid_of(old['access'])}/",
                                 headers=bearer(tokens["access"]))
        assert response.status_code == 404

    def test_without_a_token_is_401(self, client, make_user):
        make_user("alice")
        tokens = sign_in(client, "alice")
        response = client.delete(f"/api/auth/sessions/{sid_of(tokens['access'])}/")
        assert response.status_code == 401
        assert works(client, tokens["access"])


class TestLogoutEverywhere:
    def test_ends_every_session_of_the_caller(self, client, make_user):
        make_user("alice")
        phone, laptop = sign_in(client, "alice"), sign_in(client, "alice")
        response = client.post("/api/auth/logout-all/", headers=bearer(laptop["access"]))
        assert response.status_code == 200
        assert response.get_json()["detail"]
        for tokens in (phone, laptop):
            assert not works(client, tokens["access"])
            assert not refreshes(client, tokens["refresh"])

    def test_leaves_other_users_signed_in(self, client, make_user):
        make_user("alice")
        make_user("bob")
        alice, bob = sign_in(client, "alice"), sign_in(client, "bob")
        client.post("/api/auth/logout-all/", headers=bearer(alice["access"]))
        assert works(client, bob["access"])
        assert refreshes(client, bob["refresh"])

    def test_is_recorded_as_session_ended(self, client, make_user):
        user = make_user("alice")
        sign_in(client, "alice")
        tokens = sign_in(client, "alice")
        client.post("/api/auth/logout-all/", headers=bearer(tokens["access"]))
        [event] = events("session_ended")
        assert event.user_id == user.id
        assert "all sessions (2)" in event.detail

    def test_the_user_can_sign_in_again_afterwards(self, client, make_user):
        make_user("alice")
        tokens = sign_in(client, "alice")
        client.post("/api/auth/logout-all/", headers=bearer(tokens["access"]))
        assert works(client, sign_in(client, "alice")["access"])

    def test_without_a_token_is_401(self, client):
        assert client.post("/api/auth/logout-all/").status_code == 401


class TestChangingThePassword:
    def change(self, client, access, current=STRONG_PASSWORD, new=NEW_PASSWORD):
        return client.post("/api/auth/password/", headers=bearer(access),
                           json={"current_password": current, "new_password": new})

    def test_changes_it_ending_other_sessions_but_this_one(self, client, make_user):
        make_user("alice")
        phone, laptop = sign_in(client, "alice"), sign_in(client, "alice")
        response = self.change(client, laptop["access"])
        assert response.status_code == 200
        assert response.get_json()["detail"]
        assert not works(client, phone["access"])
        assert not refreshes(client, phone["refresh"])
        assert works(client, laptop["access"])
        assert refreshes(client, laptop["refresh"])

    def test_the_new_password_signs_in_and_the_old_one_does_not(self, client, make_user):
        make_user("alice")
        self.change(client, sign_in(client, "alice")["access"])
        assert works(client, sign_in(client, "alice", password=NEW_PASSWORD)["access"])
        old = client.post("/api/auth/login/", json={"username": "alice",
                                                    "password": STRONG_PASSWORD})
        assert old.status_code == 401

    def test_is_recorded_as_password_changed(self, client, make_user):
        user = make_user("alice")
        self.change(client, sign_in(client, "alice")["access"])
        [event] = events("password_changed")
        assert event.user_id == user.id

    def test_a_wrong_current_password_is_400_and_changes_nothing(self, client, make_user):
        make_user("alice")
        phone, laptop = sign_in(client, "alice"), sign_in(client, "alice")
        response = self.change(client, laptop["access"], current="Not-My-Password-123")
        assert response.status_code == 400
        assert set(response.get_json()["errors"]) == {"current_password"}
        assert works(client, phone["access"])
        assert sign_in(client, "alice")  # the old password still signs in
        assert events("password_changed") == []

    def test_guessing_the_current_password_is_rate_limited_like_sign_in(self, client, make_user):
        make_user("alice")
        access = sign_in(client, "alice")["access"]
        for _ in range(5):
            assert self.change(client, access, current="Not-My-Password-123").status_code == 400
        response = self.change(client, access)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0

    @pytest.mark.parametrize("weak", ["short", "password1234", "alice-alice-alice"])
    def test_a_weak_new_password_is_400_with_the_reason(self, client, make_user, weak):
        make_user("alice")
        phone, laptop = sign_in(client, "alice"), sign_in(client, "alice")
        response = self.change(client, laptop["access"], new=weak)
        assert response.status_code == 400
        errors = response.get_json()["errors"]
        assert set(errors) == {"new_password"} and errors["new_password"][0]
        assert works(client, phone["access"])
        assert sign_in(client, "alice")

    @pytest.mark.parametrize("body", [{}, {"current_password": STRONG_PASSWORD},
                                      {"current_password": "", "new_password": NEW_PASSWORD},
                                      {"current_password": 12, "new_password": NEW_PASSWORD}])
    def test_missing_blank_or_non_string_fields_are_400(self, client, make_user, body):
        make_user("alice")
        tokens = sign_in(client, "alice")
        response = client.post("/api/auth/password/", headers=bearer(tokens["access"]), json=body)
        assert response.status_code == 400
        assert response.get_json()["errors"]

    def test_a_body_that_is_not_json_is_415(self, client, make_user):
        make_user("alice")
        tokens = sign_in(client, "alice")
        response = client.post("/api/auth/password/", headers=bearer(tokens["access"]),
                               data={"current_password": STRONG_PASSWORD})
        assert response.status_code == 415

    def test_a_token_from_a_refresh_is_not_fresh_401_saying_to_sign_in_again(self, client,
                                                                            make_user):
        make_user("alice")
        tokens = sign_in(client, "alice")
        refreshed = client.post("/api/auth/refresh/", json={"refresh": tokens["refresh"]})
        response = self.change(client, refreshed.get_json()["access"])
        assert response.status_code == 401
        assert "sign in again" in response.get_json()["detail"].lower()
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert sign_in(client, "alice")  # unchanged

    @pytest.mark.settings(FRESH_LOGIN_MINUTES=0)
    def test_a_sign_in_older_than_fresh_login_minutes_is_401(self, client, make_user):
        make_user("alice")
        response = self.change(client, sign_in(client, "alice")["access"])
        assert response.status_code == 401
        assert "sign in again" in response.get_json()["detail"].lower()

    def test_without_a_token_is_401(self, client):
        response = client.post("/api/auth/password/",
                               json={"current_password": STRONG_PASSWORD,
                                     "new_password": NEW_PASSWORD})
        assert response.status_code == 401
