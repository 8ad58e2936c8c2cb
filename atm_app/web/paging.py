"""Page numbers for long lists: reading `?page=` and linking to the other pages.

The lists themselves are Flask-SQLAlchemy `Pagination`s, made by the
services (`database.paginate`).
"""
from flask import request, url_for

from . import bp

# A bound, so a silly page number cannot overflow the database's OFFSET.
MAX_PAGE = 1_000_000


def requested_page():
    """The page number asked for in `?page=`, 1 when absent or nonsense."""
    return max(1, min(request.args.get("page", 1, type=int), MAX_PAGE))


@bp.app_template_global()
def page_url(number):
    """This page's address with the same query, at page `number`."""
    args = request.args.to_dict(flat=False)
    args["page"] = [number]
    return url_for(request.endpoint, **(request.view_args or {}), **args)
