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
from sqlalchemy import and_, false, or_, true

from ..extensions import db
from ..models import MAX_ROW_ID, Atm, Ticket, city_key


def atms_visible_to(user):
    """The SQL condition that picks the ATMs `user` may see."""
    if user.role == "host":
        return true()
    key = city_key(user.city)
    if key is None:
        return false()
    return Atm.city_key == key


def tickets_visible_to(user):
    """The SQL condition that picks the tickets `user` may see."""
    if user.role == "host":
        return true()
    key = city_key(user.city)
    if key is None:
        return false()
    if user.role == "supervisor":
        return Ticket.city_key == key
    return or_(
        Ticket.assignee_id == user.id,
        and_(Ticket.city_key == key, Ticket.status == "open", Ticket.assignee_id.is_(None)),
    )


def visible_with_id(user, model, row_id):
    """The SQL condition that picks the Atm or Ticket `row_id` if `user` may see it.
    An id past the column's range is simply not there."""
    if not 0 < row_id <= MAX_ROW_ID:
        return false()
    visible_to = atms_visible_to if model is Atm else tickets_visible_to
    return and_(model.id == row_id, visible_to(user))


def visible_row(user, model, row_id):
    """The Atm or Ticket `row_id`, read afresh, if `user` may see it; else None."""
    return db.session.execute(
        db.select(model).where(visible_with_id(user, model, row_id))
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
