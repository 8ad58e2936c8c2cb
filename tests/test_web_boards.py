"""The maintenance sections of the role dashboards: a technician's queue and the
tickets it may take; a supervisor's city board (ATMs down, tickets waiting with
Assign, overdue and at-risk work, each technician's open load, paged).

Data is set up through the JSON API (the `fleet` fixture) on a frozen clock
where the due times matter; Take and Assign are posted through the boards' forms.
"""
import re

import pytest
from test_web_pages import assert_page_headers

# Restore within 2 minutes for a critical ticket, 30 for a high one: with the
# clock moved on 5 minutes, a critical ticket is overdue and a high one at risk.
SLA = pytest.mark.settings(
    SLA_RESPONSE_MINUTES={"critical": 1, "high": 10, "normal": 480, "low": 1440},
    SLA_RESTORE_MINUTES={"critical": 2, "high": 30, "normal": 1440, "low": 4320})
BOARD_ROWS = 10


def section(html, heading_id):
    """The HTML of the dashboard section labelled by `heading_id`."""
    match = re.search(rf'<section [^>]*aria-labelledby="{heading_id}">(.*?)</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(1)


def ticket_ids(part):
    return [int(found) for found in re.findall(r'class="work__title" href="/tickets/(\d+)"', part)]


def item_of(part, ticket_id):
    """One ticket's list item in a section."""
    match = re.search(rf'<li class="work__item[^"]*">\s*<div class="work__main">\s*'
                      rf'<a class="work__title" href="/tickets/{ticket_id}".*?</li>', part, re.S)
    assert match, f"ticket {ticket_id} is not listed"
    return match.group(0)


class TestTechnicianBoard:
    @pytest.fixture
    def queue(self, pages, clock):
        """ltech1's work and Lagos's open tickets, raised at second 0, seen at 5 minutes."""
        fleet = pages.fleet
        clock.at(0)
        made = {
            "normal": fleet.ticket_in("assigned", priority="normal", title="Normal work"),
            "critical": fleet.ticket_in("in_progress", priority="critical", title="Critical work"),
            "high": fleet.ticket_in("on_hold", priority="high", title="High work"),
            "low": fleet.ticket_in("assigned", priority="low", title="Low work"),
            "resolved": fleet.ticket_in("resolved", title="Done work"),
            "theirs": fleet.ticket_in("assigned", technician="ltech2", title="Their work"),
            "open_normal": fleet.ticket_in("open", terminal="LAG-002", title="Open normal"),
            "open_critical": fleet.ticket_in("open", terminal="LAG-003", priority="critical",
                                             title="Open critical"),
            "kano": fleet.ticket_in("open", terminal="KAN-001", title="Kano open"),
        }
        clock.at(300)
        pages.sign_in("ltech1")
        return {name: ticket["id"] for name, ticket in made.items()}

    @SLA
    def test_its_unresolved_tickets_soonest_restore_due_first(self, pages, queue):
        response = pages.get("/dashboard/technician")
        assert_page_headers(response)
        work = section(response.get_data(as_text=True), "work-title")
        assert ticket_ids(work) == [queue["critical"], queue["high"], queue["normal"], queue["low"]]

    @SLA
    def test_an_overdue_ticket_says_overdue_by_how_long_in_words(self, pages, queue):
        work = section(pages.html("/dashboard/technician"), "work-title")
        late = item_of(work, queue["critical"])
        assert "Restore overdue by 3 min" in late
        assert "work__item--late" in late  # colour as well, not only colour
        assert "Restore due in 25 min" in item_of(work, queue["high"])
        assert "Restore due in 23 h 55 min" in item_of(work, queue["normal"])
        assert "overdue" not in item_of(work, queue["high"])

    @SLA
    def test_its_citys_open_unassigned_tickets_each_with_a_take_form(self, pages, queue):
        html = pages.html("/dashboard/technician")
        to_take = section(html, "take-title")
        assert ticket_ids(to_take) == [queue["open_critical"], queue["open_normal"]]
        for name in ("open_critical", "open_normal"):
            form = pages.form(html, f"/tickets/{queue[name]}/assign")
            assert form.fields["assignee_id"] == str(pages.fleet.users["ltech1"])
            assert form.fields["next"] == "/dashboard/technician"
            assert form.fields["version"] == "1"
        assert f"Take<span class=\"visually-hidden\"> ticket #{queue['open_normal']}</span>" in html

    @SLA
    def test_take_assigns_it_to_itself_and_returns_with_a_message(self, pages, queue):
        ticket_id = queue["open_normal"]
        form = pages.form(pages.html("/dashboard/technician"), f"/tickets/{ticket_id}/assign")
        response = pages.submit(form)
        assert response.status_code == 303
        assert response.headers["Location"] == "/dashboard/technician"
        html = pages.follow(response)
        assert f"Ticket #{ticket_id}: Assigned to ltech1." in html
        assert ticket_id in ticket_ids(section(html, "work-title"))
        assert ticket_id not in ticket_ids(section(html, "take-title"))
        ticket = pages.fleet.get_ticket(ticket_id)
        assert (ticket["status"], ticket["assignee"]["username"]) == ("assigned", "ltech1")

    def test_a_technician_cannot_take_for_someone_else(self, pages):
        fleet = pages.fleet
        ticket = fleet.ticket_in("open")
        pages.sign_in("ltech1")
        form = pages.form(pages.html("/dashboard/technician"), f"/tickets/{ticket['id']}/assign")
        response = pages.submit(form, assignee_id=str(fleet.users["ltech2"]))
        assert response.status_code == 403
        assert fleet.get_ticket(ticket["id"])["status"] == "open"

    def test_with_nothing_to_do_the_board_says_so(self, pages):
        pages.sign_in("ltech2")
        html = pages.html("/dashboard/technician")
        assert "Nothing assigned to you." in section(html, "work-title")
        assert "No open tickets in Lagos right now." in section(html, "take-title")

    def test_more_than_ten_open_tickets_link_to_the_whole_list(self, pages):
        fleet = pages.fleet
        for number in range(BOARD_ROWS + 1):
            fleet.raise_ticket("host", fleet.atms["LAG-001"], title=f"Open {number}")
        pages.sign_in("ltech1")
        to_take = section(pages.html("/dashboard/technician"), "take-title")
        assert len(ticket_ids(to_take)) == BOARD_ROWS
        assert '<a href="/tickets?status=open&amp;sort=due">All open tickets</a>' in to_take


class TestSupervisorBoard:
    @pytest.fixture
    def board(self, pages, clock):
        """Lagos and Kano work raised at second 0, seen by lsup at 5 minutes."""
        fleet = pages.fleet
        clock.at(0)
        made = {
            "down": fleet.ticket_in("open", terminal="LAG-002", priority="critical",
                                    out_of_service=True, title="Dispenser dead"),
            "waiting": fleet.ticket_in("open", terminal="LAG-003", priority="normal",
                                       title="Receipt printer"),
            "risky": fleet.ticket_in("in_progress", priority="high", title="Card reader"),
            "calm": fleet.ticket_in("assigned", priority="low", title="Keypad"),
            "other": fleet.ticket_in("assigned", technician="ltech2", priority="normal",
                                     title="Screen"),
            "kano": fleet.ticket_in("open", terminal="KAN-001", priority="critical",
                                    out_of_service=True, title="Kano down"),
        }
        clock.at(300)
        pages.sign_in("lsup")
        return {name: ticket["id"] for name, ticket in made.items()}

    @SLA
    def test_lists_the_atms_down_now_in_its_city(self, pages, board):
        response = pages.get("/dashboard/supervisor")
        assert_page_headers(response)
        down = section(response.get_data(as_text=True), "down-title")
        assert re.findall(r'class="work__title" href="/atms/\d+">([^<]+)</a>', down) == ["LAG-002"]
        assert "1 open ticket" in down

    @SLA
    def test_lists_waiting_tickets_each_with_a_technician_choice_and_assign(self, pages, board):
        html = pages.html("/dashboard/supervisor")
        waiting = section(html, "unassigned-title")
        assert ticket_ids(waiting) == [board["down"], board["waiting"]]
        form = pages.form(html, f"/tickets/{board['waiting']}/assign")
        assert [text for _, text in form.options["assignee_id"]] == ["ltech1", "ltech2"]
        assert form.fields["next"] == "/dashboard/supervisor"
        assert f'Assign<span class="visually-hidden"> ticket #{board["waiting"]}</span>' in waiting

    @SLA
    def test_assign_from_the_board_assigns_and_returns_with_a_message(self, pages, board):
        fleet = pages.fleet
        form = pages.form(pages.html("/dashboard/supervisor"),
                          f"/tickets/{board['waiting']}/assign")
        response = pages.submit(form, assignee_id=str(fleet.users["ltech2"]))
        assert response.status_code == 303
        assert response.headers["Location"] == "/dashboard/supervisor"
        html = pages.follow(response)
        assert f"Ticket #{board['waiting']}: Assigned to ltech2." in html
        assert ticket_ids(section(html, "unassigned-title")) == [board["down"]]
        ticket = fleet.get_ticket(board["waiting"])
        assert (ticket["status"], ticket["assignee"]["username"]) == ("assigned", "ltech2")

    @SLA
    def test_assign_of_a_ticket_changed_meanwhile_returns_with_the_reason(self, pages, board):
        fleet = pages.fleet
        form = pages.form(pages.html("/dashboard/supervisor"),
                          f"/tickets/{board['waiting']}/assign")
        fleet.step("host", board["waiting"], "assign", {"assignee_id": fleet.users["ltech1"]})
        response = pages.submit(form, assignee_id=str(fleet.users["ltech2"]))
        assert response.status_code == 303
        html = pages.follow(response)
        assert "Someone else changed this ticket while you were looking at it." in html
        assert fleet.get_ticket(board["waiting"])["assignee"]["username"] == "ltech1"

    @SLA
    def test_lists_overdue_and_at_risk_tickets_soonest_first(self, pages, board):
        at_risk = section(pages.html("/dashboard/supervisor"), "risk-title")
        assert ticket_ids(at_risk) == [board["down"], board["risky"]]
        assert "Restore overdue by 3 min" in item_of(at_risk, board["down"])
        assert "Restore due in 25 min" in item_of(at_risk, board["risky"])

    @SLA
    def test_shows_each_technicians_open_load(self, pages, board):
        technicians = section(pages.html("/dashboard/supervisor"), "technicians-title")
        load = dict(re.findall(r'>([\w.-]+)</a></td>\s*<td class="num" data-label="Open work">'
                               r"(\d+)</td>", technicians))
        assert load == {"ltech1": "2", "ltech2": "1"}
        assert ('href="/tickets?assignee=ltech1&amp;status=unresolved&amp;sort=due">ltech1</a>'
                in technicians)

    @SLA
    def test_each_list_shows_ten_rows_and_links_to_the_whole_list(self, pages, clock):
        fleet = pages.fleet
        clock.at(0)
        for number in range(BOARD_ROWS + 1):
            atm = fleet.create_atm(terminal_id=f"LAG-1{number:02d}", city="Lagos",
                                   address=f"{number} Ring Road")
            fleet.raise_ticket("host", atm["id"], priority="critical", out_of_service=True,
                               title=f"Down {number}")
        clock.at(300)
        pages.sign_in("lsup")
        html = pages.html("/dashboard/supervisor")
        down = section(html, "down-title")
        assert len(re.findall(r'class="work__title" href="/atms/', down)) == BOARD_ROWS
        assert '<a href="/atms?down=true">Every ATM down</a>' in down
        waiting = section(html, "unassigned-title")
        assert len(ticket_ids(waiting)) == BOARD_ROWS
        assert '<a href="/tickets?status=open&amp;sort=due">Every ticket waiting</a>' in waiting
        at_risk = section(html, "risk-title")
        assert len(ticket_ids(at_risk)) == BOARD_ROWS
        assert '<a href="/tickets?status=unresolved&amp;sort=due">All unresolved work, soonest due first</a>' in at_risk

    def test_the_technicians_table_is_paged_ten_at_a_time(self, pages, make_user):
        for number in range(23):  # 25 with ltech1 and ltech2
            make_user(f"lagos-tech-{number:02d}", role="technician", city="Lagos")
        pages.sign_in("lsup")
        first = section(pages.html("/dashboard/supervisor"), "technicians-title")
        assert len(re.findall(r'data-label="Open work"', first)) == 10
        assert "Page 1 of 3" in first
        assert 'href="/dashboard/supervisor?page=2" rel="next">Next</a>' in first
        last = section(pages.html("/dashboard/supervisor?page=3"), "technicians-title")
        assert len(re.findall(r'data-label="Open work"', last)) == 5
        assert "Showing 21–25 of 25 technicians" in last
        assert 'href="/dashboard/supervisor?page=2" rel="prev">Previous</a>' in last

    def test_an_empty_city_board_says_so(self, pages):
        pages.sign_in("lsup")
        html = pages.html("/dashboard/supervisor")
        assert "Every ATM in Lagos is in service." in section(html, "down-title")
        assert "No ticket in Lagos is waiting for a technician." in section(
            html, "unassigned-title")
        assert "Nothing in Lagos is overdue or due within the hour." in section(html, "risk-title")

    def test_no_script_and_no_inline_style_on_the_boards(self, pages):
        pages.fleet.ticket_in("open", out_of_service=True)
        pages.fleet.ticket_in("assigned")
        for who, path in [("lsup", "/dashboard/supervisor"), ("ltech1", "/dashboard/technician"),
                          ("host", "/dashboard/host")]:
            pages.sign_in(who)
            html = pages.html(path)
            assert "<script" not in html and "style=" not in html and "<style" not in html, path
