"""WCAG 2.2 AA on the asks pages (contact preferences, the advocate's requests, sending and
following asks, the contact rules, availability in the directory, sellers' reference
requests), at desktop and phone width, in the states people meet them in.

Nothing here changes what the flows in test_asks_flows.py rely on: the only asks sent are
refused by the rules, and the preferences form is only submitted with a mistake."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    ADMIN_EMAIL,
    ADVOCATE_EMAIL,
    STAFF_EMAIL,
    check_page,
)

CARLOS_EMAIL = "carlos.mendez@agroexports-gt.example"  # an open ask, and an expired one


# --- the pages, each as people reach it -----------------------------------------------------
# Each takes ``open(as_=None)`` (a page at the test's width, signed in as that person) and the
# portal, and returns the page to check.


def preferences(open, portal):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/preferences")
    expect(page.get_by_test_id("usage")).to_contain_text("this month")
    return page


def preferences_with_error(open, portal):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/preferences")
    contact = page.get_by_role("region", name="Requests: what, how often, how and when")
    contact.get_by_label("At most this many asks a month").select_option("1")
    contact.get_by_label("At most this many asks a quarter").select_option("0")
    contact.get_by_role("button", name="Save contact preferences").click()
    # htmx swaps the section in place with the mistake beside the field.
    expect(contact.get_by_label("At most this many asks a quarter")).to_have_accessible_description(
        re.compile("allow at least as many a quarter as a month")
    )
    expect(page).to_have_url(re.compile(r"/preferences$"))
    return page


def asks_open_and_history(open, portal):
    page = open(as_=CARLOS_EMAIL)
    page.goto("/asks")
    waiting = page.get_by_role("region", name="Waiting for your answer")
    expect(waiting.get_by_role("article", name="Product feedback for Mobile SDK beta")).to_be_visible()
    expect(waiting.get_by_role("button", name="Accept")).to_be_visible()
    earlier = page.get_by_role("region", name="Earlier requests")
    expect(earlier).to_contain_text("G2 spring campaign")
    return page


def admin_asks(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/asks")
    expect(page.get_by_role("link", name="Alex Advocate").first).to_be_visible()
    return page


def _ask_alex(page):
    page.goto("/admin/advocates?q=advocate%40example.com")
    page.get_by_role("link", name="Ask Alex Advocate").click()
    expect(page.get_by_role("heading", name="Ask Alex Advocate")).to_be_visible()


def admin_new_ask(open, portal):
    page = open(as_=ADMIN_EMAIL)
    _ask_alex(page)
    return page


def admin_new_ask_refused(open, portal):
    page = open(as_=ADMIN_EMAIL)
    _ask_alex(page)
    page.get_by_label("What you ask for").select_option(label="Reference call")
    page.get_by_label("Prospect").fill("Harbour Insurance")
    page.get_by_label("Answer needed by").fill("2099-01-15")
    page.get_by_role("button", name="Send ask").click()
    refusal = page.get_by_role("alert").filter(has_text="The rules refuse this ask")
    expect(refusal).to_be_visible()
    expect(page.get_by_role("button", name="Send anyway")).to_be_visible()
    return page


def admin_ask_accepted(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/asks?status=accepted")
    page.get_by_role("row").filter(has_text="Gulf Coast Bank").get_by_role("link", name="Alex Advocate").click()
    expect(page.get_by_role("heading", name="Reference call for Gulf Coast Bank")).to_be_visible()
    expect(page.get_by_role("heading", name="Record the outcome")).to_be_visible()
    return page


def admin_settings(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/settings")
    expect(page.get_by_label("Asks a month, at most")).to_be_visible()
    return page


def admin_advocates_available(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/advocates?available=y")
    expect(page.get_by_role("switch", name="Available now")).to_be_checked()
    return page


def staff_requests(open, portal):
    page = open(as_=STAFF_EMAIL)
    page.goto("/staff/requests")
    expect(page.get_by_role("region", name="My requests")).to_contain_text("Banco Centroamericano")
    return page


def admin_queue_reference_request(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/queue?kind=reference_request")
    page.get_by_role("link", name=re.compile(r"^Review Reference request")).first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Reference request: "))).to_be_visible()
    expect(page.get_by_role("button", name="Find available advocates who fit")).to_be_visible()
    return page


PAGES = [
    preferences,
    preferences_with_error,
    asks_open_and_history,
    admin_asks,
    admin_new_ask,
    admin_new_ask_refused,
    admin_ask_accepted,
    admin_settings,
    admin_advocates_available,
    staff_requests,
    admin_queue_reference_request,
]


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("visit", PAGES, ids=lambda visit: visit.__name__.replace("_", "-"))
def test_asks_page_is_accessible(open_page, portal, visit, size):
    page = visit(lambda as_=None: open_page(size, as_=as_), portal)
    check_page(page, f"asks-{visit.__name__.replace('_', '-')}-{size}")
