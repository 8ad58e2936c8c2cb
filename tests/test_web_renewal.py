"""Staying signed in: an expired access cookie is renewed from the refresh cookie,
a nearly expired one on the way out; only a dead refresh token signs the user out."""
import time
from datetime import timedelta

import pytest
from conftest import hidden_value
from flask_jwt_extended import create_refresh_token

from atm_app.models import AuditEvent, AuthSession, utcnow

# Renewal rests on the database's compare-and-set: prove it on both databases.
pytestmark = pytest.mark.postgres_too

ACCESS, REFRESH, RETRY = "access_token_cookie", "refresh_token_cookie", "atm_renewal_retry"
PAGE = "/dashboard/technician"


def set_cookie_names(response):
    """Names of the cookies a response sets (deletions included)."""
    return [header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie")]


def deleted_cookie_names(response):
    """Names of the cookies a response deletes."""
    return [header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie")
            if "Max-Age=0" in header or "1970" in header]


@pytest.fixture
def technician(web, make_user):
    """A signed-in technician."""
    user = make_user("tina", role="technician")
    assert web.login("tina").status_code == 303
    return user


def session_of(db, user):
    """The user's one session, read afresh."""
    db.session.expire_all()
    return db.session.execute(db.select(AuthSession).filter_by(user_id=user.id)).scalar_one()


class TestExpiredAccessCookie:
    def test_page_loads_and_both_cookies_are_renewed(self, client, web, technician):
        old_refresh = web.cookie(REFRESH)
        web.replace_access_token(expires_in=-30)
        response = client.get(PAGE)
        assert response.status_code == 200
        assert "Welcome, tina" in response.get_data(as_text=True)
        assert set(set_cookie_names(response)) >= {ACCESS, REFRESH}
        assert web.access_claims()["exp"] > time.time()
        assert web.cookie(REFRESH) != old_refresh

    def test_the_refresh_token_rotates(self, client, api, web, db, technician):
        old_refresh = web.cookie(REFRESH)
        web.replace_access_token(expires_in=-30)
        client.get(PAGE)
        assert session_of(db, technician).previous_refresh_jti is not None
        assert api.refresh(old_refresh).status_code == 401  # retired, inside the grace window

    def test_a_missing_access_cookie_is_renewed_too(self, client, web, technician):
        client.delete_cookie(ACCESS)
        response = client.get(PAGE)
        assert response.status_code == 200
        assert web.cookie(ACCESS)

    def test_a_renewed_form_post_still_needs_and_passes_the_csrf_check(
            self, client, web, db, technician):
        web.replace_access_token(expires_in=-30)
        refused = client.post("/logout", data={})
        assert refused.status_code == 400
        web.replace_access_token(expires_in=-30)
        response = web.post("/logout")
        assert response.status_code == 303
        assert response.headers["Location"] == "/login"
        assert session_of(db, technician).end_reason == "logout"

    def test_renewed_tokens_reach_the_browser_even_with_an_error_page(
            self, client, web, technician):
        web.replace_access_token(expires_in=-30)
        response = client.get("/dashboard/host")
        assert response.status_code == 403
        assert {ACCESS, REFRESH} <= set(set_cookie_names(response))

    @pytest.mark.settings(REFRESH_ROTATION=False)
    def test_without_rotation_only_the_access_cookie_is_renewed(self, client, web, technician):
        web.replace_access_token(expires_in=-30)
        response = client.get(PAGE)
        assert response.status_code == 200
        assert set_cookie_names(response) == [ACCESS]


class TestNearlyExpiredAccessCookie:
    def test_is_renewed_on_the_way_out_without_rotating(self, client, web, db, technician):
        web.replace_access_token(expires_in=600)  # the last quarter of an hour's life
        refresh_jti_before = session_of(db, technician).refresh_jti
        response = client.get(PAGE)
        assert response.status_code == 200
        assert set_cookie_names(response) == [ACCESS]
        claims = web.access_claims()
        assert claims["exp"] - time.time() > 3000
        assert claims["sid"] == session_of(db, technician).id
        assert claims["fresh"] is False
        assert session_of(db, technician).refresh_jti == refresh_jti_before

    def test_the_renewed_token_keeps_the_forms_csrf_value(self, client, web, technician):
        before = web.access_claims()["csrf"]
        web.replace_access_token(expires_in=600)
        html = client.get(PAGE).get_data(as_text=True)
        assert hidden_value(html, "jwt_csrf_token") == before == web.access_claims()["csrf"]

    def test_a_young_access_cookie_is_left_alone(self, client, web, technician):
        response = client.get(PAGE)
        assert response.status_code == 200
        assert set_cookie_names(response) == []


class TestSessionEnded:
    def test_revoked_session_leads_to_sign_in_with_a_notice_and_clears_cookies(
            self, client, web, db, technician):
        session = session_of(db, technician)
        session.ended_at = utcnow()
        db.session.commit()
        response = client.get(PAGE)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/login?next={PAGE}"
        assert {ACCESS, REFRESH} <= set(deleted_cookie_names(response))
        page = client.get("/login").get_data(as_text=True)
        assert "Your session has ended. Please sign in again." in page

    def test_expired_refresh_token_signs_out_with_the_notice(self, client, web, db, technician):
        claims, jti = web.access_claims(), session_of(db, technician).refresh_jti
        expired = create_refresh_token(
            identity=technician, expires_delta=timedelta(seconds=-10),
            additional_claims={"token_type": "refresh", "sid": claims["sid"],
                               "csrf": claims["csrf"], "jti": jti})
        client.set_cookie(REFRESH, expired)
        web.replace_access_token(expires_in=-30)
        response = client.get(PAGE, follow_redirects=True)
        assert response.request.path == "/login"
        assert "Your session has ended" in response.get_data(as_text=True)
        assert web.cookie(ACCESS) is None and web.cookie(REFRESH) is None

    def test_a_gone_refresh_cookie_signs_out_when_the_access_cookie_lapses(
            self, client, web, technician):
        client.delete_cookie(REFRESH)
        web.replace_access_token(expires_in=-30)
        response = client.get(PAGE, follow_redirects=True)
        assert response.request.path == "/login"
        assert "Your session has ended" in response.get_data(as_text=True)

    def test_a_deactivated_user_is_signed_out(self, client, db, technician):
        technician.is_active = False
        db.session.commit()
        response = client.get(PAGE, follow_redirects=True)
        assert response.request.path == "/login"
        assert "Your session has ended" in response.get_data(as_text=True)

    def test_a_visitor_who_never_signed_in_sees_no_notice(self, client):
        response = client.get(PAGE, follow_redirects=True)
        assert response.request.path == "/login"
        assert "Your session has ended" not in response.get_data(as_text=True)


def clone_cookies(source, target):
    """Give `target` the JWT cookies of `source`, like two tabs of one browser."""
    for name in (ACCESS, REFRESH):
        target.set_cookie(name, source.get_cookie(name).value)


class TestTwoTabsRacing:
    def test_the_loser_inside_the_grace_window_is_sent_back_once_not_signed_out(
            self, app, client, web, db, technician):
        web.replace_access_token(expires_in=-30)
        other_tab = app.test_client()
        clone_cookies(client, other_tab)

        assert client.get(PAGE).status_code == 200  # the winner
        response = other_tab.get(PAGE + "?tab=1")
        assert response.status_code == 303
        assert response.headers["Location"] == PAGE + "?tab=1"
        assert set_cookie_names(response) == [RETRY]
        assert session_of(db, technician).ended_at is None

        clone_cookies(client, other_tab)  # the browser now holds the winner's cookies
        response = other_tab.get(PAGE + "?tab=1")
        assert response.status_code == 200
        assert RETRY in deleted_cookie_names(response)

    def test_a_posting_loser_is_sent_back_with_its_form(self, app, client, web, db, technician):
        web.replace_access_token(expires_in=-30)
        other_tab = app.test_client()
        clone_cookies(client, other_tab)
        csrf = web.access_claims()["csrf"]
        assert client.get(PAGE).status_code == 200
        response = other_tab.post("/account/sessions/end-all", data={"jwt_csrf_token": csrf})
        assert response.status_code == 307
        assert session_of(db, technician).ended_at is None

    def test_a_second_loss_asks_for_a_reload_instead_of_looping(
            self, app, client, web, db, technician):
        web.replace_access_token(expires_in=-30)
        other_tab = app.test_client()
        clone_cookies(client, other_tab)
        assert client.get(PAGE).status_code == 200
        assert other_tab.get(PAGE).status_code == 303
        response = other_tab.get(PAGE)  # still the old cookies, with the retry marker
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "10"
        assert "renewed in another tab" in response.get_data(as_text=True)
        assert session_of(db, technician).ended_at is None

    @pytest.mark.settings(REFRESH_REUSE_GRACE_SECONDS=0)
    def test_reuse_after_the_grace_window_ends_the_session_for_everyone(
            self, app, client, web, db, technician):
        web.replace_access_token(expires_in=-30)
        thief = app.test_client()
        clone_cookies(client, thief)
        assert client.get(PAGE).status_code == 200
        response = thief.get(PAGE)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
        assert session_of(db, technician).end_reason == "refresh_reuse"
        assert client.get(PAGE).status_code == 302
        events = db.session.execute(db.select(AuditEvent.event)).scalars().all()
        assert "refresh_reuse_detected" in events
