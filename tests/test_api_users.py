"""The users API (/api/users/) and the technician roster (/api/technicians/)."""
import pytest

from atm_app.extensions import db as _db
from atm_app.models import User
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.postgres_too

NEW_PASSWORD = "Quiet-Harbour-Falcon-77"


@pytest.fixture
def host(api, make_user):
    """A signed-in host (fresh tokens, straight from a password sign-in)."""
    make_user("boss", role="host", city=None)
    return api.login("boss")


def user_count():
    return _db.session.execute(_db.select(_db.func.count(User.id))).scalar_one()


def signed_in_as(api, make_user, role):
    make_user(f"a-{role}", role=role)
    return api.login(f"a-{role}")


# --- GET /api/users/ ---------------------------------------------------------

def test_host_lists_every_user_with_status(client, host, make_user):
    make_user("tech", role="technician", city="Kano")
    make_user("gone", role="supervisor", is_active=False)
    response = client.get("/api/users/", headers=host.headers)
    assert response.status_code == 200
    users = {user["username"]: user for user in response.get_json()["users"]}
    assert set(users) == {"boss", "tech", "gone"}
    assert set(users["tech"]) == {"id", "username", "role", "city", "is_active"}
    assert users["tech"]["city"] == "Kano" and users["tech"]["is_active"] is True
    assert users["gone"]["is_active"] is False


@pytest.mark.parametrize("role", ["technician", "supervisor"])
def test_listing_users_is_403_for_other_roles(client, api, make_user, role):
    tokens = signed_in_as(api, make_user, role)
    response = client.get("/api/users/", headers=tokens.headers)
    assert response.status_code == 403
    assert set(response.get_json()) == {"detail"}


def test_listing_users_without_a_token_is_401(client):
    response = client.get("/api/users/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- POST /api/users/ --------------------------------------------------------

def test_host_creates_a_user_who_can_then_sign_in(client, api, host):
    response = client.post("/api/users/", headers=host.headers, json={
        "username": "newtech", "password": NEW_PASSWORD, "role": "technician", "city": "Ibadan"})
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "username": "newtech", "role": "technician",
                    "city": "Ibadan", "is_active": True}
    assert api.login("newtech", NEW_PASSWORD).user["id"] == body["id"]


def test_created_user_city_is_optional(client, host):
    response = client.post("/api/users/", headers=host.headers, json={
        "username": "roamer", "password": NEW_PASSWORD, "role": "supervisor"})
    assert response.status_code == 201
    assert response.get_json()["city"] is None


@pytest.mark.parametrize("changes, field", [
    ({"role": "admin"}, "role"),
    ({"username": "has space"}, "username"),
    ({"username": ""}, "username"),
    ({"username": 7}, "username"),
    ({"city": 12}, "city"),
    ({"city": "x" * 101}, "city"),
    ({"password": 12345678901234}, "password"),
    ({"is_admin": True}, "is_admin"),
])
def test_creating_a_user_with_an_invalid_field_is_400_naming_it(client, host, changes, field):
    body = {"username": "newtech", "password": NEW_PASSWORD, "role": "technician", **changes}
    response = client.post("/api/users/", headers=host.headers, json=body)
    assert response.status_code == 400
    assert field in response.get_json()["errors"]
    assert user_count() == 1


@pytest.mark.parametrize("field", ["username", "password", "role"])
def test_creating_a_user_without_a_required_field_is_400(client, host, field):
    body = {"username": "newtech", "password": NEW_PASSWORD, "role": "technician"}
    del body[field]
    response = client.post("/api/users/", headers=host.headers, json=body)
    assert response.status_code == 400
    assert response.get_json()["errors"][field] == ["This field is required."]


@pytest.mark.parametrize("password", ["short1!", "password1234", "newtechnewtech", "Ibadan123456"])
def test_creating_a_user_with_a_weak_password_is_400_with_the_reason(client, host, password):
    response = client.post("/api/users/", headers=host.headers, json={
        "username": "newtech", "password": password, "role": "technician", "city": "Ibadan"})
    assert response.status_code == 400
    reasons = response.get_json()["errors"]["password"]
    assert reasons and all(isinstance(reason, str) and reason for reason in reasons)
    assert user_count() == 1


@pytest.mark.parametrize("username", ["tech", "TECH", "Tech"])
def test_creating_a_user_with_a_taken_username_in_any_case_is_409(client, host, make_user,
                                                                 username):
    make_user("tech")
    response = client.post("/api/users/", headers=host.headers, json={
        "username": username, "password": NEW_PASSWORD, "role": "technician"})
    assert response.status_code == 409
    assert response.get_json()["detail"] == "That username is taken."
    assert user_count() == 2


@pytest.mark.parametrize("role", ["technician", "supervisor"])
def test_creating_a_user_is_403_for_other_roles(client, api, make_user, role):
    tokens = signed_in_as(api, make_user, role)
    response = client.post("/api/users/", headers=tokens.headers, json={
        "username": "newtech", "password": NEW_PASSWORD, "role": "technician"})
    assert response.status_code == 403
    assert user_count() == 1


def test_creating_a_user_without_a_token_is_401(client):
    response = client.post("/api/users/", json={
        "username": "newtech", "password": NEW_PASSWORD, "role": "technician"})
    assert response.status_code == 401


def test_creating_a_user_with_a_refreshed_token_is_401_asking_to_sign_in_again(client, api,
                                                                              host):
    refreshed = api.refresh(host.refresh).get_json()["access"]
    response = client.post("/api/users/", headers=api.bearer(refreshed), json={
        "username": "newtech", "password": NEW_PASSWORD, "role": "technician"})
    assert response.status_code == 401
    assert "sign in again" in response.get_json()["detail"].lower()
    assert user_count() == 1


def test_listing_users_accepts_a_refreshed_token(client, api, host):
    refreshed = api.refresh(host.refresh).get_json()["access"]
    assert client.get("/api/users/", headers=api.bearer(refreshed)).status_code == 200


# --- PATCH /api/users/<id>/ --------------------------------------------------

def test_host_changes_a_users_role_city_and_status(client, host, make_user):
    user = make_user("tech", role="technician", city="Kano")
    response = client.patch(f"/api/users/{user.id}/", headers=host.headers,
                            json={"role": "supervisor", "city": "Jos", "is_active": False})
    assert response.status_code == 200
    assert response.get_json() == {"id": user.id, "username": "tech", "role": "supervisor",
                                   "city": "Jos", "is_active": False}


def test_host_clears_a_users_city(client, host, make_user):
    user = make_user("tech", city="Kano")
    response = client.patch(f"/api/users/{user.id}/", headers=host.headers, json={"city": None})
    assert response.status_code == 200
    assert response.get_json()["city"] is None


def test_host_reactivates_a_user_who_can_sign_in_again(client, api, host, make_user):
    user = make_user("tech", is_active=False)
    response = client.patch(f"/api/users/{user.id}/", headers=host.headers,
                            json={"is_active": True})
    assert response.status_code == 200
    assert api.login("tech").user["id"] == user.id


def test_host_sets_a_users_password(client, api, host, make_user):
    user = make_user("tech")
    response = client.patch(f"/api/users/{user.id}/", headers=host.headers,
                            json={"password": NEW_PASSWORD})
    assert response.status_code == 200
    assert "password" not in response.get_json()
    assert api.login("tech", NEW_PASSWORD).user["id"] == user.id
    old = client.post("/api/auth/login/", json={"username": "tech", "password": STRONG_PASSWORD})
    assert old.status_code == 401


@pytest.mark.parametrize("changes", [
    {"is_active": False},
    {"role": "supervisor"},
    {"password": NEW_PASSWORD},
], ids=["deactivate", "role", "password"])
def test_user_change_ends_that_users_tokens_at_once(client, api, host, make_user, changes):
    user = make_user("tech")
    tokens = api.login("tech")
    assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 200
    response = client.patch(f"/api/users/{user.id}/", headers=host.headers, json=changes)
    assert response.status_code == 200
    assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 401
    assert api.refresh(tokens.refresh).status_code == 401


def test_city_change_keeps_that_users_tokens(client, api, host, make_user):
    user = make_user("tech")
    tokens = api.login("tech")
    client.patch(f"/api/users/{user.id}/", headers=host.headers, json={"city": "Jos"})
    assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 200


def test_user_change_leaves_other_users_tokens_alone(client, api, host, make_user):
    user = make_user("tech")
    make_user("other")
    other = api.login("other")
    client.patch(f"/api/users/{user.id}/", headers=host.headers, json={"is_active": False})
    assert client.get("/api/auth/me/", headers=other.headers).status_code == 200


def test_changing_an_unknown_user_is_404(client, host):
    response = client.patch("/api/users/999999/", headers=host.headers, json={"city": "Jos"})
    assert response.status_code == 404
    assert response.get_json() == {"detail": "No user with that id."}


@pytest.mark.parametrize("changes, field", [
    ({"city": "Jos", "role": "admin"}, "role"),
    ({"city": "Jos", "is_active": "no"}, "is_active"),
    ({"city": ["Jos"]}, "city"),
    ({"city": "Jos", "password": "password1234"}, "password"),
    ({"city": "Jos", "username": "renamed"}, "username"),
])
def test_changing_a_user_with_an_invalid_field_is_400_and_changes_nothing(client, host,
                                                                        make_user, changes,
                                                                        field):
    user = make_user("tech", city="Kano")
    response = client.patch(f"/api/users/{user.id}/", headers=host.headers, json=changes)
    assert response.status_code == 400
    assert field in response.get_json()["errors"]
    _db.session.expire_all()
    assert _db.session.get(User, user.id).city == "Kano"  # the valid part was not applied


def test_changing_a_user_with_a_non_object_body_is_400(client, host, make_user):
    user = make_user("tech")
    response = client.patch(f"/api/users/{user.id}/", headers=host.headers, data="[]",
                            content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["technician", "supervisor"])
def test_changing_a_user_is_403_for_other_roles(client, api, make_user, role):
    target = make_user("tech")
    tokens = signed_in_as(api, make_user, role)
    response = client.patch(f"/api/users/{target.id}/", headers=tokens.headers,
                            json={"is_active": False})
    assert response.status_code == 403


def test_changing_a_user_without_a_token_is_401(client, make_user):
    user = make_user("tech")
    assert client.patch(f"/api/users/{user.id}/", json={"city": "Jos"}).status_code == 401


def test_changing_a_user_with_a_refreshed_token_is_401_asking_to_sign_in_again(client, api,
                                                                              host, make_user):
    user = make_user("tech")
    refreshed = api.refresh(host.refresh).get_json()["access"]
    response = client.patch(f"/api/users/{user.id}/", headers=api.bearer(refreshed),
                            json={"is_active": False})
    assert response.status_code == 401
    assert "sign in again" in response.get_json()["detail"].lower()


def test_host_demoted_mid_session_loses_host_rights_at_once(client, api, host, make_user):
    boss = User.find_by_username("boss")
    make_user("second", role="host", city=None)
    second = api.login("second")
    client.patch(f"/api/users/{boss.id}/", headers=second.headers, json={"role": "technician"})
    assert client.get("/api/users/", headers=host.headers).status_code == 401
    fresh = api.login("boss")
    assert client.get("/api/users/", headers=fresh.headers).status_code == 403


@pytest.mark.parametrize("changes, field", [({"role": "technician"}, "role"),
                                            ({"is_active": False}, "is_active")])
def test_the_last_active_host_cannot_be_demoted_or_deactivated(client, host, changes, field):
    boss = User.find_by_username("boss")
    response = client.patch(f"/api/users/{boss.id}/", headers=host.headers, json=changes)
    assert response.status_code == 400
    assert response.get_json()["errors"][field] == ["At least one active host must remain."]
    assert client.get("/api/users/", headers=host.headers).status_code == 200


def test_a_host_may_step_down_while_another_active_host_remains(client, api, host, make_user):
    make_user("second", role="host", city=None)
    boss = User.find_by_username("boss")
    response = client.patch(f"/api/users/{boss.id}/", headers=host.headers,
                            json={"role": "supervisor"})
    assert response.status_code == 200


# --- GET /api/technicians/ ---------------------------------------------------

def test_supervisor_sees_only_its_own_citys_technicians(client, api, make_user):
    make_user("lagos-tech", role="technician", city="Lagos")
    make_user("kano-tech", role="technician", city="Kano")
    make_user("lagos-super2", role="supervisor", city="Lagos")
    make_user("lagos-super", role="supervisor", city="Lagos")
    tokens = api.login("lagos-super")
    response = client.get("/api/technicians/", headers=tokens.headers)
    assert response.status_code == 200
    assert [user["username"] for user in response.get_json()["users"]] == ["lagos-tech"]


def test_host_sees_every_technician(client, host, make_user):
    make_user("lagos-tech", role="technician", city="Lagos")
    make_user("kano-tech", role="technician", city="Kano")
    make_user("lagos-super", role="supervisor", city="Lagos")
    response = client.get("/api/technicians/", headers=host.headers)
    assert response.status_code == 200
    names = sorted(user["username"] for user in response.get_json()["users"])
    assert names == ["kano-tech", "lagos-tech"]


def test_technician_roster_is_403_for_technicians(client, api, make_user):
    tokens = signed_in_as(api, make_user, "technician")
    response = client.get("/api/technicians/", headers=tokens.headers)
    assert response.status_code == 403
    assert set(response.get_json()) == {"detail"}


def test_technician_roster_without_a_token_is_401(client):
    assert client.get("/api/technicians/").status_code == 401
