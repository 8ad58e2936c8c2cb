"""Every /api/ answer is JSON, errors included; routes take both slash forms."""
import pytest
import sqlalchemy as sa

from atm_app.extensions import db as _db


def assert_envelope(response, status):
    """The contract's error body: JSON with one `detail` sentence (and `errors` on 400)."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"detail", "errors"}
    if status == 400:
        assert body["errors"] and isinstance(body["errors"], dict)
        for messages in body["errors"].values():
            assert messages and all(isinstance(message, str) and message for message in messages)
    return body


@pytest.mark.parametrize("path", ["/api/nope", "/api/auth/nope/", "/api/users/abc/", "/api"])
def test_unknown_api_path_is_404_json(client, path):
    assert_envelope(client.get(path), 404)


def test_unknown_user_id_is_404_json(client, api, make_user):
    make_user("boss", role="host")
    tokens = api.login("boss")
    body = assert_envelope(client.patch("/api/users/4242/", headers=tokens.headers, json={}), 404)
    assert body == {"detail": "No user with that id."}


@pytest.mark.parametrize("method, path", [
    ("get", "/api/auth/login/"),
    ("delete", "/api/auth/me/"),
    ("put", "/api/users/"),
    ("get", "/api/auth/refresh"),
    ("delete", "/api/users"),
])
def test_wrong_method_is_405_json_with_allow(client, method, path):
    response = getattr(client, method)(path)
    assert_envelope(response, 405)
    assert response.headers["Allow"]


def test_body_over_max_content_length_is_413_json(app, client):
    padding = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/auth/login/", data=f'{{"username": "{padding}"}}',
                           content_type="application/json")
    assert_envelope(response, 413)


@pytest.mark.parametrize("path", ["/api/auth/login/", "/api/auth/refresh/", "/api/users/"])
def test_body_with_a_non_json_content_type_is_415_json(client, api, make_user, path):
    make_user("boss", role="host")
    tokens = api.login("boss")
    response = client.post(path, data="username=boss", headers=tokens.headers,
                           content_type="application/x-www-form-urlencoded")
    assert_envelope(response, 415)


def test_invalid_field_error_lists_messages_per_field(client):
    response = client.post("/api/auth/login/", json={"username": 1})
    body = assert_envelope(response, 400)
    assert body["errors"] == {"username": ["Must be a string."],
                              "password": ["This field is required."]}


BODY_TAKING_CALLS = [
    ("post", "/api/auth/login/", False),
    ("post", "/api/auth/refresh/", False),
    ("post", "/api/auth/logout/", True),
    ("post", "/api/auth/password/", True),
    ("post", "/api/users/", True),
    ("patch", "/api/users/1/", True),
]


@pytest.mark.parametrize("method, path, signed_in", BODY_TAKING_CALLS)
@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "3", "null", "{not json", "\u00ff"])
def test_a_body_that_is_not_a_json_object_is_400_with_errors(client, api, make_user, method,
                                                             path, signed_in, raw):
    make_user("boss", role="host")
    headers = api.login("boss").headers if signed_in else {}
    response = getattr(client, method)(path, data=raw, headers=headers,
                                       content_type="application/json")
    body = assert_envelope(response, 400)
    assert body["errors"] == {"non_field_errors": [body["detail"]]}


def test_unexpected_server_error_is_500_json_without_details(client, make_user):
    make_user("alice")
    # A broken database: the sign-in works until it opens a session.
    _db.session.execute(sa.text("DROP TABLE auth_sessions"))
    _db.session.commit()
    response = client.post("/api/auth/login/", json={"username": "alice",
                                                     "password": "Vivid-Turbine-Lantern-42"})
    body = assert_envelope(response, 500)
    assert body == {"detail": "Something went wrong on our side."}
    assert "auth_sessions" not in response.get_data(as_text=True)


@pytest.mark.parametrize("method, path, status", [
    ("post", "/api/auth/login", 400),
    ("post", "/api/auth/refresh", 400),
    ("get", "/api/auth/me", 401),
    ("post", "/api/auth/logout", 401),
    ("get", "/api/users", 401),
    ("post", "/api/users", 401),
    ("patch", "/api/users/1", 401),
    ("get", "/api/technicians", 401),
])
def test_api_routes_answer_without_trailing_slash_and_without_redirect(client, method, path,
                                                                       status):
    without = getattr(client, method)(path, json={})
    with_slash = getattr(client, method)(path + "/", json={})
    assert without.status_code == with_slash.status_code == status
    assert "Location" not in without.headers


def test_signed_in_calls_work_without_trailing_slash(client, api, make_user):
    make_user("boss", role="host")
    tokens = api.login("boss")
    assert client.get("/api/auth/me", headers=tokens.headers).status_code == 200
    assert client.get("/api/users", headers=tokens.headers).status_code == 200


@pytest.mark.parametrize("method, path, body", [
    ("post", "/api/auth/login/", {"username": "alice", "password": "Vivid-Turbine-Lantern-42"}),
    ("post", "/api/auth/login/", {"username": "alice", "password": "wrong-password-here"}),
    ("post", "/api/auth/login/", {}),
    ("get", "/api/auth/me/", None),
    ("post", "/api/auth/refresh/", {"refresh": "nonsense"}),
])
def test_auth_responses_are_never_cached(client, make_user, method, path, body):
    make_user("alice")
    response = getattr(client, method)(path, json=body)
    assert response.headers["Cache-Control"] == "no-store"


def test_signed_in_auth_responses_are_never_cached(client, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    me = client.get("/api/auth/me/", headers=tokens.headers)
    assert me.headers["Cache-Control"] == "no-store"
    refreshed = api.refresh(tokens.refresh)
    assert refreshed.status_code == 200
    assert refreshed.headers["Cache-Control"] == "no-store"
    logout = client.post("/api/auth/logout/", headers=tokens.headers)
    assert logout.headers["Cache-Control"] == "no-store"
