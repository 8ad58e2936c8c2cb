"""The operator CLI: `flask --app wsgi <command>`, through Flask's CLI runner."""
import pytest

from atm_app import create_app
from atm_app.extensions import db as _db
from atm_app.models import AuditEvent, User
from conftest import STRONG_PASSWORD

NEW_PASSWORD = "Quiet-Harbour-Falcon-77"


def users():
    _db.session.expire_all()
    return _db.session.execute(_db.select(User).order_by(User.id)).scalars().all()


def audit_count():
    return _db.session.execute(_db.select(_db.func.count(AuditEvent.id))).scalar_one()


def assert_refused(result, *words):
    """Exit status 1 with one line on stderr that mentions `words`."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word.lower() in lines[0].lower()


# --- create-user -----------------------------------------------------------

def test_create_user_prompts_twice_and_prints_the_new_id(runner, api):
    result = runner.invoke(args=["create-user", "Alice", "--role", "supervisor", "--city", "Kano"],
                           input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    (user,) = users()
    assert result.stdout.strip().splitlines()[-1] == str(user.id)
    assert (user.username, user.role, user.city, user.is_active) == ("Alice", "supervisor",
                                                                   "Kano", True)
    assert user.password_hash.startswith("$argon2id$")
    assert api.login("alice", NEW_PASSWORD).user["id"] == user.id


def test_create_user_prompt_asks_again_when_the_two_entries_differ(runner):
    result = runner.invoke(args=["create-user", "alice", "--role", "host"],
                           input=f"{NEW_PASSWORD}\nsomething-else\n" + f"{NEW_PASSWORD}\n" * 2)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(users()[0].id)


def test_create_user_reads_one_line_with_password_stdin(runner, api):
    result = runner.invoke(args=["create-user", "alice", "--role", "technician",
                                 "--password-stdin"], input=f"{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(users()[0].id)
    assert users()[0].city is None
    api.login("alice", NEW_PASSWORD)


@pytest.mark.parametrize("taken", ["alice", "ALICE"])
def test_create_user_with_a_taken_username_exits_1_and_writes_nothing(runner, make_user, taken):
    make_user("alice")
    before = audit_count()
    result = runner.invoke(args=["create-user", taken, "--role", "host", "--password-stdin"],
                           input=f"{NEW_PASSWORD}\n")
    assert_refused(result, "exists")
    assert len(users()) == 1 and audit_count() == before


def test_create_user_with_an_unknown_role_exits_1_and_writes_nothing(runner):
    result = runner.invoke(args=["create-user", "alice", "--role", "admin", "--password-stdin"],
                           input=f"{NEW_PASSWORD}\n")
    assert_refused(result, "role", "admin")
    assert users() == []


@pytest.mark.parametrize("args, given", [
    (["--password-stdin"], "\n"),
    ([], "\n\n"),
], ids=["stdin", "prompt"])
def test_create_user_with_an_empty_password_exits_1_and_writes_nothing(runner, args, given):
    result = runner.invoke(args=["create-user", "alice", "--role", "host", *args], input=given)
    assert_refused(result, "empty")
    assert users() == []


@pytest.mark.parametrize("password", ["short", "password1234", "alice1234567"])
def test_create_user_with_a_weak_password_exits_1_with_the_reason(runner, password):
    result = runner.invoke(args=["create-user", "alice", "--role", "host", "--password-stdin"],
                           input=f"{password}\n")
    assert_refused(result, "password")
    assert users() == []


def test_create_user_with_an_invalid_username_exits_1(runner):
    result = runner.invoke(args=["create-user", "bad name", "--role", "host", "--password-stdin"],
                           input=f"{NEW_PASSWORD}\n")
    assert_refused(result, "username")
    assert users() == []


# --- set-password, deactivate-user, list-users -------------------------------

def test_set_password_changes_it_and_ends_the_users_sessions(runner, client, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    result = runner.invoke(args=["set-password", "ALICE", "--password-stdin"],
                           input=f"{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 401
    assert api.refresh(tokens.refresh).status_code == 401
    assert api.login("alice", NEW_PASSWORD).user["username"] == "alice"


def test_set_password_prompts_twice(runner, api, make_user):
    make_user("alice")
    result = runner.invoke(args=["set-password", "alice"],
                           input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    api.login("alice", NEW_PASSWORD)


def test_set_password_refuses_a_weak_password_and_keeps_the_old_one(runner, api, make_user):
    make_user("alice")
    result = runner.invoke(args=["set-password", "alice", "--password-stdin"],
                           input="password1234\n")
    assert_refused(result, "password")
    api.login("alice", STRONG_PASSWORD)


def test_set_password_for_an_unknown_user_exits_1(runner):
    result = runner.invoke(args=["set-password", "nobody", "--password-stdin"],
                           input=f"{NEW_PASSWORD}\n")
    assert_refused(result, "nobody")


def test_deactivate_user_ends_its_tokens_and_blocks_sign_in(runner, client, api, make_user):
    make_user("alice")
    tokens = api.login("alice")
    result = runner.invoke(args=["deactivate-user", "alice"])
    assert result.exit_code == 0, result.stderr
    assert users()[0].is_active is False
    assert client.get("/api/auth/me/", headers=tokens.headers).status_code == 401
    response = client.post("/api/auth/login/", json={"username": "alice",
                                                     "password": STRONG_PASSWORD})
    assert response.status_code == 401


def test_deactivate_user_for_an_unknown_user_exits_1(runner):
    assert_refused(runner.invoke(args=["deactivate-user", "nobody"]), "nobody")


def test_list_users_prints_one_line_per_user(runner, make_user):
    alice = make_user("alice", role="supervisor", city="Kano")
    bob = make_user("bob", role="host", city=None, is_active=False)
    result = runner.invoke(args=["list-users"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{alice.id}\talice\tsupervisor\tKano\tactive",
        f"{bob.id}\tbob\thost\t-\tinactive",
    ]


def test_list_users_never_prints_password_hashes(runner, make_user):
    make_user("alice")
    assert "$argon2" not in runner.invoke(args=["list-users"]).output


# --- create-demo-users -------------------------------------------------------

@pytest.fixture
def app_for(tmp_path, monkeypatch, new_sqlite_database):
    """An app of a given environment on its own empty SQLite file."""
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    monkeypatch.delenv("JWT_SECRET_KEYS", raising=False)

    def build(env_name):
        url = new_sqlite_database(tmp_path / f"{env_name}.sqlite3")
        return create_app(env_name, {"SQLALCHEMY_DATABASE_URI": url})

    return build


def run_command(other_app, *args):
    """Invoke a command as `flask --app wsgi` would: inside the app's context."""
    with other_app.app_context():
        return other_app.test_cli_runner().invoke(args=list(args))


def users_of(other_app):
    with other_app.app_context():
        return _db.session.execute(_db.select(User).order_by(User.id)).scalars().all()


def test_demo_users_one_per_role_with_passwords_printed_once(app_for):
    dev = app_for("development")
    result = run_command(dev, "create-demo-users")
    assert result.exit_code == 0, result.stderr
    created = users_of(dev)
    assert sorted(user.role for user in created) == ["host", "supervisor", "technician"]
    client = dev.test_client()
    for user in created:
        line = next(line for line in result.stdout.splitlines() if user.username in line)
        password = line.split("password=")[1].strip()
        response = client.post("/api/auth/login/", json={"username": user.username,
                                                         "password": password})
        assert response.status_code == 200


def test_demo_users_are_not_created_when_users_exist(app_for):
    dev = app_for("development")
    run_command(dev, "create-demo-users")
    again = run_command(dev, "create-demo-users")
    assert again.exit_code == 0
    assert "password=" not in again.output
    assert len(users_of(dev)) == 3


def test_demo_users_are_never_created_in_production(app_for):
    prod = app_for("production")
    result = run_command(prod, "create-demo-users")
    assert result.exit_code == 0
    assert "password=" not in result.output
    assert users_of(prod) == []


def test_first_run_prints_the_demo_passwords_as_one_block_on_a_terminal(tmp_path):
    """As `make run` shows them: stdout and stderr on one terminal, log lines beside."""
    import subprocess
    import sys

    from live_server import PROJECT_DIR

    # Unbuffered, as on a terminal (line by line): a pipe would hold stdout back to the end.
    env = {"PATH": "/usr/bin:/bin", "ATM_ENV": "development", "PYTHONUNBUFFERED": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'first-run.sqlite3'}"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=PROJECT_DIR, env=env, check=True,
                   capture_output=True)
    shown = subprocess.run([*flask, "create-demo-users"], cwd=PROJECT_DIR, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           check=True).stdout.splitlines()
    start = shown.index("Demo users (shown once; write them down):")
    block = shown[start + 1:start + 4]
    assert [line.split()[0] for line in block] == ["demo-host", "demo-technician",
                                                   "demo-supervisor"]
    assert all("password=" in line for line in block)
