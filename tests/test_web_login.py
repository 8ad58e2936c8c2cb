"""The sign-in page: the form, its CSRF token, the cookies it sets, and `next`."""
import re

import pytest
from conftest import STRONG_PASSWORD, hidden_value

from atm_app import create_app
from atm_app.extensions import db as _db
from atm_app.models import AuditEvent, AuthSession
from atm_app.users.service import create_user

ACCESS, REFRESH = "access_token_cookie", "refresh_token_cookie"


def set_cookie_headers(response):
    """The response's Set-Cookie headers by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


class TestTheForm:
    def test_login_page_has_labelled_fields_and_a_csrf_token(self, client):
        response = client.get("/login")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        assert '<label class="field__label" for="username">' in html
        assert '<label class="field__label" for="password">' in html
        assert re.search(r'<input[^>]*id="password"[^>]*type="password"', html)
        assert hidden_value(html, "csrf_token")
        assert 'name="jwt_csrf_token"' not in html  # not signed in: one CSRF mechanism only

    def test_login_page_links_only_local_styles_and_no_scripts_or_inline_styles(self, client):
        html = client.get("/login").get_data(as_text=True)
        assert '<link rel="stylesheet" href="/static/css/app.css">' in html
        assert "<script" not in html and "style=" not in html and "<style" not in html
        assert "http://" not in html and "https://" not in html


class TestSigningIn:
    def test_right_password_sets_httponly_lax_cookies_and_goes_to_the_dashboard(
            self, client, web, make_user):
        make_user("alice", role="technician")
        response = web.login("alice")
        assert response.status_code == 303
        assert response.headers["Location"] == "/dashboard"
        cookies = set_cookie_headers(response)
        for name in (ACCESS, REFRESH):
            assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]
            assert "Secure" not in cookies[name]  # plain http in testing
        assert "csrf_access_token" not in cookies and "csrf_refresh_token" not in cookies
        assert client.get("/dashboard").headers["Location"] == "/dashboard/technician"

    def test_sign_in_starts_a_session_and_is_audited(self, web, make_user, db):
        user = make_user("alice")
        web.login("alice")
        assert db.session.execute(db.select(AuthSession).filter_by(user_id=user.id)).scalar_one()
        events = db.session.execute(db.select(AuditEvent.event)).scalars().all()
        assert "login_succeeded" in events

    def test_usernames_match_whatever_their_case(self, web, make_user):
        make_user("Alice")
        assert web.login("aLICE").status_code == 303

    @pytest.mark.parametrize("username, password, active", [
        ("alice", "Wrong-Password-1234", True),
        ("nobody", STRONG_PASSWORD, True),
        ("alice", STRONG_PASSWORD, False),
    ], ids=["wrong password", "unknown user", "deactivated user"])
    def test_failure_shows_the_form_again_with_one_message_and_status_401(
            self, client, web, make_user, username, password, active):
        make_user("alice", is_active=active)
        response = web.login(username, password)
        html = response.get_data(as_text=True)
        assert response.status_code == 401
        assert html.count('role="alert"') == 1
        assert "Invalid username or password." in html
        assert re.search(rf'<input[^>]*id="username"[^>]*value="{username}"', html)
        assert password not in html
        assert ACCESS not in set_cookie_headers(response)
        assert client.get_cookie(ACCESS) is None

    def test_blank_fields_are_refused_beside_the_fields(self, client):
        token = hidden_value(client.get("/login").get_data(as_text=True), "csrf_token")
        response = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Enter your username." in html and "Enter your password." in html
        assert 'aria-invalid="true"' in html

    @pytest.mark.parametrize("token", [None, "", "forged-token"])
    def test_post_without_a_valid_csrf_token_gets_the_400_page(self, client, make_user, token):
        make_user("alice")
        client.get("/login")
        data = {"username": "alice", "password": STRONG_PASSWORD}
        if token is not None:
            data["csrf_token"] = token
        response = client.post("/login", data=data)
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        assert "This form was not accepted" in response.get_data(as_text=True)
        assert client.get_cookie(ACCESS) is None

    def test_a_signed_in_visitor_of_the_login_page_goes_to_the_dashboard(
            self, client, web, make_user):
        make_user("alice")
        web.login("alice")
        assert client.get("/login").headers["Location"] == "/dashboard"

    def test_too_many_failures_show_the_429_page_with_retry_after(self, web, make_user):
        make_user("alice")
        for _ in range(5):
            assert web.login("alice", "Wrong-Password-1234").status_code == 401
        response = web.login("alice", STRONG_PASSWORD)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert "Too many sign-in attempts" in response.get_data(as_text=True)


class TestNext:
    @pytest.mark.parametrize("next_path", [
        "/dashboard/technician",
        "/dashboard/technician?tab=sessions",
        "/dashboard",
    ])
    def test_a_local_page_is_where_sign_in_leads(self, web, make_user, next_path):
        make_user("alice")
        assert web.login("alice", next_path=next_path).headers["Location"] == next_path

    @pytest.mark.parametrize("next_path", [
        "//evil.example",
        "//evil.example/dashboard",
        "https://evil.example",
        "https://evil.example/dashboard",
        "http:/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\\/evil.example",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "/%2F%2Fevil.example",
        "%252F%252Fevil.example",
        "/%5Cevil.example",
        "/%09/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "evil.example",
        " //evil.example",
        "/login",
        "/logout",
        "/no-such-page",
        "/api/auth/me/",
    ])
    def test_anything_else_leads_to_the_dashboard(self, web, make_user, next_path):
        make_user("alice")
        assert web.login("alice", next_path=next_path).headers["Location"] == "/dashboard"

    def test_the_login_page_keeps_a_safe_next_in_its_form(self, client):
        html = client.get("/login?next=/dashboard/host").get_data(as_text=True)
        assert 'action="/login?next=/dashboard/host"' in html

    def test_the_login_page_drops_an_unsafe_next(self, client):
        html = client.get("/login?next=//evil.example").get_data(as_text=True)
        assert "evil.example" not in html


class TestRoot:
    def test_root_sends_visitors_to_the_sign_in_page(self, client):
        response = client.get("/")
        assert response.status_code == 302
        assert response.headers["Location"] == "/login"

    def test_root_sends_signed_in_users_to_their_dashboard(self, client, web, make_user):
        make_user("alice")
        web.login("alice")
        assert client.get("/").headers["Location"] == "/dashboard"


def test_production_cookies_are_secure(monkeypatch, tmp_path, new_sqlite_database):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    monkeypatch.setenv("DATABASE_URL", new_sqlite_database(tmp_path / "production.sqlite3"))
    app = create_app("production", {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 64})
    with app.app_context():
        create_user("alice", STRONG_PASSWORD, "technician", "Lagos")
        client = app.test_client()
        https = {"base_url": "https://atm.example",
                 "headers": {"Referer": "https://atm.example/login"}}
        page = client.get("/login", **https)
        response = client.post("/login", data={
            "username": "alice", "password": STRONG_PASSWORD,
            "csrf_token": hidden_value(page.get_data(as_text=True), "csrf_token"),
        }, **https)
        _db.session.remove()
        _db.engine.dispose()
    assert response.status_code == 303
    cookies = {**set_cookie_headers(page), **set_cookie_headers(response)}
    for name in (ACCESS, REFRESH, "session"):
        assert "Secure" in cookies[name] and "HttpOnly" in cookies[name]
        assert "SameSite=Lax" in cookies[name]
