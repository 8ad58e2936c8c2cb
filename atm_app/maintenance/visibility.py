"""Who may see which ATMs and tickets: the one rule every path uses.

| role | ATMs | tickets |
| --- | --- | --- |
| host | all | all |
| supervisor | its city's | its city's |
| technician | its city's | those assigned to it, and its city's `open` unassigned ones |

A user without a city sees no ATM and no ticket (a host sees all). The API,
the pages, the CSV export and the figures all filter with these two
conditions, so a list and a detail page cannot disagree; whatever a caller
may not see does not exist for it (404, absent from lists).
"""
from sqlalchemy import and_, bindparam, false, or_, true

from ..extensions import db
from ..models import MAX_ROW_ID, ROLES, Atm, Ticket, city_key

# The viewer as bound parameters: a statement built once with them serves every
# viewer of a role, and running a statement costs a fraction of building one.
VIEWER_ID, VIEWER_CITY_KEY, ROW_ID = (bindparam("viewer_id"), bindparam("viewer_city_key"),
                                      bindparam("row_id"))


def atm_rule(role, viewer_id, viewer_city_key):
    """The table's ATM column for a viewer of `role` with a city: values or bound parameters."""
    if role == "host":
        return true()
    return Atm.city_key == viewer_city_key


def ticket_rule(role, viewer_id, viewer_city_key):
    """The table's ticket column for a viewer of `role` with a city: values or bound parameters."""
    if role == "host":
        return true()
    if role == "supervisor":
        return Ticket.city_key == viewer_city_key
    return or_(
        Ticket.assignee_id == viewer_id,
        and_(Ticket.city_key == viewer_city_key, Ticket.status == "open",
             Ticket.assignee_id.is_(None)),
    )


RULES = {Atm: atm_rule, Ticket: ticket_rule}


def visible_to(user, model):
    """The SQL condition that picks the ATMs or tickets (`model`) `user` may see."""
    key = city_key(user.city)
    if user.role != "host" and key is None:
        return false()
    return RULES[model](user.role, user.id, key)


def atms_visible_to(user):
    """The SQL condition that picks the ATMs `user` may see."""
    return visible_to(user, Atm)


def tickets_visible_to(user):
    """The SQL condition that picks the tickets `user` may see."""
    return visible_to(user, Ticket)


def by_id_for_each_role(select, model):
    """{role: `select` narrowed to the ATM or ticket `row_id` if its viewer sees it},
    built once; run with `viewer_parameters`."""
    return {role: select.where(model.id == ROW_ID, RULES[model](role, VIEWER_ID, VIEWER_CITY_KEY))
            for role in ROLES}


def viewer_parameters(user, row_id):
    """The parameters of a `by_id_for_each_role` statement for `user` and `row_id`, or
    None when `user` can see no such row: it has no city (and is no host), or the
    id is past the column's range."""
    key = city_key(user.city)
    if not 0 < row_id <= MAX_ROW_ID or (user.role != "host" and key is None):
        return None
    return {"row_id": row_id, "viewer_id": user.id, "viewer_city_key": key}


ROW_BY_ID = {model: by_id_for_each_role(
    db.select(model).execution_options(populate_existing=True), model) for model in RULES}


def visible_row(user, model, row_id):
    """The Atm or Ticket `row_id`, read afresh, if `user` may see it; else None."""
    parameters = viewer_parameters(user, row_id)
    if parameters is None:
        return None
    return db.session.execute(ROW_BY_ID[model][user.role], parameters).scalar_one_or_none()
