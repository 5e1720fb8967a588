"""WCAG 2.2 AA on the reporting pages (the dashboard with its charts, growth targets with a
mistake beside its field, program reports, a drawn report, staff's recruiting calls), at
desktop and phone width, with the demo program's data."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_EMAIL, STAFF_EMAIL, check_page


def dashboard(open):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin")
    expect(page.get_by_role("heading", name="Nomination funnel")).to_be_visible()
    expect(page.get_by_role("img", name="Nomination funnel", exact=False)).to_be_visible()
    expect(page.get_by_role("heading", name="Coverage against growth targets")).to_be_visible()
    expect(page.get_by_role("region", name="Unmet demand")).to_contain_text("Central America")
    return page


def coverage(open):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/coverage")
    expect(page.get_by_role("article", name="Healthcare · APAC · Identity Suite")).to_contain_text("Staff see this recruiting call")
    return page


def coverage_with_mistake(open):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/coverage")
    page.get_by_role("button", name="Save target").click()
    expect(page.get_by_label("Advocates wanted")).to_have_accessible_description("Enter how many advocates you want. " +
        "Available advocates you want for this combination; setting it again for the same combination changes the number.")
    return page


def reports(open):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/reports")
    page.get_by_role("button", name="Make the PDF").click()
    expect(page.get_by_role("link", name="Download the", exact=False)).to_be_visible()
    return page


def reports_list(open):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/reports")
    expect(page.get_by_role("heading", name="Reports made")).to_be_visible()
    return page


def staff_nominate(open):
    page = open(as_=STAFF_EMAIL)
    page.goto("/staff/nominate")
    expect(page.get_by_role("region", name="Customers the program is looking for")).to_contain_text("Healthcare · APAC")
    return page


PAGES = [dashboard, coverage, coverage_with_mistake, reports, reports_list, staff_nominate]


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("visit", PAGES, ids=lambda visit: visit.__name__.replace("_", "-"))
def test_reporting_page_is_accessible(open_page, portal, visit, size):
    page = visit(lambda as_=None: open_page(size, as_=as_))
    check_page(page, f"reporting-{visit.__name__.replace('_', '-')}-{size}")


def test_the_dashboard_downloads_csv_and_the_report_pdf(open_page, portal):
    page = open_page("desktop", as_=ADMIN_EMAIL)
    page.goto("/admin")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the points ledger (CSV)").click()
    assert download.value.suggested_filename.startswith("points-ledger-")
    page.get_by_role("link", name="Program report (PDF)").click()
    page.get_by_role("button", name="Make the PDF").click()
    with page.expect_download() as pdf:
        page.get_by_role("link", name="Download the", exact=False).click()
    assert pdf.value.suggested_filename.endswith(".pdf")
    with open(pdf.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
