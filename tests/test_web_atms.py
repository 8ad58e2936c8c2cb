"""The fleet pages: the ATM list with search, one ATM with its work and availability,
and the data host's pages to add, edit, decommission and import ATMs.

Data is set up through the JSON API (the `fleet` fixture: Lagos with `lsup`,
`ltech1`, `ltech2`, LAG-001..003; Kano with `ksup`, `ktech`, KAN-001..002) or
through the pages themselves (`pages`).
"""
import io
import re
from datetime import timedelta

import pytest
from test_web_pages import assert_page_headers

ROLE_USERS = {"host": "host", "supervisor": "lsup", "technician": "ltech1"}
NOT_ACCEPTED = "This form was not accepted"
IMPORT_HEADER = "terminal_id,city,address,model,pm_interval_days\n"


def listed_terminals(html):
    """The terminal ids the fleet list shows, in order."""
    return re.findall(r'data-label="Terminal"><a href="/atms/\d+">([^<]+)</a>', html)


def listed_tickets(html, section):
    """The ticket ids listed in one section (by its heading id) of an ATM page."""
    part = re.search(rf'aria-labelledby="{section}">(.*?)</section>', html, re.S).group(1)
    return [int(found) for found in re.findall(r'class="work__title" href="/tickets/(\d+)"', part)]


def field_error(html, field):
    match = re.search(rf'<p class="field__error" id="{field}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else None


def api_atm(fleet, terminal):
    """The ATM as the API gives it to the host, found by terminal id."""
    found = fleet.client.get(f"/api/atms/?q={terminal}", headers=fleet.headers("host"))
    return next(atm for atm in found.get_json()["atms"] if atm["terminal_id"] == terminal)


def upload(file_bytes, name="fleet.csv"):
    return {"file": (io.BytesIO(file_bytes), name)}


def api_atm_count(fleet):
    listed = fleet.client.get("/api/atms/?limit=200", headers=fleet.headers("host"))
    return len(listed.get_json()["atms"])


class TestWhoGetsThePages:
    @pytest.mark.parametrize("role", ["host", "supervisor", "technician"])
    def test_the_fleet_and_an_atm_answer_every_role_never_stored(self, pages, role):
        pages.sign_in(ROLE_USERS[role])
        for path in ["/atms", f"/atms/{pages.fleet.atms['LAG-001']}", "/atms?q=LAG&down=false"]:
            assert_page_headers(pages.get(path))

    def test_the_host_pages_answer_the_host(self, pages):
        pages.sign_in("host")
        for path in ["/atms/new", f"/atms/{pages.fleet.atms['KAN-002']}/edit", "/atms/import"]:
            assert_page_headers(pages.get(path))

    @pytest.mark.parametrize("who", ["lsup", "ltech1"])
    def test_the_host_pages_are_the_403_page_for_other_roles(self, pages, who):
        pages.sign_in(who)
        for path in ["/atms/new", f"/atms/{pages.fleet.atms['LAG-001']}/edit", "/atms/import"]:
            response = pages.get(path, status=403)
            assert "This page is not for your role" in response.get_data(as_text=True)
            assert_page_headers(response)

    def test_a_supervisors_host_form_posts_are_403_and_change_nothing(self, pages, web):
        fleet = pages.fleet
        pages.sign_in("lsup")
        atm_id = fleet.atms["LAG-001"]
        posts = [("/atms/new", {"terminal_id": "LAG-999", "city": "Lagos", "address": "x"}),
                 (f"/atms/{atm_id}/edit", {"city": "Lagos", "address": "Moved"}),
                 (f"/atms/{atm_id}/status", {"active": "0"})]
        for path, data in posts:
            assert web.post(path, data).status_code == 403, path
        response = web.post("/atms/import", upload(b"terminal_id,city,address\nLAG-998,Lagos,y\n"),
                            content_type="multipart/form-data")
        assert response.status_code == 403
        assert api_atm_count(fleet) == 5
        atm = api_atm(fleet, "LAG-001")
        assert (atm["address"], atm["is_active"]) == ("12 Marina Road", True)

    @pytest.mark.parametrize("path", ["/atms", "/atms/1", "/atms/new", "/atms/1/edit",
                                      "/atms/import"])
    def test_not_signed_in_redirects_to_sign_in_with_next(self, client, path):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/login?next={path}"

    def test_no_script_and_no_inline_style_on_any_fleet_page(self, pages):
        atm_id = pages.fleet.atms["LAG-001"]
        pages.fleet.ticket_in("resolved")
        pages.sign_in("host")
        for path in ["/atms", f"/atms/{atm_id}", "/atms/new", f"/atms/{atm_id}/edit",
                     "/atms/import"]:
            html = pages.html(path)
            assert "<script" not in html and "style=" not in html and "<style" not in html, path


class TestVisibility:
    @pytest.mark.parametrize("who", ["lsup", "ltech1"])
    def test_another_citys_atm_is_the_404_page_with_the_signed_in_header(self, pages, who):
        pages.sign_in(who)
        response = pages.get(f"/atms/{pages.fleet.atms['KAN-001']}", status=404)
        html = response.get_data(as_text=True)
        assert "Page not found" in html
        assert 'aria-label="Main"' in html and who in html and "Sign out" in html

    def test_an_unknown_atm_is_the_404_page_for_the_host(self, pages):
        pages.sign_in("host")
        for path in ["/atms/99999", "/atms/99999/edit"]:
            assert "Page not found" in pages.html(path, status=404)

    def test_the_list_shows_only_the_users_atms(self, pages):
        for who, expected in [("host", ["KAN-001", "KAN-002", "LAG-001", "LAG-002", "LAG-003"]),
                              ("lsup", ["LAG-001", "LAG-002", "LAG-003"]),
                              ("ltech1", ["LAG-001", "LAG-002", "LAG-003"]),
                              ("ktech", ["KAN-001", "KAN-002"])]:
            pages.sign_in(who)
            assert sorted(listed_terminals(pages.html("/atms"))) == expected, who

    def test_a_supervisor_cannot_widen_the_list_to_another_city(self, pages):
        pages.sign_in("lsup")
        assert listed_terminals(pages.html("/atms?city=Kano")) == []


class TestFleetList:
    def test_search_by_terminal_id_address_or_city(self, pages):
        pages.sign_in("host")
        for query, expected in [("q=lag-002", ["LAG-002"]),
                                ("q=BROAD", ["LAG-002"]),
                                ("q=road", ["KAN-001", "KAN-002", "LAG-001", "LAG-002"]),
                                ("city=kano", ["KAN-001", "KAN-002"]),
                                ("q=nowhere", [])]:
            html = pages.html(f"/atms?{query}")
            assert sorted(listed_terminals(html)) == expected, query
            assert ("No ATMs match." in html) == (not expected), query

    def test_state_filters_down_and_decommissioned(self, pages):
        fleet = pages.fleet
        fleet.ticket_in("open", terminal="LAG-002", out_of_service=True)
        fleet.ticket_in("open", terminal="LAG-003")
        fleet.client.patch(f"/api/atms/{fleet.atms['LAG-001']}/", json={"is_active": False},
                           headers=fleet.headers("host"))
        pages.sign_in("lsup")
        assert listed_terminals(pages.html("/atms?down=true")) == ["LAG-002"]
        assert sorted(listed_terminals(pages.html("/atms?down=false"))) == ["LAG-001", "LAG-003"]
        assert listed_terminals(pages.html("/atms?is_active=false")) == ["LAG-001"]
        html = pages.html("/atms")
        row = re.search(r"LAG-002</a></td>.*?</tr>", html, re.S).group(0)
        assert 'badge--down">Down</span>' in row and 'data-label="Open tickets">1</td>' in row
        row = re.search(r"LAG-001</a></td>.*?</tr>", html, re.S).group(0)
        assert "Decommissioned" in row

    def test_pages_of_25_with_next_and_first_links(self, pages):
        fleet = pages.fleet
        for number in range(27):
            fleet.create_atm(terminal_id=f"ABJ-{number:03d}", city="Abuja", address="Main St")
        pages.sign_in("host")
        first = pages.html("/atms?city=Abuja")
        assert len(listed_terminals(first)) == 25
        next_url = re.search(r'href="([^"]*)" rel="next">Next page</a>', first).group(1)
        second = pages.html(next_url.replace("&amp;", "&"))
        shown = listed_terminals(first) + listed_terminals(second)
        assert sorted(shown) == [f"ABJ-{number:03d}" for number in range(27)]
        assert "Next page" not in second and 'href="/atms?city=Abuja">First page</a>' in second

    def test_a_bad_filter_value_says_so(self, pages):
        pages.sign_in("host")
        for query, message in [("down=perhaps", "Use true or false."),
                               ("cursor=garbage", "That search could not be read; try again.")]:
            html = pages.html(f"/atms?{query}")
            assert listed_terminals(html) == [], query
            assert f'role="alert">{message}</p>' in html, query


class TestAtmPage:
    def test_shows_open_work_history_next_visit_and_availability(self, pages, clock):
        fleet = pages.fleet
        clock.at(0)
        atm = fleet.create_atm(terminal_id="LAG-777", city="Lagos", address="1 Awolowo Road",
                               model="NCR SelfServ", pm_interval_days=30)
        down = fleet.raise_ticket("host", atm["id"], title="Dispenser dead", out_of_service=True)
        fleet.drive(down["id"], "in_progress")
        visit = fleet.raise_ticket("host", atm["id"], title="Quarterly visit", kind="preventive")
        fleet.drive(visit["id"], "in_progress")
        cancelled = fleet.raise_ticket("host", atm["id"], title="Duplicate")
        fleet.drive(cancelled["id"], "cancelled")
        # 36 hours later (new sign-ins: the first tokens have expired), the fault and the
        # visit are resolved and a new ticket is raised.
        clock.at(36 * 3600)
        fleet.signed_in.clear()
        fleet.step("host", down["id"], "resolve", fleet.body("resolve"))
        fleet.step("host", visit["id"], "resolve", fleet.body("resolve"))
        still_open = fleet.raise_ticket("host", atm["id"], title="Receipt printer", priority="low")
        clock.at(36 * 3600 + 60)
        pages.sign_in("lsup")
        html = pages.html(f"/atms/{atm['id']}")
        assert "<h1>LAG-777</h1>" in html and "1 Awolowo Road" in html
        assert "<dt>Model</dt><dd>NCR SelfServ</dd>" in html
        assert "<dt>Preventive visit</dt><dd>every 30 days</dd>" in html
        assert listed_tickets(html, "open-title") == [still_open["id"]]
        assert listed_tickets(html, "history-title") == [cancelled["id"], visit["id"], down["id"]]
        # Down for 36 of the last 30 days' 720 hours: 95.0% available.
        assert ('<span class="stat__value">95.0%</span><span class="stat__label">'
                "Available, last 30 days</span>") in html
        resolved_day = (clock.start + timedelta(seconds=36 * 3600)).date()
        next_visit = (resolved_day + timedelta(days=30)).isoformat()
        assert (f'<span class="stat__value">{next_visit}</span><span class="stat__label">'
                "Next preventive visit</span>") in html
        assert '<span class="stat__value">1</span><span class="stat__label">Open tickets' in html
        assert 'badge--active">In service</span>' in html

    def test_a_technician_sees_only_its_own_and_open_work_on_the_atm(self, pages):
        fleet = pages.fleet
        mine = fleet.ticket_in("assigned", technician="ltech1")
        theirs = fleet.ticket_in("assigned", technician="ltech2")
        waiting = fleet.ticket_in("open")
        pages.sign_in("ltech1")
        html = pages.html(f"/atms/{fleet.atms['LAG-001']}")
        assert sorted(listed_tickets(html, "open-title")) == sorted([mine["id"], waiting["id"]])
        assert theirs["id"] not in listed_tickets(html, "open-title")
        assert 'href="/tickets/new?atm=LAG-001"' in html
        assert "/edit" not in html

    def test_a_down_atm_says_so_and_links_to_raise_a_ticket(self, pages):
        fleet = pages.fleet
        fleet.ticket_in("assigned", terminal="LAG-003", out_of_service=True)
        pages.sign_in("lsup")
        html = pages.html(f"/atms/{fleet.atms['LAG-003']}")
        assert 'badge--down">Down now</span>' in html
        assert 'href="/tickets/new?atm=LAG-003">Raise a ticket</a>' in html


class TestAddingAnAtm:
    def test_the_host_adds_an_atm_and_lands_on_its_page(self, pages):
        pages.sign_in("host")
        form = pages.form(pages.html("/atms/new"), "/atms/new")
        assert form.fields["pm_interval_days"] == "90"
        response = pages.submit(form, terminal_id="ABJ-001", city=" Abuja ", address="1 Road",
                                model="NCR 6622", pm_interval_days="30")
        assert response.status_code == 303
        atm = api_atm(pages.fleet, "ABJ-001")
        assert response.headers["Location"] == f"/atms/{atm['id']}"
        assert "ATM ABJ-001 added to the fleet." in pages.follow(response)
        assert (atm["city"], atm["address"], atm["model"], atm["pm_interval_days"],
                atm["is_active"]) == ("Abuja", "1 Road", "NCR 6622", 30, True)

    def test_a_taken_terminal_id_is_409_beside_the_field(self, pages):
        pages.sign_in("host")
        form = pages.form(pages.html("/atms/new"), "/atms/new")
        response = pages.submit(form, terminal_id="lag-001", city="Lagos", address="Elsewhere")
        html = response.get_data(as_text=True)
        assert response.status_code == 409
        assert "This terminal id is taken." in field_error(html, "terminal_id")
        kept = pages.form(html, "/atms/new")
        assert (kept.fields["terminal_id"], kept.fields["address"]) == ("lag-001", "Elsewhere")
        assert api_atm_count(pages.fleet) == 5

    def test_each_bad_field_is_explained_beside_it(self, pages):
        pages.sign_in("host")
        form = pages.form(pages.html("/atms/new"), "/atms/new")
        response = pages.submit(form, terminal_id="bad id!", city="", address=" ",
                                pm_interval_days="0")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Use 1 to 32 letters, digits, - and _ only." in field_error(html, "terminal_id")
        assert field_error(html, "city") and field_error(html, "address")
        assert "Use 1 to 3650 days." in field_error(html, "pm_interval_days")
        assert api_atm_count(pages.fleet) == 5


class TestChangingAnAtm:
    def test_the_host_edits_an_atm(self, pages):
        fleet = pages.fleet
        atm_id = fleet.atms["LAG-002"]
        pages.sign_in("host")
        form = pages.form(pages.html(f"/atms/{atm_id}/edit"), f"/atms/{atm_id}/edit")
        assert (form.fields["city"], form.fields["address"], form.fields["pm_interval_days"]) == (
            "Lagos", "4 Broad Street", "90")
        assert "terminal_id" not in form.fields
        response = pages.submit(form, address="6 Broad Street", model="Hyosung",
                                pm_interval_days="60")
        assert response.status_code == 303 and response.headers["Location"] == f"/atms/{atm_id}"
        assert "ATM LAG-002 saved." in pages.follow(response)
        atm = api_atm(fleet, "LAG-002")
        assert (atm["terminal_id"], atm["address"], atm["model"], atm["pm_interval_days"]) == (
            "LAG-002", "6 Broad Street", "Hyosung", 60)

    def test_moving_an_atm_to_another_city_moves_its_tickets_out_of_sight(self, pages):
        fleet = pages.fleet
        atm_id = fleet.atms["LAG-003"]
        ticket = fleet.ticket_in("open", terminal="LAG-003")
        pages.sign_in("host")
        form = pages.form(pages.html(f"/atms/{atm_id}/edit"), f"/atms/{atm_id}/edit")
        assert pages.submit(form, city="Kano").status_code == 303
        assert fleet.get_ticket(ticket["id"])["city"] == "Kano"
        pages.sign_in("lsup")
        for path in [f"/atms/{atm_id}", f"/tickets/{ticket['id']}"]:
            assert "Page not found" in pages.html(path, status=404)
        pages.sign_in("ksup")
        assert ticket["id"] in listed_tickets(pages.html(f"/atms/{atm_id}"), "open-title")

    def test_a_bad_edit_is_explained_beside_the_field_and_changes_nothing(self, pages):
        atm_id = pages.fleet.atms["LAG-002"]
        pages.sign_in("host")
        form = pages.form(pages.html(f"/atms/{atm_id}/edit"), f"/atms/{atm_id}/edit")
        response = pages.submit(form, pm_interval_days="5000")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Use 1 to 3650 days." in field_error(html, "pm_interval_days")
        assert api_atm(pages.fleet, "LAG-002")["pm_interval_days"] == 90

    def test_the_host_decommissions_an_atm_and_returns_it_to_service(self, pages):
        fleet = pages.fleet
        atm_id = fleet.atms["LAG-003"]
        pages.sign_in("host")
        edit = pages.html(f"/atms/{atm_id}/edit")
        assert "Decommission LAG-003" in edit
        response = pages.submit(pages.form(edit, f"/atms/{atm_id}/status"))
        assert response.status_code == 303 and response.headers["Location"] == f"/atms/{atm_id}"
        html = pages.follow(response)
        assert "ATM LAG-003 is decommissioned: no new tickets can be raised for it." in html
        assert 'badge--inactive">Decommissioned</span>' in html
        assert "Raise a ticket</a>" not in html
        assert api_atm(fleet, "LAG-003")["is_active"] is False
        edit = pages.html(f"/atms/{atm_id}/edit")
        assert "Return LAG-003 to service" in edit
        response = pages.submit(pages.form(edit, f"/atms/{atm_id}/status"))
        assert "ATM LAG-003 is back in service." in pages.follow(response)
        assert api_atm(fleet, "LAG-003")["is_active"] is True


class TestImport:
    def test_a_good_file_creates_and_updates_and_says_how_many(self, pages):
        fleet = pages.fleet
        pages.sign_in("host")
        form = pages.form(pages.html("/atms/import"), "/atms/import")
        text = (IMPORT_HEADER + "ABJ-001,Abuja,1 Road,NCR,30\n"
                "ABJ-002,Abuja,2 Road,,\n"
                "lag-001,Lagos,14 Marina Road,,\n")
        response = pages.client.post("/atms/import", data={**form.fields,
                                                           **upload(text.encode())},
                                     content_type="multipart/form-data")
        assert response.status_code == 303 and response.headers["Location"] == "/atms"
        assert "Fleet imported: 2 created, 1 updated." in pages.follow(response)
        assert api_atm(fleet, "ABJ-001")["pm_interval_days"] == 30
        assert api_atm(fleet, "LAG-001")["address"] == "14 Marina Road"

    def test_a_bad_line_lists_its_number_and_reason_and_imports_nothing(self, pages):
        fleet = pages.fleet
        pages.sign_in("host")
        form = pages.form(pages.html("/atms/import"), "/atms/import")
        text = (IMPORT_HEADER + "ABJ-001,Abuja,1 Road,,\n"
                "bad id,Abuja,2 Road,,\n"
                "ABJ-003,,3 Road,,\n"
                "lag-001,Lagos,Moved,,\n")
        response = pages.client.post("/atms/import", data={**form.fields,
                                                           **upload(text.encode())},
                                     content_type="multipart/form-data")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Nothing was imported." in html
        problems = re.findall(r"<li>(line \d+: [^<]*)</li>", html)
        assert len(problems) == 2
        assert problems[0].startswith("line 3: terminal_id:")
        assert problems[1].startswith("line 4: city:")
        assert api_atm_count(fleet) == 5
        assert api_atm(fleet, "LAG-001")["address"] == "12 Marina Road"

    def test_a_bad_header_duplicate_or_non_utf8_file_is_refused_with_its_lines(self, pages, web):
        pages.sign_in("host")
        for file_bytes, problems in [
                (b"terminal_id,town,address\n", [
                    "line 1: missing column(s): city.",
                    "line 1: unknown column(s): town (the columns are terminal_id, city, "
                    "address, model, pm_interval_days)."]),
                (b"terminal_id,city,address\nABJ-1,Abuja,x\nabj-1,Abuja,y\n",
                 ["line 3: terminal_id: abj-1 is on line 2 already."]),
                ("terminal_id,city,address\nZRH-1,Z\u00fcrich,Stra\u00dfe\n".encode("latin-1"),
                 ["line 1: the file is not UTF-8 text."])]:
            response = web.post("/atms/import", upload(file_bytes),
                                content_type="multipart/form-data")
            assert response.status_code == 400
            assert re.findall(r"<li>(line [^<]*)</li>",
                              response.get_data(as_text=True)) == problems
        assert api_atm_count(pages.fleet) == 5

    def test_a_file_over_5_mib_is_the_413_page(self, pages, web):
        pages.sign_in("host")
        body = b"terminal_id,city,address\nBIG-1,Abuja," + b"x" * (5 * 1024 * 1024) + b"\n"
        response = web.post("/atms/import", upload(body), content_type="multipart/form-data")
        assert response.status_code == 413
        assert "That was more than this page accepts" in response.get_data(as_text=True)
        assert api_atm_count(pages.fleet) == 5

    def test_no_file_chosen_is_400_with_a_message(self, pages, web):
        pages.sign_in("host")
        response = web.post("/atms/import", {}, content_type="multipart/form-data")
        assert response.status_code == 400
        assert "Choose a CSV file to upload." in response.get_data(as_text=True)

    def test_a_file_over_64_kib_is_accepted_on_this_page(self, pages):
        pages.sign_in("host")
        form = pages.form(pages.html("/atms/import"), "/atms/import")
        rows = "".join(f"BIG-{number:04d},Abuja,{number} {'Long Avenue ' * 18}Lagos Island,,\n"
                       for number in range(300))
        body = (IMPORT_HEADER + rows).encode()
        assert 64 * 1024 < len(body) < 5 * 1024 * 1024
        response = pages.client.post("/atms/import", data={**form.fields, **upload(body)},
                                     content_type="multipart/form-data")
        assert response.status_code == 303
        assert "Fleet imported: 300 created, 0 updated." in pages.follow(response)

    def test_other_forms_still_refuse_a_body_over_64_kib(self, pages, web):
        ticket = pages.fleet.ticket_in("open")
        pages.sign_in("host")
        response = web.post(f"/tickets/{ticket['id']}/notes", {"text": "z" * (70 * 1024)})
        assert response.status_code == 413


class TestCsrf:
    def test_fleet_forms_without_the_csrf_field_are_refused_and_change_nothing(self, pages):
        fleet = pages.fleet
        atm_id = fleet.atms["LAG-001"]
        pages.sign_in("host")
        sends = [
            (pages.form(pages.html("/atms/new"), "/atms/new"),
             {"terminal_id": "ABJ-001", "city": "Abuja", "address": "1 Road"}, None),
            (pages.form(pages.html(f"/atms/{atm_id}/edit"), f"/atms/{atm_id}/edit"),
             {"address": "Moved"}, None),
            (pages.form(pages.html(f"/atms/{atm_id}/edit"), f"/atms/{atm_id}/status"), {}, None),
            (pages.form(pages.html("/atms/import"), "/atms/import"), {},
             b"terminal_id,city,address\nABJ-002,Abuja,2 Road\n"),
        ]
        for form, typed, file_bytes in sends:
            data = {name: value for name, value in {**form.fields, **typed}.items()
                    if name != "jwt_csrf_token"}
            if file_bytes is not None:
                data.update(upload(file_bytes))
            response = pages.client.post(form.action, data=data,
                                         content_type="multipart/form-data")
            assert response.status_code == 400, form.action
            assert NOT_ACCEPTED in response.get_data(as_text=True), form.action
        assert api_atm_count(fleet) == 5
        atm = api_atm(fleet, "LAG-001")
        assert (atm["address"], atm["is_active"]) == ("12 Marina Road", True)
