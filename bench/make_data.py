"""Build a bench database: one city's year of maintenance, repeated city after city.

    .venv/bin/python bench/make_data.py --size small|large DATABASE_URL

`small` is 5 cities and `large` 500, each with 40 ATMs, one supervisor,
eight technicians and 2,000 tickets over the past year (10,000 and
1,000,000 tickets in all). Every city is drawn from the same seed, so a
supervisor's city looks exactly the same in both sizes: only the rest of
the fleet grows. Tickets carry a history the action table could have made
(assign, start, holds, resolve, reopens, close, cancel), with its timeline
rows, due times from the default service levels and `version` = 1 + its
changes. Rows go in by bulk inserts (Core `executemany`), not the API; the
schema comes from the migrations (`flask db upgrade`).

Users: `bench-host` (host), `sup-0001` (the supervisor of city 1), and
`tech-0001-1` .. `tech-0001-8`, all with the kit's bench password
(../shared/bench/bench.env), hashed once.
"""
import argparse
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import sqlalchemy as sa  # noqa: E402

SIZES = {"small": 5, "large": 500}
ATMS_PER_CITY = 40
TECHNICIANS_PER_CITY = 8
TICKETS_PER_CITY = 2000
SEED = 20261204
BATCH = 20_000
RESPONSE_MINUTES = {"critical": 60, "high": 240, "normal": 480, "low": 1440}
RESTORE_MINUTES = {"critical": 240, "high": 480, "normal": 1440, "low": 4320}
PRIORITY_WEIGHTS = (("critical", 10), ("high", 25), ("normal", 50), ("low", 15))


def bench_password():
    """The kit's bench password (its bench.env, or BENCH_PASSWORD)."""
    if os.environ.get("BENCH_PASSWORD"):
        return os.environ["BENCH_PASSWORD"]
    kit = PROJECT.parent / "shared" / "bench" / "bench.env"
    for line in kit.read_text().splitlines():
        if line.startswith("BENCH_PASSWORD="):
            return line.split("=", 1)[1]
    raise SystemExit("no BENCH_PASSWORD in the environment or ../shared/bench/bench.env")


class City:
    """One city's tickets as offsets from now, the same for every city (one seed)."""

    def __init__(self, now):
        self.now = now
        self.rng = random.Random(SEED)
        self.tickets = [self.ticket() for _ in range(TICKETS_PER_CITY)]
        self.tickets.sort(key=lambda ticket: ticket["created_at"])
        self.keep_one_open_preventive_per_atm()

    def minutes(self, low, high):
        return timedelta(minutes=self.rng.uniform(low, high))

    def ticket(self):
        """One ticket and its history (the events, in order)."""
        rng = self.rng
        created = self.now - timedelta(seconds=rng.uniform(60, 365 * 86400))
        kind = "preventive" if rng.random() < 0.1 else "fault"
        priority = rng.choices([p for p, _ in PRIORITY_WEIGHTS], [w for _, w in PRIORITY_WEIGHTS])[0]
        ticket = {
            "atm": rng.randrange(ATMS_PER_CITY), "created_at": created, "kind": kind,
            "priority": priority, "out_of_service": kind == "fault" and rng.random() < 0.3,
            "title": f"{'Preventive visit' if kind == 'preventive' else 'Fault'} {rng.randrange(10**6):06d}",
            "technician": rng.randrange(TECHNICIANS_PER_CITY), "status": "open",
            "assigned_at": None, "started_at": None, "resolved_at": None, "closed_at": None,
            "held_since": None, "response_held": 0.0, "restore_held": 0.0, "hold_reason": None,
            "resolution": None, "reopen_count": 0, "events": [("created", None, "open", created)],
        }
        self.live(ticket, created)
        return ticket

    def stalls(self, ticket):
        """Whether the work stops here for now: recent work often waits, old work seldom."""
        age = self.now - ticket["created_at"]
        chance = 0.3 if age < timedelta(days=2) else 0.05 if age < timedelta(days=14) else 0.002
        return self.rng.random() < chance

    def step(self, ticket, action, to_status, when, **values):
        """Apply one action at `when` if it is in the past and the work goes on; False if not."""
        if when >= self.now or self.stalls(ticket):
            return False
        ticket["events"].append((action, ticket["status"], to_status, when))
        ticket["status"] = to_status
        ticket.update(values)
        return True

    def live(self, ticket, created):
        """Walk the ticket through the action table until now (or its end)."""
        rng = self.rng
        if rng.random() < 0.02:
            self.step(ticket, "cancel", "cancelled", created + self.minutes(5, 600),
                      closed_at=created + self.minutes(5, 600))
            return
        when = created + self.minutes(5, 120)
        if not self.step(ticket, "assign", "assigned", when, assigned_at=when):
            return
        for round_ in range(3):
            when += self.minutes(5, 180)
            started = ticket["started_at"] or when
            if not self.step(ticket, "start", "in_progress", when, started_at=started):
                return
            if rng.random() < 0.15:  # parts to wait for
                when += self.minutes(10, 120)
                if not self.step(ticket, "hold", "on_hold", when, held_since=when,
                                 hold_reason="Waiting for parts"):
                    return
                resumed = when + self.minutes(30, 1440)
                held = (resumed - when).total_seconds()
                if not self.step(ticket, "start", "in_progress", resumed, held_since=None,
                                 hold_reason=None, restore_held=ticket["restore_held"] + held):
                    return
                when = resumed
            when += self.minutes(20, 480)
            if not self.step(ticket, "resolve", "resolved", when, resolved_at=when,
                             resolution="Repaired and tested"):
                return
            if round_ < 2 and rng.random() < 0.05:  # it failed again
                when += self.minutes(60, 2880)
                if not self.step(ticket, "reopen", "assigned", when, assigned_at=when,
                                 reopen_count=ticket["reopen_count"] + 1, resolution=None):
                    return
                continue
            break
        when += self.minutes(60, 4320)
        self.step(ticket, "close", "closed", when, closed_at=when)

    def keep_one_open_preventive_per_atm(self):
        """An ATM holds at most one unresolved preventive ticket (the schema's rule)."""
        seen = set()
        for ticket in reversed(self.tickets):
            unresolved = ticket["status"] in ("open", "assigned", "in_progress", "on_hold")
            if ticket["kind"] == "preventive" and unresolved:
                if ticket["atm"] in seen:
                    ticket["kind"] = "fault"
                seen.add(ticket["atm"])


def migrate(url):
    """The schema, by the project's migrations."""
    env = {**os.environ, "DATABASE_URL": url, "ATM_ENV": "development"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=PROJECT, env=env, check=True, capture_output=True)


def password_hash():
    """One Argon2id hash of the bench password at the production settings."""
    from argon2 import PasswordHasher, Type

    from config import ProductionConfig

    return PasswordHasher(time_cost=ProductionConfig.ARGON2_TIME_COST,
                          memory_cost=ProductionConfig.ARGON2_MEMORY_KIB,
                          parallelism=ProductionConfig.ARGON2_PARALLELISM,
                          type=Type.ID).hash(bench_password())


def rows_for(city_number, city, first_atm_id, first_user_id, first_ticket_id, first_event_id):
    """The users, ATMs, tickets and events of one city, numbered from the given ids."""
    name = f"City {city_number:04d}"
    key = name.casefold()
    now = city.now
    supervisor_id = first_user_id
    technician_ids = [first_user_id + 1 + k for k in range(TECHNICIANS_PER_CITY)]
    users = [user_row(supervisor_id, f"sup-{city_number:04d}", "supervisor", name, now)]
    users += [user_row(user_id, f"tech-{city_number:04d}-{k + 1}", "technician", name, now)
              for k, user_id in enumerate(technician_ids)]
    atms = [{"id": first_atm_id + n, "terminal_id": f"C{city_number:04d}-{n + 1:03d}",
             "terminal_key": f"c{city_number:04d}-{n + 1:03d}", "city": name, "city_key": key,
             "address": f"{n + 1} Market Street", "model": "NCR SelfServ 84",
             "pm_interval_days": 90, "is_active": True, "created_at": now - timedelta(days=400)}
            for n in range(ATMS_PER_CITY)]
    tickets, events = [], []
    event_id = first_event_id
    for number, ticket in enumerate(city.tickets):
        ticket_id = first_ticket_id + number
        technician = technician_ids[ticket["technician"]]
        held = ticket["restore_held"]
        created = ticket["created_at"]
        tickets.append({
            "id": ticket_id, "atm_id": first_atm_id + ticket["atm"], "city": name, "city_key": key,
            "kind": ticket["kind"], "priority": ticket["priority"], "title": ticket["title"],
            "description": None, "out_of_service": ticket["out_of_service"],
            "status": ticket["status"],
            "assignee_id": technician if ticket["assigned_at"] else None,
            "reported_by_id": technician, "created_at": created,
            "assigned_at": ticket["assigned_at"], "started_at": ticket["started_at"],
            "resolved_at": ticket["resolved_at"], "closed_at": ticket["closed_at"],
            "response_due_at": created + timedelta(minutes=RESPONSE_MINUTES[ticket["priority"]]),
            "restore_due_at": created + timedelta(minutes=RESTORE_MINUTES[ticket["priority"]],
                                                  seconds=held),
            "held_since": ticket["held_since"], "response_held_seconds": 0.0,
            "restore_held_seconds": held, "hold_reason": ticket["hold_reason"],
            "resolution": ticket["resolution"], "reopen_count": ticket["reopen_count"],
            "version": len(ticket["events"]),
        })
        for action, from_status, to_status, when in ticket["events"]:
            actor = supervisor_id if action in ("assign", "reopen", "close", "cancel") else technician
            events.append({"id": event_id, "ticket_id": ticket_id, "time": when,
                           "actor_id": actor, "action": action,
                           "from_status": from_status if action != "created" else None,
                           "to_status": to_status, "detail": None})
            event_id += 1
    return users, atms, tickets, events


def user_row(user_id, username, role, city, now, hash_=None):
    return {"id": user_id, "username": username, "username_key": username, "role": role,
            "city": city, "city_key": city.casefold() if city else None, "is_active": True,
            "password_hash": hash_, "created_at": now, "updated_at": now}


def build(url, cities):
    """Create the schema and fill it; prints what it did."""
    from atm_app.extensions import db
    import atm_app.models  # noqa: F401  (the tables)

    started = time.monotonic()
    migrate(url)
    engine = sa.create_engine(url)
    tables = db.metadata.tables
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    city = City(now)
    hash_ = password_hash()
    counts = {"users": 1, "atms": 0, "tickets": 0, "ticket_events": 0}
    with engine.begin() as connection:
        connection.execute(tables["users"].insert(), [
            user_row(1, "bench-host", "host", None, now, hash_)])
        user_id, atm_id, ticket_id, event_id = 2, 1, 1, 1
        pending = {name: [] for name in counts}
        for number in range(1, cities + 1):
            users, atms, tickets, events = rows_for(number, city, atm_id, user_id, ticket_id,
                                                    event_id)
            for user in users:
                user["password_hash"] = hash_
            for name, rows in (("users", users), ("atms", atms), ("tickets", tickets),
                               ("ticket_events", events)):
                pending[name].extend(rows)
                counts[name] += len(rows)
            user_id, atm_id = user_id + len(users), atm_id + len(atms)
            ticket_id, event_id = ticket_id + len(tickets), event_id + len(events)
            if len(pending["ticket_events"]) >= BATCH or number == cities:
                for name in ("users", "atms", "tickets", "ticket_events"):
                    if pending[name]:
                        connection.execute(tables[name].insert(), pending[name])
                        pending[name] = []
        if engine.dialect.name == "postgresql":
            for name in counts:
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(f"{url.split('@')[-1]}: {cities} cities, " + ", ".join(
        f"{count:,} {name}" for name, count in counts.items())
        + f" in {time.monotonic() - started:.0f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, required=True)
    parser.add_argument("database_url")
    options = parser.parse_args()
    build(options.database_url, SIZES[options.size])


if __name__ == "__main__":
    main()
