"""Advisory boards end to end in Chromium: María López applies to the Analytics Product
Advisory Board, the team accepts her in the approval queue, she is told by email, and she
answers the invitation to the board's upcoming meeting in place (htmx), seeing its time in
her own time zone. Then she downloads her membership certificate."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_EMAIL, MAIL_TIMEOUT, go_by_menu
from tests.browser.test_asks_flows import assert_not_reloaded, check_at_phone_width, mark_page

MARIA_EMAIL = "maria.lopez@bancoistmeno.example"
MARIA = "María López"
BOARD = "Analytics Product Advisory Board"


def wait_for_email(inbox, address: str, subject: str):
    deadline = time.monotonic() + MAIL_TIMEOUT
    while time.monotonic() < deadline:
        found = [m for m in inbox.to(address) if m["Subject"].strip() == subject]  # a long subject is folded
        if found:
            return found[-1]
        time.sleep(0.1)
    pytest.fail(f"no email {subject!r} to {address} within {MAIL_TIMEOUT} s; got {[m['Subject'] for m in inbox.to(address)]}")


def test_advocate_applies_team_accepts_in_the_queue_advocate_rsvps(browser, open_page, portal):
    # María finds the board and applies with a motivation.
    maria = open_page("desktop", as_=MARIA_EMAIL)
    maria.goto("/home")
    go_by_menu(maria, "Programs", "Advisory boards")
    expect(maria.get_by_role("heading", name="Advisory boards", exact=True)).to_be_visible()
    check_at_phone_width(browser, portal, maria, "flow-boards-list")
    maria.get_by_role("article", name=BOARD).get_by_role("button", name=re.compile(r"^Read more and apply")).click()
    expect(maria.get_by_role("heading", name=BOARD)).to_be_visible()
    maria.get_by_label("Why you would like to join").fill(
        "We run fraud analytics for 2 million customers and would love to shape the dashboards."
    )
    maria.get_by_role("button", name="Send my application").click()
    expect(maria.get_by_text("Your application is with the advocacy team.")).to_be_visible()
    expect(maria.get_by_role("heading", name="My place: Waiting for the team's decision")).to_be_visible()

    # The team opens it in the queue, reads the motivation and accepts (a seat is taken).
    admin = open_page("desktop", as_=ADMIN_EMAIL)
    admin.goto("/admin/queue?kind=board_application")
    row = admin.get_by_role("row").filter(has_text=BOARD).filter(has_text=MARIA)
    row.get_by_role("link", name=re.compile(r"^Review Board application")).click()
    expect(admin.get_by_role("heading", name=f"Application to {BOARD}")).to_be_visible()
    expect(admin.get_by_text("fraud analytics for 2 million customers")).to_be_visible()
    expect(admin.get_by_role("button", name="Waitlist")).to_be_visible()
    check_at_phone_width(browser, portal, admin, "flow-queue-board-application")
    admin.get_by_role("button", name="Approve").click()
    expect(admin.get_by_text("Board application approved; the customer has been told.")).to_be_visible()
    admin.goto("/admin/boards")
    expect(admin.get_by_role("row").filter(has_text=BOARD)).to_contain_text("1 of 6")

    # She is told by email, and the board page now shows her term and the meeting.
    wait_for_email(portal.inbox, MARIA_EMAIL, f"Welcome to the {BOARD}: your application is accepted")
    maria.goto("/boards")
    maria.get_by_role("link", name=BOARD).first.click()
    expect(maria.get_by_role("heading", name="My place: Member")).to_be_visible()
    meetings = maria.get_by_role("region", name="Upcoming meetings")
    expect(meetings).to_contain_text("Times are shown in your time zone, America/Panama")
    meeting = meetings.get_by_role("article", name="Design preview: dashboards")
    expect(meeting).to_contain_text(re.compile(r"10:00 EST \(America/Panama\)"))  # 15:00 UTC
    expect(meeting).to_contain_text("Not answered yet")

    # She answers in place: the meeting is swapped, the page is not reloaded.
    mark_page(maria)
    meeting.get_by_role("button", name="Yes").click()
    meeting = maria.get_by_role("article", name="Design preview: dashboards")
    expect(meeting.get_by_role("status")).to_have_text("Thank you: your answer is recorded.")
    expect(meeting.get_by_role("button", name="Yes")).to_have_attribute("aria-pressed", "true")
    assert_not_reloaded(maria)
    maria.reload()
    expect(maria.get_by_role("article", name="Design preview: dashboards")).to_contain_text(re.compile(r"Your answer\s*Yes"))
    check_at_phone_width(browser, portal, maria, "flow-board-member")

    # Her certificate is a PDF she can download.
    with maria.expect_download() as download:
        maria.get_by_role("button", name="Membership certificate (PDF)").click()
    assert download.value.suggested_filename.startswith("board-membership-")

    # The team sees her answer on the meeting's page.
    admin.goto("/admin/boards")
    admin.get_by_role("link", name=BOARD).click()
    admin.get_by_role("link", name="Design preview: dashboards").click()
    expect(admin.get_by_role("row").filter(has_text=MARIA)).to_contain_text("Yes")
