"""The reports page (figures, server-drawn SVG charts and the same numbers as tables)
and the main navigation each role sees on the maintenance pages.

Tickets are raised and worked through the JSON API on a frozen clock (the
`clock` fixture), so the figures are known to the minute.
"""
import re

import pytest
from conftest import main_nav_links
from test_web_pages import assert_page_headers


def stat(html, label):
    """The value of the stat whose label starts with `label`."""
    match = re.search(rf'<span class="stat__value">([^<]*)</span><span class="stat__label">{label}',
                      html)
    assert match, f"no stat {label}"
    return match.group(1)


def table_rows(html, section):
    """The rows (lists of cell texts) of the table in a section (by its heading id)."""
    part = re.search(rf'aria-labelledby="{section}">(.*?)</section>', html, re.S).group(1)
    table = re.search(r"<tbody>(.*?)</tbody>", part, re.S).group(1)
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row)
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def svg_charts(html):
    return re.findall(r"<svg [^>]*role=\"img\"[^>]*>.*?</svg>", html, re.S)


def figures_of(fleet, who, query=""):
    response = fleet.client.get(f"/api/reports/kpis/?{query}", headers=fleet.headers(who))
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture
def worked(pages, clock):
    """Lagos: two faults resolved (ltech1 started at 10 min, resolved at 40; ltech2 started
    at 10, resolved at 20) and one still open; Kano: one open. Seen at 45 minutes."""
    fleet = pages.fleet
    clock.at(0)
    first = fleet.ticket_in("assigned", terminal="LAG-001", technician="ltech1")
    second = fleet.ticket_in("assigned", terminal="LAG-002", technician="ltech2")
    fleet.ticket_in("open", terminal="LAG-003")
    fleet.ticket_in("open", terminal="KAN-001")
    clock.at(600)
    fleet.step("ltech1", first["id"], "start")
    fleet.step("ltech2", second["id"], "start")
    clock.at(1200)
    fleet.step("ltech2", second["id"], "resolve", fleet.body("resolve"))
    clock.at(2400)
    fleet.step("ltech1", first["id"], "resolve", fleet.body("resolve"))
    clock.at(2700)
    return fleet


class TestWhoGetsTheReports:
    @pytest.mark.parametrize("who", ["lsup", "host"])
    def test_supervisor_and_host_get_the_page_never_stored(self, pages, who):
        pages.sign_in(who)
        response = pages.get("/reports")
        assert "<h1>" in response.get_data(as_text=True)
        assert_page_headers(response)

    def test_a_technician_gets_the_403_page(self, pages):
        pages.sign_in("ltech1")
        response = pages.get("/reports", status=403)
        assert "This page is not for your role" in response.get_data(as_text=True)
        assert_page_headers(response)

    def test_a_supervisor_asking_for_another_city_gets_the_403_page(self, pages):
        pages.sign_in("lsup")
        html = pages.html("/reports?city=Kano", status=403)
        assert "A supervisor sees the figures of its own city only." in html

    @pytest.mark.parametrize("path, location", [
        ("/reports", "/login?next=/reports"),
        ("/reports?from=2025-01-01&to=2025-01-31",
         "/login?next=/reports?from%3D2025-01-01%26to%3D2025-01-31"),
    ])
    def test_not_signed_in_redirects_to_sign_in_with_next(self, client, path, location):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == location


class TestFigures:
    def test_a_supervisor_sees_its_citys_figures(self, pages, worked):
        pages.sign_in("lsup")
        html = pages.html("/reports")
        figures = figures_of(worked, "lsup")
        assert f"<h1>Lagos, {figures['from']} to {figures['to']}</h1>" in html
        assert stat(html, "Tickets opened") == "3"
        assert stat(html, "Tickets resolved") == "2"
        assert stat(html, "Mean time to start") == "10.0 min"
        assert stat(html, "Mean time to restore") == "30.0 min"
        assert stat(html, "Availability of 3 ATMs") == f"{figures['availability_pct']}%"
        assert (figures["tickets_opened"], figures["mtta_minutes"], figures["mttr_minutes"]) == (
            3, 10.0, 30.0)
        assert 'id="range-city"' not in html  # a supervisor has no city to choose

    def test_the_tables_hold_the_same_numbers_as_the_figures(self, pages, worked):
        pages.sign_in("lsup")
        html = pages.html("/reports")
        figures = figures_of(worked, "lsup")
        assert table_rows(html, "technicians-figures-title") == [
            [row["username"], str(row["resolved"]), f"{row['mttr_minutes']} min"]
            for row in figures["by_technician"]] == [
            ["ltech1", "1", "40.0 min"], ["ltech2", "1", "20.0 min"]]
        assert table_rows(html, "sla-title") == [
            ["Started by the response due time", f"{figures['sla_response_met_pct']}%"],
            ["Resolved by the restore due time", f"{figures['sla_restore_met_pct']}%"],
            ["Faults fixed the first time", f"{figures['first_time_fix_pct']}%"],
            ["Availability", f"{figures['availability_pct']}%"]]
        days = table_rows(html, "daily-title")
        assert len(days) == 30
        assert sum(int(opened) for _, opened, _ in days) == figures["tickets_opened"]
        assert sum(int(resolved) for _, _, resolved in days) == figures["tickets_resolved"]
        assert [days[0][0], days[-1][0]] == [figures["from"], figures["to"]]
        backlog = dict((status, int(count)) for count, status in re.findall(
            r'<span class="backlog__count">(\d+)</span> ([a-z ]+)</a>', html))
        assert backlog == {"open": 1, "assigned": 0, "in progress": 0, "on hold": 0}

    def test_the_charts_are_inline_svg_with_the_same_numbers(self, pages, worked):
        pages.sign_in("lsup")
        html = pages.html("/reports")
        charts = svg_charts(html)
        assert len(charts) == 3
        assert all("<title id=" in chart for chart in charts)
        daily, levels, restore = charts
        assert len(re.findall(r"chart__bar--opened", daily)) == 1
        assert len(re.findall(r"chart__bar--resolved", daily)) >= 1
        assert re.findall(r'<text class="chart__label"[^>]*>([^<]*)</text>', restore) == [
            "ltech1", "ltech2"]
        assert re.findall(r'<text class="chart__value"[^>]*>([^<]*)</text>', restore) == [
            "40 min", "20 min"]
        assert re.findall(r'<text class="chart__label"[^>]*>([^<]*)</text>', levels) == [
            "Response in time", "Restore in time", "Fixed first time", "Availability"]

    def test_the_host_sees_every_city_and_can_choose_one(self, pages, worked):
        pages.sign_in("host")
        html = pages.html("/reports")
        figures = figures_of(worked, "host")
        assert f"<h1>All cities, {figures['from']} to {figures['to']}</h1>" in html
        assert stat(html, "Tickets opened") == "4"
        assert 'id="range-city"' in html
        html = pages.html("/reports?city=Kano")
        assert f"<h1>Kano, {figures['from']} to {figures['to']}</h1>" in html
        assert stat(html, "Tickets opened") == "1"
        assert stat(html, "Tickets resolved") == "0"
        assert stat(html, "Mean time to restore") == "—"
        assert "No ticket was resolved in this range." in html
        assert len(svg_charts(html)) == 2

    def test_a_chosen_range_is_shown_and_kept_in_the_form(self, pages, worked):
        pages.sign_in("lsup")
        html = pages.html("/reports?from=2024-01-01&to=2024-01-31")
        assert "<h1>Lagos, 2024-01-01 to 2024-01-31</h1>" in html
        assert stat(html, "Tickets opened") == "0"
        assert len(table_rows(html, "daily-title")) == 31
        form = [form for form in pages.forms(html) if form.action == "/reports"][0]
        assert (form.fields["from"], form.fields["to"]) == ("2024-01-01", "2024-01-31")

    @pytest.mark.parametrize("query, message", [
        ("from=2025-13-01", "No such date."),
        ("from=2025-02-01&to=2025-01-01", "The range ends before it starts."),
        ("from=2020-01-01&to=2025-01-01", "Ask for at most 366 days at a time."),
        ("to=yesterday", "Use a date as YYYY-MM-DD."),
    ])
    def test_bad_dates_are_a_400_page_with_a_message(self, pages, query, message):
        pages.sign_in("lsup")
        response = pages.get(f"/reports?{query}", status=400)
        html = response.get_data(as_text=True)
        assert re.search(rf'role="alert">{re.escape(message)} The last 30 days are shown instead.',
                         html)
        assert "<h1>Lagos, " in html  # the reports page itself, not a bare error page
        assert_page_headers(response)

    def test_no_script_and_no_inline_style_on_the_reports(self, pages, worked):
        pages.sign_in("host")
        for path in ["/reports", "/reports?city=Lagos", "/reports?from=2025-13-01"]:
            html = pages.client.get(path).get_data(as_text=True)
            assert "<script" not in html and "style=" not in html and "<style" not in html, path


class TestNavigation:
    @pytest.mark.parametrize("who, links", [
        ("ltech1", ["Dashboard", "Tickets", "Fleet"]),
        ("lsup", ["Dashboard", "Tickets", "Fleet", "Reports"]),
        ("host", ["Dashboard", "Tickets", "Fleet", "Reports", "Audit log"]),
    ])
    def test_each_role_sees_its_links_on_every_maintenance_page(self, pages, who, links):
        pages.sign_in(who)
        for path in ["/tickets", "/atms", "/tickets/new", "/dashboard"]:
            response = pages.client.get(path, follow_redirects=True)
            assert main_nav_links(response.get_data(as_text=True)) == links, path

    def test_the_current_section_is_marked(self, pages):
        pages.sign_in("host")
        for path, current in [("/tickets", "Tickets"), ("/atms", "Fleet"),
                              ("/reports", "Reports")]:
            html = pages.html(path)
            assert re.search(rf'aria-current="page">{current}</a>', html), path

    def test_the_host_dashboard_links_to_the_fleet_tickets_and_reports(self, pages):
        pages.sign_in("host")
        html = pages.html("/dashboard/host")
        for href, text in [("/atms", "Fleet"), ("/tickets", "Tickets"), ("/reports", "Reports")]:
            assert f'<a class="button button--secondary" href="{href}">{text}</a>' in html
