"""The data host's pages: the user list, user changes (fresh sign-in), the audit log."""
import re

import pytest
from conftest import STRONG_PASSWORD, hidden_value

from atm_app.models import AuditEvent, AuthSession, User

NEW_PASSWORD = "Copper-Harbour-Meadow-77"
# How the audit table shows these events (the filter's options hold the same words).
SUCCEEDED = 'badge--event">Signed in</span>'
FAILED = 'badge--warning">Sign-in failed</span>'


@pytest.fixture
def host(web, make_user):
    """A signed-in data host (its sign-in is fresh)."""
    user = make_user("hana", role="host", city="Abuja")
    assert web.login("hana").status_code == 303
    return user


def live_session_count(db, user):
    """How many of the user's sessions have not ended."""
    db.session.expire_all()
    query = db.select(AuthSession).filter_by(user_id=user.id, ended_at=None)
    return len(db.session.execute(query).all())


def reloaded(db, user):
    """The user as stored now."""
    db.session.expire_all()
    return db.session.get(User, user.id)


def flashes(client):
    """The text of the next page, where flash messages show."""
    return client.get("/dashboard/host").get_data(as_text=True)


class TestUserList:
    def test_lists_users_with_role_city_and_status(self, client, host, make_user):
        make_user("tess", role="technician", city="Lagos")
        make_user("gone", role="supervisor", city="Kano", is_active=False)
        html = client.get("/dashboard/host").get_data(as_text=True)
        assert re.search(r"gone.*Supervisor.*Kano.*Deactivated", html, re.S)
        assert re.search(r"tess.*Technician.*Lagos.*Active", html, re.S)
        assert "Showing 1–3 of 3 users" in html

    @pytest.mark.parametrize("query, shown, hidden", [
        ("q=TES", ["tess"], ["kano-kid"]),
        ("q=kano", ["kano-kid"], ["tess"]),
        ("role=supervisor", ["kano-kid"], ["tess"]),
        ("status=inactive", ["kano-kid"], ["tess"]),
        ("q=%25", [], ["tess", "kano-kid"]),
    ])
    def test_search_and_filters(self, client, host, make_user, query, shown, hidden):
        make_user("tess", role="technician", city="Lagos")
        make_user("kano-kid", role="supervisor", city="Kano", is_active=False)
        html = client.get(f"/dashboard/host?{query}").get_data(as_text=True)
        assert all(f">{name}</a>" in html for name in shown)
        assert all(f">{name}</a>" not in html for name in hidden)

    def test_a_nul_in_the_search_is_ignored(self, client, host, make_user):
        make_user("tess")
        response = client.get("/dashboard/host?q=te%00ss")
        assert response.status_code == 200 and ">tess</a>" in response.get_data(as_text=True)

    def test_pages_of_twenty(self, client, host, make_user):
        for number in range(24):
            make_user(f"tech{number:02d}", role="technician")
        first = client.get("/dashboard/host?role=technician").get_data(as_text=True)
        assert "Page 1 of 2" in first and ">tech19</a>" in first and ">tech20</a>" not in first
        assert 'href="/dashboard/host?role=technician&amp;page=2"' in first
        second = client.get("/dashboard/host?role=technician&page=2").get_data(as_text=True)
        assert "Showing 21–24 of 24 users" in second and ">tech23</a>" in second
        beyond = client.get("/dashboard/host?role=technician&page=99").get_data(as_text=True)
        assert "Page 2 of 2" in beyond
        assert client.get("/dashboard/host?page=banana").status_code == 200


class TestCreateUser:
    def test_creates_a_user_and_confirms_it(self, client, web, host, db):
        response = web.post("/dashboard/host/users/new", data={
            "username": "newbie", "password": NEW_PASSWORD, "role": "supervisor", "city": "Enugu"})
        assert response.status_code == 303
        user = db.session.execute(db.select(User).filter_by(username="newbie")).scalar_one()
        assert (user.role, user.city, user.is_active) == ("supervisor", "Enugu", True)
        assert response.headers["Location"] == f"/dashboard/host/users/{user.id}"
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Created newbie (Supervisor, Enugu)." in page

    def test_a_weak_password_shows_the_policy_reason_beside_the_field(self, web, host, db):
        response = web.post("/dashboard/host/users/new", data={
            "username": "newbie", "password": "password12345", "role": "technician", "city": ""})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'id="password-error"' in html
        assert re.search(r'id="username"[^>]*value="newbie"', html)
        assert "password12345" not in html
        assert db.session.execute(db.select(User).filter_by(username="newbie")).first() is None

    def test_a_taken_username_is_shown_beside_the_field(self, web, host, make_user):
        make_user("taken")
        response = web.post("/dashboard/host/users/new", data={
            "username": "TAKEN", "password": NEW_PASSWORD, "role": "technician"})
        assert response.status_code == 409
        assert "A user with that username already exists." in response.get_data(as_text=True)

    def test_an_unknown_role_and_a_bad_username_are_refused(self, web, host):
        response = web.post("/dashboard/host/users/new", data={
            "username": "bad name!", "password": NEW_PASSWORD, "role": "admin"})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'id="role-error"' in html

    def test_other_roles_cannot_create_users(self, web, make_user):
        make_user("sam", role="supervisor")
        web.login("sam")
        response = web.post("/dashboard/host/users/new", data={
            "username": "x", "password": NEW_PASSWORD, "role": "host"})
        assert response.status_code == 403


class TestChangeUsers:
    def test_deactivating_ends_the_users_sessions(self, client, web, api, db, host, make_user):
        victim = make_user("vic", role="technician")
        tokens = api.login("vic")
        response = web.post(f"/dashboard/host/users/{victim.id}/status",
                            data={"active": "0", "next": "/dashboard/host?q=vic"})
        assert response.status_code == 303
        assert response.headers["Location"] == "/dashboard/host?q=vic"
        assert reloaded(db, victim).is_active is False
        assert live_session_count(db, victim) == 0
        assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 401
        assert "vic was deactivated and signed out everywhere." in flashes(client)

    def test_reactivating_lets_the_user_sign_in_again(self, client, web, api, db, host, make_user):
        user = make_user("back", is_active=False)
        web.post(f"/dashboard/host/users/{user.id}/status", data={"active": "1"})
        assert reloaded(db, user).is_active is True
        assert api.login("back").access
        assert "back was reactivated" in flashes(client)

    def test_status_change_with_an_unsafe_next_stays_on_the_site(self, web, host, make_user):
        user = make_user("vic")
        response = web.post(f"/dashboard/host/users/{user.id}/status",
                            data={"active": "0", "next": "//evil.example"})
        assert response.headers["Location"] == f"/dashboard/host/users/{user.id}"

    def test_a_host_cannot_deactivate_itself(self, client, web, db, host):
        response = web.post(f"/dashboard/host/users/{host.id}/status", data={"active": "0"})
        assert response.status_code == 303
        assert reloaded(db, host).is_active is True
        assert "You cannot deactivate your own account." in flashes(client)

    def test_a_new_role_ends_the_users_sessions(self, client, web, api, db, host, make_user):
        user = make_user("riley", role="technician", city="Lagos")
        tokens = api.login("riley")
        response = web.post(f"/dashboard/host/users/{user.id}",
                            data={"role": "supervisor", "city": "Lagos"})
        assert response.status_code == 303
        assert reloaded(db, user).role == "supervisor"
        assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 401
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Saved riley: role Technician → Supervisor." in page

    def test_a_new_city_keeps_the_users_sessions(self, client, web, api, db, host, make_user):
        user = make_user("cyd", role="technician", city="Lagos")
        tokens = api.login("cyd")
        web.post(f"/dashboard/host/users/{user.id}", data={"role": "technician", "city": "Kano"})
        assert reloaded(db, user).city == "Kano"
        assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 200

    def test_a_too_long_city_is_shown_beside_the_field(self, web, host, make_user):
        user = make_user("cyd")
        response = web.post(f"/dashboard/host/users/{user.id}",
                            data={"role": "technician", "city": "x" * 101})
        assert response.status_code == 400
        assert 'id="city-error"' in response.get_data(as_text=True)

    def test_a_host_cannot_change_its_own_role(self, web, db, host):
        response = web.post(f"/dashboard/host/users/{host.id}",
                            data={"role": "technician", "city": "Abuja"})
        assert response.status_code == 400
        assert "You cannot change your own role." in response.get_data(as_text=True)
        assert reloaded(db, host).role == "host"

    def test_setting_a_password_ends_the_users_sessions(self, client, web, api, host, make_user):
        user = make_user("pat")
        tokens = api.login("pat")
        response = web.post(f"/dashboard/host/users/{user.id}/password",
                            data={"password": NEW_PASSWORD})
        assert response.status_code == 303
        assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 401
        assert api.login("pat", NEW_PASSWORD).access
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "New password set for pat. They were signed out everywhere." in page

    def test_a_weak_password_for_a_user_shows_the_reason(self, web, api, host, make_user):
        user = make_user("pat")
        response = web.post(f"/dashboard/host/users/{user.id}/password", data={"password": "pat"})
        assert response.status_code == 400
        assert "Use at least 12 characters." in response.get_data(as_text=True)
        assert api.login("pat", STRONG_PASSWORD).access

    def test_a_host_sets_its_own_password_through_the_account_form(self, client, web, host):
        response = client.get(f"/dashboard/host/users/{host.id}/password")
        assert response.headers["Location"] == "/dashboard/host#change-password"

    def test_changes_need_the_double_submit_value(self, client, db, host, make_user):
        user = make_user("vic")
        response = client.post(f"/dashboard/host/users/{user.id}/status", data={"active": "0"})
        assert response.status_code == 400
        assert reloaded(db, user).is_active is True

    def test_an_unknown_user_is_the_404_page(self, web, host):
        assert web.post("/dashboard/host/users/999/status", data={"active": "0"}).status_code == 404

    def test_changes_are_audited(self, web, db, host, make_user):
        user = make_user("vic")
        web.post(f"/dashboard/host/users/{user.id}/status", data={"active": "0"})
        query = db.select(AuditEvent.detail).filter_by(event="user_changed", username="vic")
        details = db.session.execute(query).scalars().all()
        assert details == ["is_active True -> False"]


class TestFreshSignIn:
    def test_an_old_sign_in_is_asked_for_the_password_with_the_action_kept(
            self, web, db, host, make_user):
        user = make_user("vic")
        web.replace_access_token(fresh=False)
        response = web.post(f"/dashboard/host/users/{user.id}/status",
                            data={"active": "0", "next": "/dashboard/host"})
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Confirm it’s you" in html
        assert f'action="/dashboard/host/users/{user.id}/status"' in html
        assert '<input type="hidden" name="active" value="0">' in html
        assert '<input type="hidden" name="next" value="/dashboard/host">' in html
        assert html.count('name="jwt_csrf_token"') == 1 + 1  # this form and the header's sign-out
        assert reloaded(db, user).is_active is True

    def test_the_right_password_carries_on_and_makes_the_sign_in_fresh(
            self, web, db, host, make_user):
        user = make_user("vic")
        web.replace_access_token(fresh=False)
        response = web.post(f"/dashboard/host/users/{user.id}/status", data={
            "active": "0", "next": "/dashboard/host", "reauth_password": STRONG_PASSWORD})
        assert response.status_code == 303
        assert response.headers["Location"] == "/dashboard/host"
        assert reloaded(db, user).is_active is False
        assert isinstance(web.access_claims()["fresh"], float)
        assert web.access_claims()["sid"] == next(iter(
            db.session.execute(db.select(AuthSession.id).filter_by(user_id=host.id)).scalars()))

    def test_a_wrong_password_asks_again_with_401(self, web, db, host, make_user):
        user = make_user("vic")
        web.replace_access_token(fresh=False)
        response = web.post(f"/dashboard/host/users/{user.id}/status", data={
            "active": "0", "reauth_password": "Wrong-Password-1234"})
        assert response.status_code == 401
        assert "That password is not right." in response.get_data(as_text=True)
        assert reloaded(db, user).is_active is True
        assert web.access_claims()["fresh"] is False

    def test_a_pending_password_is_never_written_into_the_page(self, web, host, make_user):
        user = make_user("pat")
        web.replace_access_token(fresh=False)
        response = web.post(f"/dashboard/host/users/{user.id}/password",
                            data={"password": NEW_PASSWORD})
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert NEW_PASSWORD not in html
        assert 'action="/confirm-password"' in html
        assert f'value="/dashboard/host/users/{user.id}/password"' in html
        assert "enter the new password again" in html

    @pytest.mark.parametrize("path", ["/dashboard/host/users/new",
                                      "/dashboard/host/users/{id}/password"])
    def test_pages_with_password_fields_ask_first_then_show_the_form(
            self, client, web, host, make_user, path):
        user = make_user("pat")
        path = path.format(id=user.id)
        web.replace_access_token(fresh=False)
        gate = client.get(path).get_data(as_text=True)
        assert "Confirm it’s you" in gate and hidden_value(gate, "next") == path
        response = web.post("/confirm-password",
                            data={"next": path, "reauth_password": STRONG_PASSWORD})
        assert response.status_code == 303 and response.headers["Location"] == path
        assert 'id="password"' in client.get(path).get_data(as_text=True)

    def test_confirm_password_refuses_an_unsafe_next(self, web, host):
        web.replace_access_token(fresh=False)
        response = web.post("/confirm-password", data={"next": "https://evil.example",
                                                       "reauth_password": STRONG_PASSWORD})
        assert response.headers["Location"] == "/dashboard"

    def test_a_fresh_sign_in_is_not_asked_again(self, web, host, make_user):
        user = make_user("vic")
        response = web.post(f"/dashboard/host/users/{user.id}/status", data={"active": "0"})
        assert response.status_code == 303


class TestAudit:
    def test_lists_events_newest_first_with_filters(self, client, api, host, make_user):
        make_user("ann")
        client.post("/api/auth/login/", json={"username": "ann", "password": "Wrong-Password-1234"})
        api.login("hana")
        html = client.get("/dashboard/host/audit").get_data(as_text=True)
        assert html.index(SUCCEEDED) < html.index(FAILED)
        only_ann = client.get("/dashboard/host/audit?user=ANN").get_data(as_text=True)
        assert FAILED in only_ann and 'data-label="User">hana<' not in only_ann
        failures = client.get("/dashboard/host/audit?event=login_failed").get_data(as_text=True)
        assert FAILED in failures and SUCCEEDED not in failures
        recent = client.get("/dashboard/host/audit?since=1h&event=nonsense").get_data(as_text=True)
        assert FAILED in recent and SUCCEEDED in recent

    def test_pages_of_fifty(self, client, web, host, make_user):
        for _ in range(55):
            make_user()
        first = client.get("/dashboard/host/audit?event=user_created").get_data(as_text=True)
        assert "Showing 1–50 of 56 events" in first and "Page 1 of 2" in first
        second = client.get("/dashboard/host/audit?event=user_created&page=2")
        second = second.get_data(as_text=True)
        assert "Showing 51–56 of 56 events" in second

    def test_no_password_appears_in_the_audit_page(self, client, host, make_user):
        make_user("ann")
        client.post("/api/auth/login/",
                    json={"username": "ann", "password": "Secret-Typo-Password-9"})
        html = client.get("/dashboard/host/audit").get_data(as_text=True)
        assert "Secret-Typo-Password-9" not in html and STRONG_PASSWORD not in html
