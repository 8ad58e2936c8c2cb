"""Signing out, and the sessions panel of every dashboard: list, end one, end all."""
import re

import pytest
from conftest import hidden_value

from atm_app.models import AuditEvent, AuthSession

ACCESS, REFRESH = "access_token_cookie", "refresh_token_cookie"


@pytest.fixture
def alice(web, make_user):
    """A signed-in supervisor."""
    user = make_user("alice", role="supervisor")
    assert web.login("alice").status_code == 303
    return user


def live_session_ids(db, user):
    """Ids of the user's sessions that have not ended."""
    db.session.expire_all()
    return set(db.session.execute(
        db.select(AuthSession.id).filter_by(user_id=user.id, ended_at=None)).scalars())


def deleted_cookies(response):
    """Names of the cookies a response deletes."""
    return {header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie")
            if "Max-Age=0" in header or "1970" in header}


class TestLogout:
    def test_logout_ends_the_session_clears_cookies_and_shows_a_notice(
            self, client, web, db, alice):
        response = web.post("/logout")
        assert response.status_code == 303
        assert response.headers["Location"] == "/login"
        assert {ACCESS, REFRESH} <= deleted_cookies(response)
        assert live_session_ids(db, alice) == set()
        page = client.get("/login")
        assert "You have signed out." in page.get_data(as_text=True)
        events = db.session.execute(db.select(AuditEvent.event)).scalars().all()
        assert "logout" in events

    def test_the_old_cookies_stop_working_at_once(self, app, web, alice):
        old = {name: web.cookie(name) for name in (ACCESS, REFRESH)}
        web.post("/logout")
        replay = app.test_client()
        for name, value in old.items():
            replay.set_cookie(name, value)
        response = replay.get("/dashboard/supervisor")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
        replay.delete_cookie(ACCESS)  # the refresh cookie alone cannot bring the session back
        assert replay.get("/dashboard/supervisor").status_code == 302

    @pytest.mark.parametrize("token", [None, "", "not-the-value"])
    def test_logout_without_the_double_submit_value_is_refused(self, client, db, alice, token):
        data = {} if token is None else {"jwt_csrf_token": token}
        response = client.post("/logout", data=data)
        assert response.status_code == 400
        assert "This form was not accepted" in response.get_data(as_text=True)
        assert len(live_session_ids(db, alice)) == 1

    def test_the_sign_in_forms_token_does_not_work_for_logout(self, client, web, db, make_user):
        user = make_user("dave")
        token = hidden_value(client.get("/login").get_data(as_text=True), "csrf_token")
        web.login("dave")
        assert client.post("/logout", data={"csrf_token": token}).status_code == 400
        assert len(live_session_ids(db, user)) == 1

    def test_a_cross_site_form_with_a_guessed_value_is_refused(self, client, db, alice):
        response = client.post("/logout", data={"jwt_csrf_token": "x" * 22},
                               headers={"Origin": "https://evil.example"})
        assert response.status_code == 400
        assert len(live_session_ids(db, alice)) == 1


class TestSessionsPanel:
    def test_lists_live_sessions_and_marks_this_one(self, client, api, alice):
        api.login("alice")
        html = client.get("/dashboard/supervisor").get_data(as_text=True)
        assert "2 active sessions" in html
        assert html.count("This device") == 1
        assert html.count('action="/account/sessions/') == 3  # two "end" forms and "end all"

    def test_lists_this_session_and_the_newest_others_when_there_are_many(
            self, client, api, alice):
        for _ in range(14):  # all newer than this browser's sign-in
            api.login("alice")
        html = client.get("/dashboard/supervisor").get_data(as_text=True)
        assert "15 active sessions" in html
        assert "This device" in html
        assert html.count('action="/account/sessions/') == 11  # ten "end" forms and "end all"
        assert "ends all 15" in html

    def test_ending_another_session_stops_its_tokens_and_keeps_this_one(
            self, client, web, api, db, alice):
        other = api.login("alice")
        other_sid = next(iter(live_session_ids(db, alice) - {web.access_claims()["sid"]}))
        response = web.post(f"/account/sessions/{other_sid}/end")
        assert response.status_code == 303
        assert client.get("/api/auth/me/", headers=other.headers).status_code == 401
        assert api.refresh(other.refresh).status_code == 401
        page = client.get("/dashboard/supervisor", follow_redirects=True)
        assert page.status_code == 200
        assert "That session was ended" in page.get_data(as_text=True)

    def test_ending_this_session_signs_out_here(self, web, db, alice):
        sid = web.access_claims()["sid"]
        response = web.post(f"/account/sessions/{sid}/end")
        assert response.headers["Location"] == "/login"
        assert {ACCESS, REFRESH} <= deleted_cookies(response)
        assert live_session_ids(db, alice) == set()

    def test_someone_elses_session_is_not_found(self, web, api, db, make_user, alice):
        bob = make_user("bob")
        api.login("bob")
        bob_sid = next(iter(live_session_ids(db, bob)))
        response = web.post(f"/account/sessions/{bob_sid}/end")
        assert response.status_code == 404
        assert live_session_ids(db, bob) == {bob_sid}

    def test_ending_a_session_needs_the_double_submit_value(self, client, web, api, db, alice):
        api.login("alice")
        other_sid = next(iter(live_session_ids(db, alice) - {web.access_claims()["sid"]}))
        assert client.post(f"/account/sessions/{other_sid}/end").status_code == 400
        assert other_sid in live_session_ids(db, alice)

    def test_sign_out_everywhere_ends_every_session(self, client, web, api, db, alice):
        other = api.login("alice")
        response = web.post("/account/sessions/end-all")
        assert response.headers["Location"] == "/login"
        assert {ACCESS, REFRESH} <= deleted_cookies(response)
        assert live_session_ids(db, alice) == set()
        assert client.get("/api/auth/me/", headers=other.headers).status_code == 401
        assert "You have signed out everywhere." in client.get("/login").get_data(as_text=True)

    def test_session_rows_describe_the_device(self, app, make_user):
        make_user("carol", role="technician")
        browser = app.test_client()
        browser.environ_base["HTTP_USER_AGENT"] = (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Safari/537.36")
        from conftest import WebActions
        WebActions(browser).login("carol")
        html = browser.get("/dashboard/technician").get_data(as_text=True)
        current = r'Chrome on Linux</span>\s*<span class="badge badge--current">This device'
        assert re.search(current, html)
