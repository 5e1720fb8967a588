"""Asking advocates, driven end to end in the browser: a seller asks for references and
follows the answers, and the team asks María López within the limits she and the program
set — a second ask the same month is refused with the date it would be allowed.

The two tests share María and the program's rules with the rest of the session, so the
order matters: the seller's ask to María is withdrawn again (it stops counting), and the
program's rules are put back to the defaults at the end."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    ADMIN_EMAIL,
    STAFF_EMAIL,
    VIEWPORTS,
    assert_no_horizontal_scroll,
    screenshot,
)

MARIA_EMAIL = "maria.lopez@bancoistmeno.example"
MARIA = "María López"
MARIA_TZ = ZoneInfo("America/Panama")
DEFAULT_RULES = {"month": "1", "quarter": "3", "light": "14", "heavy": "60"}


# --- helpers --------------------------------------------------------------------------------


def check_at_phone_width(browser, portal, page: Page, name: str) -> None:
    """The page ``page`` is on, at 375 px with the same cookies: nothing scrolls sideways.
    Screenshots of both widths go to screenshots/."""
    screenshot(page, f"{name}-desktop")
    context = browser.new_context(
        base_url=portal.url, storage_state=page.context.storage_state(), **VIEWPORTS["phone"]
    )
    try:
        phone = context.new_page()
        phone.goto(page.url)
        assert_no_horizontal_scroll(phone)
        screenshot(phone, f"{name}-phone")
    finally:
        context.close()


def mark_page(page: Page) -> None:
    """A flag on the window: still there after an htmx swap, gone after a page load."""
    page.evaluate("window.__notReloaded = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded, not updated in place"


def set_program_rules(page: Page, month: str, quarter: str, light: str, heavy: str) -> None:
    page.goto("/admin/settings")
    page.get_by_label("Asks a month, at most").fill(month)
    page.get_by_label("Asks a quarter, at most").fill(quarter)
    page.get_by_label("Days of rest after a light ask").fill(light)
    page.get_by_label("Days of rest after a heavy ask").fill(heavy)
    page.get_by_role("button", name="Save contact rules").click()
    expect(page.get_by_text("The contact rules are saved; they apply to the next ask.")).to_be_visible()
    expect(page.get_by_label("Asks a month, at most")).to_have_value(month)


def fill_ask(page: Page, prospect: str, due_on: date, notes: str = "") -> None:
    page.get_by_label("What you ask for").select_option(label="Reference call")
    page.get_by_role("textbox", name="Prospect", exact=True).fill(prospect)
    page.get_by_label("Answer needed by").fill(due_on.isoformat())
    if notes:
        page.get_by_label("Notes for the advocate").fill(notes)


def choose_region(select, name: str) -> None:
    """Regions are listed as a tree, indented with dashes: choose the one called ``name``."""
    value = select.locator("option").filter(has_text=re.compile(rf"(^|\s){re.escape(name)}$")).get_attribute("value")
    select.select_option(value)


def first_of_next_month(today: date) -> date:
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1)


# --- 1. a seller's reference request ---------------------------------------------------------


def test_seller_requests_references_and_follows_the_ask(browser, open_page, portal):
    prospect = "Istmo Seguros"
    due_on = date.today() + timedelta(days=12)

    # The seller files a request at /staff/requests.
    staff = open_page("desktop", as_=STAFF_EMAIL)
    staff.goto("/staff/requests")
    check_at_phone_width(browser, portal, staff, "flow-staff-requests")
    new = staff.get_by_role("region", name="New request")
    new.get_by_role("textbox", name="Prospect", exact=True).fill(prospect)
    new.get_by_label("Opportunity id (CRM)").fill("OPP-9120")
    new.get_by_label("Deal size").fill("300000")
    new.get_by_label("Needed by").fill(due_on.isoformat())
    new.get_by_label("What the advocate should do").select_option(label="Reference call")
    new.get_by_label("How many advocates").fill("1")
    new.get_by_role("checkbox", name="Analytics Cloud").check()
    new.get_by_role("checkbox", name="Payments Gateway").check()
    new.get_by_label("Industry").select_option(label="Financial services")
    choose_region(new.get_by_label("Region"), "Central America")
    new.get_by_label("What the prospect wants to hear about").fill("How the rollout went in a regulated bank.")
    new.get_by_role("button", name="Request references").click()

    expect(staff.get_by_text("Your request is with the advocacy team. You can follow it below.")).to_be_visible()
    mine = staff.get_by_role("region", name="My requests").get_by_role("article").filter(has_text=prospect)
    expect(mine).to_contain_text("1 × Reference call")
    expect(mine).to_contain_text("No advocate asked yet.")

    # The team sees it in the queue as a seller's deal and opens it.
    admin = open_page("desktop", as_=ADMIN_EMAIL)
    admin.goto("/admin/queue")
    row = admin.get_by_role("row").filter(has_text=f"Reference call for {prospect}")
    expect(row).to_contain_text("A seller's deal")
    expect(row).to_contain_text("Sam Seller")
    row.get_by_role("link", name=re.compile(r"^Review Reference request")).click()

    expect(admin.get_by_role("heading", name=f"Reference request: {prospect}")).to_be_visible()
    deal = admin.get_by_role("article").filter(has=admin.get_by_role("heading", name="The deal"))
    expect(deal).to_contain_text("Sam Seller")
    expect(deal).to_contain_text("OPP-9120")
    expect(deal).to_contain_text("1 × Reference call")
    expect(deal).to_contain_text("None yet.")
    check_at_phone_width(browser, portal, admin, "flow-queue-reference-request")
    admin.get_by_role("button", name="Find available advocates who fit").click()

    # The directory, filtered to the request and to who is free now: María fits.
    expect(admin.get_by_role("heading", name="Advocates")).to_be_visible()
    expect(admin.get_by_role("switch", name="Available now")).to_be_checked()
    expect(admin.get_by_text("Finding advocates for a seller's request")).to_be_visible()
    results = admin.get_by_role("table")
    expect(results.get_by_role("link", name=MARIA, exact=True)).to_be_visible()
    for busy in ("Alex Advocate", "Diego Mora", "Kenji Sato", "Carlos Méndez"):
        expect(results.get_by_text(busy)).to_have_count(0)
    check_at_phone_width(browser, portal, admin, "flow-advocates-for-request")
    admin.get_by_role("link", name=f"Ask {MARIA}").click()

    # The ask form is filled in from the request and tied to it.
    expect(admin.get_by_role("heading", name=f"Ask {MARIA}")).to_be_visible()
    expect(admin.get_by_text(f"For Sam Seller's request about {prospect}.")).to_be_visible()
    expect(admin.get_by_role("textbox", name="Prospect", exact=True)).to_have_value(prospect)
    expect(admin.get_by_label("Answer needed by")).to_have_value(due_on.isoformat())
    admin.get_by_role("button", name="Send ask").click()
    expect(admin.get_by_text(f"Asked {MARIA} for Reference call.")).to_be_visible()
    expect(admin.get_by_role("heading", name=f"Reference call for {prospect}")).to_be_visible()
    ask_url = admin.url

    # The seller sees the ask under the request, without the advocate's name until she agrees.
    staff.goto("/staff/requests")
    mine = staff.get_by_role("region", name="My requests").get_by_role("article").filter(has_text=prospect)
    expect(mine.get_by_role("listitem")).to_have_text(re.compile(r"An advocate\s+\(asked\): waiting for answer"))
    expect(mine).not_to_contain_text(MARIA)
    check_at_phone_width(browser, portal, staff, "flow-staff-request-asked")

    # The queue item lists the ask made for it.
    admin.goto("/admin/queue")
    admin.get_by_role("row").filter(has_text=f"Reference call for {prospect}").get_by_role(
        "link", name=re.compile(r"^Review Reference request")
    ).click()
    expect(admin.get_by_role("heading", name="Asks made for it")).to_be_visible()
    expect(admin.get_by_role("link", name=MARIA, exact=True)).to_be_visible()

    # Put María back as she was (a withdrawn ask does not count), for the next test.
    admin.goto(ask_url)
    admin.get_by_role("button", name="Withdraw this ask").click()
    expect(admin.get_by_text("Ask withdrawn; the advocate has been told.")).to_be_visible()
    staff.goto("/staff/requests")
    mine = staff.get_by_role("region", name="My requests").get_by_role("article").filter(has_text=prospect)
    expect(mine.get_by_role("listitem")).to_contain_text("withdrawn")


# --- 2. limits: the program's, María's own, and a refused second ask ------------------------


def test_ask_within_limits_second_refused_and_accepted(browser, open_page, portal):
    admin = open_page("desktop", as_=ADMIN_EMAIL)
    try:
        _limits_scenario(browser, open_page, portal, admin)
    finally:
        # The server is shared by the whole session: put the program's defaults back.
        set_program_rules(admin, **DEFAULT_RULES)


def _limits_scenario(browser, open_page, portal, admin: Page) -> None:
    today = datetime.now(MARIA_TZ).date()
    prospect = "Banco Pacífico Norte"

    # The team allows two asks a month, and no rest after a light ask.
    set_program_rules(admin, month="2", quarter="3", light="0", heavy="60")
    check_at_phone_width(browser, portal, admin, "flow-settings")

    # María keeps to one a month (htmx: the section updates in place).
    maria = open_page("desktop", as_=MARIA_EMAIL)
    maria.goto("/preferences")
    contact = maria.get_by_role("region", name="Requests: what, how often, how and when")
    month = contact.get_by_label("At most this many asks a month")
    expect(month.locator("option")).to_have_text(["Program default (2)", "0", "1", "2"])
    mark_page(maria)
    month.select_option("1")
    contact.get_by_role("button", name="Save contact preferences").click()
    saved = contact.get_by_role("status")
    expect(saved).to_have_text("Saved. Your preferences apply to the next request.")
    expect(saved).to_be_focused()
    assert_not_reloaded(maria)
    expect(month).to_have_value("1")
    expect(contact.get_by_test_id("usage")).to_contain_text("0 of 1 this month")
    expect(contact.get_by_test_id("usage")).to_contain_text("You can receive a new request now.")
    check_at_phone_width(browser, portal, maria, "flow-preferences")

    # The team searches for who fits the deal and is free: María is.
    admin.goto("/admin/advocates")
    admin.get_by_label("Products (all of)").select_option(label=["Analytics Cloud", "Payments Gateway"])
    admin.get_by_label("Industry").select_option(label="Financial services")
    choose_region(admin.get_by_label("Region"), "Central America")
    admin.get_by_role("switch", name="Available now").check()
    admin.get_by_role("button", name="Search").click()
    results = admin.get_by_role("table")
    expect(results.get_by_role("link", name=MARIA, exact=True)).to_be_visible()
    expect(results.get_by_role("row").filter(has_text=MARIA)).to_contain_text("Banco Istmeño")
    check_at_phone_width(browser, portal, admin, "flow-advocates-available")
    admin.get_by_role("link", name=f"Ask {MARIA}").click()

    expect(admin.get_by_role("heading", name=f"Ask {MARIA}")).to_be_visible()
    expect(admin.get_by_test_id("usage")).to_contain_text("0 of 1 this month")
    new_ask_url = admin.url
    due_on = today + timedelta(days=7)
    fill_ask(admin, prospect, due_on, notes="A 30-minute call about fraud losses after go-live.")
    admin.get_by_role("button", name="Send ask").click()
    expect(admin.get_by_text(f"Asked {MARIA} for Reference call.")).to_be_visible()
    expect(admin.get_by_role("heading", name=f"Reference call for {prospect}")).to_be_visible()
    expect(admin.locator("dl.facts")).to_contain_text("Sent")

    # A second ask the same month: the rules refuse it and say when it would be allowed.
    admin.goto(new_ask_url)
    fill_ask(admin, "Seguros del Canal", today + timedelta(days=9))
    admin.get_by_role("button", name="Send ask").click()
    refusal = admin.get_by_role("alert").filter(has=admin.get_by_role("heading", name="The rules refuse this ask"))
    expect(refusal).to_be_visible()
    expect(refusal.get_by_role("listitem")).to_have_text(
        f"{MARIA} allows 1 ask a month and has 1 in {today:%B %Y}."
    )
    nxt = first_of_next_month(today)
    expect(refusal).to_contain_text(f"Next date it would be allowed: {nxt.day} {nxt:%B %Y}")
    expect(admin.get_by_role("button", name="Send anyway")).to_be_visible()
    check_at_phone_width(browser, portal, admin, "flow-ask-refused")
    admin.goto("/admin/asks")
    expect(admin.get_by_role("row").filter(has_text="Seguros del Canal")).to_have_count(0)

    # María sees the ask with its context and accepts it in place.
    maria.goto("/asks")
    ask = maria.get_by_role("region", name="Waiting for your answer").get_by_role(
        "article", name=f"Reference call for {prospect}"
    )
    expect(ask).to_contain_text("A 30-minute call about fraud losses after go-live.")
    expect(ask).to_contain_text(f"{due_on.day} {due_on:%B %Y}")
    expect(ask.locator(".badge")).to_have_text("Waiting for answer")
    check_at_phone_width(browser, portal, maria, "flow-asks-open")
    mark_page(maria)
    ask.get_by_role("button", name="Accept").click()
    expect(ask.get_by_role("status")).to_have_text("Thank you: your answer is recorded.")
    expect(ask.locator(".badge")).to_have_text("Accepted")
    expect(ask.get_by_role("button", name="Accept")).to_have_count(0)
    assert_not_reloaded(maria)

    maria.goto("/preferences")
    expect(maria.get_by_test_id("usage")).to_contain_text("1 of 1 this month")
    expect(maria.get_by_test_id("usage")).to_contain_text(f"from {nxt.day} {nxt:%B %Y}")

    # The team sees the answer.
    admin.goto("/admin/asks?status=accepted")
    expect(admin.get_by_role("row").filter(has_text=prospect)).to_contain_text(MARIA)
