"""How people come into the program, driven end to end in the browser: a visitor nominates
themselves and the team approves them, the team decides in bulk, an advocate keeps their
profile and consent up to date, and a seller nominates a customer."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    ADMIN_EMAIL,
    MAIL_TIMEOUT,
    STAFF_EMAIL,
    VIEWPORTS,
    assert_no_horizontal_scroll,
    screenshot,
    sign_in_by_link,
    wait_for_sign_in_url,
)

MARIA_EMAIL = "maria.lopez@bancoistmeno.example"


# --- helpers --------------------------------------------------------------------------------


def fill_join_form(page: Page, name: str, email: str, company: str, *, story: str = "") -> None:
    """Every required field of /join, plus products and activity types."""
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Work email").fill(email)
    page.get_by_role("textbox", name="Company", exact=True).fill(company)
    page.get_by_label("Job title").fill("Head of Logistics")
    page.get_by_label("Seniority").select_option(label="Director")
    page.get_by_label("Industry").select_option(label="Transport and logistics")
    page.get_by_label("Country you work in").select_option(label="Netherlands")
    page.get_by_label("Time zone").select_option("Europe/Amsterdam")
    page.get_by_role("checkbox", name="Analytics Cloud").check()
    page.get_by_role("checkbox", name="Data Platform").check()
    page.get_by_role("checkbox", name="Reference call").check()
    page.get_by_role("checkbox", name="Case study").check()
    if story:
        page.get_by_label("Your story").fill(story)


def nominate_yourself(page: Page, portal, name: str, email: str, company: str) -> None:
    """/join as a visitor, then the emailed link: the nomination reaches the queue."""
    seen = len(portal.inbox.to(email))
    page.goto("/join")
    fill_join_form(page, name, email, company)
    page.get_by_role("button", name="Send my nomination").click()
    expect(page.get_by_role("heading", name="Almost done: confirm your email")).to_be_visible()
    page.goto(wait_for_sign_in_url(portal.inbox, email, seen))
    page.get_by_role("button", name="Confirm my email").click()
    expect(page.get_by_role("heading", name="Your membership: Waiting for approval")).to_be_visible()


def wait_for_email(inbox, address: str, subject: str):
    """The first email to ``address`` whose subject contains ``subject``."""
    deadline = time.monotonic() + MAIL_TIMEOUT
    while time.monotonic() < deadline:
        for message in inbox.to(address):
            if subject in message["Subject"]:
                return message
        time.sleep(0.1)
    pytest.fail(f"no email to {address} about {subject!r} within {MAIL_TIMEOUT} s")


def check_at_phone_width(browser, portal, page: Page, name: str) -> None:
    """Open the page ``page`` is on in a 375 px phone with the same cookies: nothing scrolls
    sideways. Screenshots of both widths go to screenshots/."""
    screenshot(page, f"{name}-desktop")
    context = browser.new_context(
        base_url=portal.url, storage_state=page.context.storage_state(), **VIEWPORTS["phone"]
    )
    try:
        phone = context.new_page()
        phone.goto(page.url)
        assert phone.evaluate("window.innerWidth") <= 375
        assert_no_horizontal_scroll(phone)
        screenshot(phone, f"{name}-phone")
    finally:
        context.close()


# --- 1. self-nomination, verification, approval ----------------------------------------------


def test_visitor_nominates_themselves_and_the_team_approves(browser, open_page, portal):
    name, email = "Noor Haddad", "noor.haddad@atlasfreight.example"

    # The visitor fills in /join.
    page = open_page("desktop")
    page.goto("/join")
    check_at_phone_width(browser, portal, page, "flow-join")
    fill_join_form(page, name, email, "Atlas Freight", story="We cut planning time in half.")
    page.get_by_role("button", name="Send my nomination").click()

    expect(page).to_have_url(f"{portal.url}/join/check-your-email")
    expect(page.get_by_role("heading", name="Almost done: confirm your email")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(email)
    check_at_phone_width(browser, portal, page, "flow-join-sent")

    # The link in the verification email asks before it confirms (mail scanners open links).
    page.goto(wait_for_sign_in_url(portal.inbox, email, 0))
    expect(page.get_by_role("heading", name=f"Confirm your email, {name}")).to_be_visible()
    check_at_phone_width(browser, portal, page, "flow-confirm-email")
    page.get_by_role("button", name="Confirm my email").click()

    expect(page).to_have_url(f"{portal.url}/home")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("heading", name="Your membership: Waiting for approval")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Advocate for Atlas Freight")
    check_at_phone_width(browser, portal, page, "flow-home-pending")

    # The advocacy team finds it in the queue and approves it.
    admin = open_page("desktop", as_=ADMIN_EMAIL)
    admin.goto("/admin/queue")
    review = admin.get_by_role("link", name=f"Review Self-nomination of {name}")
    expect(review).to_be_visible()
    check_at_phone_width(browser, portal, admin, "flow-queue")
    review.click()

    expect(admin.get_by_role("heading", name=f"Self-nomination: {name}")).to_be_visible()
    facts = admin.locator("dl.facts")
    expect(facts).to_contain_text("Atlas Freight")
    expect(facts).to_contain_text("Head of Logistics · Director")
    expect(facts).to_contain_text("Analytics Cloud, Data Platform")
    expect(facts).to_contain_text("We cut planning time in half.")
    check_at_phone_width(browser, portal, admin, "flow-queue-item")
    admin.get_by_role("button", name="Approve", exact=True).click()

    expect(admin).to_have_url(f"{portal.url}/admin/queue")
    expect(admin.get_by_text("Self-nomination approved; the customer has been told.")).to_be_visible()
    expect(review).to_have_count(0)

    # The customer hears about it by email and sees it on their home page.
    approval = wait_for_email(portal.inbox, email, "your membership is approved")
    assert approval["List-Unsubscribe"], "every email carries a one-click unsubscribe"
    advocate = open_page("desktop")
    sign_in_by_link(advocate, portal, email)
    advocate.goto("/home")
    expect(advocate.get_by_role("heading", name="Your membership: Approved")).to_be_visible()
    news = advocate.get_by_role("article", name="New for you")
    expect(news).to_contain_text("Welcome to the advocacy program: your membership is approved")
    check_at_phone_width(browser, portal, advocate, "flow-home-approved")


# --- 2. bulk decisions over htmx ------------------------------------------------------------


def test_admin_decides_several_items_at_once_in_place(browser, open_page, portal):
    people = [
        ("Bram de Vries", "bram.devries@polderport.example"),
        ("Femke Jansen", "femke.jansen@polderport.example"),
        ("Ruud Bakker", "ruud.bakker@polderport.example"),
    ]
    for name, email in people:
        visitor = open_page("desktop")
        nominate_yourself(visitor, portal, name, email, "Polderport")
        visitor.context.close()

    page = open_page("desktop", as_=ADMIN_EMAIL)
    page.goto("/admin/queue?sort=newest")
    url = page.url
    region = page.locator("#queue-region")
    page.evaluate("window.__notReloaded = true")

    def select(name):
        region.get_by_role("checkbox", name=f"Select Self-nomination of {name}").check()

    # Approve two in bulk: htmx swaps the queue region; the page is not reloaded.
    select(people[0][0])
    select(people[1][0])
    with page.expect_response(lambda r: "/admin/queue/bulk" in r.url) as answer:
        region.get_by_role("button", name="Approve selected").click()
    assert answer.value.request.headers.get("hx-request") == "true"
    assert answer.value.status == 200

    status = page.locator("#queue-region").get_by_role("status")
    expect(status).to_have_text("2 item(s) approved.")
    assert page.url == url
    assert page.evaluate("window.__notReloaded") is True
    for name, _ in people[:2]:
        expect(page.get_by_role("checkbox", name=f"Select Self-nomination of {name}")).to_have_count(0)
    # Keyboard and screen-reader users are taken to the news, not left on a removed button.
    expect(status).to_be_focused()
    screenshot(page, "bulk-approved-desktop")

    # Rejecting without a reason: the error sits next to the reason field, nothing is decided.
    page.locator("#queue-region").get_by_role(
        "checkbox", name=f"Select Self-nomination of {people[2][0]}"
    ).check()
    page.locator("#queue-region").get_by_role("button", name="Reject selected").click()
    reason = page.locator("#queue-region").get_by_label(re.compile("^Reason"))
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_accessible_description("Give a reason: it is sent to the customer.")
    expect(page.locator("#bulk-reason + small.field-error")).to_be_visible()
    expect(reason).to_be_focused()
    # The selection and the page stay as they were, so only the reason needs adding.
    expect(page.get_by_role("checkbox", name=f"Select Self-nomination of {people[2][0]}")).to_be_checked()
    assert page.url == url
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "bulk-reject-error-desktop")

    # With a reason the rejection goes through, still in place.
    reason.fill("We are looking for customers with at least a year on the product.")
    page.locator("#queue-region").get_by_role("button", name="Reject selected").click()
    expect(page.locator("#queue-region").get_by_role("status")).to_have_text("1 item(s) rejected.")
    expect(page.get_by_role("checkbox", name=f"Select Self-nomination of {people[2][0]}")).to_have_count(0)
    assert page.evaluate("window.__notReloaded") is True

    # The customers are told.
    wait_for_email(portal.inbox, people[0][1], "your membership is approved")
    rejected = wait_for_email(portal.inbox, people[2][1], "was not accepted")
    assert "at least a year on the product" in rejected.get_body(preferencelist=("plain",)).get_content()


# --- 3. profile and consent -----------------------------------------------------------------


def test_advocate_edits_profile_and_consent(browser, open_page, portal):
    page = open_page("desktop", as_=MARIA_EMAIL)
    page.goto("/profile")
    details = page.get_by_role("region", name="Details")
    job_title = details.get_by_label("Job title")
    expect(job_title).to_have_value("VP Digital Channels")

    # The story is not a key field: it applies at once.
    story = "Fraud losses fell by a third in the first year, and our customers noticed."
    details.get_by_label("Your story").fill(story)
    details.get_by_role("button", name="Save my profile").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    expect(details.get_by_label("Your story")).to_have_value(story)
    expect(page.get_by_role("article", name="Waiting for approval")).to_have_count(0)

    # The job title is: it waits for the team, and the approved title stays in use.
    job_title.fill("Chief Digital Officer")
    details.get_by_role("button", name="Save my profile").click()
    expect(page.get_by_text("Your new job title or products go to the advocacy team for approval")).to_be_visible()
    pending = page.get_by_role("article", name="Waiting for approval")
    row = pending.get_by_role("row").filter(has_text="Job title")
    expect(row).to_contain_text("VP Digital Channels")
    expect(row).to_contain_text("Chief Digital Officer")
    expect(job_title).to_have_value("VP Digital Channels")
    expect(details.get_by_label("Your story")).to_have_value(story)
    check_at_phone_width(browser, portal, page, "profile-pending-change")

    # Consent: given, then withdrawn; both are dated records.
    consent = page.get_by_role("region", name="What may be shared, and for what")
    quotes = consent.get_by_role("checkbox", name="Quotes and testimonials")
    expect(quotes).not_to_be_checked()
    quotes.check()
    consent.get_by_role("button", name="Save my consent choices").click()
    expect(page.get_by_text("Your consent choices are saved and in force now.")).to_be_visible()
    expect(quotes).to_be_checked()

    quotes.uncheck()
    consent.get_by_role("button", name="Save my consent choices").click()
    expect(page.get_by_text("Your consent choices are saved and in force now.")).to_be_visible()
    expect(quotes).not_to_be_checked()
    # The others were left alone.
    expect(consent.get_by_role("checkbox", name="Case study publication")).to_be_checked()

    consent.get_by_text(re.compile(r"^Consent history")).click()
    records = consent.get_by_role("row").filter(has_text="Quotes and testimonials")
    expect(records).to_have_count(2)  # newest first
    expect(records.nth(0)).to_contain_text("withdrawn")
    expect(records.nth(1)).to_contain_text("granted")
    expect(records.nth(1)).to_contain_text("v1: Quotes I have approved may be used")
    screenshot(page, "profile-consent-history-desktop")

    # The advocacy team sees the proposed title in the queue, not yet on the record.
    admin = open_page("desktop", as_=ADMIN_EMAIL)
    admin.goto("/admin/queue")
    admin.get_by_role("link", name="Review Profile change of María López").click()
    expect(admin.get_by_role("row").filter(has_text="Job title")).to_contain_text("Chief Digital Officer")
    expect(admin.locator("dl.facts")).to_contain_text("VP Digital Channels")
    expect(admin.locator("dl.facts")).to_contain_text(story)


# --- 4. staff nomination --------------------------------------------------------------------


def test_staff_nominates_a_customer(browser, open_page, portal):
    name, email = "Hannah Olsen", "hannah.olsen@fjordline.example"
    page = open_page("desktop", as_=STAFF_EMAIL)
    page.goto("/staff/nominate")
    page.get_by_label("Customer contact's name").fill(name)
    page.get_by_label("Their work email").fill(email)
    page.get_by_label("Their company").fill("Fjordline Logistics")
    page.get_by_label("Their job title").fill("Fleet Manager")
    page.get_by_label("Why would they be a good advocate?").fill("Rolled out route planning to 40 depots in a quarter.")
    check_at_phone_width(browser, portal, page, "staff-nominate-filled")
    page.get_by_role("button", name="Nominate").click()

    expect(page).to_have_url(f"{portal.url}/staff/nominations")
    expect(page.get_by_text("The customer has been invited to confirm and give consent.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("Fjordline Logistics")
    expect(row.locator(".badge")).to_have_text("Invited")
    check_at_phone_width(browser, portal, page, "staff-nominations")

    invitation = wait_for_email(portal.inbox, email, "has nominated you")
    body = invitation.get_body(preferencelist=("plain",)).get_content()
    assert "Rolled out route planning to 40 depots in a quarter." in body
