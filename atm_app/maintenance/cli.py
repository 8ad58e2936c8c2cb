"""Operator commands for the fleet: `import-atms`, `plan-preventive`, `create-demo-fleet`."""
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from ..models import Atm
from .demo import create_demo_fleet, demo_cast
from .importer import BadFile, import_fleet
from .preventive import plan_preventive


@click.command("import-atms")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
def import_atms_command(file):
    """Create and update ATMs from a CSV file (`-`: standard input); all or nothing."""
    try:
        done = import_fleet(None, file.read())
    except BadFile as refused:
        for problem in refused.problems:
            click.echo(problem, err=True)
        click.echo("Nothing was imported.", err=True)
        sys.exit(1)
    except UnicodeDecodeError:
        click.echo("line 1: the file is not UTF-8 text.", err=True)
        sys.exit(1)
    click.echo(str(done))


@click.command("plan-preventive")
@click.option("--within", "within_days", type=click.IntRange(0, 3650), default=0,
              show_default=True, help="Also plan visits due within this many days.")
@with_appcontext
def plan_preventive_command(within_days):
    """Raise a preventive ticket for each active ATM whose visit is due (by today + DAYS)."""
    click.echo(f"{plan_preventive(within_days)} preventive tickets created")


@click.command("create-demo-fleet")
@with_appcontext
def create_demo_fleet_command():
    """On a database without ATMs, a demo fleet in the demo users' city (development only)."""
    if current_app.config["ENV_NAME"] == "production":
        click.echo("Production: no demo fleet is created.")
        return
    if db.session.execute(db.select(Atm.id).limit(1)).first() is not None:
        click.echo("ATMs exist already; no demo fleet created.")
        return
    cast = demo_cast()
    if cast is None:
        click.echo("No host, supervisor and technician share a city; no demo fleet created.")
        return
    atms, tickets = create_demo_fleet(cast)
    click.echo(f"Demo fleet: {atms} ATMs and {tickets} tickets in {cast['technician'].city}.")


COMMANDS = (import_atms_command, plan_preventive_command, create_demo_fleet_command)
