"""Sessions that end and single sign-on through a real OpenID provider, in Chromium.

Sign-out ends every session of the person, so these tests sign out people of their own
(made here with `flask create-admin`), never the demo people whose sessions other tests
reuse."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Page, expect

from tests.browser.conftest import ADVOCATE_EMAIL, STAFF_EMAIL, VIEWPORTS, flask_command, sign_in_with_password


def new_admin(portal) -> tuple[str, str]:
    """A new admin with a password (email, password), made with the support command."""
    email = f"admin-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(16)
    flask_command(portal, "create-admin", email, "--password", password)
    return email, password


def copy_of(browser, portal, page: Page) -> Page:
    """Another browser holding a copy of ``page``'s cookies (stolen, or synced)."""
    context = browser.new_context(base_url=portal.url, storage_state=page.context.storage_state(), **VIEWPORTS["desktop"])
    return context.new_page()


def test_sign_out_ends_the_session_and_every_copy_of_it(browser, page, portal):
    email, password = new_admin(portal)
    sign_in_with_password(page, email, password)
    thief = copy_of(browser, portal, page)
    thief.goto("/admin")
    expect(thief.get_by_role("heading", name="Program dashboard")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(f"{portal.url}/")
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/admin")
    expect(page).to_have_url(f"{portal.url}/sign-in?next=%2Fadmin")
    thief.goto("/admin")
    expect(thief).to_have_url(f"{portal.url}/sign-in?next=%2Fadmin")
    expect(thief.get_by_role("button", name="Sign out")).to_have_count(0)
    thief.context.close()


def test_sign_out_everywhere_from_the_link_at_the_foot_of_the_page(browser, open_page, portal):
    email, password = new_admin(portal)
    laptop, phone = open_page("desktop"), open_page("phone")
    sign_in_with_password(laptop, email, password)
    sign_in_with_password(phone, email, password)

    laptop.get_by_role("link", name="Sign out everywhere").click()
    expect(laptop.get_by_role("heading", name="Sign out everywhere")).to_be_visible()
    laptop.get_by_role("button", name="Sign out everywhere").click()

    expect(laptop).to_have_url(f"{portal.url}/sign-in")
    expect(laptop.get_by_text("You are signed out on every device and browser.")).to_be_visible()
    phone.goto("/admin")
    expect(phone).to_have_url(f"{portal.url}/sign-in?next=%2Fadmin")


def sign_in_at_provider(page: Page, login: str) -> None:
    """At the provider's own sign-in page: any password."""
    page.get_by_placeholder("Enter any login").fill(login)
    page.get_by_placeholder("and password").fill("any password")
    page.get_by_role("button", name="Sign-in").click()


def test_staff_sign_in_with_single_sign_on(page, portal, oidc_provider):
    """The provider sends the email from its userinfo endpoint only (as node-oidc-provider
    does by default); the portal asks for it and signs the person in."""
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with company single sign-on").click()
    expect(page).to_have_url(re.compile("^" + re.escape(oidc_provider.issuer) + "/"))
    sign_in_at_provider(page, STAFF_EMAIL)

    expect(page).to_have_url(f"{portal.url}/home")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Nominate", exact=True)).to_be_visible()


def test_an_advocate_is_refused_the_team_single_sign_on(page, portal):
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with company single sign-on").click()
    sign_in_at_provider(page, ADVOCATE_EMAIL)

    expect(page).to_have_url(f"{portal.url}/sign-in")
    expect(page.get_by_text("Single sign-on did not find a portal account you can use with it.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
