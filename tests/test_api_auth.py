"""The JSON sign-in API: /api/auth/login/, refresh/, me/ and logout/.

Token claims are decoded with PyJWT here, independently of the app.
"""
import time
from datetime import timedelta

import jwt
import pytest

from atm_app.extensions import db as _db
from atm_app.models import User
from conftest import STRONG_PASSWORD

pytestmark = pytest.mark.postgres_too

INVALID_CREDENTIALS = "Invalid username or password."


def decode(app, token):
    """The claims of a token, verified with PyJWT and the configured key."""
    return jwt.decode(token, app.config["JWT_SECRET_KEY"], algorithms=["HS256"])


def resign(app, token, secret=None, **claims):
    """The same token with `claims` changed, signed again (by `secret` if given)."""
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    payload.update(claims)
    key = secret or app.config["JWT_SECRET_KEY"]
    return jwt.encode(payload, key, algorithm="HS256", headers={"kid": header["kid"]})


def expired(app, token):
    """The same token, validly signed, that expired a minute ago."""
    now = int(time.time())
    return resign(app, token, iat=now - 3600, nbf=now - 3600, exp=now - 60)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def delete_user(user):
    _db.session.delete(user)
    _db.session.commit()


def stored_hash(user_id):
    _db.session.expire_all()
    return _db.session.get(User, user_id).password_hash


# --- POST /api/auth/login/ -------------------------------------------------

def test_login_returns_access_refresh_and_user(client, make_user):
    user = make_user("alice", role="supervisor", city="Kano")
    response = client.post("/api/auth/login/", json={"username": "alice",
                                                     "password": STRONG_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"] == {"id": user.id, "username": "alice", "role": "supervisor",
                            "city": "Kano"}


def test_login_tokens_carry_the_contract_claims(app, api, make_user):
    user = make_user("alice")
    tokens = api.login("alice")
    for token, kind in ((tokens.access, "access"), (tokens.refresh, "refresh")):
        assert jwt.get_unverified_header(token)["alg"] == "HS256"
        claims = decode(app, token)
        assert claims["sub"] == str(user.id)
        assert claims["user_id"] == user.id and isinstance(claims["user_id"], int)
        assert claims["token_type"] == kind
        assert isinstance(claims["sid"], str) and claims["sid"]
        assert claims["jti"] and isinstance(claims["iat"], int)
    assert decode(app, tokens.access)["sid"] == decode(app, tokens.refresh)["sid"]
    assert decode(app, tokens.access)["jti"] != decode(app, tokens.refresh)["jti"]


def test_token_lifetimes_follow_access_minutes_and_refresh_days(app, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    access, refresh = decode(app, tokens.access), decode(app, tokens.refresh)
    assert access["exp"] - access["iat"] == app.config["ACCESS_TOKEN_MINUTES"] * 60
    assert refresh["exp"] - refresh["iat"] == app.config["REFRESH_TOKEN_DAYS"] * 86400


def test_login_matches_username_case_insensitively(api, make_user):
    make_user("Alice")
    tokens = api.login("aLICE")
    assert tokens.user["username"] == "Alice"


@pytest.mark.parametrize("body, field, message", [
    ({"password": STRONG_PASSWORD}, "username", "This field is required."),
    ({"username": "alice"}, "password", "This field is required."),
    ({"username": "   ", "password": STRONG_PASSWORD}, "username", "This field may not be blank."),
    ({"username": "alice", "password": ""}, "password", "This field may not be blank."),
    ({"username": 42, "password": STRONG_PASSWORD}, "username", "Must be a string."),
    ({"username": "alice", "password": ["x"]}, "password", "Must be a string."),
    ({"username": None, "password": STRONG_PASSWORD}, "username", "This field is required."),
])
def test_login_with_missing_blank_or_non_string_field_is_400_naming_it(client, make_user, body,
                                                                     field, message):
    make_user("alice")
    response = client.post("/api/auth/login/", json=body)
    assert response.status_code == 400
    assert response.get_json()["errors"][field] == [message]
    assert response.get_json()["detail"]


@pytest.mark.parametrize("body", ['[1, 2]', '"alice"', "3", "null"])
def test_login_with_json_that_is_not_an_object_is_400(client, body):
    response = client.post("/api/auth/login/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {
        "detail": "The body must be a JSON object.",
        "errors": {"non_field_errors": ["The body must be a JSON object."]},
    }


def test_login_with_invalid_json_is_400(client):
    response = client.post("/api/auth/login/", data="{not json",
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {
        "detail": "The body is not valid JSON.",
        "errors": {"non_field_errors": ["The body is not valid JSON."]},
    }


def test_login_with_form_content_type_is_415(client, make_user):
    make_user("alice")
    response = client.post("/api/auth/login/",
                           data={"username": "alice", "password": STRONG_PASSWORD})
    assert response.status_code == 415
    assert "application/json" in response.get_json()["detail"]


def test_login_with_wrong_password_is_401_with_generic_message(client, make_user):
    make_user("alice")
    response = client.post("/api/auth/login/", json={"username": "alice",
                                                     "password": "Wrong-Turbine-Lantern-42"})
    assert response.status_code == 401
    assert response.get_json() == {"detail": INVALID_CREDENTIALS}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_login_with_unknown_user_is_401_with_generic_message(client):
    response = client.post("/api/auth/login/", json={"username": "nobody",
                                                     "password": STRONG_PASSWORD})
    assert response.status_code == 401
    assert response.get_json() == {"detail": INVALID_CREDENTIALS}


def test_login_with_deactivated_user_is_401_with_generic_message(client, make_user):
    make_user("alice", is_active=False)
    response = client.post("/api/auth/login/", json={"username": "alice",
                                                     "password": STRONG_PASSWORD})
    assert response.status_code == 401
    assert response.get_json() == {"detail": INVALID_CREDENTIALS}


def test_passwords_are_stored_as_argon2id_hashes(make_user):
    user = make_user("alice")
    password_hash = stored_hash(user.id)
    assert password_hash.startswith("$argon2id$")
    assert STRONG_PASSWORD not in password_hash


def test_login_rehashes_a_password_hashed_with_older_settings(app, api, make_user):
    user = make_user("alice")
    old_hash = stored_hash(user.id)
    assert ",t=1," in old_hash
    app.config["ARGON2_TIME_COST"] = 2  # the operator raised the cost since
    api.login("alice")
    new_hash = stored_hash(user.id)
    assert new_hash.startswith("$argon2id$") and ",t=2," in new_hash
    api.login("alice")  # the upgraded hash still verifies
    assert stored_hash(user.id) == new_hash


# Made by PyPI's portable argon2-cffi-bindings wheel; the Makefile builds
# Argon2 for this machine's CPU instead, which must read the same hashes.
PORTABLE_BUILD_HASH = ("$argon2id$v=19$m=19456,t=2,p=1$FaI4dJxxIEeJ02SKHVcjBA"
                       "$uxSWWVfUEaJF3tiZtgJs5zPlpLTc5Rm2N6cIHOfGR4Q")


def test_login_accepts_a_password_hashed_by_another_argon2_build(api, client, make_user):
    user = make_user("alice")
    user.password_hash = PORTABLE_BUILD_HASH
    _db.session.commit()
    # The wrong password first: a right one rehashes at the test settings.
    wrong = {"username": "alice", "password": "stone river lantern 1988"}
    assert client.post("/api/auth/login/", json=wrong).status_code == 401
    assert api.login("alice", password="stone river lantern 1987").user["username"] == "alice"


# --- POST /api/auth/refresh/ -----------------------------------------------

def test_refresh_returns_a_new_access_token_and_rotates_the_refresh_token(app, api, client,
                                                                        make_user):
    user = make_user("alice")
    tokens = api.login("alice")
    response = api.refresh(tokens.refresh)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != tokens.refresh
    claims = decode(app, body["access"])
    assert claims["token_type"] == "access" and claims["user_id"] == user.id
    assert claims["sid"] == decode(app, tokens.access)["sid"]
    assert client.get("/api/auth/me/", headers=bearer(body["access"])).status_code == 200
    assert api.refresh(tokens.refresh).status_code == 401  # the old one stopped working
    assert api.refresh(body["refresh"]).status_code == 200


def test_refresh_tokens_name_their_user_and_access_tokens_do_not(app, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    rotated = api.refresh(tokens.refresh).get_json()
    assert decode(app, tokens.refresh)["username"] == "alice"
    assert decode(app, rotated["refresh"])["username"] == "alice"
    assert "username" not in decode(app, tokens.access)
    assert "username" not in decode(app, rotated["access"])


def test_a_refresh_token_minted_before_tokens_named_their_user_still_refreshes(app, api,
                                                                              make_user):
    make_user("alice")
    tokens = api.login("alice")
    claims = jwt.decode(tokens.refresh, options={"verify_signature": False})
    del claims["username"]
    older = jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256",
                       headers={"kid": jwt.get_unverified_header(tokens.refresh)["kid"]})
    response = api.refresh(older)
    assert response.status_code == 200
    assert decode(app, response.get_json()["refresh"])["username"] == "alice"


@pytest.mark.settings(REFRESH_ROTATION=False)
def test_refresh_without_rotation_returns_only_an_access_token(api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    first = api.refresh(tokens.refresh)
    assert first.status_code == 200
    assert set(first.get_json()) == {"access"}
    assert api.refresh(tokens.refresh).status_code == 200


def test_refresh_accepts_the_token_in_the_authorization_header(client, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    response = client.post("/api/auth/refresh/", headers=bearer(tokens.refresh))
    assert response.status_code == 200
    assert "access" in response.get_json()


@pytest.mark.parametrize("request_kwargs", [{"json": {}}, {}], ids=["empty-object", "no-body"])
def test_refresh_without_a_token_is_400_naming_the_field(client, request_kwargs):
    response = client.post("/api/auth/refresh/", **request_kwargs)
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"refresh": ["This field is required."]}


@pytest.mark.parametrize("value, message", [
    ("", "This field may not be blank."),
    (42, "Must be a string."),
])
def test_refresh_with_a_blank_or_non_string_token_is_400(client, value, message):
    response = client.post("/api/auth/refresh/", json={"refresh": value})
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"refresh": [message]}


def test_refresh_with_a_malformed_token_is_401(api):
    response = api.refresh("not-a-jwt")
    assert response.status_code == 401
    assert response.get_json() == {"detail": "The token is invalid."}


def test_refresh_with_a_bad_signature_is_401(app, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    forged = resign(app, tokens.refresh, secret="another-key-that-is-long-enough-000")
    response = api.refresh(forged)
    assert response.status_code == 401
    assert response.get_json() == {"detail": "The token is invalid."}


def test_refresh_with_an_expired_token_is_401(app, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    response = api.refresh(expired(app, tokens.refresh))
    assert response.status_code == 401
    assert response.get_json() == {"detail": "The token has expired."}


@pytest.mark.settings(JWT_REFRESH_TOKEN_EXPIRES=timedelta(seconds=-1))
def test_refresh_token_past_its_configured_lifetime_is_401(api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    response = api.refresh(tokens.refresh)
    assert response.status_code == 401


def test_refresh_with_a_revoked_token_is_401(api, client, make_user):
    make_user("alice")
    tokens = api.login("alice")
    client.post("/api/auth/logout/", headers=tokens.headers, json={"refresh": tokens.refresh})
    response = api.refresh(tokens.refresh)
    assert response.status_code == 401
    assert response.get_json() == {"detail": "The token has been revoked."}


def test_refresh_with_an_access_token_is_401(api, client, make_user):
    make_user("alice")
    tokens = api.login("alice")
    assert api.refresh(tokens.access).status_code == 401
    in_header = client.post("/api/auth/refresh/", headers=tokens.headers)
    assert in_header.status_code == 401


def test_refresh_for_a_deactivated_user_is_401(api, make_user):
    user = make_user("alice")
    tokens = api.login("alice")
    user.is_active = False
    _db.session.commit()
    assert api.refresh(tokens.refresh).status_code == 401


def test_refresh_for_a_deleted_user_is_401(api, make_user):
    user = make_user("alice")
    tokens = api.login("alice")
    delete_user(user)
    assert api.refresh(tokens.refresh).status_code == 401


# --- GET /api/auth/me/ -----------------------------------------------------

def test_me_returns_the_signed_in_user(client, api, make_user):
    user = make_user("alice", role="host", city=None)
    tokens = api.login("alice")
    response = client.get("/api/auth/me/", headers=tokens.headers)
    assert response.status_code == 200
    assert response.get_json() == {"id": user.id, "username": "alice", "role": "host",
                                   "city": None}


def test_me_reads_role_from_the_database_not_the_token(client, api, make_user):
    user = make_user("alice", role="technician")
    tokens = api.login("alice")
    user.city = "Abuja"  # a change that does not end sessions
    _db.session.commit()
    assert client.get("/api/auth/me/", headers=tokens.headers).get_json()["city"] == "Abuja"


def test_me_without_a_token_is_401_with_www_authenticate(client):
    response = client.get("/api/auth/me/")
    assert response.status_code == 401
    assert response.get_json() == {"detail": "Authentication credentials were not provided."}
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Bearer ", "Basic YWxpY2U6eA==",
                                    "Bearer a.b.c"])
def test_me_with_a_malformed_authorization_header_is_401(client, header):
    response = client.get("/api/auth/me/", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert set(response.get_json()) == {"detail"}


def test_me_with_an_expired_access_token_is_401(app, client, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    response = client.get("/api/auth/me/", headers=bearer(expired(app, tokens.access)))
    assert response.status_code == 401
    assert response.get_json() == {"detail": "The token has expired."}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_me_with_a_revoked_access_token_is_401(client, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    client.post("/api/auth/logout/", headers=tokens.headers)
    response = client.get("/api/auth/me/", headers=tokens.headers)
    assert response.status_code == 401
    assert response.get_json() == {"detail": "The token has been revoked."}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_me_with_a_refresh_token_is_401(client, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    response = client.get("/api/auth/me/", headers=bearer(tokens.refresh))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_me_with_a_token_whose_claims_were_tampered_is_401(app, client, api, make_user):
    make_user("alice")
    other = make_user("bob")
    tokens = api.login("alice")
    forged = resign(app, tokens.access, secret="x" * 40, sub=str(other.id), user_id=other.id)
    assert client.get("/api/auth/me/", headers=bearer(forged)).status_code == 401


def test_me_for_a_deactivated_user_is_401(client, api, make_user):
    user = make_user("alice")
    tokens = api.login("alice")
    assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 200
    user.is_active = False
    _db.session.commit()
    response = client.get("/api/auth/me/", headers=tokens.headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_me_for_a_deleted_user_is_401(client, api, make_user):
    user = make_user("alice")
    tokens = api.login("alice")
    assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 200
    delete_user(user)
    response = client.get("/api/auth/me/", headers=tokens.headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_api_ignores_an_access_token_in_a_cookie(client, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    client.set_cookie("access_token_cookie", tokens.access)
    response = client.get("/api/auth/me/")
    assert response.status_code == 401
    assert response.get_json() == {"detail": "Authentication credentials were not provided."}


# --- POST /api/auth/logout/ ------------------------------------------------

def test_logout_ends_the_access_and_refresh_tokens_at_once(client, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    response = client.post("/api/auth/logout/", headers=tokens.headers,
                           json={"refresh": tokens.refresh})
    assert response.status_code == 200
    assert response.get_json() == {"detail": "Logged out."}
    assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 401
    assert api.refresh(tokens.refresh).status_code == 401


def test_logout_ends_a_refresh_token_of_another_sign_in_it_is_given(client, api, make_user):
    make_user("alice")
    phone, laptop = api.login("alice"), api.login("alice")
    response = client.post("/api/auth/logout/", headers=phone.headers,
                           json={"refresh": laptop.refresh})
    assert response.status_code == 200
    assert api.refresh(laptop.refresh).status_code == 401
    assert client.get("/api/auth/me/", headers=phone.headers).status_code == 401


def test_logout_leaves_other_sign_ins_alone(client, api, make_user):
    make_user("alice")
    phone, laptop = api.login("alice"), api.login("alice")
    client.post("/api/auth/logout/", headers=phone.headers)
    assert client.get("/api/auth/me/", headers=laptop.headers).status_code == 200


def test_logout_with_someone_elses_refresh_token_is_400_and_ends_nothing(client, api, make_user):
    make_user("alice")
    make_user("bob")
    alice, bob = api.login("alice"), api.login("bob")
    response = client.post("/api/auth/logout/", headers=alice.headers,
                           json={"refresh": bob.refresh})
    assert response.status_code == 400
    assert "refresh" in response.get_json()["errors"]
    assert api.refresh(bob.refresh).status_code == 200


def test_logout_without_a_token_is_401(client):
    response = client.post("/api/auth/logout/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_logout_with_a_refresh_token_as_bearer_is_401(client, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    assert client.post("/api/auth/logout/", headers=bearer(tokens.refresh)).status_code == 401
