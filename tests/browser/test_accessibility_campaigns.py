"""WCAG 2.2 AA on the review-campaign pages, at desktop and phone width, in the states the
demo puts people in: invited, proof rejected, proof waiting, an ended campaign, the team's
list, form (also with its mistakes), detail, caps and a proof in the queue.

Nothing here changes data: the only form sent is the team's, with mistakes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADVOCATE_EMAIL, check_page

MARIA_EMAIL = "maria.lopez@bancoistmeno.example"  # proof rejected in the G2 campaign
KENJI_EMAIL = "kenji.sato@sakuraretail.example"  # joined the ended TrustRadius campaign
GARTNER = "Gartner Peer Insights: share your experience"


def _open_campaign(page, name):
    page.goto("/campaigns")
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def my_campaigns(open):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/campaigns")
    expect(page.get_by_role("article", name=GARTNER)).to_contain_text("4 of 5")
    return page


def proof_waiting(open):
    page = open(as_=ADVOCATE_EMAIL)
    _open_campaign(page, GARTNER)
    expect(page.get_by_test_id("participation-status")).to_have_text("Proof sent, being checked")
    return page


def proof_rejected_send_again(open):
    page = open(as_=MARIA_EMAIL)
    _open_campaign(page, "G2 winter reviews: Analytics Cloud")
    expect(page.get_by_role("button", name="Send proof")).to_be_visible()
    expect(page.get_by_text("not the published review")).to_be_visible()
    return page


def ended_campaign(open):
    page = open(as_=KENJI_EMAIL)
    _open_campaign(page, "TrustRadius autumn reviews")
    expect(page.get_by_text("proof can no longer be sent")).to_be_visible()
    return page


def admin_list(open):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/campaigns")
    expect(page.get_by_role("row").filter(has_text=GARTNER)).to_contain_text("4 of 5 verified")
    return page


def admin_detail(open):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/campaigns")
    page.get_by_role("link", name=GARTNER).click()
    expect(page.get_by_role("heading", name="Participants")).to_be_visible()
    return page


def admin_new(open):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/campaigns/new")
    expect(page.get_by_test_id("rating-rule")).to_contain_text("never depends on the review's rating")
    return page


def admin_new_with_mistakes(open):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/campaigns/new")
    page.get_by_label("Campaign name").fill("Too generous")
    page.get_by_label("Review platform").select_option(label="Gartner Peer Insights")
    page.get_by_label("Review page on the platform").fill("https://www.gartner.com/reviews/example")
    page.get_by_label("Starts on").fill("2026-12-01")
    page.get_by_label("Ends on").fill("2026-12-31")
    page.get_by_label("Target: verified reviews").fill("10")
    page.get_by_label("Points per verified review").fill("100")
    page.get_by_label("Incentive per verified review").fill("50")
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_label("Incentive per verified review")).to_have_accessible_description(re.compile(r"at most \$25\.00"))
    return page


def admin_caps(open):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/campaigns/caps")
    expect(page.get_by_label("Gartner Peer Insights")).to_have_value("25.00")
    return page


def admin_queue_proof(open):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/queue?kind=review_proof")
    page.get_by_role("row").filter(has_text=GARTNER).get_by_role("link", name=re.compile("^Review Review proof")).click()
    expect(page.get_by_role("heading", name="Review proof", exact=True)).to_be_visible()
    return page


PAGES = [my_campaigns, proof_waiting, proof_rejected_send_again, ended_campaign, admin_list, admin_detail,
         admin_new, admin_new_with_mistakes, admin_caps, admin_queue_proof]


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("visit", PAGES, ids=lambda visit: visit.__name__.replace("_", "-"))
def test_campaign_page_is_accessible(open_page, portal, visit, size):
    page = visit(lambda as_=None: open_page(size, as_=as_))
    check_page(page, f"campaigns-{visit.__name__.replace('_', '-')}-{size}")
