"""Importing the fleet from CSV: all or nothing, every bad line named.

The file has a header row with `terminal_id`, `city`, `address` and,
optionally, `model` and `pm_interval_days`. Each line creates an ATM or
updates the one with that terminal id (in any case). Every line is checked
before anything is written; any bad line refuses the whole file. The CLI
(`import-atms`) and the host's upload page both call `import_fleet`.
"""
import csv
import io
from dataclasses import dataclass

from .. import audit
from ..database import transaction
from ..errors import Refused
from ..extensions import db
from ..models import Atm, utcnow
from . import schemas
from .fleet import move_tickets

REQUIRED_COLUMNS = ("terminal_id", "city", "address")
OPTIONAL_COLUMNS = ("model", "pm_interval_days")


class BadFile(Exception):
    """The file is refused: `problems` holds one "line N: reason" per bad line."""

    def __init__(self, problems):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Imported:
    """What an import did."""

    created: int
    updated: int

    def __str__(self):
        return f"{self.created} created, {self.updated} updated"


def read_rows(text):
    """The checked rows of a fleet CSV as (line number, fields); BadFile lists every bad line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    problems = header_problems(header)
    if problems:
        raise BadFile(problems)
    reader.fieldnames = header
    rows, seen, problems = [], {}, []
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(f"line {line}: more values than the header has columns.")
            continue
        # A blank value is a missing one (the default, or unchanged), but a
        # blank model clears the model.
        values = {name: (value or "").strip() for name, value in row.items()}
        values = {name: value for name, value in values.items() if value or name == "model"}
        try:
            fields = schemas.load(schemas.AtmRow, values)
        except Refused as refusal:
            problems.append(f"line {line}: " + "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in refusal.errors.items()))
            continue
        key = fields["terminal_id"].casefold()
        if key in seen:
            problems.append(f"line {line}: terminal_id: {fields['terminal_id']} is on line "
                            f"{seen[key]} already.")
            continue
        seen[key] = line
        rows.append((line, fields))
    if problems:
        raise BadFile(problems)
    return rows


def header_problems(header):
    """What is wrong with the header row (empty: nothing)."""
    if not header:
        return ["line 1: the file is empty; it needs a header row "
                f"({', '.join(REQUIRED_COLUMNS)})."]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    problems = []
    if missing:
        problems.append(f"line 1: missing column(s): {', '.join(missing)}.")
    if unknown:
        problems.append(f"line 1: unknown column(s): {', '.join(unknown)} (the columns are "
                        f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}).")
    return problems


def import_fleet(user, text):
    """Create and update ATMs from a fleet CSV in one transaction; what it did.

    Raises BadFile, having written nothing, when any line is bad.
    """
    rows = read_rows(text)
    existing = {atm.terminal_key: atm for atm in db.session.execute(
        db.select(Atm).where(Atm.terminal_key.in_([f["terminal_id"].casefold() for _, f in rows]))
    ).scalars()} if rows else {}
    done, logged = Imported(0, 0), []
    with transaction():
        for _, fields in rows:
            atm = existing.get(fields["terminal_id"].casefold())
            if atm is None:
                logged.append(add_atm(user, fields))
                done.created += 1
            else:
                entry = change_atm(user, atm, fields)
                if entry is not None:
                    logged.append(entry)
                    done.updated += 1
    for values in logged:
        audit.log_values(values)
    return done


def add_atm(user, fields):
    """Create one ATM of the file; its audit values."""
    atm = Atm(terminal_id=fields["terminal_id"], city=fields["city"], address=fields["address"],
              model=fields.get("model") or None,
              pm_interval_days=fields.get("pm_interval_days", 90), created_at=utcnow())
    db.session.add(atm)
    db.session.flush()
    return audit.store("atm_created", user=user, username=None if user else "import-atms",
                       detail=f"ATM {atm.id} {atm.terminal_id} in {atm.city} (imported)")


def change_atm(user, atm, fields):
    """Update one existing ATM from the file; its audit values, or None when nothing changed."""
    wanted = {name: fields[name] for name in ("city", "address", "model", "pm_interval_days")
              if name in fields}
    if "model" in wanted:
        wanted["model"] = wanted["model"] or None
    changes = {name: value for name, value in wanted.items() if getattr(atm, name) != value}
    if not changes:
        return None
    if "city" in changes:
        move_tickets(user, atm, changes["city"])
    detail = "; ".join(f"{name} {getattr(atm, name)} -> {value}" for name, value in changes.items())
    for name, value in changes.items():
        setattr(atm, name, value)
    db.session.flush()
    return audit.store("atm_changed", user=user, username=None if user else "import-atms",
                       detail=f"ATM {atm.id} {atm.terminal_id}: {detail} (imported)")
