"""Brute-force limits on sign-in: three failure counters, 429 with Retry-After.

The contract's "Brute-force limits": failures per username and address,
per username from all addresses, per address whatever the usernames; past a
limit every sign-in it covers gets 429, even with the right password.
"""
import re
import time

import pytest

from atm_app import create_app
from atm_app.models import AuditEvent

from conftest import STRONG_PASSWORD

WRONG_PASSWORD = "not-the-password-at-all"
ADDRESS_A = "198.51.100.1"
ADDRESS_B = "198.51.100.2"


def api_login(client, username, password, address=ADDRESS_A, headers=None):
    """POST /api/auth/login/ from a given socket address."""
    return client.post(
        "/api/auth/login/",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers or {},
    )


def fail_logins(client, username, times, address=ADDRESS_A, headers=None):
    """Fail `times` sign-ins; each must be an ordinary 401."""
    for _ in range(times):
        response = api_login(client, username, WRONG_PASSWORD, address, headers)
        assert response.status_code == 401, response.get_json()


def retry_after(response):
    """The Retry-After header as seconds."""
    return int(response.headers["Retry-After"])


class TestUserAndAddressLimit:
    def test_after_five_failures_the_next_attempt_gets_429_even_with_the_right_password(
        self, client, make_user
    ):
        user = make_user("alice")
        fail_logins(client, "alice", 5)

        response = api_login(client, "alice", user.password)

        assert response.status_code == 429
        assert response.get_json() == {"detail": "Too many attempts. Try again later."}
        assert 0 < retry_after(response) <= 15 * 60

    def test_the_right_password_from_another_address_still_gets_in(self, client, make_user):
        user = make_user("alice")
        fail_logins(client, "alice", 5, address=ADDRESS_A)

        response = api_login(client, "alice", user.password, address=ADDRESS_B)

        assert response.status_code == 200
        assert api_login(client, "alice", user.password, address=ADDRESS_A).status_code == 429

    def test_four_failures_leave_the_right_password_working(self, client, make_user):
        user = make_user("alice")
        fail_logins(client, "alice", 4)

        assert api_login(client, "alice", user.password).status_code == 200

    def test_usernames_are_counted_regardless_of_case(self, client, make_user):
        user = make_user("alice")
        for spelling in ("alice", "ALICE", "Alice", "aLiCe", "alicE"):
            fail_logins(client, spelling, 1)

        assert api_login(client, "Alice", user.password).status_code == 429

    def test_unknown_usernames_count_exactly_like_real_ones(self, client):
        fail_logins(client, "Nobody-Here", 5)

        response = api_login(client, "nobody-here", WRONG_PASSWORD)

        assert response.status_code == 429
        assert "Retry-After" in response.headers

    def test_successful_sign_ins_count_toward_no_limit(self, client, make_user):
        user = make_user("alice")
        for _ in range(7):
            assert api_login(client, "alice", user.password).status_code == 200
        fail_logins(client, "alice", 5)

        assert api_login(client, "alice", user.password).status_code == 429

    def test_a_deactivated_user_s_failures_count_too(self, client, make_user):
        make_user("former", is_active=False)
        fail_logins(client, "former", 5)

        assert api_login(client, "former", STRONG_PASSWORD).status_code == 429

    def test_requests_refused_before_authentication_do_not_count(self, client, make_user):
        user = make_user("alice")
        for _ in range(8):
            response = client.post("/api/auth/login/", json={"username": "alice"},
                                   environ_base={"REMOTE_ADDR": ADDRESS_A})
            assert response.status_code == 400

        assert api_login(client, "alice", user.password).status_code == 200

    @pytest.mark.settings(LIMIT_USER_ADDRESS="1 per 1 second")
    def test_sign_in_works_again_once_the_window_has_passed(self, client, make_user):
        user = make_user("alice")
        fail_logins(client, "alice", 1)
        refused = api_login(client, "alice", user.password)
        assert refused.status_code == 429

        time.sleep(retry_after(refused) + 0.1)

        assert api_login(client, "alice", user.password).status_code == 200


class TestUserLimit:
    @pytest.mark.settings(LIMIT_USER="3 per hour")
    def test_failures_from_every_address_add_up_for_one_username(self, client, make_user):
        user = make_user("alice")
        for number in range(3):
            fail_logins(client, "alice", 1, address=f"203.0.113.{number}")

        response = api_login(client, "alice", user.password, address="203.0.113.99")

        assert response.status_code == 429
        assert 0 < retry_after(response) <= 3600

    @pytest.mark.settings(LIMIT_USER="3 per hour")
    def test_other_usernames_are_not_affected(self, client, make_user):
        make_user("alice")
        bob = make_user("bob")
        for number in range(3):
            fail_logins(client, "alice", 1, address=f"203.0.113.{number}")

        assert api_login(client, "bob", bob.password, address="203.0.113.0").status_code == 200

    def test_the_default_is_twenty_failures_an_hour(self, client, make_user):
        user = make_user("alice")
        for number in range(4):  # 4 addresses x 5 stays under the per-address limit
            fail_logins(client, "alice", 5, address=f"203.0.113.{number}")

        assert api_login(client, "alice", user.password, address=ADDRESS_B).status_code == 429


class TestAddressLimit:
    @pytest.mark.settings(LIMIT_ADDRESS="4 per 5 minutes")
    def test_failures_for_any_usernames_add_up_for_one_address(self, client, make_user):
        user = make_user("alice")
        for name in ("root", "admin", "bob", "carol"):
            fail_logins(client, name, 1)

        refused = api_login(client, "alice", user.password, address=ADDRESS_A)
        allowed = api_login(client, "alice", user.password, address=ADDRESS_B)

        assert refused.status_code == 429
        assert 0 < retry_after(refused) <= 300
        assert allowed.status_code == 200


class TestClientAddress:
    def test_forwarded_for_is_ignored_without_trusted_proxies(self, client, make_user):
        user = make_user("alice")
        for number in range(5):
            fail_logins(client, "alice", 1, headers={"X-Forwarded-For": f"192.0.2.{number}"})

        response = api_login(client, "alice", user.password,
                             headers={"X-Forwarded-For": "192.0.2.200"})

        assert response.status_code == 429

    @pytest.mark.settings(TRUSTED_PROXY_COUNT=1)
    def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(self, client, make_user,
                                                                       db):
        user = make_user("alice")
        proxy = {"REMOTE_ADDR": "10.0.0.1"}
        for _ in range(5):
            response = client.post("/api/auth/login/",
                                   json={"username": "alice", "password": WRONG_PASSWORD},
                                   headers={"X-Forwarded-For": "192.0.2.7"}, environ_base=proxy)
            assert response.status_code == 401

        same_client = client.post("/api/auth/login/",
                                  json={"username": "alice", "password": user.password},
                                  headers={"X-Forwarded-For": "192.0.2.7"}, environ_base=proxy)
        other_client = client.post("/api/auth/login/",
                                   json={"username": "alice", "password": user.password},
                                   headers={"X-Forwarded-For": "192.0.2.8"}, environ_base=proxy)

        assert same_client.status_code == 429
        assert other_client.status_code == 200
        failure = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.event == "login_failed")).scalars().first()
        assert failure.ip == "192.0.2.7"

    @pytest.mark.settings(TRUSTED_PROXY_COUNT=1)
    def test_addresses_a_client_prepends_to_forwarded_for_are_ignored(self, client, make_user):
        user = make_user("alice")
        proxy = {"REMOTE_ADDR": "10.0.0.1"}
        for number in range(5):
            # The client forges a first entry; the trusted proxy appends the real one.
            forged = {"X-Forwarded-For": f"192.0.2.{100 + number}, 192.0.2.7"}
            response = client.post("/api/auth/login/",
                                   json={"username": "alice", "password": WRONG_PASSWORD},
                                   headers=forged, environ_base=proxy)
            assert response.status_code == 401

        response = client.post("/api/auth/login/",
                               json={"username": "alice", "password": user.password},
                               headers={"X-Forwarded-For": "192.0.2.250, 192.0.2.7"},
                               environ_base=proxy)

        assert response.status_code == 429


class TestAudit:
    def test_each_refused_attempt_is_recorded_as_rate_limited(self, client, make_user, db):
        user = make_user("alice")
        fail_logins(client, "alice", 5)
        api_login(client, "ALICE", user.password)
        api_login(client, "alice", WRONG_PASSWORD)

        events = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.event == "rate_limited")
            .order_by(AuditEvent.id)).scalars().all()

        assert [event.username for event in events] == ["alice", "alice"]
        assert all(event.user_id == user.id and event.ip == ADDRESS_A for event in events)
        assert "user+address" in events[0].detail

    def test_refused_attempts_do_not_count_as_failures(self, client, make_user, db):
        make_user("alice")
        fail_logins(client, "alice", 5)
        for _ in range(3):
            api_login(client, "alice", WRONG_PASSWORD)

        failures = db.session.execute(
            db.select(db.func.count()).where(AuditEvent.event == "login_failed")).scalar_one()
        assert failures == 5


class TestStorage:
    @pytest.mark.settings(REDIS_URL="redis://127.0.0.1:1/0")
    def test_an_unreachable_counter_store_refuses_sign_in_rather_than_go_unlimited(
        self, client, make_user
    ):
        user = make_user("alice")

        response = api_login(client, "alice", user.password)

        assert response.status_code == 503
        assert response.get_json() == {"detail": "The service is unavailable."}

    def test_a_malformed_limit_setting_refuses_to_start(self, database_url):
        with pytest.raises(ValueError, match="rate limit"):
            create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url,
                                   "LIMIT_USER": "a lot per hour"})


# The web form (/login, built in the browser sign-in issue) calls the same
# authenticate(), so these prove the counters are shared with the API.
def csrf_token_of(page):
    """The Flask-WTF CSRF token in a rendered form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert match, "the sign-in form carries no csrf_token field"
    return match.group(1)


def web_login(client, username, password, address=ADDRESS_A):
    """Submit the /login form as a browser does, CSRF token included."""
    page = client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token_of(page)},
        environ_base={"REMOTE_ADDR": address},
    )


class TestWebLoginFormSharesTheLimits:
    def test_failures_on_the_web_form_count_for_the_api(self, client, make_user):
        user = make_user("alice")
        for _ in range(3):
            assert web_login(client, "alice", WRONG_PASSWORD).status_code == 401
        fail_logins(client, "alice", 2)

        assert api_login(client, "alice", user.password).status_code == 429

    def test_past_the_limit_the_web_form_shows_the_429_page_with_retry_after(
        self, client, make_user
    ):
        user = make_user("alice")
        fail_logins(client, "alice", 5)

        response = web_login(client, "alice", user.password)

        assert response.status_code == 429
        assert response.mimetype == "text/html"
        assert retry_after(response) > 0
