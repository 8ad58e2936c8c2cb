"""Maintenance work: the ATM fleet, tickets with service levels, and the figures.

The `maintenance` blueprint serves it as JSON under /api/ (atm_routes.py,
ticket_routes.py, report_routes.py); the pages (web/) call the same services.
Where each rule lives:

- visibility.py: who may see which ATMs and tickets (one condition, used everywhere);
- actions.py: the action table (assign, start, hold, resolve, close, reopen,
  cancel) and the one function that applies it;
- tickets.py: raising, editing, notes, lists, and `commit_change`, the one way
  a ticket change is written (compare-and-set, event and audit row together);
- sla.py: due times and the hold clock; fleet.py: ATMs; kpis.py: the figures;
- importer.py, export.py, preventive.py, demo.py, cli.py: the fleet CSV, the
  ticket CSV, planned preventive work, the demo fleet, the commands;
- schemas.py: what a request may send; representations.py: what the API answers;
  cursors.py: the signed keyset cursors of the lists.
"""
from flask import Blueprint

bp = Blueprint("maintenance", __name__, url_prefix="/api")

from . import atm_routes, report_routes, ticket_routes  # noqa: E402,F401  (register the views)
