"""The reports page: the figures for a chosen range (and city, for a data host),
with server-drawn charts and the same numbers as tables."""
from flask import render_template, request
from flask_jwt_extended import current_user

from ..errors import Refused
from ..maintenance import kpis, schemas
from . import bp, charts
from .guards import page

MTTR_CHART_ROWS = 20


@bp.get("/reports")
@page("supervisor", "host")
def reports():
    """The figures, charts and tables for `?from=&to=&city=`."""
    asked = {name: request.args.get(name, "").strip()[:100] for name in ("from", "to", "city")}
    error, query = None, {}
    try:
        query = schemas.load(schemas.KpiQuery, {k: v for k, v in asked.items() if v})
        figures, days = kpis.figures(current_user, query), kpis.per_day(current_user, query)
    except Refused as refusal:
        if refusal.status == 403:
            raise
        error = " ".join(" ".join(texts) for texts in (refusal.errors or {}).values()) \
            or refusal.detail
        figures = kpis.figures(current_user, {"city": asked["city"]} if asked["city"] else {})
        days = kpis.per_day(current_user, {"city": asked["city"]} if asked["city"] else {})
    technicians = figures["by_technician"][:MTTR_CHART_ROWS]
    return render_template(
        "reports/reports.html", figures=figures, days=days, asked=asked, error=error,
        daily_chart=charts.daily_bars(days),
        sla_chart=charts.horizontal_bars([
            ("Response in time", figures["sla_response_met_pct"]),
            ("Restore in time", figures["sla_restore_met_pct"]),
            ("Fixed first time", figures["first_time_fix_pct"]),
            ("Availability", figures["availability_pct"]),
        ], maximum=100, unit="%"),
        mttr_chart=charts.horizontal_bars(
            [(row["username"], row["mttr_minutes"]) for row in technicians], unit=" min"),
    ), 400 if error else 200
