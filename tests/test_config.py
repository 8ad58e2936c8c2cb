"""Configuration: environments, settings read from the environment, the production guard."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import jsonify
from flask_jwt_extended import create_access_token, set_access_cookies

import config
from atm_app import create_app

GOOD_SECRET = "k" * 32
GOOD_JWT_SECRET = "j" * 40
SETTINGS_FROM_ENV = ("ATM_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "JWT_SECRET_KEYS", "DATABASE_URL",
                     "REDIS_URL", "ACCESS_TOKEN_MINUTES", "REFRESH_TOKEN_DAYS", "FLASK_DEBUG",
                     "REFRESH_ROTATION")


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment holding only what each test sets."""
    for name in SETTINGS_FROM_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'atm.sqlite3'}")
    return monkeypatch


@pytest.fixture
def production_env(env):
    env.setenv("SECRET_KEY", GOOD_SECRET)
    env.setenv("JWT_SECRET_KEY", GOOD_JWT_SECRET)
    return env


def test_production_starts_with_real_secrets(production_env):
    app = create_app("production")
    assert app.config["SECRET_KEY"] == GOOD_SECRET
    assert app.config["JWT_SECRET_KEY"] == GOOD_JWT_SECRET


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SECRET_KEY"])
def test_production_refuses_to_start_without_a_secret(production_env, name):
    production_env.delenv(name)
    with pytest.raises(RuntimeError, match=name):
        create_app("production")


@pytest.mark.parametrize("name, value", [
    ("SECRET_KEY", config.DEV_SECRET_KEY),
    ("JWT_SECRET_KEY", config.DEV_JWT_SECRET_KEY),
    ("SECRET_KEY", "changeme"),
    ("JWT_SECRET_KEY", ""),
])
def test_production_refuses_to_start_with_a_known_default_secret(production_env, name, value):
    production_env.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        create_app("production")


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SECRET_KEY"])
def test_production_refuses_to_start_with_a_secret_under_32_bytes(production_env, name):
    production_env.setenv(name, "s" * 31)
    with pytest.raises(RuntimeError, match=name):
        create_app("production")


def test_production_refuses_a_short_key_anywhere_in_jwt_secret_keys(production_env):
    production_env.setenv("JWT_SECRET_KEYS", f"{GOOD_JWT_SECRET},too-short")
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY"):
        create_app("production")


def test_production_is_chosen_by_atm_env(production_env):
    production_env.setenv("ATM_ENV", "production")
    production_env.delenv("SECRET_KEY")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_cookies_are_secure(production_env):
    app = create_app("production")
    assert app.config["JWT_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.test_request_context():
        response = jsonify()
        set_access_cookies(response, create_access_token(SimpleNamespace(id=1)))
        cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies)
    assert any("HttpOnly" in cookie and "SameSite=Lax" in cookie for cookie in cookies)


def test_production_debug_is_off_even_when_flask_debug_is_set(production_env):
    production_env.setenv("FLASK_DEBUG", "1")
    app = create_app("production")
    assert app.debug is False


def test_development_starts_with_its_own_defaults(env):
    app = create_app("development")
    assert app.config["SECRET_KEY"] == config.DEV_SECRET_KEY
    assert app.config["JWT_COOKIE_SECURE"] is False
    assert app.debug is False


def test_unknown_atm_env_is_a_clear_error(env):
    env.setenv("ATM_ENV", "staging")
    with pytest.raises(RuntimeError, match="ATM_ENV must be one of development, production, "
                                           "testing, not 'staging'"):
        create_app()


def test_default_database_is_a_sqlite_file_under_instance(env):
    env.delenv("DATABASE_URL")
    app = create_app("development")
    expected = f"sqlite:///{config.INSTANCE_DIR / 'atm.sqlite3'}"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == expected


def test_database_url_comes_from_the_environment(env, tmp_path):
    env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert create_app("development").config["SQLALCHEMY_DATABASE_URI"].endswith("other.sqlite3")


def test_token_lifetimes_come_from_the_environment(env):
    env.setenv("ACCESS_TOKEN_MINUTES", "5")
    env.setenv("REFRESH_TOKEN_DAYS", "2")
    app = create_app("testing")
    assert app.config["JWT_ACCESS_TOKEN_EXPIRES"] == timedelta(minutes=5)
    assert app.config["JWT_REFRESH_TOKEN_EXPIRES"] == timedelta(days=2)


def test_token_lifetimes_default_to_an_hour_and_a_week(env):
    app = create_app("testing")
    assert app.config["JWT_ACCESS_TOKEN_EXPIRES"] == timedelta(minutes=60)
    assert app.config["JWT_REFRESH_TOKEN_EXPIRES"] == timedelta(days=7)


def test_redis_url_is_optional(env):
    assert create_app("testing").config["REDIS_URL"] is None
    env.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert create_app("testing").config["REDIS_URL"] == "redis://127.0.0.1:6379/0"


def test_tokens_are_signed_hs256_with_the_configured_key(env):
    env.setenv("JWT_SECRET_KEY", GOOD_JWT_SECRET)
    app = create_app("testing")
    assert app.config["JWT_ALGORITHM"] == "HS256"
    assert app.config["JWT_SECRET_KEY"] == GOOD_JWT_SECRET
