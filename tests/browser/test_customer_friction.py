"""What customers tripped over (issue 17), in Chromium at a phone's width (375 px) where the
page is theirs: a one-row navigation, a start page that leads with joining, a form over the
size limit that keeps the user on the page, money in the program's currency, a visible
confirmation, no Ctrl hint on a touch screen, an icon, and a demo with a request to answer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADVOCATE_EMAIL, STAFF_EMAIL, check_page, screenshot

ONE_ROW = 72  # px: the brand and the Menu button (Pico's nav link padding included)


def nav_height(page) -> float:
    return page.get_by_role("navigation", name="Main").bounding_box()["height"]


@pytest.mark.parametrize(
    ("who", "start", "links"),
    [
        (ADVOCATE_EMAIL, "/home", ["Home", "Requests"]),
        (STAFF_EMAIL, "/home", ["Nominate", "My nominations", "References"]),
        (ADMIN_EMAIL, "/admin", ["Dashboard", "Queue", "Advocates", "Asks"]),
    ],
    ids=["advocate", "staff", "admin"],
)
def test_the_navigation_is_one_row_on_a_phone(open_page, who, start, links):
    page = open_page("phone", as_=who)
    page.goto(start)
    nav = page.get_by_role("navigation", name="Main")
    assert nav_height(page) <= ONE_ROW
    for name in links:
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_hidden()

    nav.locator("summary", has_text="Menu").click()
    for name in links:
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot(page, f"nav-{who.split('@')[0]}-phone-open")
    # The open menu lies over the page; it does not push the page down or widen it.
    check_page(page, f"nav-{who.split('@')[0]}-phone")


def test_admin_tools_are_in_the_admins_menu(open_page):
    for size in ("desktop", "phone"):
        page = open_page(size, as_=ADMIN_EMAIL)
        page.goto("/admin")
        nav = page.get_by_role("navigation", name="Main")
        if size == "phone":
            nav.locator("summary", has_text="Menu").click()
        else:
            expect(nav.locator("summary", has_text="Menu")).to_be_hidden()  # the links stand in the bar
            assert nav_height(page) <= 100
        for link, heading in (("Growth targets", re.compile("growth targets", re.I)), ("Import", re.compile("import", re.I)),
                              ("Audit trail", re.compile("audit", re.I))):
            nav.locator("summary", has_text="Data").click()
            nav.get_by_role("link", name=link, exact=True).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            if size == "phone":
                nav.locator("summary", has_text="Menu").click()
        screenshot(page, f"nav-admin-data-{size}")


def test_the_start_page_leads_with_joining(phone):
    phone.goto("/")
    join = phone.get_by_role("main").get_by_role("button", name="Join the program")  # a link drawn as a button
    expect(join).to_be_in_viewport()
    expect(phone.get_by_role("main").get_by_role("button").first).to_have_text("Join the program")
    expect(phone.get_by_role("main").get_by_role("link", name="Sign in")).to_be_visible()
    check_page(phone, "start-phone")
    join.click()
    expect(phone).to_have_url(re.compile(r"/join$"))


def test_an_image_over_the_limit_is_refused_beside_its_field_and_nothing_typed_is_lost(open_page, tmp_path):
    page = open_page("phone", as_=ADMIN_EMAIL)
    page.goto("/admin/rewards/new")
    page.get_by_role("textbox", name="Name", exact=True).fill("Team lunch voucher")
    big = tmp_path / "photo.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * (6 * 1024 * 1024))
    image = page.get_by_label("Image")
    image.set_input_files(str(big))
    expect(image).to_have_accessible_description(re.compile("The file is larger than 5 MB: upload a smaller image."))
    page.get_by_role("button", name="Save reward").click()
    expect(page).to_have_url(re.compile(r"/admin/rewards/new$"))  # not sent
    expect(image).to_be_focused()
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_value("Team lunch voucher")
    screenshot(page, "upload-too-large-phone")

    # Without the browser's check (an old browser, or a file over the whole request limit),
    # the server's page leads back to the form with what was typed.
    huge = tmp_path / "huge.png"
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * (11 * 1024 * 1024))
    image.evaluate("input => delete input.dataset.maxBytes")
    image.set_input_files(str(huge))
    page.get_by_role("button", name="Save reward").click()
    expect(page.get_by_role("heading", name="That upload is too large")).to_be_visible()
    screenshot(page, "upload-413-phone")
    page.get_by_role("button", name="Back to the form").click()  # a link drawn as a button
    expect(page).to_have_url(re.compile(r"/admin/rewards/new$"))
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_value("Team lunch voucher")


def test_saving_contact_preferences_says_so(open_page):
    page = open_page("phone", as_=ADVOCATE_EMAIL)
    page.goto("/preferences")
    section = page.get_by_role("region", name="Requests: what, how often, how and when")
    section.get_by_role("button", name="Save contact preferences").click()
    saved = section.get_by_role("status")
    expect(saved).to_have_text(re.compile("^Saved"))
    expect(saved).to_be_focused()  # screen readers read it; the phone scrolls to it
    expect(saved).to_be_in_viewport()
    screenshot(page, "preferences-saved-phone")


def test_the_ctrl_hint_is_for_mouse_and_keyboard_only(open_page):
    for size, visible in (("phone", False), ("desktop", True)):
        page = open_page(size, as_=ADVOCATE_EMAIL)
        page.goto("/profile")
        hint = page.get_by_text("Hold Ctrl (Cmd on a Mac) to choose several.")
        expect(hint).to_be_visible() if visible else expect(hint).to_be_hidden()
        screenshot(page, f"profile-languages-{size}")


def test_money_shows_the_program_currency(open_page):
    page = open_page("phone", as_=ADVOCATE_EMAIL)
    page.goto("/rewards")
    expect(page.get_by_role("article", name="Coffee gift card")).to_contain_text("Worth $10.00")
    expect(page.get_by_test_id("gift-rules")).to_contain_text(re.compile(r"up to \$[\d,]+\.\d\d a year"))
    check_page(page, "rewards-currency-phone")


def test_the_icon_answers(page):
    response = page.request.get("/favicon.ico")
    assert response.status == 200 and response.headers["content-type"] == "image/vnd.microsoft.icon"
    page.goto("/")
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("/favicon.ico")


def test_the_demo_lets_a_newcomer_try_every_journey(open_page):
    page = open_page("phone", as_=ADVOCATE_EMAIL)
    page.goto("/asks")
    request = page.get_by_role("region", name="Waiting for your answer").get_by_role(
        "article", name="Quote or testimonial for Harbour Logistics"
    )
    expect(request.get_by_role("button", name="Accept")).to_be_visible()
    expect(request.get_by_role("button", name="Decline")).to_be_visible()
    expect(page.get_by_text(re.compile(r"1 of 1 this month"))).to_be_visible()  # within the limits shown
    screenshot(page, "demo-asks-phone")

    page.goto("/boards")
    expect(page.get_by_role("region", name="Boards taking applications")).to_contain_text(re.compile(r"\d+ of \d+ free"))
    page.goto("/campaigns")
    expect(page.get_by_role("main")).to_contain_text("G2 winter reviews: Analytics Cloud")
    page.goto("/rewards")
    expect(page.get_by_role("button", name="Claim Coffee gift card")).to_be_enabled()


CARLOS_EMAIL = "carlos.mendez@agroexports-gt.example"  # a rejected reward claim: nothing to do on it


def test_a_stacked_row_on_a_phone_reads_label_then_value_and_leaves_out_empty_cells(open_page):
    page = open_page("phone", as_=CARLOS_EMAIL)
    page.goto("/rewards/mine")
    row = page.get_by_role("row").filter(has_text="Roadmap session")
    expect(row).to_contain_text("Rejected, points returned")
    # No "Actions:" with nothing after it.
    expect(row.locator('td[data-label="Actions"]')).to_be_hidden()
    # The points follow their label, as every other value does, not pushed to the far edge.
    points = row.locator('td[data-label="Points"]')
    value_left, cell_left, cell_width = points.evaluate(
        "c => { const r = document.createRange(); r.selectNodeContents(c);"
        " const box = c.getBoundingClientRect(); return [r.getBoundingClientRect().left, box.left, box.width]; }"
    )
    assert value_left - cell_left < cell_width / 2, (value_left, cell_left, cell_width)
    check_page(page, "my-rewards-stacked-phone")
