"""Signing-key rotation: JWT_SECRET_KEYS, newest first, and the `kid` header.

A "deploy" is a second app on the same database with other keys, as after a
restart with a new JWT_SECRET_KEYS.
"""
import jwt
import pytest

from atm_app import create_app
from atm_app.extensions import db as _db
from conftest import STRONG_PASSWORD

OLD_KEY = "old-signing-key-0123456789abcdef0123456789"
NEW_KEY = "new-signing-key-0123456789abcdef0123456789"
OTHER_KEY = "someone-elses-key-0123456789abcdef01234567"

OLD_KEY_ONLY = pytest.mark.settings(JWT_SECRET_KEYS=[OLD_KEY], JWT_SECRET_KEY=OLD_KEY)


@pytest.fixture
def deploy(database_url):
    """Start the app again on the same database with other signing keys; its client."""
    apps = []

    def start(*keys):
        apps.append(create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url,
                                           "JWT_SECRET_KEYS": list(keys),
                                           "JWT_SECRET_KEY": keys[0]}))
        return apps[-1].test_client()

    yield start
    for app in apps:
        with app.app_context():
            _db.engine.dispose()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def kid_of(token):
    return jwt.get_unverified_header(token).get("kid")


def sign_in(client, username):
    response = client.post("/api/auth/login/", json={"username": username,
                                                     "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def resigned(token, secret, headers):
    """The token's claims signed again with `secret` and exactly `headers`."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers)


def test_jwt_secret_keys_from_the_environment_are_listed_newest_first(monkeypatch):
    monkeypatch.setenv("JWT_SECRET_KEYS", f" {NEW_KEY}, {OLD_KEY} ,")
    monkeypatch.setenv("JWT_SECRET_KEY", OTHER_KEY)
    app = create_app("testing")
    assert app.config["JWT_SECRET_KEYS"] == [NEW_KEY, OLD_KEY]
    assert app.config["JWT_SECRET_KEY"] == NEW_KEY


@pytest.mark.settings(JWT_SECRET_KEYS=[NEW_KEY, OLD_KEY], JWT_SECRET_KEY=NEW_KEY)
def test_new_tokens_are_signed_with_the_first_key_and_name_it(client, deploy, make_user):
    make_user("alice")
    tokens = sign_in(client, "alice")
    only_new = sign_in(deploy(NEW_KEY), "alice")
    for token in (tokens["access"], tokens["refresh"]):
        jwt.decode(token, NEW_KEY, algorithms=["HS256"])  # raises if another key signed it
        assert kid_of(token) == kid_of(only_new["access"])
        assert NEW_KEY not in kid_of(token)


@OLD_KEY_ONLY
def test_each_key_has_its_own_kid(client, deploy, make_user):
    make_user("alice")
    old, new = sign_in(client, "alice"), sign_in(deploy(NEW_KEY), "alice")
    assert kid_of(old["access"]) != kid_of(new["access"])


@OLD_KEY_ONLY
def test_tokens_of_the_old_key_still_work_after_a_new_key_is_added(client, deploy, make_user):
    make_user("alice")
    old = sign_in(client, "alice")
    rotated = deploy(NEW_KEY, OLD_KEY)
    assert rotated.get("/api/auth/me/", headers=bearer(old["access"])).status_code == 200
    response = rotated.post("/api/auth/refresh/", json={"refresh": old["refresh"]})
    assert response.status_code == 200
    body = response.get_json()
    assert kid_of(body["access"]) == kid_of(body["refresh"]) != kid_of(old["access"])
    jwt.decode(body["access"], NEW_KEY, algorithms=["HS256"])


@OLD_KEY_ONLY
def test_tokens_of_a_removed_key_get_401(client, deploy, make_user):
    make_user("alice")
    old = sign_in(client, "alice")
    new_only = deploy(NEW_KEY)
    response = new_only.get("/api/auth/me/", headers=bearer(old["access"]))
    assert response.status_code == 401
    assert response.get_json() == {"detail": "The token is invalid."}
    assert new_only.post("/api/auth/refresh/", json={"refresh": old["refresh"]}).status_code == 401


def test_a_token_without_a_kid_gets_401_even_when_well_signed(app, client, make_user):
    make_user("alice")
    tokens = sign_in(client, "alice")
    no_kid = resigned(tokens["access"], app.config["JWT_SECRET_KEYS"][0], {})
    assert "kid" not in jwt.get_unverified_header(no_kid)
    response = client.get("/api/auth/me/", headers=bearer(no_kid))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_refresh_token_without_a_kid_gets_401_even_when_well_signed(app, client, make_user):
    make_user("alice")
    tokens = sign_in(client, "alice")
    no_kid = resigned(tokens["refresh"], app.config["JWT_SECRET_KEYS"][0], {})
    response = client.post("/api/auth/refresh/", json={"refresh": no_kid})
    assert response.status_code == 401
    assert response.get_json() == {"detail": "The token is invalid."}


def test_a_token_with_an_unknown_kid_gets_401_even_when_well_signed(app, client, make_user):
    make_user("alice")
    tokens = sign_in(client, "alice")
    secret = app.config["JWT_SECRET_KEYS"][0]
    for kid in ("0123456789abcdef", secret, ""):
        forged = resigned(tokens["access"], secret, {"kid": kid})
        assert client.get("/api/auth/me/", headers=bearer(forged)).status_code == 401
        forged = resigned(tokens["refresh"], secret, {"kid": kid})
        assert client.post("/api/auth/refresh/", json={"refresh": forged}).status_code == 401


@OLD_KEY_ONLY
def test_a_token_signed_by_the_newest_key_but_naming_an_older_one_gets_401(client, deploy,
                                                                           make_user):
    make_user("alice")
    old = sign_in(client, "alice")
    rotated = deploy(NEW_KEY, OLD_KEY)
    misnamed = resigned(old["refresh"], NEW_KEY, {"kid": kid_of(old["refresh"])})
    response = rotated.post("/api/auth/refresh/", json={"refresh": misnamed})
    assert response.status_code == 401
    assert response.get_json() == {"detail": "The token is invalid."}


def test_a_token_naming_a_listed_kid_but_signed_by_another_key_gets_401(client, make_user):
    make_user("alice")
    tokens = sign_in(client, "alice")
    forged = resigned(tokens["refresh"], OTHER_KEY, {"kid": kid_of(tokens["refresh"])})
    assert client.post("/api/auth/refresh/", json={"refresh": forged}).status_code == 401


def test_production_refuses_a_weak_key_anywhere_in_the_list(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEYS", f"{NEW_KEY},too-short")
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY"):
        create_app("production")
