"""Fleet pages: the ATMs with search, one ATM with its work and availability, and
for the data host adding, changing, decommissioning and importing ATMs."""
from functools import wraps

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_jwt_extended import current_user

from ..errors import Refused
from ..maintenance import fleet, kpis, schemas, tickets
from ..maintenance.importer import BadFile, import_fleet
from ..models import UNRESOLVED, utcnow
from . import bp
from .forms import AtmForm, ImportForm, add_errors
from .guards import action, page

PER_PAGE = 25
HISTORY_LISTED = 20
AVAILABILITY_DAYS = 30
STATE_CHOICES = [("", "Up or down"), ("true", "Down now"), ("false", "In service")]
ACTIVE_CHOICES = [("", "In the fleet or not"), ("true", "In the fleet"),
                  ("false", "Decommissioned")]


@bp.get("/atms")
@page()
def atms_list():
    """The ATMs the user sees, searchable, a page at a time."""
    filters = {name: request.args.get(name, "").strip()[:100]
               for name in ("q", "city", "down", "is_active")}
    args = {name: value for name, value in filters.items() if value}
    args.update(limit=str(PER_PAGE), cursor=request.args.get("cursor", ""))
    if not args["cursor"]:
        del args["cursor"]
    try:
        found = fleet.list_atms(current_user, schemas.load(schemas.AtmQuery, args))
        problem = None
    except Refused as refusal:
        found, problem = fleet.AtmPage([], {}, None), "That search could not be read; try again."
        if refusal.errors and "cursor" not in refusal.errors:
            problem = " ".join(" ".join(texts) for texts in refusal.errors.values())
    kept = {name: value for name, value in filters.items() if value}
    return render_template(
        "atms/list.html", found=found, filters=filters, problem=problem,
        state_choices=STATE_CHOICES, active_choices=ACTIVE_CHOICES, next_pm_due=fleet.next_pm_due,
        next_url=url_for("web.atms_list", **kept, cursor=found.next) if found.next else None,
        first_url=url_for("web.atms_list", **kept) if request.args.get("cursor") else None,
    )


@bp.get("/atms/<int:atm_id>")
@page()
def atm_page(atm_id):
    """One ATM: its state, open tickets, history, next preventive visit and availability."""
    atm = fleet.visible_atm(current_user, atm_id)
    state = fleet.states_of([atm.id])[atm.id]
    now = utcnow()
    open_work = tickets.list_tickets(current_user, {"atm_id": atm.id, "status": list(UNRESOLVED),
                                                    "sort": "due", "limit": 50})
    history = tickets.list_tickets(current_user, {
        "atm_id": atm.id, "status": ["resolved", "closed", "cancelled"], "sort": "created",
        "limit": HISTORY_LISTED})
    return render_template(
        "atms/atm.html", atm=atm, state=state, now=now, open_work=open_work, history=history,
        next_pm_due=fleet.next_pm_due(atm, state),
        availability=kpis.availability_of_atm(atm, AVAILABILITY_DAYS, now),
        availability_days=AVAILABILITY_DAYS,
    )


def atm_body(form, with_terminal_id):
    """An ATM form's values as the API's body: blanks left out, the interval a number."""
    names = ("terminal_id", "city", "address", "model", "pm_interval_days")
    body = {name: (getattr(form, name).data or "").strip() for name in names
            if with_terminal_id or name != "terminal_id"}
    if body["pm_interval_days"].isdigit():
        body["pm_interval_days"] = int(body["pm_interval_days"])
    elif not body["pm_interval_days"]:
        del body["pm_interval_days"]
    body["model"] = body["model"] or None
    return body


@bp.get("/atms/new")
@page("host")
def new_atm():
    """The form to add an ATM."""
    return render_template("atms/form.html", form=AtmForm(formdata=None), atm=None)


@bp.post("/atms/new")
@action("host")
def create_atm():
    """Add an ATM; each field's problem beside it."""
    form = AtmForm()
    try:
        atm = fleet.create_atm(current_user, schemas.load(schemas.AtmCreate, atm_body(form, True)))
    except Refused as refusal:
        add_errors(form, refusal.errors or {"terminal_id": [refusal.detail]})
        return render_template("atms/form.html", form=form, atm=None), refusal.status
    flash(f"ATM {atm.terminal_id} added to the fleet.", "success")
    return redirect(url_for("web.atm_page", atm_id=atm.id), 303)


@bp.get("/atms/<int:atm_id>/edit")
@page("host")
def edit_atm(atm_id):
    """The form to change an ATM, and to decommission it or return it to service."""
    atm = fleet.visible_atm(current_user, atm_id)
    form = AtmForm(formdata=None, obj=atm)
    form.model.data = atm.model or ""
    form.pm_interval_days.data = str(atm.pm_interval_days)
    return render_template("atms/form.html", form=form, atm=atm)


@bp.post("/atms/<int:atm_id>/edit")
@action("host")
def update_atm(atm_id):
    """Change an ATM's city, address, model or interval."""
    atm = fleet.visible_atm(current_user, atm_id)
    form = AtmForm()
    try:
        fleet.update_atm(current_user, atm.id,
                         schemas.load(schemas.AtmChange, atm_body(form, False)))
    except Refused as refusal:
        add_errors(form, refusal.errors or {"city": [refusal.detail]})
        form.terminal_id.data = atm.terminal_id
        return render_template("atms/form.html", form=form, atm=atm), refusal.status
    flash(f"ATM {atm.terminal_id} saved.", "success")
    return redirect(url_for("web.atm_page", atm_id=atm.id), 303)


@bp.post("/atms/<int:atm_id>/status")
@action("host")
def atm_status(atm_id):
    """Decommission an ATM, or return it to service."""
    atm = fleet.visible_atm(current_user, atm_id)
    active = request.form.get("active") == "1"
    fleet.update_atm(current_user, atm.id, {"is_active": active})
    flash(f"ATM {atm.terminal_id} " + ("is back in service." if active else
                                       "is decommissioned: no new tickets can be raised for it."),
          "success")
    return redirect(url_for("web.atm_page", atm_id=atm.id), 303)


@bp.route("/atms/import", methods=["GET"])
@page("host")
def import_atms_page():
    """The form to upload a fleet CSV."""
    return render_template("atms/import.html", form=ImportForm(formdata=None), problems=[])


def takes_a_file(view):
    """Let this view's request body be as large as a fleet CSV (IMPORT_MAX_BYTES).

    Set before the guard below it reads the form (its CSRF field), which is
    when the body is parsed and its size checked.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        request.max_content_length = current_app.config["IMPORT_MAX_BYTES"]
        return view(*args, **kwargs)

    return wrapped


@bp.post("/atms/import")
@takes_a_file
@action("host")
def import_atms():
    """Import a fleet CSV, all or nothing; every bad line listed with its number."""
    form = ImportForm()
    upload = form.file.data
    problems = []
    if upload is None or not upload.filename:
        problems = ["Choose a CSV file to upload."]
    else:
        try:
            done = import_fleet(current_user, upload.read().decode("utf-8-sig"))
        except BadFile as refused:
            problems = refused.problems
        except UnicodeDecodeError:
            problems = ["line 1: the file is not UTF-8 text."]
    if problems:
        return render_template("atms/import.html", form=form, problems=problems), 400
    flash(f"Fleet imported: {done}.", "success")
    return redirect(url_for("web.atms_list"), 303)

