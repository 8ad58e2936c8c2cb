"""The ticket pages: the list (filters, paging, CSV), raising a ticket, and one
ticket with its timeline, notes and action forms, for each role.

Data is set up through the JSON API (the `fleet` fixture: Lagos with `lsup`,
`ltech1`, `ltech2`, LAG-001..003; Kano with `ksup`, `ktech`, KAN-001..002) or
through the pages themselves (`pages`: forms read from the page and sent as a
browser would).
"""
import csv
import io
import re
from datetime import datetime

import pytest
from conftest import main_of
from test_web_pages import assert_page_headers

# Restore within 2 minutes for a critical ticket, 30 for a high one: with the
# clock moved on 5 minutes, a critical ticket is overdue and a high one at risk.
SLA = pytest.mark.settings(
    SLA_RESPONSE_MINUTES={"critical": 1, "high": 10, "normal": 480, "low": 1440},
    SLA_RESTORE_MINUTES={"critical": 2, "high": 30, "normal": 1440, "low": 4320})
ACTIONS = ("assign", "start", "hold", "resolve", "close", "reopen", "cancel")
ROLE_USERS = {"host": "host", "supervisor": "lsup", "technician": "ltech1"}
NOT_ACCEPTED = "This form was not accepted"
STALE = "Someone else changed this ticket while you were looking at it."


def listed_ids(html):
    """The ticket ids a list page shows, in order."""
    return [int(found) for found in re.findall(r'class="work__title" href="/tickets/(\d+)"', html)]


def action_names(html, ticket_id):
    """The actions whose forms a ticket page offers, in order."""
    return re.findall(rf'<form [^>]*action="/tickets/{ticket_id}/({"|".join(ACTIONS)})"',
                      main_of(html))


def alert(html):
    """The text of the page's form-level error (role="alert")."""
    found = re.findall(r'role="alert">(.*?)</p>', html, re.S)
    assert found, "no alert on the page"
    return " ".join(found)


def shown_time(iso):
    """An API time (`2025-03-01T14:05:09Z`) as the pages write it."""
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%d %H:%M UTC")


def textarea(html, field_id):
    """The text inside a textarea, as a browser shows it."""
    match = re.search(rf'<textarea [^>]*id="{field_id}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {field_id}"
    return match.group(1).removeprefix("\n")


def assert_signed_in_404(response, username):
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in html
    assert 'aria-label="Main"' in html and username in html and "Sign out" in html


class TestWhoGetsThePages:
    @pytest.mark.parametrize("role", ["host", "supervisor", "technician"])
    def test_every_ticket_page_answers_each_role_never_stored(self, pages, role):
        ticket = pages.fleet.ticket_in("open")
        pages.sign_in(ROLE_USERS[role])
        for path in ["/tickets", "/tickets/new", f"/tickets/{ticket['id']}",
                     "/tickets/export.csv", "/tickets?status=unresolved&sort=due"]:
            response = pages.get(path)
            assert_page_headers(response)

    @pytest.mark.parametrize("path", ["/tickets", "/tickets/new", "/tickets/1",
                                      "/tickets/export.csv"])
    def test_not_signed_in_redirects_to_sign_in_with_next(self, client, path):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/login?next={path}"

    def test_not_signed_in_the_query_is_kept_in_next(self, client):
        response = client.get("/tickets?status=open&sort=due")
        assert response.headers["Location"] == "/login?next=/tickets?status%3Dopen%26sort%3Ddue"

    def test_a_post_without_cookies_goes_to_sign_in_and_changes_nothing(self, pages, client):
        ticket = pages.fleet.ticket_in("open")
        response = client.post(f"/tickets/{ticket['id']}/cancel",
                               data={"jwt_csrf_token": "x", "reason": "nope", "version": "1"})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
        assert pages.fleet.get_ticket(ticket["id"])["status"] == "open"

    def test_no_script_and_no_inline_style_on_any_ticket_page(self, pages, web):
        ticket = pages.fleet.ticket_in("in_progress")
        for who in ("ltech1", "lsup"):
            pages.sign_in(who)
            shown = [pages.html(path) for path in [
                "/tickets", "/tickets?status=bogus", "/tickets/new", f"/tickets/{ticket['id']}"]]
            shown.append(web.post(f"/tickets/{ticket['id']}/notes", {"text": " "})
                         .get_data(as_text=True))  # a refused form
            for html in shown:
                assert "<script" not in html and "style=" not in html and "<style" not in html


class TestVisibility:
    def test_another_citys_ticket_is_the_404_page_with_the_signed_in_header(self, pages):
        kano = pages.fleet.ticket_in("open", terminal="KAN-001")
        pages.sign_in("lsup")
        assert_signed_in_404(pages.client.get(f"/tickets/{kano['id']}"), "lsup")

    def test_a_technician_does_not_see_another_technicians_ticket(self, pages):
        theirs = pages.fleet.ticket_in("assigned", technician="ltech2")
        mine = pages.fleet.ticket_in("assigned", technician="ltech1")
        waiting = pages.fleet.ticket_in("open")
        pages.sign_in("ltech1")
        assert_signed_in_404(pages.client.get(f"/tickets/{theirs['id']}"), "ltech1")
        pages.get(f"/tickets/{mine['id']}")
        pages.get(f"/tickets/{waiting['id']}")

    def test_an_unknown_ticket_is_the_404_page(self, pages):
        pages.sign_in("host")
        assert_signed_in_404(pages.client.get("/tickets/999999"), "host")
        assert_signed_in_404(pages.client.get("/tickets/99999999999999999999"), "host")

    def test_an_action_on_an_unseen_ticket_is_404_and_changes_nothing(self, pages, web):
        kano = pages.fleet.ticket_in("open", terminal="KAN-001")
        pages.sign_in("lsup")
        response = web.post(f"/tickets/{kano['id']}/cancel", {"reason": "Not ours", "version": "1"})
        assert_signed_in_404(response, "lsup")
        response = web.post(f"/tickets/{kano['id']}/notes", {"text": "Peek"})
        assert_signed_in_404(response, "lsup")
        assert pages.fleet.get_ticket(kano["id"])["version"] == 1
        events = pages.client.get(f"/api/tickets/{kano['id']}/events/",
                                  headers=pages.fleet.headers("host")).get_json()["events"]
        assert [event["action"] for event in events] == ["created"]

    def test_the_list_and_the_csv_hold_only_what_each_user_sees(self, pages):
        fleet = pages.fleet
        made = {"mine": fleet.ticket_in("assigned", technician="ltech1"),
                "theirs": fleet.ticket_in("assigned", technician="ltech2"),
                "waiting": fleet.ticket_in("open"),
                "kano": fleet.ticket_in("open", terminal="KAN-002")}
        for who, sees in [("host", {"mine", "theirs", "waiting", "kano"}),
                          ("lsup", {"mine", "theirs", "waiting"}),
                          ("ltech1", {"mine", "waiting"}),
                          ("ktech", {"kano"})]:
            pages.sign_in(who)
            expected = {made[name]["id"] for name in sees}
            assert set(listed_ids(pages.html("/tickets"))) == expected, who
            rows = list(csv.DictReader(io.StringIO(pages.html("/tickets/export.csv"))))
            assert {int(row["id"]) for row in rows} == expected, who

    def test_a_title_with_markup_is_shown_as_text_everywhere(self, pages):
        ticket = pages.fleet.ticket_in("open", title="<script>alert(1)</script>")
        escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
        for who, paths in [("lsup", ["/tickets", f"/tickets/{ticket['id']}",
                                     "/dashboard/supervisor",
                                     f"/atms/{pages.fleet.atms['LAG-001']}"]),
                           ("ltech1", ["/dashboard/technician"])]:
            pages.sign_in(who)
            for path in paths:
                html = pages.html(path)
                assert escaped in html and "<script" not in html, path


class TestTicketPage:
    def test_shows_the_atm_status_priority_assignee_and_due_times(self, pages):
        ticket = pages.fleet.ticket_in("assigned", terminal="LAG-002", priority="high",
                                       title="Screen cracked", out_of_service=True)
        pages.sign_in("lsup")
        html = main_of(pages.html(f"/tickets/{ticket['id']}"))
        assert "<h1>Screen cracked</h1>" in html
        assert f'<a href="/atms/{ticket["atm"]["id"]}">LAG-002</a> · 4 Broad Street, Lagos' in html
        assert "badge--assigned\">Assigned</span>" in html
        assert "High<span class=\"visually-hidden\"> priority</span>" in html
        assert "ATM down" in html
        assert "<dt>Assignee</dt><dd>ltech1</dd>" in html
        assert f"<dt>Response due</dt><dd>{shown_time(ticket['response_due_at'])}" in html
        assert f"<dt>Restore due</dt><dd>{shown_time(ticket['restore_due_at'])}" in html
        assert re.search(r"Restore due in \d+ h", html)

    def test_the_timeline_shows_every_event_with_who_and_when(self, pages):
        ticket = pages.fleet.ticket_in("resolved")
        pages.sign_in("lsup")
        html = main_of(pages.html(f"/tickets/{ticket['id']}"))
        events = pages.client.get(f"/api/tickets/{ticket['id']}/events/",
                                  headers=pages.fleet.headers("host")).get_json()["events"]
        items = re.findall(r'<li class="timeline__item">(.*?)</li>', html, re.S)
        assert len(items) == len(events) == 4
        words = ["raised the ticket", "assigned it", "started work", "resolved it"]
        for item, event, said in zip(items, events, words):
            assert f"<strong>{event['actor']['username']}</strong>" in item
            assert said in item
            assert shown_time(event["time"]) in item
        assert [event["actor"]["username"] for event in events] == [
            "host", "host", "ltech1", "host"]
        assert "assigned to ltech1" in items[1]
        assert "In progress → Resolved" in items[3] and "Replaced the card reader" in items[3]

    def test_a_technician_on_an_open_ticket_sees_only_take(self, pages):
        ticket = pages.fleet.ticket_in("open")
        pages.sign_in("ltech1")
        html = pages.html(f"/tickets/{ticket['id']}")
        assert action_names(html, ticket["id"]) == ["assign"]
        form = pages.form(html, f"/tickets/{ticket['id']}/assign")
        assert form.fields["assignee_id"] == str(pages.fleet.users["ltech1"])
        assert form.options == {}
        assert "Take this ticket" in html

    @pytest.mark.parametrize("who, offered", [
        ("ltech1", {"open": ["assign"], "assigned": ["start", "hold"],
                    "in_progress": ["hold", "resolve"], "on_hold": ["start"],
                    "resolved": [], "closed": [], "cancelled": []}),
        ("lsup", {"open": ["assign", "cancel"], "assigned": ["assign", "hold", "cancel"],
                  "in_progress": ["hold", "resolve"], "on_hold": ["assign", "cancel"],
                  "resolved": ["close", "reopen"], "closed": ["reopen"], "cancelled": []}),
        ("host", {"open": ["assign", "cancel"], "assigned": ["assign", "hold", "cancel"],
                  "in_progress": ["hold", "resolve"], "on_hold": ["assign", "cancel"],
                  "resolved": ["close", "reopen"], "closed": ["reopen"], "cancelled": []}),
    ])
    def test_one_form_per_action_the_user_may_take_now(self, pages, who, offered):
        fleet = pages.fleet
        made = {status: fleet.ticket_in(status) for status in offered if status != "cancelled"}
        # A cancelled ticket a technician sees is one that was assigned to it.
        made["cancelled"] = fleet.ticket_in("assigned")
        fleet.step("host", made["cancelled"]["id"], "cancel", {"reason": "Raised twice"})
        pages.sign_in(who)
        for status, expected in offered.items():
            ticket_id = made[status]["id"]
            html = pages.html(f"/tickets/{ticket_id}")
            assert action_names(html, ticket_id) == expected, status
            assert ('id="actions-title"' in html) == bool(expected), status

    def test_the_assign_form_offers_the_active_technicians_of_the_city(self, pages, make_user):
        make_user("lgone", role="technician", city="Lagos", is_active=False)
        ticket = pages.fleet.ticket_in("open")
        pages.sign_in("lsup")
        form = pages.form(pages.html(f"/tickets/{ticket['id']}"), f"/tickets/{ticket['id']}/assign")
        assert [text for _, text in form.options["assignee_id"]] == ["ltech1", "ltech2"]

    def test_each_action_form_carries_the_version_shown(self, pages):
        ticket = pages.fleet.ticket_in("resolved")
        pages.sign_in("lsup")
        html = pages.html(f"/tickets/{ticket['id']}")
        versions = {form.fields["version"] for form in pages.forms(html)
                    if form.action.startswith(f"/tickets/{ticket['id']}/")
                    and "version" in form.fields}
        assert versions == {str(ticket["version"])} == {"4"}


class TestActionsThroughThePage:
    @pytest.mark.parametrize("who, status, action, typed, after, message", [
        ("lsup", "open", "assign", "ltech2", "assigned", "Assigned to ltech2."),
        ("ltech1", "open", "assign", None, "assigned", "Assigned to ltech1."),
        ("ltech1", "assigned", "start", None, "in_progress", "Work started."),
        ("ltech1", "in_progress", "hold", "Waiting for a spare part", "on_hold", "Put on hold."),
        ("ltech1", "on_hold", "start", None, "in_progress", "Work started."),
        ("ltech1", "in_progress", "resolve", "Replaced the dispenser belt", "resolved",
         "Resolved."),
        ("lsup", "resolved", "close", None, "closed", "Closed."),
        ("lsup", "closed", "reopen", "Fault came back", "assigned", "Reopened."),
        ("lsup", "assigned", "cancel", "Raised twice", "cancelled", "Cancelled."),
    ])
    def test_an_action_form_changes_the_ticket_and_says_so(
            self, pages, who, status, action, typed, after, message):
        fleet = pages.fleet
        ticket = fleet.ticket_in(status)
        pages.sign_in(who)
        path = f"/tickets/{ticket['id']}"
        form = pages.form(pages.html(path), f"{path}/{action}")
        values = {}
        if action == "assign" and typed:
            values["assignee_id"] = str(fleet.users[typed])
        elif typed:
            values["reason" if action in ("hold", "reopen", "cancel") else "resolution"] = typed
        response = pages.submit(form, **values)
        assert response.status_code == 303
        assert response.headers["Location"] == path
        html = pages.follow(response)
        assert f"Ticket #{ticket['id']}: {message}" in html
        changed = fleet.get_ticket(ticket["id"])
        assert changed["status"] == after
        assert changed["version"] == ticket["version"] + 1
        if typed and action != "assign":
            assert typed in textarea_free(html)

    def test_hold_shows_its_reason_and_reopen_counts(self, pages):
        ticket = pages.fleet.ticket_in("closed")
        pages.sign_in("lsup")
        path = f"/tickets/{ticket['id']}"
        pages.submit(pages.form(pages.html(path), f"{path}/reopen"), reason="Jammed again")
        html = pages.html(path)
        assert "<dt>Reopened</dt><dd>1 time</dd>" in html
        pages.submit(pages.form(html, f"{path}/hold"), reason="Waiting for the bank")
        html = pages.html(path)
        assert "<dt>On hold because</dt><dd>Waiting for the bank</dd>" in html
        assert pages.fleet.get_ticket(ticket["id"])["hold_reason"] == "Waiting for the bank"

    def test_a_blank_reason_or_resolution_is_refused_with_400_on_the_page(self, pages):
        fleet = pages.fleet
        made = {status: fleet.ticket_in(status) for status in ("open", "in_progress", "resolved")}
        pages.sign_in("lsup")
        for status, action, field in [("in_progress", "hold", "reason"),
                                      ("in_progress", "resolve", "resolution"),
                                      ("resolved", "reopen", "reason"),
                                      ("open", "cancel", "reason")]:
            ticket = made[status]
            path = f"/tickets/{ticket['id']}"
            response = pages.submit(pages.form(pages.html(path), f"{path}/{action}"),
                                    **{field: "   "})
            html = response.get_data(as_text=True)
            assert response.status_code == 400, action
            assert "This field may not be blank." in alert(html), action
            assert f"<h1>{ticket['title']}</h1>" in html  # the ticket page, not an error page
            assert action in action_names(html, ticket["id"])  # its form is still there
            after = fleet.get_ticket(ticket["id"])
            assert (after["status"], after["version"]) == (status, ticket["version"]), action

    def test_a_refused_reason_is_kept_in_its_textarea(self, pages, web):
        ticket = pages.fleet.ticket_in("in_progress")
        pages.sign_in("ltech1")
        response = web.post(f"/tickets/{ticket['id']}/hold",
                            {"reason": "x" * 1001, "version": str(ticket["version"])})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert textarea(html, "hold-reason") == "x" * 1001
        assert pages.fleet.get_ticket(ticket["id"])["status"] == "in_progress"

    def test_start_on_a_closed_ticket_is_409_with_the_current_status(self, pages, web):
        ticket = pages.fleet.ticket_in("closed")
        pages.sign_in("ltech1")
        response = web.post(f"/tickets/{ticket['id']}/start", {"version": str(ticket["version"])})
        html = response.get_data(as_text=True)
        assert response.status_code == 409
        assert "The ticket is closed; start works only on assigned, on_hold tickets." in alert(html)
        assert f"<h1>{ticket['title']}</h1>" in html
        assert pages.fleet.get_ticket(ticket["id"])["version"] == ticket["version"]

    def test_close_on_an_open_ticket_is_409(self, pages, web):
        ticket = pages.fleet.ticket_in("open")
        pages.sign_in("lsup")
        response = web.post(f"/tickets/{ticket['id']}/close", {"version": "1"})
        assert response.status_code == 409
        assert "The ticket is open" in alert(response.get_data(as_text=True))

    def test_a_technician_may_not_cancel_403(self, pages, web):
        ticket = pages.fleet.ticket_in("assigned")
        pages.sign_in("ltech1")
        response = web.post(f"/tickets/{ticket['id']}/cancel",
                            {"reason": "Not needed", "version": str(ticket["version"])})
        html = response.get_data(as_text=True)
        assert response.status_code == 403
        assert "Only a data host or a supervisor of the ticket&#39;s city may cancel" in html
        assert pages.fleet.get_ticket(ticket["id"])["status"] == "assigned"

    @pytest.mark.parametrize("action, field", [("hold", "reason"), ("resolve", "resolution")])
    def test_a_change_made_meanwhile_is_412_and_keeps_the_typed_text(
            self, pages, action, field):
        fleet = pages.fleet
        ticket = fleet.ticket_in("in_progress")
        pages.sign_in("lsup")
        path = f"/tickets/{ticket['id']}"
        form = pages.form(pages.html(path), f"{path}/{action}")
        changed = pages.client.patch(f"/api/tickets/{ticket['id']}/", json={"priority": "high"},
                                     headers=fleet.headers("host"))
        assert changed.status_code == 200
        response = pages.submit(form, **{field: "Typed before the change"})
        html = response.get_data(as_text=True)
        assert response.status_code == 412
        assert STALE in alert(html)
        assert textarea(html, f"{action}-{field}") == "Typed before the change"
        assert "High<span" in html  # the ticket as it is now
        after = fleet.get_ticket(ticket["id"])
        assert (after["status"], after["version"]) == ("in_progress", ticket["version"] + 1)
        retried = pages.submit(pages.form(html, f"{path}/{action}"),
                               **{field: "Typed before the change"})
        assert retried.status_code == 303  # the refused page carries the new version

    def test_assigning_a_technician_of_another_city_is_400_with_the_reason(self, pages):
        fleet = pages.fleet
        ticket = fleet.ticket_in("open")
        pages.sign_in("lsup")
        path = f"/tickets/{ticket['id']}"
        response = pages.submit(pages.form(pages.html(path), f"{path}/assign"),
                                assignee_id=str(fleet.users["ktech"]))
        assert response.status_code == 400
        assert "Choose an active technician of Lagos." in alert(response.get_data(as_text=True))
        assert fleet.get_ticket(ticket["id"])["status"] == "open"

    def test_an_unknown_action_is_the_404_page(self, pages, web):
        ticket = pages.fleet.ticket_in("open")
        pages.sign_in("host")
        assert_signed_in_404(web.post(f"/tickets/{ticket['id']}/explode", {}), "host")

    def test_a_next_address_off_the_site_is_ignored(self, pages, web):
        fleet = pages.fleet
        ticket = fleet.ticket_in("assigned")
        pages.sign_in("lsup")
        for number, off_site in enumerate(["https://evil.example/x", "//evil.example",
                                           "/\\evil.example", "javascript:alert(1)"]):
            technician = ("ltech1", "ltech2")[number % 2]
            response = web.post(f"/tickets/{ticket['id']}/assign", {
                "assignee_id": str(fleet.users[technician]), "next": off_site,
                "version": str(ticket["version"] + number)})
            assert response.status_code == 303, off_site
            assert response.headers["Location"] == f"/tickets/{ticket['id']}", off_site
        assert fleet.get_ticket(ticket["id"])["version"] == ticket["version"] + 4

    def test_a_stale_take_from_the_dashboard_returns_there_with_the_message(self, pages):
        fleet = pages.fleet
        ticket = fleet.ticket_in("open")
        pages.sign_in("ltech1")
        form = pages.form(pages.html("/dashboard/technician"), f"/tickets/{ticket['id']}/assign")
        changed = pages.client.patch(f"/api/tickets/{ticket['id']}/", json={"priority": "high"},
                                     headers=fleet.headers("host"))
        assert changed.status_code == 200
        response = pages.submit(form)
        assert response.status_code == 303
        assert response.headers["Location"] == "/dashboard/technician"
        assert STALE in pages.follow(response)
        assert fleet.get_ticket(ticket["id"])["assignee"] is None

    def test_a_take_of_a_ticket_someone_else_got_is_the_404_page(self, pages):
        """Once assigned to another technician, the ticket is no longer seen (contract)."""
        fleet = pages.fleet
        ticket = fleet.ticket_in("open")
        pages.sign_in("ltech1")
        form = pages.form(pages.html("/dashboard/technician"), f"/tickets/{ticket['id']}/assign")
        fleet.step("host", ticket["id"], "assign", {"assignee_id": fleet.users["ltech2"]})
        assert_signed_in_404(pages.submit(form), "ltech1")
        assert fleet.get_ticket(ticket["id"])["assignee"]["username"] == "ltech2"


def textarea_free(html):
    """A page without its textareas (what it shows, not what a form holds)."""
    return re.sub(r"<textarea.*?</textarea>", "", html, flags=re.S)


class TestNotes:
    def test_a_note_is_added_to_the_timeline_with_its_author(self, pages):
        ticket = pages.fleet.ticket_in("assigned")
        pages.sign_in("ltech1")
        path = f"/tickets/{ticket['id']}"
        response = pages.submit(pages.form(pages.html(path), f"{path}/notes"),
                                text="Customer says it beeps twice")
        assert response.status_code == 303
        assert response.headers["Location"] == f"{path}#timeline"
        html = pages.follow(response)
        assert "Note added." in html
        last = re.findall(r'<li class="timeline__item">(.*?)</li>', html, re.S)[-1]
        assert "<strong>ltech1</strong>" in last and "added a note" in last
        assert "Customer says it beeps twice" in last
        assert pages.fleet.get_ticket(ticket["id"])["version"] == ticket["version"]

    def test_a_blank_note_is_refused_with_400_and_the_message_on_the_page(self, pages):
        ticket = pages.fleet.ticket_in("open")
        pages.sign_in("lsup")
        path = f"/tickets/{ticket['id']}"
        response = pages.submit(pages.form(pages.html(path), f"{path}/notes"), text="  \n ")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "This field may not be blank." in alert(html)
        assert f"<h1>{ticket['title']}</h1>" in html
        assert len(re.findall(r'<li class="timeline__item">', html)) == 1

    def test_a_note_too_long_is_refused_and_kept_in_its_textarea(self, pages):
        ticket = pages.fleet.ticket_in("open")
        pages.sign_in("lsup")
        path = f"/tickets/{ticket['id']}"
        response = pages.submit(pages.form(pages.html(path), f"{path}/notes"), text="y" * 2001)
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Use 1 to 2000 characters." in alert(html)
        assert textarea(html, "note-text") == "y" * 2001


def assert_unchanged(fleet, ticket):
    """The ticket has the status and version it had, and no note was added."""
    after = fleet.get_ticket(ticket["id"])
    assert (after["status"], after["version"]) == (ticket["status"], ticket["version"])
    events = fleet.client.get(f"/api/tickets/{ticket['id']}/events/",
                              headers=fleet.headers("host")).get_json()["events"]
    assert "note" not in [event["action"] for event in events]


class TestCsrf:
    @staticmethod
    def refused_without_a_valid_token(pages, form, **typed):
        for drop, forged in ((("jwt_csrf_token",), {}), ((), {"jwt_csrf_token": "forged"})):
            response = pages.submit(form, drop=drop, **typed, **forged)
            assert response.status_code == 400, form.action
            assert NOT_ACCEPTED in response.get_data(as_text=True), form.action

    def test_a_supervisors_ticket_forms_without_the_csrf_field_are_refused_not_acted_on(
            self, pages):
        fleet = pages.fleet
        made = {status: fleet.ticket_in(status) for status in ("open", "in_progress", "resolved")}
        pages.sign_in("lsup")
        for status, action, typed in [
                ("open", "assign", {}), ("open", "cancel", {"reason": "Twice"}),
                ("in_progress", "hold", {"reason": "Parts"}),
                ("in_progress", "resolve", {"resolution": "Fixed"}),
                ("resolved", "close", {}), ("resolved", "reopen", {"reason": "Again"}),
                ("open", "notes", {"text": "Hello"})]:
            path = f"/tickets/{made[status]['id']}"
            self.refused_without_a_valid_token(
                pages, pages.form(pages.html(path), f"{path}/{action}"), **typed)
        for ticket in made.values():
            assert_unchanged(fleet, ticket)

    def test_a_technicians_start_and_take_without_the_csrf_field_are_refused(self, pages):
        fleet = pages.fleet
        mine, waiting = fleet.ticket_in("assigned"), fleet.ticket_in("open")
        pages.sign_in("ltech1")
        path = f"/tickets/{mine['id']}"
        self.refused_without_a_valid_token(pages, pages.form(pages.html(path), f"{path}/start"))
        board = pages.html("/dashboard/technician")
        self.refused_without_a_valid_token(
            pages, pages.form(board, f"/tickets/{waiting['id']}/assign"))
        assert_unchanged(fleet, mine)
        assert_unchanged(fleet, waiting)

    def test_raising_a_ticket_without_the_csrf_field_is_refused(self, pages):
        pages.sign_in("lsup")
        form = pages.form(pages.html("/tickets/new"), "/tickets/new")
        response = pages.submit(form, drop=("jwt_csrf_token",), terminal_id="LAG-001",
                                title="Forged")
        assert response.status_code == 400
        assert NOT_ACCEPTED in response.get_data(as_text=True)
        listed = pages.client.get("/api/tickets/", headers=pages.fleet.headers("host"))
        assert listed.get_json()["tickets"] == []


class TestListFilters:
    @pytest.fixture
    def made(self, pages, clock):
        """Lagos tickets (one in Kano), raised at second 0 and seen 5 minutes later."""
        fleet = pages.fleet
        clock.at(0)
        made = {
            "a": fleet.ticket_in("open", terminal="LAG-001", priority="critical", title="A"),
            "b": fleet.ticket_in("assigned", terminal="LAG-002", priority="high", title="B"),
            "c": fleet.ticket_in("in_progress", terminal="LAG-002", technician="ltech2",
                                 title="C"),
            "d": fleet.ticket_in("resolved", terminal="LAG-003", priority="low", title="D"),
            "e": fleet.ticket_in("closed", terminal="LAG-001", priority="critical", title="E"),
            "k": fleet.ticket_in("open", terminal="KAN-001", priority="critical", title="K"),
        }
        clock.at(300)
        pages.sign_in("lsup")
        return {name: ticket["id"] for name, ticket in made.items()}

    @SLA
    def test_each_filter_and_order_lists_exactly_the_matching_tickets(self, pages, made):
        for query, expected in [
                ("", "edcba"),
                ("status=open", "a"),
                ("status=unresolved", "cba"),
                ("status=resolved", "d"),
                ("priority=critical", "ea"),
                ("atm=LAG-002", "cb"),
                ("atm=lag-002&status=in_progress", "c"),
                ("assignee=ltech1", "edb"),
                ("assignee=LTECH2", "c"),
                ("overdue=true", "a"),
                ("overdue=false", "edcb"),
                ("sort=due", "aebcd"),
                ("status=unresolved&sort=due", "abc"),
                ("q=B", "b"),
        ]:
            html = pages.html(f"/tickets?{query}")
            assert listed_ids(html) == [made[name] for name in expected], query

    @SLA
    def test_the_filters_are_kept_in_the_form(self, pages, made):
        html = pages.html("/tickets?status=unresolved&priority=high&atm=LAG-002&assignee=ltech1"
                          "&overdue=false&sort=due")
        form = [form for form in pages.forms(html) if form.action == "/tickets"][0]
        assert {name: form.fields[name] for name in
                ("status", "priority", "atm", "assignee", "overdue", "sort")} == {
            "status": "unresolved", "priority": "high", "atm": "LAG-002", "assignee": "ltech1",
            "overdue": "false", "sort": "due"}
        assert listed_ids(html) == [made["b"]]

    @SLA
    def test_an_overdue_ticket_is_said_in_words(self, pages, made):
        html = pages.html("/tickets?overdue=true")
        assert "Restore overdue by 3 min" in html

    def test_an_atm_the_user_does_not_see_is_named_in_the_message(self, pages):
        pages.fleet.ticket_in("open", terminal="KAN-001")
        pages.sign_in("lsup")
        for terminal in ("NOPE-9", "KAN-001"):
            html = pages.html(f"/tickets?atm={terminal}")
            assert listed_ids(html) == []
            assert f"You have no ATM with the terminal id {terminal}." in alert(html)

    def test_an_unknown_assignee_is_named_in_the_message(self, pages):
        pages.fleet.ticket_in("open")
        pages.sign_in("lsup")
        html = pages.html("/tickets?assignee=nobody")
        assert listed_ids(html) == []
        assert "No user is called nobody." in alert(html)

    def test_a_bad_filter_value_says_so_and_lists_nothing(self, pages):
        pages.fleet.ticket_in("open")
        pages.sign_in("lsup")
        html = pages.html("/tickets?status=bogus")
        assert listed_ids(html) == []
        assert "Unknown bogus" in alert(html)
        html = pages.html("/tickets?overdue=maybe")
        assert listed_ids(html) == [] and "Use true or false." in alert(html)


class TestListPaging:
    def test_next_page_continues_without_repeats_and_keeps_the_filters(self, pages):
        fleet = pages.fleet
        ids = [fleet.raise_ticket("host", fleet.atms["LAG-001"], title=f"Fault {n}")["id"]
               for n in range(30)]
        fleet.raise_ticket("host", fleet.atms["LAG-001"], title="Low one", priority="low")
        pages.sign_in("lsup")
        first = pages.html("/tickets?priority=normal")
        assert listed_ids(first) == ids[::-1][:25]
        assert "First page" not in first
        next_url = re.search(r'href="([^"]*)" rel="next">Next page</a>', first).group(1)
        next_url = next_url.replace("&amp;", "&")
        assert next_url.startswith("/tickets?priority=normal&cursor=")
        fleet.raise_ticket("host", fleet.atms["LAG-001"], title="Raised meanwhile")
        second = pages.html(next_url)
        assert listed_ids(second) == ids[::-1][25:]
        assert "Next page" not in second
        assert 'href="/tickets?priority=normal">First page</a>' in second

    def test_a_mangled_cursor_shows_the_first_page_with_a_message(self, pages):
        ticket = pages.fleet.ticket_in("open")
        pages.sign_in("lsup")
        html = pages.html("/tickets?cursor=garbage")
        assert "That page of the list could not be read; here is the first page." in html
        assert listed_ids(html) == [ticket["id"]]


class TestCsvDownload:
    def test_the_download_link_carries_the_lists_filters(self, pages):
        pages.sign_in("lsup")
        html = pages.html("/tickets?status=open&priority=high&sort=due")
        link = re.search(r'href="([^"]*)" download>Download CSV</a>', html).group(1)
        assert link.replace("&amp;", "&") == (
            "/tickets/export.csv?status=open&priority=high&sort=due")

    def test_csv_has_a_header_row_and_the_filtered_tickets(self, pages):
        fleet = pages.fleet
        wanted = fleet.ticket_in("open", priority="high", title="Wanted")
        fleet.ticket_in("open", priority="low", title="Not wanted")
        fleet.ticket_in("assigned", priority="high", title="Assigned one")
        pages.sign_in("lsup")
        response = pages.get("/tickets/export.csv?status=open&priority=high")
        assert response.mimetype == "text/csv"
        assert 'filename="tickets.csv"' in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert rows[0][:8] == ["id", "terminal_id", "city", "address", "kind", "priority",
                               "status", "title"]
        assert [row[0] for row in rows[1:]] == [str(wanted["id"])]
        assert rows[1][1:8] == ["LAG-001", "Lagos", "12 Marina Road", "fault", "high", "open",
                                "Wanted"]

    def test_formula_cells_are_neutralised_with_a_leading_quote(self, pages):
        fleet = pages.fleet
        titles = ["=HYPERLINK(\"http://x\")", "+1+2", "-3", "@SUM(A1)", "Plain"]
        for title in titles:
            fleet.ticket_in("open", title=title)
        pages.sign_in("host")
        rows = list(csv.DictReader(io.StringIO(pages.html("/tickets/export.csv"))))
        assert sorted(row["title"] for row in rows) == sorted(
            ["'=HYPERLINK(\"http://x\")", "'+1+2", "'-3", "'@SUM(A1)", "Plain"])

    def test_csv_of_every_page_not_only_the_first(self, pages):
        fleet = pages.fleet
        for n in range(27):
            fleet.raise_ticket("host", fleet.atms["LAG-002"], title=f"T{n}")
        pages.sign_in("lsup")
        rows = list(csv.DictReader(io.StringIO(pages.html("/tickets/export.csv?atm=LAG-002"))))
        assert len(rows) == 27

    def test_an_unknown_atm_in_the_csv_filters_is_the_400_page(self, pages):
        pages.sign_in("lsup")
        response = pages.client.get("/tickets/export.csv?atm=KAN-001")
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        assert "This request could not be used" in response.get_data(as_text=True)


class TestRaisingATicket:
    def test_atm_prefills_the_terminal_id_and_only_seen_atms_are_offered(self, pages):
        pages.sign_in("ltech1")
        html = pages.html("/tickets/new?atm=LAG-002")
        form = pages.form(html, "/tickets/new")
        assert form.fields["terminal_id"] == "LAG-002"
        choices = re.findall(r'<option value="([^"]+)">[^<]*</option>',
                             re.search(r"<datalist.*?</datalist>", html, re.S).group(0))
        assert choices == ["LAG-001", "LAG-002", "LAG-003"]

    def test_the_form_raises_the_ticket_and_goes_to_its_page(self, pages):
        pages.sign_in("ltech1")
        form = pages.form(pages.html("/tickets/new?atm=LAG-002"), "/tickets/new")
        response = pages.submit(form, title="Cash jam", priority="high",
                                description="Code E42", out_of_service="y")
        assert response.status_code == 303
        ticket_id = int(re.fullmatch(r"/tickets/(\d+)", response.headers["Location"]).group(1))
        html = pages.follow(response)
        assert f"Ticket #{ticket_id} raised for LAG-002." in html
        ticket = pages.fleet.get_ticket(ticket_id)
        assert (ticket["title"], ticket["priority"], ticket["description"], ticket["status"],
                ticket["out_of_service"], ticket["reported_by"]["username"],
                ticket["atm"]["terminal_id"]) == (
            "Cash jam", "high", "Code E42", "open", True, "ltech1", "LAG-002")

    @pytest.mark.parametrize("terminal, title, field, message", [
        ("NOPE-1", "Broken", "terminal_id", "No ATM you can see has this id."),
        ("KAN-001", "Broken", "terminal_id", "No ATM you can see has this id."),
        ("LAG-001", "   ", "title", "This field may not be blank."),
    ])
    def test_errors_are_shown_beside_their_fields(self, pages, terminal, title, field, message):
        pages.sign_in("ltech1")
        form = pages.form(pages.html("/tickets/new"), "/tickets/new")
        response = pages.submit(form, terminal_id=terminal, title=title)
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        error = re.search(rf'<p class="field__error" id="{field}-error">(.*?)</p>', html, re.S)
        assert error and message in error.group(1)
        assert 'aria-invalid="true"' in re.search(rf'<[^>]*id="{field}"[^>]*>', html).group(0)
        kept = pages.form(html, "/tickets/new")
        assert (kept.fields["terminal_id"], kept.fields["title"]) == (terminal, title)
        listed = pages.client.get("/api/tickets/", headers=pages.fleet.headers("host"))
        assert listed.get_json()["tickets"] == []

    def test_a_decommissioned_atm_cannot_get_a_ticket(self, pages):
        fleet = pages.fleet
        pages.client.patch(f"/api/atms/{fleet.atms['LAG-003']}/", json={"is_active": False},
                           headers=fleet.headers("host"))
        pages.sign_in("lsup")
        form = pages.form(pages.html("/tickets/new"), "/tickets/new")
        response = pages.submit(form, terminal_id="LAG-003", title="Broken")
        assert response.status_code == 400
        assert "This ATM is decommissioned." in response.get_data(as_text=True)

    def test_a_form_post_missing_its_optional_fields_is_not_a_server_error(self, pages, web):
        """A hand-made post with only the required fields (no description, priority, kind)."""
        pages.sign_in("lsup")
        response = web.post("/tickets/new", {"terminal_id": "LAG-001", "title": "Minimal"})
        assert response.status_code == 303
