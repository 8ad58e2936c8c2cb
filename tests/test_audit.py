"""The audit trail: every authentication event, the `audit` command, and no secrets.

Each event is stored with time, user, client address and user agent, and goes
to the app log as one JSON object per line; no password, hash or token ever
appears in either.
"""
import io
import json
import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from atm_app.models import AuditEvent, utcnow

from conftest import STRONG_PASSWORD

AGENT = {"User-Agent": "audit-test/1.0"}
NEW_PASSWORD = "Copper-Meadow-Falcon-77"
WRONG_PASSWORD = "Wrong-Horse-Battery-Staple-9"


@pytest.fixture
def app_log(app):
    """Everything the app logs to standard error during the test, as text."""
    stream = io.StringIO()
    handlers = logging.getLogger("atm_app").handlers
    previous = [handler.setStream(stream) for handler in handlers]
    yield stream
    for handler, old in zip(handlers, previous):
        handler.setStream(old)


def events(db):
    """Every stored event, oldest first."""
    return db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()


def login(client, username, password):
    """POST /api/auth/login/ with a recognisable user agent."""
    return client.post("/api/auth/login/", json={"username": username, "password": password},
                       headers=AGENT)


class TestEveryEventIsRecorded:
    @pytest.mark.settings(REFRESH_REUSE_GRACE_SECONDS=0, LIMIT_USER_ADDRESS="1 per hour")
    def test_each_contract_event_is_stored_with_user_address_and_agent(
        self, client, make_user, db
    ):
        host = make_user("host1", role="host")
        tech = make_user("tech1")
        host_token = login(client, "host1", STRONG_PASSWORD).get_json()["access"]
        as_host = {**AGENT, "Authorization": f"Bearer {host_token}"}

        login(client, "tech1", WRONG_PASSWORD)                                # login_failed
        login(client, "tech1", STRONG_PASSWORD)                               # rate_limited
        client.post("/api/users/", headers=as_host, json={                    # user_created
            "username": "tech2", "password": STRONG_PASSWORD, "role": "technician"})
        client.patch(f"/api/users/{tech.id}/", headers=as_host,               # user_changed
                     json={"city": "Kano"})
        tokens = login(client, "tech2", STRONG_PASSWORD).get_json()           # login_succeeded
        client.post("/api/auth/refresh/", json={"refresh": tokens["refresh"]}, headers=AGENT)
        client.post("/api/auth/refresh/", json={"refresh": tokens["refresh"]},  # reuse detected
                    headers=AGENT)
        second = login(client, "tech2", STRONG_PASSWORD).get_json()
        as_second = {**AGENT, "Authorization": f"Bearer {second['access']}"}
        client.post("/api/auth/password/", headers=as_second, json={          # password_changed
            "current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD})
        login(client, "tech2", NEW_PASSWORD)                                  # another session
        client.delete(f"/api/auth/sessions/{session_id(client, as_second, current=False)}/",
                      headers=as_second)                                      # session_ended
        client.post("/api/auth/logout/", headers=as_second)                   # logout

        recorded = events(db)
        kinds = {event.event for event in recorded}
        assert kinds >= {"login_succeeded", "login_failed", "refresh", "refresh_reuse_detected",
                         "logout", "session_ended", "rate_limited", "user_created",
                         "user_changed", "password_changed"}
        from_requests = [event for event in recorded if event.ip is not None]
        assert from_requests and all(event.user_agent == "audit-test/1.0"
                                     for event in from_requests)
        assert all(event.ip == "127.0.0.1" for event in from_requests)
        by_kind = {event.event: event for event in recorded}
        assert by_kind["refresh_reuse_detected"].username == "tech2"
        assert by_kind["rate_limited"].username == "tech1"
        assert by_kind["user_changed"].detail == "city Lagos -> Kano"

    def test_an_unknown_username_is_recorded_as_typed(self, client, db):
        login(client, "Nobody", WRONG_PASSWORD)

        event = events(db)[-1]
        assert (event.event, event.username, event.user_id, event.detail) == (
            "login_failed", "Nobody", None, "unknown user")

    def test_an_unexpected_error_is_logged_with_its_traceback_but_no_sql_values(
            self, client, make_user, db, app_log):
        make_user("tech1")
        db.session.execute(sa.text("DROP TABLE auth_sessions"))  # sign-in fails opening one
        db.session.commit()

        response = login(client, "tech1", STRONG_PASSWORD)

        assert response.status_code == 500
        [error] = [line for line in map(json.loads, app_log.getvalue().splitlines())
                   if line.get("level") == "ERROR"]
        assert error["message"] == "Unhandled exception on POST /api/auth/login/"
        assert "Traceback" in error["exception"] and "auth_sessions" in error["exception"]
        assert "SQL parameters hidden" in error["exception"]
        assert "[parameters:" not in error["exception"]

    def test_each_event_is_one_json_line_in_the_app_log(self, client, make_user, app_log):
        make_user("tech1")
        login(client, "tech1", WRONG_PASSWORD)
        login(client, "tech1", STRONG_PASSWORD)

        lines = [json.loads(line) for line in app_log.getvalue().splitlines()]
        audit_lines = [line for line in lines if "event" in line]
        assert [line["event"] for line in audit_lines] == [
            "user_created", "login_failed", "login_succeeded"]
        assert set(audit_lines[0]) == {"time", "event", "username", "user_id", "ip",
                                       "user_agent", "detail"}

    def test_a_refresh_is_one_json_line_naming_its_user(self, client, make_user, app_log):
        user = make_user("tech1")
        refresh_token = login(client, "tech1", STRONG_PASSWORD).get_json()["refresh"]
        assert client.post("/api/auth/refresh/", json={"refresh": refresh_token},
                           headers=AGENT).status_code == 200

        lines = [json.loads(line) for line in app_log.getvalue().splitlines()]
        [refresh] = [line for line in lines if line.get("event") == "refresh"]
        assert (refresh["username"], refresh["user_id"]) == ("tech1", user.id)
        assert refresh["user_agent"] == AGENT["User-Agent"]


def session_id(client, headers, current):
    """The id of one of the caller's live sessions (the current one, or another)."""
    sessions = client.get("/api/auth/sessions/", headers=headers).get_json()["sessions"]
    return next(session["id"] for session in sessions if session["current"] is current)


class TestNoSecretsAnywhere:
    def test_no_password_hash_or_token_reaches_the_table_or_the_log(
        self, client, make_user, db, app_log
    ):
        user = make_user("tech1")
        old_hash = user.password_hash
        login(client, "tech1", WRONG_PASSWORD)
        tokens = login(client, "tech1", STRONG_PASSWORD).get_json()
        refreshed = client.post("/api/auth/refresh/",
                                json={"refresh": tokens["refresh"]}).get_json()
        changed = client.post("/api/auth/password/",
                              headers={"Authorization": f"Bearer {tokens['access']}"},
                              json={"current_password": STRONG_PASSWORD,
                                    "new_password": NEW_PASSWORD})
        assert changed.status_code == 200
        login(client, "tech1", NEW_PASSWORD)
        db.session.refresh(user)

        secrets = secret_fragments(
            passwords=[STRONG_PASSWORD, WRONG_PASSWORD, NEW_PASSWORD],
            hashes=[old_hash, user.password_hash],
            tokens=[tokens["access"], tokens["refresh"], refreshed["access"], refreshed["refresh"]],
        )
        stored = json.dumps([event.to_dict() for event in events(db)])
        logged = app_log.getvalue()
        assert len(events(db)) >= 5 and logged
        for secret in secrets:
            assert secret not in stored
            assert secret not in logged

    def test_the_audit_command_shows_no_secrets_either(self, client, make_user, runner):
        make_user("tech1")
        tokens = login(client, "tech1", STRONG_PASSWORD).get_json()

        output = runner.invoke(args=["audit", "--json"]).output

        token_pair = [tokens["access"], tokens["refresh"]]
        for secret in secret_fragments([STRONG_PASSWORD], [], token_pair):
            assert secret not in output


def secret_fragments(passwords, hashes, tokens):
    """Each secret, and the parts of it that would betray it even if cut short."""
    fragments = list(passwords)
    for password_hash in hashes:
        fragments += [password_hash, password_hash.rsplit("$", 1)[-1]]
    for token in tokens:
        fragments += [token, token.rsplit(".", 1)[-1]]
    return fragments


class TestAuditCommand:
    def test_lists_events_newest_first(self, client, make_user, runner):
        make_user("tech1")
        login(client, "tech1", WRONG_PASSWORD)
        login(client, "tech1", STRONG_PASSWORD)

        lines = runner.invoke(args=["audit"]).output.splitlines()

        assert [line.split("\t")[1] for line in lines] == [
            "login_succeeded", "login_failed", "user_created"]
        time, _, username, ip, agent, detail = lines[0].split("\t")
        assert (username, ip, agent, detail) == ("tech1", "127.0.0.1", "audit-test/1.0", "-")
        assert time.endswith("Z")

    def test_json_is_one_array_of_events_with_utc_times(self, client, make_user, runner):
        user = make_user("tech1")
        login(client, "tech1", STRONG_PASSWORD)

        result = runner.invoke(args=["audit", "--json"])

        assert result.exit_code == 0
        rows = json.loads(result.output)
        assert [row["event"] for row in rows] == ["login_succeeded", "user_created"]
        assert rows[0] == {"time": rows[0]["time"], "event": "login_succeeded",
                           "username": "tech1", "user_id": user.id, "ip": "127.0.0.1",
                           "user_agent": rows[0]["user_agent"], "detail": None}
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["time"]) for row in rows)

    def test_user_filter_ignores_case(self, client, make_user, runner):
        make_user("tech1")
        make_user("tech2")
        login(client, "tech2", STRONG_PASSWORD)

        rows = json.loads(runner.invoke(args=["audit", "--user", "TECH2", "--json"]).output)

        assert {row["username"] for row in rows} == {"tech2"}
        assert [row["event"] for row in rows] == ["login_succeeded", "user_created"]

    @pytest.mark.parametrize(("since", "expected"), [
        ("30m", ["login_succeeded"]),
        ("1h", ["login_succeeded"]),
        ("2d", ["login_succeeded", "user_created"]),
    ])
    def test_since_keeps_only_recent_events(self, client, make_user, runner, db, since,
                                            expected):
        make_user("tech1")
        # The user was created "three hours ago".
        db.session.execute(db.update(AuditEvent).values(time=utcnow() - timedelta(hours=3)))
        db.session.commit()
        login(client, "tech1", STRONG_PASSWORD)

        rows = json.loads(runner.invoke(args=["audit", "--since", since, "--json"]).output)

        assert [row["event"] for row in rows] == expected

    @pytest.mark.parametrize("since", ["yesterday", "1y", "-1h", "99999999d"])
    def test_an_unreadable_since_exits_1_with_one_line(self, runner, since):
        result = runner.invoke(args=["audit", "--since", since])

        assert result.exit_code == 1
        assert len(result.stderr.strip().splitlines()) == 1
        assert "like 1h" in result.stderr

    def test_control_characters_from_clients_cannot_forge_lines(self, client, runner):
        client.post("/api/auth/login/", json={"username": "x\nfake\tline", "password": "p"},
                    headers={"User-Agent": "agent\tforged"})

        lines = runner.invoke(args=["audit"]).output.splitlines()

        assert len(lines) == 1
        assert "x\\nfake\\tline" in lines[0] and "agent\\tforged" in lines[0]
