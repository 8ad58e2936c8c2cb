"""Planning preventive work: one ticket for each ATM whose visit falls due.

Safe to run twice, even at once: an ATM with an unresolved preventive ticket
gets none, and the database refuses a second one outright (the unique index
`uq_tickets_one_open_preventive`), so a run that loses the race skips it.
"""
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from .. import audit
from ..errors import Refused
from . import fleet
from .tickets import insert_ticket


def plan_preventive(within_days=0):
    """Raise the due preventive tickets (priority normal); returns how many were raised."""
    day = fleet.today() + timedelta(days=within_days)
    raised = 0
    for atm, state in list(fleet.pm_due_by(day)):
        fields = {"kind": "preventive", "priority": "normal",
                  "title": f"Preventive maintenance of {atm.terminal_id}",
                  "description": f"Due {fleet.next_pm_due(atm, state).isoformat()} "
                                 f"(every {atm.pm_interval_days} days)."}
        try:
            _, logged = insert_ticket(None, atm, fields)
        except Refused as refusal:  # it has one already
            if refusal.status != 409:
                raise
            continue
        except IntegrityError:  # another run raised it a moment ago
            continue
        audit.log_values(logged)
        raised += 1
    return raised
