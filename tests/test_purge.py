"""Bounded storage: dead sessions are purged by `purge-tokens` and at sign-in."""
from datetime import timedelta

import jwt
import pytest

from atm_app.extensions import db as _db
from atm_app.models import AuthSession, utcnow

pytestmark = pytest.mark.postgres_too


def sid_of(token):
    return jwt.decode(token, options={"verify_signature": False})["sid"]


def stored_session_ids():
    """The ids of every row in auth_sessions."""
    _db.session.expire_all()
    return set(_db.session.execute(_db.select(AuthSession.id)).scalars())


def expire_session(session_id):
    """Age a session past its end, as if its refresh token ran out days ago."""
    _db.session.execute(
        _db.update(AuthSession).where(AuthSession.id == session_id)
        .values(expires_at=utcnow() - timedelta(days=1))
    )
    _db.session.commit()


def purge(runner):
    result = runner.invoke(args=["purge-tokens"])
    assert result.exit_code == 0, result.output
    return result.output


def test_purge_tokens_deletes_ended_and_expired_sessions_and_says_how_many(api, client, runner,
                                                                          make_user):
    make_user("alice")
    live, logged_out, ended, expired = (api.login("alice") for _ in range(4))
    client.post("/api/auth/logout/", headers=logged_out.headers)
    client.delete(f"/api/auth/sessions/{sid_of(ended.access)}/", headers=live.headers)
    expire_session(sid_of(expired.access))

    assert "Purged 3 " in purge(runner)
    assert stored_session_ids() == {sid_of(live.access)}
    assert client.get("/api/auth/me/", headers=live.headers).status_code == 200
    assert api.refresh(live.refresh).status_code == 200


def test_purge_tokens_with_nothing_to_purge_says_zero(api, runner, make_user):
    make_user("alice")
    api.login("alice")
    assert "Purged 0 " in purge(runner)
    assert len(stored_session_ids()) == 1


def test_tokens_of_a_purged_session_stay_refused(api, client, runner, make_user):
    make_user("alice")
    tokens = api.login("alice")
    client.post("/api/auth/logout/", headers=tokens.headers)
    purge(runner)
    assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 401
    assert api.refresh(tokens.refresh).status_code == 401


def test_signing_in_purges_the_users_own_dead_sessions_only(api, client, make_user):
    make_user("alice")
    make_user("bob")
    alice_old, bob_old = api.login("alice"), api.login("bob")
    for tokens in (alice_old, bob_old):
        client.post("/api/auth/logout/", headers=tokens.headers)
    alice = api.login("alice")
    assert stored_session_ids() == {sid_of(alice.access), sid_of(bob_old.access)}


def test_thousands_of_refreshes_keep_one_row_per_session(api, client, runner, make_user):
    make_user("alice")
    phone, laptop = api.login("alice"), api.login("alice")
    for tokens in (phone, laptop):
        refresh = tokens.refresh
        for _ in range(1000):
            response = api.refresh(refresh)
            assert response.status_code == 200
            refresh = response.get_json()["refresh"]
        tokens.refresh = refresh
    assert stored_session_ids() == {sid_of(phone.access), sid_of(laptop.access)}

    client.post("/api/auth/logout/", headers=phone.headers)
    purge(runner)
    assert stored_session_ids() == {sid_of(laptop.access)}
    assert api.refresh(laptop.refresh).status_code == 200


def test_repeated_sign_in_and_logout_leaves_only_the_live_session(api, client, make_user):
    make_user("alice")
    for _ in range(50):
        tokens = api.login("alice")
        client.post("/api/auth/logout/", headers=tokens.headers)
    last = api.login("alice")
    assert stored_session_ids() == {sid_of(last.access)}
