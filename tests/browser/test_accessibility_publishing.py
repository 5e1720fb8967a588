"""WCAG 2.2 AA on the team's publishing pages (feed status with a consistency check's result,
API tokens, a new token shown once, a token form with a mistake), at desktop and phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_EMAIL, check_page, go_by_menu


def publishing(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin")
    go_by_menu(page, "Data", "Publishing")
    expect(page.get_by_role("heading", name="Publishing to the reference database")).to_be_visible()
    consistency = page.get_by_role("region", name="Consistency")
    consistency.get_by_role("button", name="Check now").click()  # run by the job consumer
    expect(page.get_by_role("status").filter(has_text="The check has started")).to_be_visible()
    expect(consistency).to_contain_text("a rebuild would change nothing", timeout=30_000)
    return page


def api_token_created(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/publishing")
    page.get_by_role("link", name="manage API tokens").click()
    page.get_by_label("Used by").fill("Gainsight health feed")
    page.get_by_label(re.compile("Report account health")).check()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Copy the new token now")).to_be_visible()
    expect(page.locator("#new-token")).to_have_text(re.compile(r"^ap_"))
    expect(page.get_by_role("region", name="Tokens")).to_contain_text("Gainsight health feed")
    expect(page.get_by_role("region", name="Tokens")).to_contain_text("accounts:write")
    return page


def api_token_with_mistake(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/publishing/tokens")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("Used by")).to_have_accessible_description(re.compile("Name the system"))
    return page


PAGES = [publishing, api_token_created, api_token_with_mistake]


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("visit", PAGES, ids=lambda visit: visit.__name__.replace("_", "-"))
def test_publishing_page_is_accessible(open_page, portal, visit, size):
    page = visit(lambda as_=None: open_page(size, as_=as_), portal)
    check_page(page, f"publishing-{visit.__name__.replace('_', '-')}-{size}")
