"""What the team and sellers tripped over (issue 17), in the browser at desktop width on the
demo program: each page shows what was missing. The tests leave the demo as they found it
(nothing is sent, imported or kept), so the order of the session's tests does not matter."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN_EMAIL, STAFF_EMAIL, check_page, screenshot


def open_record(page: Page, name: str) -> None:
    page.goto(f"/admin/advocates?q={name.split()[0]}")
    page.get_by_role("link", name=name, exact=True).first.click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


# 1 ---------------------------------------------------------------------------------------------


def test_send_anyway_without_a_reason_shows_the_error_beside_the_reason(open_page):
    page = open_page("desktop", as_=ADMIN_EMAIL)
    open_record(page, "Alex Advocate")
    page.get_by_role("button", name="Ask Alex Advocate").click()
    page.get_by_label("What you ask for").select_option(label="Reference call")
    page.get_by_role("textbox", name="Prospect", exact=True).fill("Override Test Co")
    page.get_by_label("Answer needed by").fill("2030-01-15")
    page.get_by_label("Notes for the advocate").fill("Kept after the refusal")
    page.get_by_role("button", name="Send ask").click()
    expect(page.get_by_role("heading", name="The rules refuse this ask")).to_be_visible()

    page.get_by_role("button", name="Send anyway").click()

    reason = page.get_by_label("Send anyway, because …")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_accessible_description(re.compile(r"^Write why you send it despite the rules: it goes into the audit trail\."))
    expect(page.get_by_label("Notes for the advocate")).to_have_value("Kept after the refusal")
    expect(page.get_by_role("textbox", name="Prospect", exact=True)).to_have_value("Override Test Co")
    check_page(page, "team-send-anyway-empty-reason")


# 2 ---------------------------------------------------------------------------------------------


def test_a_sent_requests_criteria_show_on_the_sellers_card_and_the_teams_page(open_page):
    staff = open_page("desktop", as_=STAFF_EMAIL)
    staff.goto("/staff/requests")
    card = staff.get_by_role("region", name="My requests").get_by_role("article").filter(has_text="Banco Centroamericano")
    for text in ("2 × Reference call", "Analytics Cloud, Payments Gateway", "Financial services", "Central America"):
        expect(card).to_contain_text(text)
    screenshot(staff, "team-seller-request-criteria")

    admin = open_page("desktop", as_=ADMIN_EMAIL)
    admin.goto("/admin/queue?kind=reference_request")
    admin.get_by_role("row").filter(has_text="Banco Centroamericano").get_by_role("link", name=re.compile("^Review")).click()
    facts = admin.get_by_role("heading", name="Who the seller is looking for").locator("xpath=following-sibling::dl[1]")
    for text in ("2 × Reference call", "Analytics Cloud, Payments Gateway", "Financial services", "Central America"):
        expect(facts).to_contain_text(text)
    check_page(admin, "team-request-criteria")


# 3 ---------------------------------------------------------------------------------------------


def test_the_team_sees_staff_nominations_waiting_for_the_customer(open_page):
    page = open_page("desktop", as_=ADMIN_EMAIL)
    page.goto("/admin/queue")
    page.get_by_role("navigation", name="Queue views").get_by_role("link", name="Waiting for the customer").click()

    expect(page.get_by_role("heading", level=1, name="Waiting for the customer")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Sophie Martin")
    expect(row).to_contain_text("Sam Seller")
    expect(row).to_contain_text("20 days ago")
    expect(row).to_contain_text(re.compile("Expir"))
    check_page(page, "team-invitations-waiting")


# 4 ---------------------------------------------------------------------------------------------


def test_an_advocates_record_shows_points_balance_and_history(open_page):
    page = open_page("desktop", as_=ADMIN_EMAIL)
    open_record(page, "Alex Advocate")

    points = page.get_by_role("region", name="Points")
    expect(points.get_by_test_id("points-balance")).to_contain_text(re.compile(r"\d+ points"))
    expect(points.get_by_role("table")).to_contain_text("Balance after")
    expect(points.get_by_role("table")).to_contain_text("Nomination approved")
    check_page(page, "team-advocate-points")


# 5 ---------------------------------------------------------------------------------------------


def test_the_asks_list_shows_the_amount_of_a_won_ask(open_page):
    page = open_page("desktop", as_=ADMIN_EMAIL)
    page.goto("/admin/asks?status=completed")

    expect(page.get_by_role("row").filter(has_text="Nordic Payments")).to_contain_text("Completed · won · $120,000.00")
    check_page(page, "team-asks-won-amount")


# 6 and 7 ---------------------------------------------------------------------------------------


def test_a_new_growth_target_shows_on_the_next_dashboard_load(open_page):
    page = open_page("desktop", as_=ADMIN_EMAIL)
    page.goto("/admin")
    coverage = page.get_by_role("region", name="Coverage against growth targets")
    expect(coverage).not_to_contain_text("Mining")  # and the figures are now kept for a minute

    page.goto("/admin/coverage")
    page.get_by_label("Industry", exact=True).select_option(label="Mining")
    page.get_by_label("Advocates wanted").fill("3")
    page.get_by_role("button", name="Save target").click()
    expect(page.get_by_text("Target saved.")).to_be_visible()
    try:
        page.goto("/admin")
        expect(page.get_by_role("region", name="Coverage against growth targets")).to_contain_text("Mining")
        screenshot(page, "team-dashboard-after-target")
    finally:
        page.goto("/admin/coverage")
        page.get_by_role("button", name=re.compile("Remove target Mining")).click()
        expect(page.get_by_text("Target removed.")).to_be_visible()
    page.goto("/admin")
    expect(page.get_by_role("region", name="Coverage against growth targets")).not_to_contain_text("Mining")


def test_the_funnel_and_active_advocates_say_whom_they_count(open_page):
    page = open_page("desktop", as_=ADMIN_EMAIL)
    page.goto("/admin")

    funnel = page.get_by_role("article", name="Nomination funnel")
    expect(funnel.get_by_role("rowheader", name="Took part in an ask")).to_be_visible()
    expect(funnel).to_contain_text("“Active advocates” beside it counts every approved advocate")
    active = page.get_by_role("article", name="Active advocates")
    expect(active).to_contain_text(re.compile(r"of \d+ approved advocates"))
    expect(active).to_contain_text("the nomination funnel follows only the people nominated in")
    check_page(page, "team-dashboard-funnel-labels")


# 8 ---------------------------------------------------------------------------------------------


def test_the_publishing_page_lists_who_is_published(open_page):
    page = open_page("desktop", as_=ADMIN_EMAIL)
    page.goto("/admin/publishing")

    published = page.get_by_role("region", name="Who is published")
    expect(published.get_by_role("link", name="María López")).to_be_visible()
    expect(published).not_to_contain_text("Priya Nair")  # waiting for approval: not published
    check_page(page, "team-publishing-list")


# 9 ---------------------------------------------------------------------------------------------


def test_a_european_excel_file_with_extra_columns_previews_with_a_warning(open_page, tmp_path):
    text = (
        "Email;Name;Company;Products;Notes;Owner\r\n"
        "jose.muller@bancoistmeno.example;José Müller;Banco Istmeño;Payments Gateway;Met at the summit;Sam\r\n"
        "zoe@aeroskobing.example;Zoë Ærøskøbing;Ærøskøbing Energí;;;\r\n"
        "not an email;Bad Row;Banco Istmeño;;;\r\n"
    )
    path = tmp_path / "advocates.csv"
    path.write_bytes(text.encode("cp1252"))  # as Excel saves "CSV" on Windows
    page = open_page("desktop", as_=ADMIN_EMAIL)
    page.goto("/admin/import")

    page.get_by_label("CSV file").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("status")).to_contain_text("Ignored column(s) the portal does not know: Notes, Owner.")
    expect(page.get_by_role("row").filter(has_text="José Müller")).to_contain_text("New")
    bad = page.get_by_role("row").filter(has_text="Bad Row")
    expect(bad.get_by_role("cell").nth(1)).to_have_text("not an email")
    expect(bad).to_contain_text("email: “not an email” is not an email address.")
    expect(page.get_by_role("row").filter(has_text="Zoë Ærøskøbing")).to_contain_text("Ærøskøbing Energí")
    check_page(page, "team-import-preview")
