"""Rewards end to end in Chromium: Alex Advocate claims the conference pass (it needs the
team's approval), the team approves it in the queue and marks it sent, and Alex downloads
the certificate, a real one-page PDF with Alex's name and the reward.

It changes the demo's state (Alex's balance, the pass's stock); the accessibility tests of
the rewards pages look at other people's pages or only at what this leaves intact."""

from __future__ import annotations

import re
from io import BytesIO

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import ADMIN_EMAIL, ADVOCATE_EMAIL, SCREENSHOTS, check_page, go_by_menu


def test_claim_approve_fulfil_and_download_the_certificate(open_page, portal):
    alex = open_page("desktop", as_=ADVOCATE_EMAIL)
    alex.goto("/points")
    balance = int(alex.get_by_test_id("balance").inner_text().replace(",", "").split()[0])
    expect(alex.get_by_role("cell", name=re.compile("Hosted the launch webinar"))).to_be_visible()

    go_by_menu(alex, "Rewards", "Rewards")
    card = alex.get_by_role("article", name="Conference pass")
    card.get_by_label("Where to send it").fill("Alex Advocate, 1 Example Street, London")
    card.get_by_role("button", name="Claim Conference pass").click()
    expect(alex.get_by_text("400 points are set aside while the team approves it")).to_be_visible()
    row = alex.get_by_role("row").filter(has_text="Conference pass")
    expect(row).to_contain_text("Waiting for approval")
    check_page(alex, "rewards-flow-claimed-desktop")
    alex.goto("/points")
    expect(alex.get_by_test_id("balance")).to_have_text(f"{balance - 400:,} points")

    team = open_page("desktop", as_=ADMIN_EMAIL)
    team.goto("/admin/queue?kind=reward_claim")
    team.get_by_role("link", name=re.compile(r"^Review Reward claim.*Alex Advocate")).click()
    expect(team.get_by_role("heading", name="The claim")).to_be_visible()
    expect(team.get_by_text("Alex Advocate, 1 Example Street, London")).to_be_visible()
    team.get_by_role("button", name="Approve").click()
    expect(team.get_by_text("approved; the customer has been told")).to_be_visible()

    team.goto("/admin/rewards/claims")
    sent = team.get_by_role("row").filter(has_text="Alex Advocate")
    expect(sent).to_contain_text("1 Example Street")
    sent.get_by_role("button", name=re.compile("^Mark sent")).click()
    expect(team.get_by_text("Marked as sent: Conference pass for Alex Advocate.")).to_be_visible()

    alex.goto("/rewards/mine")
    with alex.expect_download() as download:
        alex.get_by_role("link", name="Download certificate for Conference pass").click()
    pdf = PdfReader(BytesIO(download.value.path().read_bytes()))
    text = pdf.pages[0].extract_text()
    assert len(pdf.pages) == 1
    assert "Alex Advocate" in text and "Conference pass" in text
    SCREENSHOTS.mkdir(exist_ok=True)  # kept to look at, never committed (screenshots/ is ignored)
    download.value.save_as(SCREENSHOTS / "rewards-certificate.pdf")
