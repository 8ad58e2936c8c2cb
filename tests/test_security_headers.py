"""Every response, API and page alike, carries the contract's security headers."""
import pytest


def assert_security_headers(response):
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert headers["Referrer-Policy"]


@pytest.mark.parametrize("method, path", [
    ("get", "/api/auth/me/"),
    ("post", "/api/auth/login/"),
    ("get", "/api/users/"),
    ("get", "/api/nope"),
    ("get", "/healthz"),
])
def test_api_responses_carry_security_headers(client, method, path):
    assert_security_headers(getattr(client, method)(path, json={}))


def test_signed_in_api_response_carries_security_headers(client, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    response = client.get("/api/auth/me/", headers=tokens.headers)
    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page"])
def test_pages_carry_security_headers(client, path):
    response = client.get(path)
    assert response.mimetype in ("text/html", "")
    assert_security_headers(response)


def test_error_pages_are_html_not_json(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert_security_headers(response)


def test_development_over_plain_http_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


@pytest.mark.parametrize("path", ["/login", "/api/auth/me/", "/no-such-page", "/healthz"])
def test_production_answers_carry_hsts_for_a_year_with_subdomains(monkeypatch, tmp_path, path):
    from atm_app import create_app

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    monkeypatch.delenv("JWT_SECRET_KEYS", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.sqlite3'}")
    production = create_app("production")
    response = production.test_client().get(path)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
