"""Operator commands: `flask --app wsgi <command>`.

Every refusal prints one clear line on stderr and exits with status 1,
having written nothing.
"""
import json
import secrets
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from .audit import find_events, parse_since
from .auth.sessions import purge_sessions
from .extensions import db
from .maintenance.cli import COMMANDS as FLEET_COMMANDS
from .maintenance.tickets import purge_idempotency_keys
from .models import ROLES, User
from .users import service


def fail(message):
    """Print one line on stderr and exit 1."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def read_password(from_stdin):
    """The new password: one stdin line, or prompted twice (hidden)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True, default="",
                        show_default=False)


def user_or_fail(username):
    """The user with this username, or exit 1."""
    user = User.find_by_username(username)
    if user is None:
        fail(f"No user named {username!r}.")
    return user


def first_error(error):
    """The first field message of an InvalidUser, for one stderr line."""
    field, messages = next(iter(error.errors.items()))
    return f"{field}: {' '.join(messages)}"


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, help=f"One of: {', '.join(ROLES)}.")
@click.option("--city", default=None, help="The user's city (optional).")
@click.option("--password-stdin", is_flag=True, help="Read the password from one stdin line.")
@with_appcontext
def create_user_command(username, role, city, password_stdin):
    """Create a user and print its id."""
    if role not in ROLES:
        fail(f"Unknown role {role!r}; choose one of: {', '.join(ROLES)}.")
    password = read_password(password_stdin)
    if not password:
        fail("The password may not be empty.")
    try:
        user = service.create_user(username, password, role, city)
    except service.InvalidUser as error:
        fail(first_error(error))
    click.echo(user.id)


@click.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from one stdin line.")
@with_appcontext
def set_password_command(username, password_stdin):
    """Set a user's password; ends all of its sessions."""
    user = user_or_fail(username)
    password = read_password(password_stdin)
    if not password:
        fail("The password may not be empty.")
    try:
        service.update_user(user, {"password": password})
    except service.InvalidUser as error:
        fail(first_error(error))
    click.echo(f"Password changed for {user.username}.")


@click.command("deactivate-user")
@click.argument("username")
@with_appcontext
def deactivate_user_command(username):
    """Deactivate a user; its tokens stop working at once."""
    user = user_or_fail(username)
    service.deactivate_user(user)
    click.echo(f"Deactivated {user.username}.")


@click.command("list-users")
@with_appcontext
def list_users_command():
    """Print every user: id, username, role, city, status."""
    for user in service.list_users():
        status = "active" if user.is_active else "inactive"
        click.echo(f"{user.id}\t{user.username}\t{user.role}\t{user.city or '-'}\t{status}")


@click.command("create-demo-users")
@with_appcontext
def create_demo_users_command():
    """On an empty database, create one demo user per role and print their passwords once."""
    if current_app.config["ENV_NAME"] == "production":
        click.echo("Production: no demo users are created.")
        return
    if db.session.execute(db.select(User.id).limit(1)).first() is not None:
        click.echo("Users exist already; no demo users created.")
        return
    passwords = {role: secrets.token_urlsafe(15) for role in ROLES}
    for role, password in passwords.items():
        service.create_user(f"demo-{role}", password, role, city="Lagos")
    # Printed only now, as one block: each creation logs its audit line on
    # stderr, which would otherwise land between the passwords on a terminal.
    click.echo("Demo users (shown once; write them down):")
    for role, password in passwords.items():
        click.echo(f"  demo-{role:<11} role={role:<11} password={password}")


@click.command("purge-tokens")
@with_appcontext
def purge_tokens_command():
    """Delete ended and expired sessions (their tokens are refused anyway) and idempotency
    keys past their 24 hours; print how many."""
    sessions, keys = purge_sessions(), purge_idempotency_keys()
    click.echo(f"Purged {sessions} ended or expired sessions and {keys} expired idempotency keys.")


@click.command("audit")
@click.option("--since", default=None, help="Only events from this long ago: 30m, 1h, 2d, 1w.")
@click.option("--user", "username", default=None, help="Only events of this username (any case).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array instead of lines.")
@with_appcontext
def audit_command(since, username, as_json):
    """Print authentication events, newest first."""
    try:
        moment = parse_since(since) if since else None
    except ValueError as error:
        fail(str(error))
    events = find_events(since=moment, username=username)
    if as_json:
        click.echo(json.dumps([event.to_dict() for event in events], indent=2))
        return
    fields = ("time", "event", "username", "ip", "user_agent", "detail")
    for event in events:
        row = event.to_dict()
        click.echo("\t".join(printable(row[name]) for name in fields))


def printable(value):
    """A field for one terminal line: "-" for none, control characters escaped.

    Usernames and user agents come from clients; a newline in one must not
    forge a line of the audit listing.
    """
    if value is None:
        return "-"
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in str(value))


COMMANDS = (
    create_user_command,
    set_password_command,
    deactivate_user_command,
    list_users_command,
    create_demo_users_command,
    audit_command,
    purge_tokens_command,
)


def register_commands(app):
    """Attach the operator commands (these and the fleet's) to the Flask CLI."""
    for command in COMMANDS + FLEET_COMMANDS:
        app.cli.add_command(command)
