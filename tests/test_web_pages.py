"""Who sees which page: dashboards per role, the sign-in redirect, error pages, headers."""
import re

import pytest
from conftest import hidden_value

ROLE_LABELS = {"host": "Data host", "technician": "Technician", "supervisor": "Supervisor"}
STYLESHEET = '<link rel="stylesheet" href="/static/css/app.css">'
DASHBOARDS = ["/dashboard/host", "/dashboard/technician", "/dashboard/supervisor"]
SIGNED_IN_PAGES = DASHBOARDS + ["/dashboard", "/dashboard/host/audit", "/dashboard/host/users/new",
                                "/dashboard/host/users/1", "/confirm-password"]


def assert_page_headers(response):
    """The contract's security headers, and never stored (pages with user data)."""
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "style-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"]
    assert headers["Cache-Control"] == "no-store"


def sign_in_cookies_set(response):
    """The JWT cookies a response sets or clears."""
    return [cookie for cookie in response.headers.getlist("Set-Cookie")
            if cookie.startswith(("access_token_cookie=", "refresh_token_cookie="))]


@pytest.fixture
def signed_in(web, make_user):
    """Sign in a user of a role; returns the user."""

    def sign_in(role, city="Lagos", username=None):
        user = make_user(username or f"a-{role}", role=role, city=city)
        assert web.login(user.username).status_code == 303
        return user

    return sign_in


class TestNotSignedIn:
    @pytest.mark.parametrize("path", SIGNED_IN_PAGES)
    def test_signed_in_pages_redirect_to_sign_in_with_next(self, client, path):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/login?next={path}"

    def test_next_keeps_the_query_string(self, client):
        response = client.get("/dashboard/host?q=ada&page=2")
        assert response.headers["Location"] == "/login?next=/dashboard/host?q%3Dada%26page%3D2"

    @pytest.mark.parametrize("path", ["/logout", "/account/sessions/end-all", "/account/password"])
    def test_posts_without_cookies_are_refused(self, client, path):
        response = client.post(path, data={"jwt_csrf_token": "x"})
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")

    @pytest.mark.parametrize("path", ["/login", "/login?next=/dashboard"])
    def test_the_sign_in_page_carries_the_headers_and_is_never_stored(self, client, path):
        assert_page_headers(client.get(path))

    def test_a_garbage_access_cookie_is_not_a_sign_in(self, client):
        client.set_cookie("access_token_cookie", "not-a-jwt")
        response = client.get("/dashboard/technician")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


class TestDashboards:
    @pytest.mark.parametrize("role", ["host", "technician", "supervisor"])
    def test_dashboard_redirects_to_the_role_dashboard(self, client, signed_in, role):
        signed_in(role)
        response = client.get("/dashboard")
        assert response.status_code == 302
        assert response.headers["Location"] == f"/dashboard/{role}"

    @pytest.mark.parametrize("role", ["host", "technician", "supervisor"])
    def test_each_dashboard_shows_who_is_signed_in_and_a_sign_out_button(
            self, client, signed_in, role):
        user = signed_in(role, city="Kano")
        response = client.get(f"/dashboard/{role}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f"Welcome, {user.username}" in html
        assert "Kano" in html
        assert ROLE_LABELS[role] in html
        assert re.search(r'<form[^>]*method="post" action="/logout">', html)
        assert hidden_value(html, "jwt_csrf_token")
        assert_page_headers(response)

    @pytest.mark.parametrize("role, forbidden", [
        ("technician", "/dashboard/supervisor"), ("technician", "/dashboard/host"),
        ("supervisor", "/dashboard/technician"), ("supervisor", "/dashboard/host"),
        ("host", "/dashboard/technician"), ("host", "/dashboard/supervisor"),
        ("technician", "/dashboard/host/audit"), ("supervisor", "/dashboard/host/users/1"),
    ])
    def test_another_role_gets_the_403_page(self, client, signed_in, role, forbidden):
        signed_in(role)
        response = client.get(forbidden)
        assert response.status_code == 403
        assert response.mimetype == "text/html"
        assert "This page is not for your role" in response.get_data(as_text=True)
        assert_page_headers(response)

    def test_no_token_appears_in_any_page(self, client, web, signed_in):
        signed_in("host")
        tokens = [web.cookie("access_token_cookie"), web.cookie("refresh_token_cookie")]
        for path in ["/dashboard/host", "/dashboard/host/audit", "/dashboard/host/users/1"]:
            html = client.get(path).get_data(as_text=True)
            assert all(token not in html for token in tokens)
            assert "eyJ" not in html

    def test_pages_hold_no_script_and_no_inline_style(self, client, signed_in):
        signed_in("host")
        html = client.get("/dashboard/host").get_data(as_text=True)
        assert "<script" not in html and "style=" not in html and "<style" not in html


class TestSupervisor:
    def test_sees_the_technicians_of_its_city_with_their_status(self, client, signed_in, make_user):
        make_user("tech-active", role="technician", city="Lagos")
        make_user("tech-gone", role="technician", city="Lagos", is_active=False)
        make_user("tech-elsewhere", role="technician", city="Kano")
        make_user("other-supervisor", role="supervisor", city="Lagos")
        signed_in("supervisor", city="Lagos")
        html = client.get("/dashboard/supervisor").get_data(as_text=True)
        assert "tech-active" in html and "tech-gone" in html
        assert "tech-elsewhere" not in html and "other-supervisor" not in html
        assert re.search(r"tech-active.*?Active.*?tech-gone.*?Deactivated", html, re.S)

    def test_shows_which_technicians_are_signed_in(self, client, api, signed_in, make_user):
        make_user("tech-online", role="technician", city="Lagos")
        make_user("tech-offline", role="technician", city="Lagos")
        api.login("tech-online")
        signed_in("supervisor", city="Lagos")
        html = client.get("/dashboard/supervisor").get_data(as_text=True)
        online = html[html.index("tech-online"):html.index("tech-online") + 600]
        offline = html[html.index("tech-offline"):html.index("tech-offline") + 600]
        assert ">Signed in<" in online and "Not signed in" in offline

    def test_without_a_city_sees_nobody(self, client, signed_in, make_user):
        make_user("tech", role="technician", city="Lagos")
        signed_in("supervisor", city=None)
        html = client.get("/dashboard/supervisor").get_data(as_text=True)
        assert "ask your data host to set one" in html and ">tech<" not in html


class TestTechnician:
    def test_sees_its_profile_and_the_supervisors_of_its_city(self, client, signed_in, make_user):
        make_user("lagos-boss", role="supervisor", city="Lagos")
        make_user("kano-boss", role="supervisor", city="Kano")
        signed_in("technician", city="Lagos")
        html = client.get("/dashboard/technician").get_data(as_text=True)
        assert "Your profile" in html and "lagos-boss" in html and "kano-boss" not in html
        assert 'id="current_password"' in html and 'id="new_password"' in html


class TestErrorPages:
    def test_unknown_page_is_the_404_page(self, client):
        response = client.get("/no-such-page")
        assert response.status_code == 404
        assert "Page not found" in response.get_data(as_text=True)
        assert STYLESHEET in response.get_data(as_text=True)

    def test_unknown_user_page_is_the_404_page_for_a_host(self, client, signed_in):
        signed_in("host")
        response = client.get("/dashboard/host/users/9999")
        assert response.status_code == 404
        assert "Go to your dashboard" in response.get_data(as_text=True)

    def test_an_unexpected_error_is_the_500_page_without_details(self, app):
        @app.get("/explode")
        def explode():
            raise RuntimeError("secret internals")

        response = app.test_client().get("/explode")
        html = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Something went wrong" in html and "secret internals" not in html
        assert STYLESHEET in html

    def test_get_of_logout_is_the_405_page(self, client):
        response = client.get("/logout")
        assert response.status_code == 405
        assert response.mimetype == "text/html"

    def test_error_page_shows_the_signed_in_user(self, client, signed_in):
        user = signed_in("technician")
        html = client.get("/dashboard/host").get_data(as_text=True)
        assert user.username in html and "Sign out" in html

    @pytest.mark.parametrize("method, path, status", [
        ("get", "/no-such-page", 404),
        ("get", "/dashboard/host/users/9999", 404),
        ("get", "/dashboard/supervisor", 403),
        ("get", "/logout", 405),
        ("post", "/dashboard", 405),
    ])
    def test_every_error_page_keeps_the_header_of_the_signed_in_user(
            self, client, signed_in, method, path, status):
        user = signed_in("host" if status != 403 else "technician")
        response = getattr(client, method)(path)
        html = response.get_data(as_text=True)
        assert response.status_code == status
        assert 'aria-label="Main"' in html
        assert user.username in html and "Sign out" in html
        assert "Go to your dashboard" in html

    def test_an_unknown_page_neither_renews_nor_clears_the_cookies(self, client, web, signed_in):
        user = signed_in("technician")
        web.replace_access_token(expires_in=-60)  # lapsed: only the refresh cookie is good
        response = client.get("/no-such-page")
        assert response.status_code == 404
        assert user.username in response.get_data(as_text=True)
        assert sign_in_cookies_set(response) == []

    def test_an_unknown_page_with_an_ended_session_shows_nobody_signed_in(
            self, client, web, signed_in):
        signed_in("technician")
        cookies = {name: web.cookie(name) for name in ("access_token_cookie",
                                                       "refresh_token_cookie")}
        web.post("/account/sessions/end-all")
        for name, value in cookies.items():  # a browser that kept the dead session's cookies
            client.set_cookie(name, value)
        response = client.get("/no-such-page")
        assert response.status_code == 404
        assert "Sign out" not in response.get_data(as_text=True)
        assert sign_in_cookies_set(response) == []


class TestStatic:
    def test_the_stylesheet_is_served_and_may_be_cached(self, client):
        response = client.get("/static/css/app.css")
        assert response.status_code == 200
        assert response.mimetype == "text/css"
        assert "no-store" not in response.headers.get("Cache-Control", "")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()

    def test_the_stylesheet_loads_no_font_or_file_from_elsewhere(self, client):
        response = client.get("/static/css/app.css")
        css = response.get_data(as_text=True)
        response.close()
        assert "@import" not in css and "url(" not in css and "@font-face" not in css
