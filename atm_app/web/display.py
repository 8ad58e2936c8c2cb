"""What templates need besides their own data: who is signed in, and display filters."""
import re

from flask import has_request_context

from ..auth.tokens import token_owner
from . import bp
from .cookies import page_state
from .renewal import claims_without_renewal
from .forms import ROLE_LABELS

# (pattern, name) pairs, most specific first: Edge and Opera also say "Chrome".
BROWSERS = (
    (r"Edg/", "Edge"), (r"OPR/", "Opera"), (r"Firefox/", "Firefox"), (r"Chrom(e|ium)/", "Chrome"),
    (r"Safari/", "Safari"), (r"curl/", "curl"), (r"python", "a Python script"),
)
SYSTEMS = (
    (r"Android", "Android"), (r"iPhone|iPad", "iOS"), (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"), (r"CrOS", "ChromeOS"), (r"Linux", "Linux"),
)


@bp.app_context_processor
def signed_in_context():
    """The signed-in user and the double-submit value for its forms (None when signed out)."""
    if not has_request_context():
        return {"signed_in_user": None, "jwt_csrf_token": None}
    state = page_state()
    claims = state.access_claims if state.established else claims_without_renewal()
    owner = token_owner(claims) if claims else None
    if owner is None:
        return {"signed_in_user": None, "jwt_csrf_token": None}
    return {"signed_in_user": owner[0], "jwt_csrf_token": claims["csrf"]}


@bp.app_template_filter("utc")
def format_utc(moment):
    """A stored UTC time for people: `2025-03-01 14:05 UTC`."""
    return "—" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


@bp.app_template_filter("role_label")
def role_label(role):
    """A role as people call it."""
    return ROLE_LABELS.get(role, role)


@bp.app_template_filter("device")
def describe_device(user_agent):
    """A user agent as "Firefox on Linux", or "Unknown device"."""
    if not user_agent:
        return "Unknown device"
    browser = next((name for pattern, name in BROWSERS if re.search(pattern, user_agent)), None)
    system = next((name for pattern, name in SYSTEMS if re.search(pattern, user_agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


STATUS_LABELS = {"open": "Open", "assigned": "Assigned", "in_progress": "In progress",
                 "on_hold": "On hold", "resolved": "Resolved", "closed": "Closed",
                 "cancelled": "Cancelled"}


@bp.app_template_filter("status_label")
def status_label(status):
    """A ticket status as people say it."""
    return STATUS_LABELS.get(status, status)


@bp.app_template_filter("duration")
def duration(seconds):
    """A length of time in words people read at a glance: "2 d 3 h", "3 h 20 min", "45 min"."""
    minutes = max(0, int(seconds // 60))
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


@bp.app_template_filter("due_phrase")
def due_phrase(due, now):
    """How a due time stands now, in words (not only colour): "due in 3 h" or "overdue by 20 min"."""
    left = (due - now).total_seconds()
    if left < 0:
        return f"overdue by {duration(-left)}"
    return f"due in {duration(left)}"
