"""What a customer trips over (issue 17): the start page leads with joining, the icon
answers, an over-size form keeps what was typed, money carries its currency."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.models import AuditEvent
from portal.services import rewards
from portal.services.errors import DomainError
from tests.factories import AdminFactory, AdvocateFactory, RewardFactory, StaffFactory, UserFactory
from tests.web.pages import field_error, submit

STATIC = Path(__file__).resolve().parents[2] / "static"


def test_start_page_leads_with_joining(client):
    page = client.get("/").text
    buttons = re.findall(r'<a href="([^"]+)" role="button">([^<]+)</a>', page)
    assert buttons[0] == ("/join", "Join the program")
    # Signing in is still one click away, after the invitation to join.
    assert page.index('href="/join" role="button"') < page.index('href="/sign-in">Sign in</a> with your work email')


def test_signed_in_start_page_goes_home(client, login_as):
    login_as(UserFactory())
    assert re.search(r'<a href="/home" role="button">Go to your home page</a>', client.get("/").text)


def test_favicon_is_served_at_the_root(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert response.data == (STATIC / "favicon.ico").read_bytes()
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's magic number
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/").text


# --- the program currency ---------------------------------------------------------------


def test_money_is_formatted_in_the_program_currency(app, db):
    from portal.money import format_money

    with app.test_request_context():
        assert format_money(Decimal("25")) == "$25.00"  # the default, USD
        assert format_money(Decimal("1234567.5"), whole=True) == "$1,234,568"
        assert format_money(Decimal("0.0125"), precise=True) == "$0.0125"
        assert format_money(Decimal("25"), currency="EUR") == "€25.00"
        assert format_money(Decimal("10"), currency="JPY") == "¥10"  # no minor unit
        assert format_money(None) == ""


def test_admin_chooses_the_currency_and_every_amount_follows(client, db, login_as):
    login_as(AdminFactory())
    advocate = AdvocateFactory()
    RewardFactory(name="Team lunch", monetary_value=Decimal("40.00"))
    db.session.commit()
    action = "/admin/rewards/points/settings"
    page = client.get("/admin/rewards/points").text
    assert '<option selected value="USD">USD — US Dollar</option>' in page

    bad = submit(client, page, action, currency="XYZ")
    assert bad.status_code == 422
    assert "Not a valid choice" in field_error(bad.text, action, "currency")

    assert submit(client, page, action, currency="EUR").status_code == 302
    assert rewards.settings().currency == "EUR"
    assert "€40.00" in client.get("/admin/rewards").text
    assert "€250.00 a year" in client.get("/admin/rewards/accounts").text
    login_as(advocate.user)
    catalog = client.get("/rewards").text
    assert "Worth €40.00" in catalog and "rewards worth up to €250.00 a year (€0.00 so far this year)" in catalog
    # The change is audited with the currency.
    assert db.session.scalar(
        select(AuditEvent.details).where(AuditEvent.action == "rewards.settings_changed")
    )["currency"] == "EUR"


def test_rewards_settings_refuse_a_code_that_is_not_a_currency(db):
    with pytest.raises(DomainError) as refused:
        rewards.update_settings(
            AdminFactory(),
            rewards.SettingsValues(points={}, value_per_point=Decimal("0.05"), default_annual_gift_cap=Decimal("250"), currency="ABC"),
        )
    assert refused.value.field == "currency"


# --- valid HTML: required selects ------------------------------------------------------------


def first_option(html: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    assert "required" in select.group(0)[: select.group(0).index(">")]
    return re.search(r"<option[^>]*>[^<]*</option>", select.group(1)).group(0)


@pytest.mark.parametrize(
    ("role", "path", "name", "message"),
    [(None, "/join", "industry", "Choose your industry."), ("staff", "/staff/requests", "activity_type", "Choose an activity.")],
)
def test_required_selects_start_with_an_empty_placeholder(client, db, login_as, taxonomies, role, path, name, message):
    if role:
        login_as(StaffFactory())
    page = client.get(path).text
    assert first_option(page, name) == '<option selected value="">Choose …</option>'
    bad = submit(client, page, to=path, **{name: ""})
    assert bad.status_code == 422
    assert field_error(bad.text, None, name) == message


def test_the_ask_form_starts_with_an_empty_placeholder(client, db, login_as, taxonomies):
    login_as(AdminFactory())
    advocate = AdvocateFactory()
    db.session.commit()
    ask = client.get(f"/admin/asks/new?advocate_id={advocate.id}").text
    assert first_option(ask, "activity_type") == '<option selected value="">Choose …</option>'


def test_no_page_sets_hx_headers_on_body(client, db, login_as):
    login_as(UserFactory())
    page = client.get("/home").text
    assert "hx-headers" not in page
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', page)


# --- a form over the size limit ---------------------------------------------------------------


def test_an_over_size_form_leads_back_to_the_page_it_came_from(app, client, db, login_as):
    login_as(UserFactory())
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post(
        "/campaigns/7/proof", data=body, content_type="multipart/form-data; boundary=x",
        headers={"Referer": "http://localhost/campaigns/7?tab=proof"},
    )
    assert response.status_code == 413
    assert "larger than the 10 MB the portal accepts, so nothing in it was saved" in response.text
    assert '<a href="/campaigns/7?tab=proof" role="button" data-back>Back to the form</a>' in response.text


def test_the_way_back_never_leaves_the_site(app, client, db):
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post(
        "/join", data=body, content_type="multipart/form-data; boundary=x", headers={"Referer": "https://evil.example/join"}
    )
    assert response.status_code == 413
    assert "data-back" not in response.text and '<a href="/">Go to the start page</a>' in response.text


def test_image_fields_carry_their_size_limit_for_the_browser(client, db, login_as):
    login_as(AdminFactory())
    page = client.get("/admin/rewards/new").text
    assert re.search(
        r'<input[^>]*data-max-bytes="5242880"[^>]*data-too-large="The file is larger than 5 MB: upload a smaller image."[^>]*name="image"'
        r'|<input[^>]*name="image"[^>]*data-max-bytes="5242880"',
        page,
    )


def test_an_image_opened_on_its_own_may_be_styled_by_the_browsers_viewer(client):
    with client.get("/favicon.ico") as icon:
        policy = icon.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "default-src 'none'" in policy and "sandbox" in policy
    assert "unsafe-inline" not in client.get("/").headers["Content-Security-Policy"]  # pages stay strict


# --- the navigation -------------------------------------------------------------------------


def test_the_admins_menu_reaches_import_audit_and_growth_targets(client, login_as):
    login_as(AdminFactory())
    nav = re.search(r'<nav aria-label="Main">.*?</nav>', client.get("/admin").text, re.S).group(0)
    for href, label in (("/admin/coverage", "Growth targets"), ("/admin/import", "Import"), ("/admin/audit", "Audit trail")):
        assert f'<a href="{href}" >{label}</a>' in nav
    # Signed in, every link sits in the one Menu disclosure (a phone shows only the button).
    assert re.search(r'<details class="site-menu">\s*<summary>Menu</summary>', nav)


def test_a_reward_without_a_money_value_does_not_say_it_is_worth_nothing(client, db, login_as):
    RewardFactory(name="Roadmap session", monetary_value=Decimal("0"))
    RewardFactory(name="Gift card", monetary_value=Decimal("20.00"))
    login_as(AdvocateFactory().user)
    page = " ".join(client.get("/rewards").text.split())
    assert "Worth $20.00" in page and "Worth $0.00" not in page


def test_a_refused_blackout_comes_back_to_the_blackout_section(client, db, login_as):
    """The form posts to its own section: on a phone the error beside the field is in view."""
    login_as(AdvocateFactory().user)
    page = client.get("/preferences").text
    assert 'action="/preferences/blackouts#blackouts"' in page and 'id="blackouts"' in page
