"""JSON views of tickets: `/api/tickets/`, their actions, notes and timeline, and the CSV export."""
from flask import Response, jsonify, request, stream_with_context, url_for
from flask_jwt_extended import current_user, get_current_user

from ..auth.roles import login_required
from ..errors import Refused
from ..validation import json_object
from . import bp, export, schemas, tickets
from .actions import ACTIONS, take_action
from .representations import event_json, ticket_json

IDEMPOTENCY_KEY = "Idempotency-Key"


def viewer():
    """The signed-in user itself, not the `current_user` proxy: each ticket shown
    reads its attributes, and through the proxy every read is a lookup."""
    return get_current_user()


def ticket_response(ticket, status=200):
    """A ticket for the caller, with its version as the ETag."""
    response = jsonify(ticket_json(ticket, viewer()))
    response.status_code = status
    response.set_etag(str(ticket.version))
    return response


@bp.get("/tickets/")
@login_required
def list_tickets():
    """The tickets the caller sees, filtered and sorted, a page at a time."""
    user = viewer()
    page = tickets.list_tickets(user, schemas.load(schemas.TicketQuery, request.args), as_rows=True)
    return jsonify(tickets=[ticket_json(ticket, user) for ticket in page.tickets],
                   next=page.next)


@bp.get("/tickets/export.csv")
@login_required
def export_tickets():
    """Every ticket of the list's query as CSV."""
    query = schemas.load(schemas.TicketQuery, request.args)
    lines = export.csv_lines(current_user, query)
    return Response(stream_with_context(lines), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="tickets.csv"'})


@bp.post("/tickets/")
@login_required
def create_ticket():
    """Raise a ticket; a retried call with the same Idempotency-Key gets the same ticket."""
    fields = schemas.load(schemas.TicketCreate, json_object())
    ticket = tickets.create_ticket(current_user, fields, idempotency_key())
    response = ticket_response(ticket, 201)
    response.headers["Location"] = url_for("maintenance.get_ticket", ticket_id=ticket.id)
    return response


def idempotency_key():
    """The request's Idempotency-Key (1 to 255 visible ASCII characters), or None."""
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is None:
        return None
    if not 0 < len(key) <= 255 or not all(32 < ord(char) < 127 for char in key):
        raise Refused(400, "Some fields are missing or invalid.",
                      {IDEMPOTENCY_KEY: ["Use 1 to 255 visible ASCII characters."]})
    return key


@bp.get("/tickets/<int:ticket_id>/")
@login_required
def get_ticket(ticket_id):
    """One ticket the caller sees."""
    return ticket_response(tickets.visible_ticket(current_user, ticket_id))


@bp.patch("/tickets/<int:ticket_id>/")
@login_required
def edit_ticket(ticket_id):
    """A supervisor's or host's change of title, description, priority or out_of_service."""
    ticket = tickets.edit_ticket(current_user, ticket_id,
                                 lambda: schemas.load(schemas.TicketChange, json_object()),
                                 request.if_match)
    return ticket_response(ticket)


@bp.post("/tickets/<int:ticket_id>/notes/")
@login_required
def add_note(ticket_id):
    """Add a note to a ticket's timeline."""
    tickets.visible_ticket(current_user, ticket_id)  # 404 before a body is judged
    note = schemas.load(schemas.Note, json_object())
    tickets.add_note(current_user, ticket_id, note["text"])
    return jsonify(detail="Note added."), 201


@bp.get("/tickets/<int:ticket_id>/events/")
@login_required
def list_events(ticket_id):
    """A ticket's timeline, oldest first."""
    events = tickets.ticket_events(current_user, ticket_id)
    return jsonify(events=[event_json(event) for event in events])


@bp.post(f"/tickets/<int:ticket_id>/<any({', '.join(ACTIONS)}):action>/")
@login_required
def act_on_ticket(ticket_id, action):
    """Take an action of the action table (actions.py) on a ticket."""
    ticket = take_action(current_user, ticket_id, action, lambda: json_object(optional=True),
                         request.if_match)
    return ticket_response(ticket)
