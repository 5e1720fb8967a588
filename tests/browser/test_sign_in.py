"""Signing in and out, as people do it: email links for advocates, passwords for the team."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    ADMIN_EMAIL,
    ADVOCATE_NAME,
    assert_no_horizontal_scroll,
    request_sign_in_link,
    screenshot,
    sign_in_by_link,
    sign_in_with_password,
    team_form,
)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_advocate_signs_in_with_an_email_link(open_page, portal, size):
    page = open_page(size)
    page.goto("/sign-in")
    link = request_sign_in_link(page, portal)

    page.goto(link)
    expect(page.get_by_role("heading", name=f"Sign in as {ADVOCATE_NAME}?")).to_be_visible()
    page.get_by_role("button", name="Sign me in").click()

    expect(page).to_have_url(f"{portal.url}/home")
    expect(page.get_by_role("heading", name=f"Welcome, {ADVOCATE_NAME}")).to_be_visible()
    if size == "phone":
        assert_no_horizontal_scroll(page)
        assert page.evaluate("window.innerWidth") == 375
        screenshot(page, "home-phone")


def test_a_used_link_is_refused(page, portal):
    page.goto("/sign-in")
    link = request_sign_in_link(page, portal)
    page.goto(link)
    page.get_by_role("button", name="Sign me in").click()
    expect(page).to_have_url(f"{portal.url}/home")

    response = page.goto(link)
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("already been used")
    # Anyone holding the old link (e.g. a mail scanner) gets no session from it.
    expect(page.get_by_role("button", name="Sign me in")).to_have_count(0)


def test_signed_out_visitor_comes_back_to_the_page_they_asked_for(page, portal):
    page.goto("/home")
    expect(page).to_have_url(f"{portal.url}/sign-in?next=%2Fhome")
    expect(page.get_by_text("Please sign in to see that page.")).to_be_visible()

    link = request_sign_in_link(page, portal)
    assert parse_qs(urlsplit(link).query)["next"] == ["/home"]
    page.goto(link)
    page.get_by_role("button", name="Sign me in").click()

    expect(page).to_have_url(f"{portal.url}/home")
    expect(page.get_by_role("heading", name=f"Welcome, {ADVOCATE_NAME}")).to_be_visible()


def test_admin_signs_in_with_a_password(page, portal):
    sign_in_with_password(page, ADMIN_EMAIL, portal.admin_password)
    expect(page).to_have_url(f"{portal.url}/admin")
    expect(page.get_by_role("heading", name="Program dashboard")).to_be_visible()
    expect(page.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")


def test_a_wrong_password_is_refused_next_to_the_field(page, portal):
    page.goto("/sign-in")
    form = team_form(page)
    form.get_by_role("textbox", name="Email", exact=True).fill(ADMIN_EMAIL)
    form.get_by_label("Password").fill("not the password at all")
    form.get_by_role("button", name="Sign in", exact=True).click()

    password = team_form(page).get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(
        re.compile("That email and password do not match an account")
    )
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_advocate_gets_403_on_the_admin_dashboard(page, portal):
    sign_in_by_link(page, portal)
    response = page.goto("/admin")
    assert response.status == 403
    expect(page.get_by_role("heading", name="You do not have access to this page")).to_be_visible()
