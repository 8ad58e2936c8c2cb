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
# (title, priority, out of service, hours since it was raised, the actions it went
# through and by whom)
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
        "address": f"{10 + number * 7} {street}", "model": MODELS[number % len(MODELS)],
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


# Which ticket column each timeline action sets (the first start only).
ACTION_TIMES = {"assign": "assigned_at", "start": "started_at", "resolve": "resolved_at",
                "close": "closed_at", "cancel": "closed_at", "hold": "held_since"}


def age(ticket_id, by):
    """Move a ticket's history back in time: raised `by` ago, its actions spread since.

    The due times move with the creation; each action's column takes its
    timeline line's new time.
    """
    ticket = db.session.get(Ticket, ticket_id, populate_existing=True)
    events = db.session.execute(db.select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                .order_by(TicketEvent.id)).scalars().all()
    start = ticket.created_at - by
    step = by / (len(events) + 1)
    with transaction():
        ticket.response_due_at -= ticket.created_at - start
        ticket.restore_due_at -= ticket.created_at - start
        ticket.created_at = start
        started = False
        for number, event in enumerate(events):
            event.time = start + step * number
            column = ACTION_TIMES.get(event.action)
            if column and not (column == "started_at" and started):
                setattr(ticket, column, event.time)
            started = started or column == "started_at"
        db.session.flush()
