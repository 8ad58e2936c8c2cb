"""Ticket pages: the list with its filters and CSV, raising a ticket, and one ticket
with its due times, timeline, notes and a button for each action the user may take.

The views read the form, call the maintenance services (the same as the
API's), and render; a refusal is shown on the page with what the user typed.
"""
from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_jwt_extended import current_user
from werkzeug.datastructures import ETags

from ..errors import Refused
from ..maintenance import export, fleet, schemas, tickets
from ..maintenance.actions import ACTIONS, actions_for, take_action
from ..models import UNRESOLVED, User, utcnow
from ..users.service import technicians_of
from . import bp
from .forms import TicketForm, add_errors
from .guards import action, page
from .next_url import safe_next

STATUS_CHOICES = [("", "Any status"), ("unresolved", "Not yet resolved"), ("open", "Open"),
                  ("assigned", "Assigned"), ("in_progress", "In progress"),
                  ("on_hold", "On hold"), ("resolved", "Resolved"), ("closed", "Closed"),
                  ("cancelled", "Cancelled")]
PRIORITY_FILTER = [("", "Any priority"), ("critical", "Critical"), ("high", "High"),
                   ("normal", "Normal"), ("low", "Low")]
OVERDUE_CHOICES = [("", "Overdue or not"), ("true", "Overdue only"), ("false", "Not overdue")]
SORT_CHOICES = [("created", "Newest first"), ("due", "Restore due soonest")]
ACTION_DONE = {"assign": "Assigned to {assignee}.", "start": "Work started.",
               "hold": "Put on hold.", "resolve": "Resolved.", "close": "Closed.",
               "reopen": "Reopened.", "cancel": "Cancelled."}
PER_PAGE = 25


# --- the list -----------------------------------------------------------------------

def page_filters():
    """The list page's filters as typed (kept in the form), each a plain string."""
    return {name: request.args.get(name, "").strip()[:100]
            for name in ("status", "priority", "atm", "assignee", "overdue", "sort", "q")}


def list_query(filters):
    """The maintenance list query for the page's filters, and a sentence for any it cannot use."""
    args = {"limit": str(PER_PAGE), "sort": filters["sort"] or "created"}
    if filters["status"]:
        args["status"] = ",".join(UNRESOLVED) if filters["status"] == "unresolved" else filters["status"]
    for name in ("priority", "overdue", "q"):
        if filters[name]:
            args[name] = filters[name]
    if request.args.get("cursor"):
        args["cursor"] = request.args["cursor"]
    problem = None
    if filters["atm"]:
        atm = fleet.visible_atm_by_terminal(current_user, filters["atm"])
        if atm is None:
            problem = f"You have no ATM with the terminal id {filters['atm']}."
        else:
            args["atm_id"] = str(atm.id)
    if filters["assignee"]:
        assignee = User.find_by_username(filters["assignee"])
        if assignee is None:
            problem = problem or f"No user is called {filters['assignee']}."
        else:
            args["assignee_id"] = str(assignee.id)
    try:
        return schemas.load(schemas.TicketQuery, args), problem
    except Refused as refusal:  # a hand-made address: say what, show the first page
        words = "; ".join(" ".join(messages) for messages in refusal.errors.values())
        return schemas.load(schemas.TicketQuery, {"limit": str(PER_PAGE)}), words


@bp.get("/tickets")
@page()
def tickets_list():
    """The tickets the user sees, filtered, a page at a time, with a CSV download."""
    filters = page_filters()
    query, problem = list_query(filters)
    found = tickets.TicketPage([], None)
    if not problem:
        try:
            found = tickets.list_tickets(current_user, query)
        except Refused:  # a cursor this list did not give out
            problem = "That page of the list could not be read; here is the first page."
            found = tickets.list_tickets(current_user, {**query, "cursor": None})
    kept = {name: value for name, value in filters.items() if value}
    return render_template(
        "tickets/list.html", found=found, filters=filters, problem=problem, now=utcnow(),
        status_choices=STATUS_CHOICES, priority_choices=PRIORITY_FILTER,
        overdue_choices=OVERDUE_CHOICES, sort_choices=SORT_CHOICES,
        next_url=url_for("web.tickets_list", **kept, cursor=found.next) if found.next else None,
        first_url=url_for("web.tickets_list", **kept) if request.args.get("cursor") else None,
        csv_url=url_for("web.tickets_export", **kept),
    )


@bp.get("/tickets/export.csv")
@page()
def tickets_export():
    """Every ticket of the list's filters as CSV (the same as the API's export)."""
    query, problem = list_query(page_filters())
    query.pop("cursor", None)
    if problem:
        raise Refused(400, problem)
    return Response(stream_with_context(export.csv_lines(current_user, query)),
                    mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="tickets.csv"'})


# --- raising a ticket --------------------------------------------------------------------

@bp.route("/tickets/new", methods=["GET"])
@page()
def new_ticket():
    """The form to raise a ticket, for an ATM given by `?atm=` when coming from its page."""
    form = TicketForm(formdata=None, terminal_id=request.args.get("atm", "")[:32])
    return render_new_ticket(form)


def render_new_ticket(form, status=200):
    """The new-ticket page with the user's ATMs (the first page of them) to pick from."""
    atms = fleet.list_atms(current_user, {"is_active": True, "limit": 200}).atms
    return render_template("tickets/new.html", form=form, atms=atms), status


@bp.post("/tickets/new")
@action()
def create_ticket():
    """Raise a ticket from the form; the fields' problems beside them."""
    form = TicketForm()
    body = {"terminal_id": (form.terminal_id.data or "").strip(), "title": form.title.data or "",
            "priority": form.priority.data, "kind": form.kind.data,
            "description": (form.description.data or "").strip() or None,
            "out_of_service": form.out_of_service.data}
    try:
        ticket = tickets.create_ticket(current_user, schemas.load(schemas.TicketCreate, body))
    except Refused as refusal:
        add_errors(form, refusal.errors or {}, rename={"atm_id": "terminal_id"})
        if not refusal.errors:
            form.title.errors = list(form.title.errors) + [refusal.detail]
        return render_new_ticket(form, refusal.status)
    flash(f"Ticket #{ticket.id} raised for {ticket.atm.terminal_id}.", "success")
    return redirect(url_for("web.ticket_page", ticket_id=ticket.id), 303)


# --- one ticket ------------------------------------------------------------------------------

@bp.get("/tickets/<int:ticket_id>")
@page()
def ticket_page(ticket_id):
    """One ticket: what, where, due when, its timeline, a note form and its actions."""
    return render_ticket(tickets.visible_ticket(current_user, ticket_id))


def render_ticket(ticket, error=None, typed=None, status=200):
    """The ticket page; `typed` keeps what the user wrote in the form that was refused."""
    events = tickets.ticket_events(current_user, ticket.id)
    return render_template(
        "tickets/ticket.html", ticket=ticket, events=events, now=utcnow(),
        actions=[ACTIONS[name] for name in actions_for(current_user, ticket)],
        technicians=technicians_of(ticket.city) if current_user.role != "technician" else [],
        error=error, typed=typed or {},
    ), status


def action_body(name):
    """The body an action's form sends, as the API would get it."""
    field = ACTIONS[name].field
    if field == "assignee_id":
        value = request.form.get("assignee_id", "")
        return {"assignee_id": int(value) if value.isdigit() else value}
    return {field: request.form.get(field, "")} if field else {}


@bp.post(f"/tickets/<int:ticket_id>/<any({', '.join(ACTIONS)}):name>")
@action()
def ticket_action(ticket_id, name):
    """Take an action from a ticket's page or a dashboard's quick form.

    The form carries the version the page showed, so a change made by someone
    else in between is refused (412) instead of overwritten. A quick form
    (with `next`) returns to its page with a message; the ticket page shows
    the refusal with the text typed kept.
    """
    body = action_body(name)
    version = request.form.get("version", "")
    back = safe_next(request.form.get("next"))
    try:
        ticket = take_action(current_user, ticket_id, name, lambda: body,
                             ETags([version]) if version else None)
    except Refused as refusal:
        if refusal.status in (403, 404):
            raise
        if back:
            flash(refusal_sentence(refusal), "error")
            return redirect(back, 303)
        current = tickets.visible_ticket(current_user, ticket_id)
        return render_ticket(current, error=refusal_sentence(refusal), typed={name: body},
                             status=refusal.status)
    flash(f"Ticket #{ticket.id}: " + ACTION_DONE[name].format(assignee=ticket.assignee_username),
          "success")
    return redirect(back or url_for("web.ticket_page", ticket_id=ticket.id), 303)


def refusal_sentence(refusal):
    """A refusal as one sentence for the page."""
    if refusal.status == 412:
        return ("Someone else changed this ticket while you were looking at it. "
                "Here it is as it is now; check it, then try again.")
    messages = [text for texts in (refusal.errors or {}).values() for text in texts]
    return " ".join([refusal.detail] + messages) if refusal.status != 400 else " ".join(messages)


@bp.post("/tickets/<int:ticket_id>/notes")
@action()
def add_note(ticket_id):
    """Add a note to the ticket's timeline."""
    ticket = tickets.visible_ticket(current_user, ticket_id)
    text = request.form.get("text", "")
    try:
        note = schemas.load(schemas.Note, {"text": text})
    except Refused as refusal:
        return render_ticket(ticket, error=refusal_sentence(refusal), typed={"note": {"text": text}},
                             status=400)
    tickets.add_note(current_user, ticket.id, note["text"])
    flash("Note added.", "success")
    return redirect(url_for("web.ticket_page", ticket_id=ticket.id, _anchor="timeline"), 303)

