"""A review campaign end to end in Chromium: Alex Advocate joins the active G2 campaign,
is refused an HTML file disguised as a PNG (beside the field), uploads a real screenshot,
and the advocacy team verifies it in the queue; Alex then sees the review verified and the
points, and the progress moves on both sides.

It changes Alex's part in "G2 winter reviews" only; test_accessibility_campaigns.py does
not rely on that campaign's state for Alex."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADVOCATE_EMAIL, check_page, go_by_menu, screenshot

CAMPAIGN = "G2 winter reviews: Analytics Cloud"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (30, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_advocate_joins_sends_a_screenshot_and_the_team_verifies_it(open_page, portal):
    alex = open_page("desktop", as_=ADVOCATE_EMAIL)
    alex.goto("/home")
    go_by_menu(alex, "Programs", "Review campaigns")
    expect(alex).to_have_url(f"{portal.url}/campaigns")
    card = alex.get_by_role("article", name=CAMPAIGN)
    expect(card).to_contain_text("Invited")
    card.get_by_role("link", name=CAMPAIGN).click()

    # Before joining: the rule on ratings, what the review earns, and the progress.
    expect(alex.get_by_role("heading", name=CAMPAIGN, level=1)).to_be_visible()
    expect(alex.get_by_test_id("rating-rule")).to_contain_text("never depends on the review's rating or sentiment")
    expect(alex.get_by_test_id("incentive")).to_contain_text("150 points")
    expect(alex.get_by_test_id("incentive")).to_contain_text("25.00")
    expect(alex.locator(".campaign-progress")).to_contain_text("0 of 12")
    campaign_url = alex.url
    alex.get_by_role("button", name="Join this campaign").click()
    expect(alex.get_by_text("You have joined")).to_be_visible()
    expect(alex.get_by_test_id("participation-status")).to_have_text("Joined")

    # The personal tracking link points at the portal, which counts and redirects.
    link = alex.get_by_role("button", name="Write your review on G2")  # a link styled as a button
    expect(link).to_have_attribute("href", re.compile(r"^/campaigns/go/[\w-]+$"))
    check_page(alex, "campaign-joined-desktop")

    # An HTML file named like a PNG is refused beside the field; nothing is sent.
    shot = alex.get_by_label("Screenshot of your review")
    shot.set_input_files({"name": "review.png", "mimeType": "image/png",
                          "buffer": b"<!doctype html><script>alert(1)</script>"})
    alex.get_by_role("button", name="Send proof").click()
    shot = alex.get_by_label("Screenshot of your review")
    expect(shot).to_have_attribute("aria-invalid", "true")
    expect(shot).to_have_accessible_description(re.compile("not a PNG, JPEG or WebP image"))
    expect(alex.get_by_test_id("participation-status")).to_have_text("Joined")
    check_page(alex, "campaign-upload-refused-desktop")

    # A real screenshot goes through.
    shot.set_input_files({"name": "my-g2-review.png", "mimeType": "image/png", "buffer": png()})
    alex.get_by_label("Link to your published review").fill("https://www.g2.com/products/analytics-cloud/reviews/alex-1")
    alex.get_by_role("button", name="Send proof").click()
    expect(alex).to_have_url(campaign_url)
    expect(alex.get_by_test_id("participation-status")).to_have_text("Proof sent, being checked")
    expect(alex.get_by_role("link", name="screenshot")).to_be_visible()
    check_page(alex, "campaign-proof-sent-desktop")

    # The team verifies it in the queue, seeing the screenshot.
    admin = open_page("desktop", as_=ADMIN_EMAIL)
    admin.goto("/admin/queue?kind=review_proof")
    row = admin.get_by_role("row").filter(has_text=CAMPAIGN).filter(has_text="Alex Advocate")
    row.get_by_role("link", name="Review Review proof of Alex Advocate").click()
    expect(admin.get_by_role("heading", name="Review proof: Alex Advocate")).to_be_visible()
    image = admin.get_by_role("img", name="Screenshot of the review sent by Alex Advocate")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 320
    expect(admin.get_by_text("The reward never depends on the rating or sentiment.")).to_be_visible()
    check_page(admin, "campaign-queue-proof-desktop")
    admin.get_by_role("button", name="Approve").click()
    expect(admin.get_by_text("Review proof approved; the customer has been told.")).to_be_visible()

    admin.goto("/admin/campaigns")
    expect(admin.get_by_role("row").filter(has_text=CAMPAIGN)).to_contain_text("1 of 12 verified")

    # Alex sees the verified review and the progress.
    alex.goto(campaign_url)
    expect(alex.get_by_test_id("participation-status")).to_have_text("Review verified")
    expect(alex.get_by_role("status").filter(has_text="Your review is verified")).to_be_visible()
    expect(alex.locator(".campaign-progress")).to_contain_text("1 of 12")
    screenshot(alex, "campaign-verified-desktop")
    phone = open_page("phone", as_=ADVOCATE_EMAIL)
    phone.goto(campaign_url)
    check_page(phone, "campaign-verified-phone")
