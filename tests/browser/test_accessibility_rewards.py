"""WCAG 2.2 AA on the rewards pages (points, leaderboard, catalog, my rewards, and the
team's catalog, reward form, fulfilment list, points table, gift policies and the queue's
reward claim), at desktop and phone width, in the states people meet them in.

Nothing here changes what test_rewards_flow.py relies on: forms are only submitted with a
mistake or refused by the rules."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADVOCATE_EMAIL, check_page

MARIA_EMAIL = "maria.lopez@bancoistmeno.example"  # a fulfilled claim and one to send; on the leaderboard
KENJI_EMAIL = "kenji.sato@sakuraretail.example"  # an account that allows charity donations only


def points(open, portal):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/points")
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    return page


def leaderboard(open, portal):
    page = open(as_=MARIA_EMAIL)
    page.goto("/leaderboard")
    expect(page.get_by_role("cell", name="María L. (you)").first).to_be_visible()
    return page


def leaderboard_with_error(open, portal):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/leaderboard")
    page.get_by_role("switch", name="Show me on the leaderboard").check()
    page.get_by_role("button", name="Save leaderboard choice").click()
    expect(page.get_by_label("Name shown on the leaderboard")).to_have_accessible_description(
        re.compile("Choose the name others see")
    )
    return page


def catalog(open, portal):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/rewards")
    expect(page.get_by_role("article", name="Limited edition notebook")).to_contain_text("Out of stock")
    return page


def catalog_refused(open, portal):
    page = open(as_=KENJI_EMAIL)
    page.goto("/rewards")
    page.get_by_role("article", name="Branded hoodie").get_by_role("button", name="Claim Branded hoodie").click()
    expect(page.get_by_role("alert").filter(has_text="allows charity donations only")).to_be_visible()
    return page


def my_rewards(open, portal):
    page = open(as_=MARIA_EMAIL)
    page.goto("/rewards/mine")
    expect(page.get_by_role("link", name="Download certificate for Branded hoodie")).to_be_visible()
    return page


def admin_catalog(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/rewards")
    expect(page.get_by_test_id("liability")).to_be_visible()
    return page


def admin_new_reward_with_errors(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/rewards/new")
    page.get_by_label("Name").fill("Gift card")
    page.get_by_label("Points it costs").fill("0")
    page.get_by_label("Monetary value").fill("10")
    page.get_by_role("button", name="Save reward").click()
    expect(page.get_by_label("Points it costs")).to_have_accessible_description(re.compile("Between 1 and"))
    return page


def admin_edit_donation(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/rewards")
    page.get_by_role("link", name="Donation to a charity").click()
    expect(page.get_by_label("Charities to choose from")).to_have_value(re.compile("Room to Read"))
    return page


def admin_claims(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/rewards/claims")
    expect(page.get_by_role("row").filter(has_text="María López").first).to_be_visible()
    return page


def admin_points(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/rewards/points")
    expect(page.get_by_label("Value of one point")).to_be_visible()
    return page


def admin_accounts(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/rewards/accounts")
    expect(page.get_by_role("row").filter(has_text="Sakura Retail Group").get_by_label("Gift policy")).to_have_value("charity_only")
    return page


def admin_queue_reward_claim(open, portal):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/queue?kind=reward_claim")
    page.get_by_role("link", name="Review Reward claim of Diego Mora").click()
    expect(page.get_by_role("heading", name="The claim")).to_be_visible()
    return page


PAGES = [
    points,
    leaderboard,
    leaderboard_with_error,
    catalog,
    catalog_refused,
    my_rewards,
    admin_catalog,
    admin_new_reward_with_errors,
    admin_edit_donation,
    admin_claims,
    admin_points,
    admin_accounts,
    admin_queue_reward_claim,
]


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("visit", PAGES, ids=lambda visit: visit.__name__.replace("_", "-"))
def test_rewards_page_is_accessible(open_page, portal, visit, size):
    page = visit(lambda as_=None: open_page(size, as_=as_), portal)
    check_page(page, f"rewards-{visit.__name__.replace('_', '-')}-{size}")
