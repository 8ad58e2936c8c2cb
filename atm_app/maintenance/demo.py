"""A demo fleet for the first `make run`: a dozen ATMs in the demo users' city and
tickets in every status, so a newcomer signs in to a living system.

Everything is made through the same services as real work (the actions of
the action table, by the demo users themselves); then each ticket is aged by
moving all its times back, so due times fall in the past and some work is
overdue.
"""
from datetime import timedelta

from ..database import transaction
from ..extensions import db
from ..models import Ticket, TicketEvent, User
from .actions import take_action
from .fleet import create_atm
from .tickets import create_ticket

STREETS = ("Broad Street", "Marina Road", "Allen Avenue", "Awolowo Road", "Adeola Odeku",
           "Herbert Macaulay Way", "Ikorodu Road", "Ozumba Mbadiwe", "Bode Thomas Street",
           "Admiralty Way", "Toyin Street", "Opebi Road")
MODELS = ("NCR SelfServ 84", "Diebold DN200", "Hyosung 5600")
# (title, priority, out of service, hours ago, the actions it went through, by whom)
TICKETS = (
    ("Card reader jams", "high", True, 2, ()),
    ("Screen flickers", "low", False, 30, ()),
    ("Receipt printer out of paper", "normal", False, 5, (("assign", "supervisor"),)),
    ("Cash dispenser error E-204", "critical", True, 3,
     (("assign", "supervisor"), ("start", "technician"))),
    ("No network link", "critical", True, 9, (("assign", "supervisor"), ("start", "technician"))),
    ("Keypad keys sticking", "normal", False, 26,
     (("assign", "supervisor"), ("start", "technician"),
      ("hold", "technician", "Waiting for a replacement keypad from the vendor."))),
    ("Deposit module rejects notes", "high", True, 40,
     (("assign", "supervisor"), ("start", "technician"),
      ("resolve", "technician", "Cleaned the note path and recalibrated the sensors."))),
    ("Camera offline", "normal", False, 72,
     (("assign", "supervisor"), ("start", "technician"),
      ("resolve", "technician", "Replaced the camera cable."), ("close", "supervisor"))),
    ("Duplicate report of card reader jam", "low", False, 50,
     (("cancel", "supervisor", "Raised twice; the work is on the other ticket."),)),
)


def demo_cast():
    """The first active host, supervisor and technician sharing a city, or None."""
    technicians = db.session.execute(
        db.select(User).where(User.role == "technician", User.is_active.is_(True),
                              User.city_key.is_not(None)).order_by(User.id)).scalars()
    for technician in technicians:
        supervisor = db.session.execute(
            db.select(User).where(User.role == "supervisor", User.is_active.is_(True),
                                  User.city_key == technician.city_key).order_by(User.id)
        ).scalars().first()
        host = db.session.execute(
            db.select(User).where(User.role == "host", User.is_active.is_(True)).order_by(User.id)
        ).scalars().first()
        if supervisor is not None and host is not None:
            return {"host": host, "supervisor": supervisor, "technician": technician}
    return None


def create_demo_fleet(cast):
    """Twelve ATMs in the cast's city and a ticket in every status; how many of each."""
    city = cast["technician"].city
    atms = [create_atm(cast["host"], {
        "terminal_id": f"DEMO-{number:03d}", "city": city,
        "address": f"{10 + number * 7} {street}, {city}", "model": MODELS[number % len(MODELS)],
    }) for number, street in enumerate(STREETS, start=1)]
    for atm, (title, priority, down, hours_ago, steps) in zip(atms, TICKETS):
        ticket = create_ticket(cast["technician"], {
            "atm_id": atm.id, "title": title, "priority": priority, "out_of_service": down})
        for name, role, *text in steps:
            body = demo_body(name, cast, text)
            take_action(cast[role], ticket.id, name, lambda: body)
        age(ticket.id, timedelta(hours=hours_ago))
    return len(atms), len(TICKETS)


def demo_body(action, cast, text):
    """The body a demo user sends for an action."""
    if action == "assign":
        return {"assignee_id": cast["technician"].id}
    if action == "resolve":
        return {"resolution": text[0]}
    return {"reason": text[0]} if text else {}


TIMES = ("created_at", "assigned_at", "started_at", "resolved_at", "closed_at",
         "response_due_at", "restore_due_at", "held_since")


def age(ticket_id, by):
    """Move every time of a ticket and its timeline `by` into the past."""
    ticket = db.session.get(Ticket, ticket_id, populate_existing=True)
    with transaction():
        for name in TIMES:
            if getattr(ticket, name) is not None:
                setattr(ticket, name, getattr(ticket, name) - by)
        for event in db.session.execute(
                db.select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)).scalars():
            event.time -= by
        db.session.flush()
