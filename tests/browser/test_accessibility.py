"""WCAG 2.2 AA on every page that exists, at desktop and phone width (axe-core finds what a
machine can find: no serious or critical violations), plus keyboard use."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    ADMIN_EMAIL,
    ADVOCATE_EMAIL,
    assert_no_horizontal_scroll,
    axe_check,
    request_sign_in_link,
    screenshot,
    sign_in_by_link,
    sign_in_with_password,
    team_form,
)


def start(page, portal):
    page.goto("/")


def sign_in(page, portal):
    page.goto("/sign-in")


def sign_in_with_email_error(page, portal):
    page.goto("/sign-in")
    page.get_by_label("Work email").fill("not-an-email")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_text("Enter an email address like name@company.com.")).to_be_visible()


def sign_in_with_password_error(page, portal):
    page.goto("/sign-in")
    form = team_form(page)
    form.get_by_role("textbox", name="Email", exact=True).fill(ADMIN_EMAIL)
    form.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Enter your password.")).to_be_visible()


def check_your_email(page, portal):
    page.goto("/sign-in")
    # An unknown address gets the same page, and its email cannot be mistaken for the
    # advocate's sign-in link in a later test.
    page.get_by_label("Work email").fill("nobody@unknown.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()


def confirm_link(page, portal):
    page.goto("/sign-in")
    page.goto(request_sign_in_link(page, portal, ADVOCATE_EMAIL))
    expect(page.get_by_role("button", name="Sign me in")).to_be_visible()


def invalid_link(page, portal):
    page.goto("/sign-in/link/not-a-real-token")
    expect(page.get_by_role("alert")).to_contain_text("not valid")


def advocate_home(page, portal):
    sign_in_by_link(page, portal)
    page.goto("/home")


def admin_dashboard(page, portal):
    sign_in_with_password(page, ADMIN_EMAIL, portal.admin_password)
    page.goto("/admin")


def sign_out_everywhere(page, portal):
    sign_in_by_link(page, portal)
    page.get_by_role("link", name="Sign out everywhere").click()
    expect(page.get_by_role("heading", name="Sign out everywhere")).to_be_visible()


def not_found(page, portal):
    assert page.goto("/no-such-page").status == 404


def forbidden(page, portal):
    sign_in_by_link(page, portal)
    assert page.goto("/admin").status == 403


PAGES = [
    start,
    sign_in,
    sign_in_with_email_error,
    sign_in_with_password_error,
    check_your_email,
    confirm_link,
    invalid_link,
    advocate_home,
    admin_dashboard,
    sign_out_everywhere,
    not_found,
    forbidden,
]


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("visit", PAGES, ids=lambda visit: visit.__name__.replace("_", "-"))
def test_page_is_accessible(open_page, portal, visit, size):
    page = open_page(size)
    visit(page, portal)
    axe_check(page)
    assert_no_horizontal_scroll(page)
    screenshot(page, f"{visit.__name__.replace('_', '-')}-{size}")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(open_page, size):
    page = open_page(size)
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
