"""The pages in a real browser: Debian's headless Chromium driven by Playwright.

The app runs under waitress in a background thread on a free 127.0.0.1 port,
over a temporary SQLite file. Screenshots of the sign-in page and of each
dashboard (desktop and phone) land in artifacts/screenshots/ for people to
look at. Without /usr/bin/chromium the tests skip, except under CI=true,
where they fail (`make test-deps` installs it).
"""
from datetime import timedelta

import jwt as pyjwt
import pytest

from atm_app import create_app
from atm_app.extensions import db
from atm_app.models import User
from atm_app.users.service import create_user
from conftest import DESKTOP, PHONE, STRONG_PASSWORD, screenshot, served_in_thread, sign_in

pytestmark = pytest.mark.browser

ACCESS_COOKIE, REFRESH_COOKIE = "access_token_cookie", "refresh_token_cookie"
ROLE_LABELS = {"technician": "Technician", "supervisor": "Supervisor", "host": "Data host"}
USERS = {
    "technician": ("ada.okafor", "Lagos"),
    "supervisor": ("bola.adeyemi", "Lagos"),
    "host": ("chidi.eze", "Abuja"),
}


@pytest.fixture(scope="module")
def live_app(tmp_path_factory, new_sqlite_database):
    """The app in testing configuration over a temporary SQLite file, with a few users."""
    database = new_sqlite_database(tmp_path_factory.mktemp("browser") / "browser.sqlite3")
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database})
    with app.app_context():
        for role, (username, city) in USERS.items():
            create_user(username, STRONG_PASSWORD, role, city)
        for number, (name, city) in enumerate([("emeka.nwosu", "Lagos"), ("funke.bello", "Lagos"),
                                               ("gbenga.ola", "Ibadan"), ("halima.musa", "Kano")]):
            user = create_user(name, STRONG_PASSWORD, "technician", city)
            if number == 1:
                user.is_active = False
                db.session.commit()
        db.session.remove()
    return app


@pytest.fixture(scope="module")
def base_url(live_app):
    """waitress serving the app in a background thread; its address."""
    with served_in_thread(live_app) as url:
        yield url


@pytest.fixture
def context(browser):
    """A fresh browser profile (no cookies) at desktop size."""
    context = browser.new_context(viewport=DESKTOP)
    yield context
    context.close()


@pytest.fixture
def phone(browser):
    """A fresh browser profile at phone size."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    yield context
    context.close()


def token_cookies(context):
    """The browser's JWT cookies by name."""
    return {cookie["name"]: cookie for cookie in context.cookies() if cookie["name"] in
            (ACCESS_COOKIE, REFRESH_COOKIE)}


@pytest.mark.parametrize("role", ["technician", "supervisor", "host"])
def test_each_role_signs_in_through_the_form_and_lands_on_its_dashboard(
        role, base_url, context, phone):
    username, city = USERS[role]
    for name, profile in (("desktop", context), ("phone", phone)):
        page = profile.new_page()
        sign_in(page, base_url, username)
        assert page.url == f"{base_url}/dashboard/{role}"
        assert page.get_by_role("heading", name=f"Welcome, {username}").is_visible()
        assert page.get_by_role("button", name="Sign out", exact=True).is_visible()
        lead = page.locator(".page-header").inner_text()
        assert ROLE_LABELS[role] in lead
        assert city in lead
        screenshot(page, f"dashboard-{role}-{name}")


def test_wrong_password_shows_one_error_beside_the_form(base_url, context, phone):
    for name, profile in (("desktop", context), ("phone", phone)):
        page = profile.new_page()
        sign_in(page, base_url, USERS["technician"][0], password="not-the-password")
        alert = page.get_by_role("alert")
        assert alert.inner_text() == "Invalid username or password."
        assert page.get_by_label("Username").input_value() == USERS["technician"][0]
        assert page.get_by_label("Password").input_value() == ""
        screenshot(page, f"login-error-{name}")


def test_technician_opening_the_supervisor_dashboard_gets_the_403_page(base_url, context):
    page = context.new_page()
    sign_in(page, base_url, USERS["technician"][0])
    response = page.goto(f"{base_url}/dashboard/supervisor")
    assert response.status == 403
    assert page.get_by_role("heading", name="This page is not for your role").is_visible()
    screenshot(page, "error-403")


def test_no_token_is_readable_by_scripts_or_stored_in_the_page(base_url, context):
    page = context.new_page()
    sign_in(page, base_url, USERS["host"][0])
    cookies = token_cookies(context)
    assert set(cookies) == {ACCESS_COOKIE, REFRESH_COOKIE}
    for cookie in cookies.values():
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    visible_to_scripts = page.evaluate(
        "() => [document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage)]")
    html = page.content()
    for cookie in cookies.values():
        assert all(cookie["value"] not in text for text in visible_to_scripts)
        assert cookie["value"] not in html
    assert "eyJ" not in "".join(visible_to_scripts)  # no JWT of any kind


def test_sign_out_makes_the_old_cookies_useless(base_url, browser, context):
    page = context.new_page()
    sign_in(page, base_url, USERS["supervisor"][0])
    old_cookies = context.cookies()
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_load_state()
    assert page.url == f"{base_url}/login"
    assert page.get_by_role("status").inner_text() == "You have signed out."
    replay = browser.new_context(viewport=DESKTOP)
    try:
        replay.add_cookies(old_cookies)
        stolen = replay.new_page()
        stolen.goto(f"{base_url}/dashboard/supervisor")
        assert stolen.url.startswith(f"{base_url}/login")
        assert "Your session has ended" in stolen.content()
    finally:
        replay.close()


def expired_access_token(app, access_token):
    """An already-expired access token of the same session and CSRF value."""
    from flask_jwt_extended import create_access_token

    claims = pyjwt.decode(access_token, options={"verify_signature": False})
    with app.app_context():
        user = db.session.get(User, claims["user_id"])
        token = create_access_token(
            identity=user, fresh=False, expires_delta=timedelta(seconds=-30),
            additional_claims={"token_type": "access", "sid": claims["sid"], "csrf": claims["csrf"]},
        )
        db.session.remove()
    return token


def test_an_expired_access_cookie_with_a_valid_refresh_cookie_still_loads_the_page(
        live_app, base_url, context):
    page = context.new_page()
    sign_in(page, base_url, USERS["technician"][0])
    access = token_cookies(context)[ACCESS_COOKIE]
    expired = expired_access_token(live_app, access["value"])
    context.add_cookies([{**access, "value": expired}])
    page.goto(f"{base_url}/dashboard/technician")
    assert page.url == f"{base_url}/dashboard/technician"
    assert page.get_by_role("heading", name=f"Welcome, {USERS['technician'][0]}").is_visible()
    renewed = token_cookies(context)[ACCESS_COOKIE]["value"]
    assert renewed not in (expired, access["value"])


def test_host_pages_render_for_people(base_url, context, phone):
    for name, profile in (("desktop", context), ("phone", phone)):
        page = profile.new_page()
        sign_in(page, base_url, USERS["host"][0])
        page.get_by_role("link", name="Manage emeka.nwosu").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="emeka.nwosu").is_visible()
        screenshot(page, f"host-user-{name}")
        page.goto(f"{base_url}/dashboard/host/audit")
        assert page.get_by_role("heading", name="Audit log").is_visible()
        screenshot(page, f"host-audit-{name}")
