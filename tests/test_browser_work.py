"""The maintenance pages in a real browser: Debian's headless Chromium through Playwright.

A working day of each role, driven through the pages like a person would
(a technician on a phone, a supervisor and a data host at a desk), axe-core
run on every maintenance page at desktop and phone size, screenshots of the
main pages, and the phone layout of the technician's board.

The app runs under waitress in a background thread over a temporary SQLite
file (as in test_browser.py). Users are made with the users service; ATMs
and tickets are made by the host through the JSON API (urllib, bearer
tokens) or through the pages themselves. One browser for the module and one
signed-in page per role, reused. Without /usr/bin/chromium the tests skip,
except under CI=true, where they fail.
"""
import json
import urllib.error
import urllib.request

import pytest

from atm_app import create_app
from atm_app.extensions import db
from atm_app.users.service import create_user
from conftest import (DESKTOP, PHONE, SCREENSHOTS, STRONG_PASSWORD, screenshot, served_in_thread,
                      sign_in)

pytestmark = pytest.mark.browser

SIZES = {"desktop": DESKTOP, "phone": PHONE}
USERS = {
    "technician": ("ada.okafor", "Lagos"),
    "supervisor": ("bola.adeyemi", "Lagos"),
    "host": ("chidi.eze", "Abuja"),
}
TECHNICIAN, SUPERVISOR, HOST = (USERS[role][0] for role in ("technician", "supervisor", "host"))
# Other technicians: one more active in Lagos (a real choice for Assign), one
# deactivated in Lagos (never offered), one elsewhere.
OTHER_TECHNICIANS = [("emeka.nwosu", "Lagos", True), ("funke.bello", "Lagos", False),
                     ("halima.musa", "Kano", True)]
MIN_TARGET_PX = 44
BLOCKING_IMPACTS = ("serious", "critical")


# --- the app, the browser, the JSON API ----------------------------------------------------

@pytest.fixture(scope="module")
def live_app(tmp_path_factory, new_sqlite_database):
    """The app in testing configuration over a temporary SQLite file, with its users."""
    database = new_sqlite_database(tmp_path_factory.mktemp("browser_work") / "work.sqlite3")
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database})
    with app.app_context():
        for role, (username, city) in USERS.items():
            create_user(username, STRONG_PASSWORD, role, city)
        for username, city, active in OTHER_TECHNICIANS:
            user = create_user(username, STRONG_PASSWORD, "technician", city)
            if not active:
                user.is_active = False
                db.session.commit()
        db.session.remove()
    return app


@pytest.fixture(scope="module")
def base_url(live_app):
    """waitress serving the app in a background thread; its address."""
    with served_in_thread(live_app) as url:
        yield url


class Api:
    """The JSON API as a script uses it: urllib, bearer tokens, one sign-in per user."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.signed_in = {}

    def call(self, method, path, body=None, who=None):
        """(status, decoded JSON body) of one call, as `who` (a username) when given."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if who is not None:
            headers["Authorization"] = f"Bearer {self.token(who)}"
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers=headers)
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def sign_in(self, username):
        """(access token, user object) of `username`, signing in through the API once."""
        if username not in self.signed_in:
            status, body = self.call("POST", "/api/auth/login/",
                                     {"username": username, "password": STRONG_PASSWORD})
            assert status == 200, body
            self.signed_in[username] = (body["access"], body["user"])
        return self.signed_in[username]

    def token(self, username):
        return self.sign_in(username)[0]

    def user_id(self, username):
        return self.sign_in(username)[1]["id"]

    def ok(self, method, path, body=None, who=HOST, expect=200):
        status, answer = self.call(method, path, body, who)
        assert status == expect, (method, path, status, answer)
        return answer

    def create_atm(self, terminal_id, city="Lagos", address="12 Broad Street", **fields):
        return self.ok("POST", "/api/atms/", {"terminal_id": terminal_id, "city": city,
                                              "address": address, **fields}, expect=201)

    def raise_ticket(self, atm_id, title, **fields):
        return self.ok("POST", "/api/tickets/", {"atm_id": atm_id, "title": title, **fields},
                       expect=201)

    def act(self, ticket_id, action, body=None, who=HOST):
        return self.ok("POST", f"/api/tickets/{ticket_id}/{action}/", body or {}, who=who)

    def ticket(self, ticket_id):
        return self.ok("GET", f"/api/tickets/{ticket_id}/")


@pytest.fixture(scope="module")
def api(base_url):
    return Api(base_url)


# --- pages --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def role_page(browser, base_url):
    """`role_page(role)`: that role's one signed-in page for the module (made on first use).

    The technician's profile is a phone (touch, 2x pixels); the others a desk.
    Each test sets the viewport size it needs.
    """
    contexts, pages = [], {}

    def get(role):
        if role not in pages:
            if role == "technician":
                context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                              device_scale_factor=2)
            else:
                context = browser.new_context(viewport=DESKTOP)
            contexts.append(context)
            page = context.new_page()
            sign_in(page, base_url, USERS[role][0])
            assert page.url == f"{base_url}/dashboard/{role}"
            pages[role] = page
        return pages[role]

    yield get
    for context in contexts:
        context.close()


def open_page(page, url, size):
    """Go to `url` at `size` ("desktop" or "phone"); fails on anything but a 200."""
    page.set_viewport_size(SIZES[size])
    response = page.goto(url)
    assert response.status == 200, f"{url} answered {response.status}"
    return page


def flash_text(page):
    return page.locator(".flashes").inner_text()


def ticket_status(page):
    """The status badge in the ticket page's header."""
    return page.locator(".page-header .badge--status").inner_text().strip()


def timeline(page):
    """The timeline's actions, oldest first, as the page words them."""
    return [text.strip() for text in page.locator(".timeline__action").all_inner_texts()]


def detail(page, term):
    """The value beside `term` in the ticket's details list."""
    return page.locator(f".details dt:text-is('{term}') + dd").inner_text().strip()


# --- the data behind the accessibility, screenshot and layout checks --------------------------

@pytest.fixture(scope="module")
def scene(api):
    """A Lagos ATM with tickets in several states, made by the host through the API.

    `open`: unassigned; `assigned`: assigned to the technician; `in_progress`:
    started, held, resumed and noted (a timeline with some history); `down`:
    an out-of-service fault (the ATM shows as down).
    """
    technician_id = api.user_id(TECHNICIAN)
    atm = api.create_atm("LAG-SCN-01", address="Plot 4, Adeola Odeku Street, Victoria Island",
                         model="NCR SelfServ 84", pm_interval_days=60)
    api.create_atm("LAG-SCN-02", address="Marina branch lobby")
    open_one = api.raise_ticket(atm["id"], "Receipt printer out of paper", priority="low")
    assigned = api.raise_ticket(atm["id"], "Card reader rejects chip cards after the firmware "
                                "update of last week", priority="high",
                                description="Error 0x51 on every chip card; swipe still works.")
    api.act(assigned["id"], "assign", {"assignee_id": technician_id})
    working = api.raise_ticket(atm["id"], "Cash dispenser jams on 1000 notes", priority="critical")
    api.act(working["id"], "assign", {"assignee_id": technician_id})
    api.act(working["id"], "start", who=TECHNICIAN)
    api.act(working["id"], "hold", {"reason": "Waiting for a pick roller from the depot"},
            who=TECHNICIAN)
    api.act(working["id"], "start", who=TECHNICIAN)
    api.ok("POST", f"/api/tickets/{working['id']}/notes/",
           {"text": "Roller arrived, fitting it now."}, who=TECHNICIAN, expect=201)
    down = api.raise_ticket(atm["id"], "Screen blank, ATM out of service", out_of_service=True)
    return {"atm": atm["id"], "open": open_one["id"], "assigned": assigned["id"],
            "in_progress": working["id"], "down": down["id"], "technician_id": technician_id}


# --- 1. a technician's day, on a phone ------------------------------------------------------

def test_technician_takes_starts_holds_resumes_and_resolves_a_ticket_on_a_phone(
        base_url, api, role_page):
    atm = api.create_atm("LAG-TECH-01", address="Allen Avenue, Ikeja")
    ticket_id = api.raise_ticket(atm["id"], "Deposit module refuses envelopes",
                                 priority="high")["id"]
    page = open_page(role_page("technician"), f"{base_url}/dashboard/technician", "phone")

    to_take = page.locator("section[aria-labelledby='take-title']")
    assert to_take.get_by_role("link", name=f"#{ticket_id} Deposit module refuses envelopes")\
        .is_visible()
    to_take.get_by_role("button", name=f"Take ticket #{ticket_id}", exact=True).click()
    page.wait_for_load_state()
    assert page.url == f"{base_url}/dashboard/technician"
    assert f"Ticket #{ticket_id}: Assigned to {TECHNICIAN}." in flash_text(page)
    assert to_take.get_by_role("button", name=f"Take ticket #{ticket_id}", exact=True).count() == 0

    my_work = page.locator("section[aria-labelledby='work-title']")
    my_work.get_by_role("link", name=f"Open ticket #{ticket_id}", exact=True).click()
    page.wait_for_load_state()
    assert page.url == f"{base_url}/tickets/{ticket_id}"
    assert ticket_status(page) == "Assigned"
    assert detail(page, "Assignee") == TECHNICIAN

    page.get_by_role("button", name="Start work", exact=True).click()
    page.wait_for_load_state()
    assert f"Ticket #{ticket_id}: Work started." in flash_text(page)
    assert ticket_status(page) == "In progress"

    page.get_by_label("Reason (put on hold)").fill("Waiting for a spare shutter from the depot")
    page.get_by_role("button", name="Put on hold", exact=True).click()
    page.wait_for_load_state()
    assert f"Ticket #{ticket_id}: Put on hold." in flash_text(page)
    assert ticket_status(page) == "On hold"
    assert detail(page, "On hold because") == "Waiting for a spare shutter from the depot"

    page.get_by_role("button", name="Start work", exact=True).click()  # resume
    page.wait_for_load_state()
    assert ticket_status(page) == "In progress"

    page.get_by_label("What was done").fill("Replaced the shutter and tested ten deposits")
    page.get_by_role("button", name="Resolve", exact=True).click()
    page.wait_for_load_state()
    assert f"Ticket #{ticket_id}: Resolved." in flash_text(page)
    assert page.url == f"{base_url}/tickets/{ticket_id}"
    assert ticket_status(page) == "Resolved"
    assert detail(page, "Resolution") == "Replaced the shutter and tested ten deposits"
    assert timeline(page) == ["raised the ticket", "assigned it", "started work",
                              "put it on hold", "started work", "resolved it"]
    history = page.locator("#timeline").inner_text()
    assert "Waiting for a spare shutter from the depot" in history
    assert "Replaced the shutter and tested ten deposits" in history
    # Nothing is left for the technician to do on a resolved ticket.
    assert page.locator("section[aria-labelledby='actions-title']").count() == 0
    assert api.ticket(ticket_id)["status"] == "resolved"
    screenshot(page, "work-technician-resolved-ticket-phone")


# --- 2. a supervisor's day ------------------------------------------------------------------

def test_supervisor_assigns_from_the_board_then_closes_and_reopens(base_url, api, role_page):
    atm = api.create_atm("LAG-SUP-01", address="Awolowo Road, Ikoyi")
    ticket_id = api.raise_ticket(atm["id"], "Keypad unresponsive")["id"]
    page = open_page(role_page("supervisor"), f"{base_url}/dashboard/supervisor", "desktop")

    waiting = page.locator("section[aria-labelledby='unassigned-title']")
    choice = waiting.get_by_label(f"Technician for ticket #{ticket_id}", exact=True)
    offered = [text.strip() for text in choice.locator("option").all_inner_texts()]
    assert TECHNICIAN in offered and "emeka.nwosu" in offered
    assert "funke.bello" not in offered and "halima.musa" not in offered
    choice.select_option(label=TECHNICIAN)
    waiting.get_by_role("button", name=f"Assign ticket #{ticket_id}", exact=True).click()
    page.wait_for_load_state()
    assert page.url == f"{base_url}/dashboard/supervisor"
    assert f"Ticket #{ticket_id}: Assigned to {TECHNICIAN}." in flash_text(page)
    assert waiting.get_by_label(f"Technician for ticket #{ticket_id}", exact=True).count() == 0
    assigned = api.ticket(ticket_id)
    assert assigned["status"] == "assigned" and assigned["assignee"]["username"] == TECHNICIAN

    # Later that day the technician does the work from its own phone app (the API).
    api.act(ticket_id, "start", who=TECHNICIAN)
    api.act(ticket_id, "resolve", {"resolution": "Replaced the keypad ribbon cable"},
            who=TECHNICIAN)

    open_page(page, f"{base_url}/tickets/{ticket_id}", "desktop")
    assert ticket_status(page) == "Resolved"
    page.get_by_role("button", name="Close", exact=True).click()
    page.wait_for_load_state()
    assert f"Ticket #{ticket_id}: Closed." in flash_text(page)
    assert ticket_status(page) == "Closed"

    page.get_by_label("Reason (reopen)").fill("The customer says keys 4 and 7 still stick")
    page.get_by_role("button", name="Reopen", exact=True).click()
    page.wait_for_load_state()
    assert f"Ticket #{ticket_id}: Reopened." in flash_text(page)
    assert ticket_status(page) == "Assigned"
    assert detail(page, "Assignee") == TECHNICIAN
    assert detail(page, "Reopened") == "1 time"
    assert timeline(page)[-2:] == ["closed it", "reopened it"]
    assert "The customer says keys 4 and 7 still stick" in page.locator("#timeline").inner_text()
    reopened = api.ticket(ticket_id)
    assert reopened["status"] == "assigned" and reopened["assignee"]["username"] == TECHNICIAN
    assert reopened["reopen_count"] == 1


# --- 3. a data host's day -------------------------------------------------------------------

def upload(page, name, text):
    page.get_by_label("CSV file", exact=True).set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode()})
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_load_state()


def test_host_adds_an_atm_and_imports_the_fleet(base_url, api, role_page):
    page = open_page(role_page("host"), f"{base_url}/atms/new", "desktop")
    page.get_by_label("Terminal id").fill("ABJ-HOST-01")
    page.get_by_label("City").fill("Abuja")
    page.get_by_label("Address").fill("Plot 12, Central Business District")
    page.get_by_label("Model").fill("Hyosung 8600")
    page.get_by_label("Preventive visit every (days)").fill("45")
    page.get_by_role("button", name="Add the ATM").click()
    page.wait_for_load_state()
    assert page.url.startswith(f"{base_url}/atms/")
    atm_id = int(page.url.rsplit("/", 1)[1])
    assert "ATM ABJ-HOST-01 added to the fleet." in flash_text(page)
    assert page.get_by_role("heading", level=1, name="ABJ-HOST-01").is_visible()
    details = page.locator(".details").inner_text()
    assert "Plot 12, Central Business District" in details and "Hyosung 8600" in details
    assert "every 45 days" in details

    # A file with one bad line: the line and its reason are listed, nothing is written.
    page.goto(f"{base_url}/atms/import")
    bad = ("terminal_id,city,address,model,pm_interval_days\n"
           "ABJ-IMP-01,Abuja,Wuse Market,NCR 6622,90\n"
           "ABJ-IMP-02,Abuja,Garki Area 11,,0\n")
    upload(page, "fleet-bad.csv", bad)
    alert = page.get_by_role("alert")
    assert "Nothing was imported" in alert.inner_text()
    problems = [text.strip() for text in alert.locator("li").all_inner_texts()]
    assert len(problems) == 1, problems
    assert problems[0].startswith("line 3:") and "pm_interval_days" in problems[0] \
        and "1 to 3650" in problems[0], problems
    assert api.ok("GET", "/api/atms/?q=ABJ-IMP")["atms"] == []

    # The corrected file: two new ATMs and one change to the ATM added above.
    good = ("terminal_id,city,address,model,pm_interval_days\n"
            "ABJ-IMP-01,Abuja,Wuse Market,NCR 6622,90\n"
            "ABJ-IMP-02,Abuja,Garki Area 11,,30\n"
            'abj-host-01,Abuja,"Plot 14, Central Business District",Hyosung 8600,45\n')
    upload(page, "fleet.csv", good)
    assert page.url == f"{base_url}/atms"
    assert "Fleet imported: 2 created, 1 updated." in flash_text(page)
    page.get_by_label("Terminal id or address").fill("ABJ-")
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_load_state()
    listed = page.locator("table tbody").inner_text()
    for terminal in ("ABJ-IMP-01", "ABJ-IMP-02", "ABJ-HOST-01"):
        assert terminal in listed
    assert "Plot 14, Central Business District" in listed
    assert api.ok("GET", f"/api/atms/{atm_id}/")["address"] == "Plot 14, Central Business District"


# --- 4. accessibility ---------------------------------------------------------------------

# (role, name, path): {…} filled from the scene. Each ticket page shows actions.
A11Y_PAGES = [
    ("technician", "technician-dashboard", "/dashboard/technician"),
    ("technician", "ticket-assigned-technician", "/tickets/{assigned}"),
    ("technician", "ticket-in-progress-technician", "/tickets/{in_progress}"),
    ("technician", "tickets-technician", "/tickets"),
    ("supervisor", "supervisor-dashboard", "/dashboard/supervisor"),
    ("supervisor", "ticket-open-supervisor", "/tickets/{open}"),
    ("supervisor", "reports-supervisor", "/reports"),
    ("host", "host-dashboard", "/dashboard/host"),
    ("host", "tickets", "/tickets"),
    ("host", "ticket-new", "/tickets/new"),
    ("host", "ticket-in-progress-host", "/tickets/{in_progress}"),
    ("host", "atms", "/atms"),
    ("host", "atm", "/atms/{atm}"),
    ("host", "atm-new", "/atms/new"),
    ("host", "atm-edit", "/atms/{atm}/edit"),
    ("host", "atm-import", "/atms/import"),
    ("host", "reports", "/reports"),
]


def blocking_violations(page):
    """axe-core's serious and critical violations on the page, one line per offending node."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    lines = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in BLOCKING_IMPACTS:
            continue
        for node in violation["nodes"]:
            lines.append(f"{violation['id']} ({violation['impact']}): {node['target']} "
                         f"{node['html'][:160]} -- {violation['help']}")
    return lines


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("role, name, path", A11Y_PAGES, ids=[name for _, name, _ in A11Y_PAGES])
def test_maintenance_pages_have_no_serious_accessibility_violations(
        role, name, path, size, base_url, scene, role_page):
    page = open_page(role_page(role), base_url + path.format(**scene), size)
    if name.startswith("ticket-") and name != "ticket-new":
        assert page.locator("section[aria-labelledby='actions-title'] button").count() > 0
    problems = blocking_violations(page)
    if problems:
        screenshot(page, f"work-a11y-failure-{name}-{size}")
    assert not problems, f"{path} at {size}:\n" + "\n".join(problems)


def test_the_import_page_listing_bad_lines_has_no_serious_accessibility_violations(
        base_url, role_page):
    page = role_page("host")
    for size in SIZES:
        open_page(page, f"{base_url}/atms/import", size)
        upload(page, "broken.csv", "terminal_id,city\nLAG-X,Lagos\n")
        assert page.get_by_role("alert").is_visible()
        problems = blocking_violations(page)
        assert not problems, f"/atms/import with problems at {size}:\n" + "\n".join(problems)


# --- 5. screenshots -----------------------------------------------------------------------

SCREENSHOT_PAGES = [
    ("technician", "work-technician-dashboard", "/dashboard/technician"),
    ("supervisor", "work-supervisor-dashboard", "/dashboard/supervisor"),
    ("host", "work-host-dashboard", "/dashboard/host"),
    ("technician", "work-ticket", "/tickets/{in_progress}"),
    ("host", "work-atm", "/atms/{atm}"),
    ("supervisor", "work-reports", "/reports"),
]


@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots_of_the_main_maintenance_pages(size, base_url, scene, role_page):
    for role, name, path in SCREENSHOT_PAGES:
        page = open_page(role_page(role), base_url + path.format(**scene), size)
        assert page.locator("h1").first.is_visible()
        screenshot(page, f"{name}-{size}")
        assert (SCREENSHOTS / f"{name}-{size}.png").stat().st_size > 0


# --- 6. the technician's board on a phone -----------------------------------------------------

def too_small(locator):
    """Descriptions of the visible elements of `locator` under MIN_TARGET_PX tall."""
    small = []
    for element in locator.all():
        if not element.is_visible():
            continue
        box = element.bounding_box()
        if box["height"] < MIN_TARGET_PX:
            small.append(f"{element.inner_text().strip()!r}: {box['height']:.1f}px tall")
    return small


def test_technician_board_fits_a_phone_and_its_ticket_buttons_are_big_enough(
        base_url, scene, role_page):
    page = open_page(role_page("technician"), f"{base_url}/dashboard/technician", "phone")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the technician dashboard scrolls sideways: {width}px wide"

    take = page.locator("section[aria-labelledby='take-title'] .work__action button")
    opens = page.locator("section[aria-labelledby='work-title'] .work__open")
    assert take.count() >= 1 and opens.count() >= 1
    small = too_small(take) + too_small(opens)
    assert not small, "ticket buttons under 44px on the technician dashboard: " + "; ".join(small)

    for key in ("assigned", "in_progress"):
        open_page(page, f"{base_url}/tickets/{scene[key]}", "phone")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"/tickets/{scene[key]} scrolls sideways: {width}px wide"
        actions = page.locator("section[aria-labelledby='actions-title'] button")
        assert actions.count() >= 1
        small = too_small(actions)
        assert not small, f"action buttons under 44px on /tickets/{scene[key]}: " + "; ".join(small)
