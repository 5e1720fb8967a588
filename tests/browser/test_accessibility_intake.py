"""WCAG 2.2 AA on the intake pages (joining, profiles, consent, the approval queue, the
directory, imports, taxonomies), at desktop and phone width, in every state people meet them
in; and /join completed with the keyboard alone."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    ADMIN_EMAIL,
    ADVOCATE_EMAIL,
    MAIL_TIMEOUT,
    STAFF_EMAIL,
    check_page,
)

PENDING_EMAIL = "priya.nair@blrsoftware.example"  # self-nominated, waiting (and overdue)
INVITED_EMAIL = "sophie.martin@lumiere-energie.example"  # nominated by staff, not confirmed yet
CHANGE_EMAIL = "carlos.mendez@agroexports-gt.example"  # approved, a title change waiting


def unsubscribe_path(inbox) -> str:
    """The path of the one-click unsubscribe link in an email the portal sent."""
    deadline = time.monotonic() + MAIL_TIMEOUT
    while time.monotonic() < deadline:
        for message in inbox.messages:
            if header := message["List-Unsubscribe"]:
                return re.search(r"<https?://[^/]+(/unsubscribe/[^>]+)>", header).group(1)
        time.sleep(0.1)
    pytest.fail("no email with a List-Unsubscribe header arrived")


# --- the pages, each as people reach it -----------------------------------------------------
# Each takes ``open(as_=None)`` (a page at the test's width, signed in as that person) and the
# portal, and returns the page to check.


def join(open, portal):
    page = open()
    page.goto("/join")
    return page


def join_with_errors(open, portal):
    page = open()
    page.goto("/join")
    page.get_by_label("Work email").fill("not an email")
    page.get_by_role("button", name="Send my nomination").click()
    expect(page.get_by_text("Enter your name.")).to_be_visible()
    expect(page.get_by_label("Work email")).to_have_accessible_description(
        re.compile("Enter an email address like name@company.com.")
    )
    return page


def join_check_your_email(open, portal):
    page = open()
    page.goto("/join/check-your-email")
    expect(page.get_by_role("heading", name="Almost done: confirm your email")).to_be_visible()
    return page


def unsubscribe(open, portal):
    page = open()
    page.goto(unsubscribe_path(portal.inbox))
    expect(page.get_by_role("button", name="Unsubscribe")).to_be_visible()
    return page


def home_approved(open, portal):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/home")
    expect(page.get_by_role("heading", name="Your membership: Approved")).to_be_visible()
    return page


def home_pending(open, portal):
    page = open(as_=PENDING_EMAIL)
    page.goto("/home")
    expect(page.get_by_role("heading", name="Your membership: Waiting for approval")).to_be_visible()
    return page


def home_invited(open, portal):
    page = open(as_=INVITED_EMAIL)
    page.goto("/home")
    expect(page.get_by_role("heading", name="Your membership: Invited")).to_be_visible()
    return page


def profile(open, portal):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/profile")
    page.get_by_text(re.compile(r"^Consent history")).click()  # the table inside is checked too
    expect(page.get_by_role("columnheader", name="Wording shown")).to_be_attached()
    return page


def profile_invited(open, portal):
    page = open(as_=INVITED_EMAIL)
    page.goto("/profile")
    expect(page.get_by_role("heading", name="You are invited")).to_be_visible()
    return page


def profile_with_pending_change(open, portal):
    page = open(as_=CHANGE_EMAIL)
    page.goto("/profile")
    expect(page.get_by_role("heading", name="Waiting for approval")).to_be_visible()
    return page


def job_change(open, portal):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/profile/job-change")
    expect(page.get_by_role("heading", name="I changed jobs")).to_be_visible()
    return page


def preferences(open, portal):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/preferences")
    return page


def privacy(open, portal):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/privacy")
    return page


def staff_nominate(open, portal):
    page = open(as_=STAFF_EMAIL)
    page.goto("/staff/nominate")
    return page


def staff_nominations(open, portal):
    page = open(as_=STAFF_EMAIL)
    page.goto("/staff/nominations")
    expect(page.get_by_role("cell", name=re.compile("Sophie Martin"))).to_be_visible()
    return page


def admin_queue(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/queue")
    return page


def admin_queue_nomination(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/queue")
    page.get_by_role("link", name="Review Self-nomination of Priya Nair").click()
    expect(page.get_by_role("heading", name="Self-nomination: Priya Nair")).to_be_visible()
    return page


def admin_queue_profile_change(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/queue")
    page.get_by_role("link", name="Review Profile change of Carlos Méndez").click()
    expect(page.get_by_role("heading", name="Proposed change")).to_be_visible()
    return page


def admin_advocates_filtered(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/advocates")
    page.get_by_label("Status").select_option(label="Approved")
    page.get_by_label("Products (all of)").select_option(label="Analytics Cloud")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Clear filters")).to_be_visible()
    expect(page.get_by_role("link", name="Alex Advocate", exact=True)).to_be_visible()
    return page


def admin_advocate_detail(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/advocates?q=advocate%40example.com")
    page.get_by_role("link", name="Alex Advocate", exact=True).click()
    expect(page.get_by_role("heading", name="Alex Advocate", exact=True)).to_be_visible()
    page.get_by_text(re.compile(r"^Consent history")).click()
    return page


def admin_audit(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/audit")
    return page


def admin_import(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/import")
    page.get_by_text("Columns", exact=True).click()
    return page


def admin_taxonomies(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/taxonomies")
    return page


def admin_new_region(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/taxonomies/regions/new")
    return page


PAGES = [
    join,
    join_with_errors,
    join_check_your_email,
    unsubscribe,
    home_approved,
    home_pending,
    home_invited,
    profile,
    profile_invited,
    profile_with_pending_change,
    job_change,
    preferences,
    privacy,
    staff_nominate,
    staff_nominations,
    admin_queue,
    admin_queue_nomination,
    admin_queue_profile_change,
    admin_advocates_filtered,
    admin_advocate_detail,
    admin_audit,
    admin_import,
    admin_taxonomies,
    admin_new_region,
]


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("visit", PAGES, ids=lambda visit: visit.__name__.replace("_", "-"))
def test_intake_page_is_accessible(open_page, portal, visit, size):
    page = visit(lambda as_=None: open_page(size, as_=as_), portal)
    check_page(page, f"{visit.__name__.replace('_', '-')}-{size}")


# --- the keyboard ---------------------------------------------------------------------------

FOCUS_STYLE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const ring = style.boxShadow && style.boxShadow !== 'none';
  return {
    tag: el.tagName.toLowerCase(), type: el.type || '', id: el.id,
    name: (el.labels && el.labels[0] ? el.labels[0].innerText : el.innerText || '').trim().slice(0, 40),
    visible: el.matches(':focus-visible') && (outline || ring),
  };
}"""


def test_join_form_can_be_completed_with_the_keyboard_alone(open_page, portal):
    email = "kai.lindqvist@nordvind.example"
    page = open_page("desktop")
    page.goto("/join")
    typed = {
        "name": "Kai Lindqvist",
        "email": email,
        "company": "Nordvind",
        "job_title": "Platform Lead",
        "story": "Typed without a mouse.",
    }
    first_choice = {"seniority", "industry", "country"}  # ArrowDown picks the first real option
    ticked = {"products-0", "activity_types-0"}
    stops, done = [], set()
    for _ in range(80):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_STYLE)
        stops.append(focus)
        assert focus["visible"], f"no visible focus indicator on {focus}"
        if focus["id"] in typed:
            page.keyboard.type(typed[focus["id"]])
        elif focus["id"] in first_choice:
            page.keyboard.press("ArrowDown")
        elif focus["id"] in ticked:
            page.keyboard.press("Space")
        else:
            continue
        done.add(focus["id"])
        if focus["id"] == "story":
            break
    assert done == set(typed) | first_choice | ticked, f"not reached with Tab: {stops}"

    page.keyboard.press("Tab")
    submit = page.get_by_role("button", name="Send my nomination")
    expect(submit).to_be_focused()
    assert page.evaluate(FOCUS_STYLE)["visible"]
    expect(page.locator("#products-0")).to_be_checked()
    expect(page.locator("#country")).not_to_have_value("")
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{portal.url}/join/check-your-email")
    expect(page.get_by_role("main")).to_contain_text(email)
