"""Changing one's own password from the dashboard."""
import time

import pytest
from conftest import STRONG_PASSWORD

from atm_app.models import AuditEvent, AuthSession

NEW_PASSWORD = "Copper-Harbour-Meadow-77"


@pytest.fixture
def tech(web, make_user):
    """A signed-in technician."""
    user = make_user("tom", role="technician", city="Lagos")
    assert web.login("tom").status_code == 303
    return user


def change(web, current=STRONG_PASSWORD, new=NEW_PASSWORD, repeat=None):
    """Send the change-password form."""
    return web.post("/account/password", data={
        "current_password": current, "new_password": new,
        "confirm_password": new if repeat is None else repeat,
    })


def live_sessions(db, user):
    """The user's sessions that have not ended."""
    db.session.expire_all()
    query = db.select(AuthSession).filter_by(user_id=user.id, ended_at=None)
    return db.session.execute(query).scalars().all()


class TestChangePassword:
    def test_success_keeps_this_session_and_ends_the_others(self, client, web, api, db, tech):
        other = api.login("tom")
        response = change(web)
        assert response.status_code == 303
        assert response.headers["Location"] == "/dashboard"
        assert [session.id for session in live_sessions(db, tech)] == [web.access_claims()["sid"]]
        assert client.get("/api/auth/me/", headers=other.headers).status_code == 401
        page = client.get("/dashboard/technician")
        assert page.status_code == 200
        assert "Your password was changed" in page.get_data(as_text=True)
        assert api.login("tom", NEW_PASSWORD).access
        events = db.session.execute(db.select(AuditEvent.event)).scalars().all()
        assert "password_changed" in events

    def test_a_wrong_current_password_is_shown_beside_that_field(self, web, api, tech):
        response = change(web, current="Not-My-Password-123")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Welcome, tom" in html  # the dashboard again, with the error
        assert 'id="current_password-error"' in html
        assert "That is not your current password." in html
        assert "Not-My-Password-123" not in html and NEW_PASSWORD not in html
        assert api.login("tom", STRONG_PASSWORD).access

    def test_a_weak_new_password_shows_the_policy_reason_beside_it(self, web, tech):
        response = change(web, new="short")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'id="new_password-error"' in html and "Use at least 12 characters." in html

    def test_a_guessable_new_password_shows_zxcvbn_feedback(self, web, tech):
        response = change(web, new="password1234")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'id="new_password-error"' in html
        assert 'aria-invalid="true"' in html

    def test_the_two_new_passwords_must_match(self, web, tech):
        response = change(web, repeat=NEW_PASSWORD + "x")
        assert response.status_code == 400
        assert "The two new passwords differ." in response.get_data(as_text=True)

    def test_missing_fields_are_shown_beside_them(self, web, tech):
        response = web.post("/account/password", data={})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Enter your current password." in html and "Enter a new password." in html

    def test_nothing_changes_without_the_double_submit_value(self, client, api, tech):
        response = client.post("/account/password", data={
            "current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD})
        assert response.status_code == 400
        assert api.login("tom", STRONG_PASSWORD).access

    def test_an_old_sign_in_is_confirmed_by_the_current_password(self, web, api, tech):
        web.replace_access_token(fresh=False)
        response = change(web)
        assert response.status_code == 303
        fresh = web.access_claims()["fresh"]
        assert isinstance(fresh, float) and fresh > time.time()
        assert api.login("tom", NEW_PASSWORD).access

    def test_every_role_can_change_its_password(self, client, web, make_user):
        make_user("hera", role="host")
        web.login("hera")
        assert 'id="change-password"' in client.get("/dashboard/host").get_data(as_text=True)
        assert change(web).status_code == 303
