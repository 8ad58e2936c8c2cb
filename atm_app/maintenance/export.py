"""Tickets as CSV, for spreadsheets: the same query and visibility as the list, every page.

A cell a spreadsheet would read as a formula (it starts with =, +, -, @,
a tab or a carriage return) is written with a leading single quote, so it
shows as text and never runs (OWASP, CSV injection).
"""
import csv
import io

from ..models import isoformat, utcnow
from .sla import is_overdue
from .tickets import all_tickets

COLUMNS = ("id", "terminal_id", "city", "address", "kind", "priority", "status", "title",
           "assignee", "reported_by", "created_at", "response_due_at", "restore_due_at",
           "started_at", "resolved_at", "closed_at", "overdue", "reopen_count")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A value as a cell a spreadsheet shows as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def ticket_row(ticket, now):
    """One ticket as the export's row."""
    return (
        ticket.id, ticket.atm.terminal_id, ticket.city, ticket.atm.address, ticket.kind,
        ticket.priority, ticket.status, ticket.title,
        ticket.assignee.username if ticket.assignee else "",
        ticket.reported_by.username if ticket.reported_by else "",
        isoformat(ticket.created_at), isoformat(ticket.response_due_at),
        isoformat(ticket.restore_due_at), isoformat(ticket.started_at),
        isoformat(ticket.resolved_at), isoformat(ticket.closed_at),
        "true" if is_overdue(ticket.status, ticket.restore_due_at, now) else "false",
        ticket.reopen_count,
    )


def csv_lines(user, query):
    """The export, a line at a time: the header, then every ticket of the query."""
    now = utcnow()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells):
        writer.writerow([safe_cell(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(COLUMNS)
    for ticket in all_tickets(user, query):
        yield line(ticket_row(ticket, now))
