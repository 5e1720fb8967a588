"""WCAG 2.2 AA on the advisory-board pages, at desktop and phone width, in the states
people meet them in: the list, a board one cannot apply to yet (consent missing), a
member's board with meetings to answer, an application with a mistake, the team's boards,
a board's members, waitlist and meetings, the board and meeting forms, attendance, and a
board application in the queue.

Nothing here changes what test_boards_flows.py relies on: each run creates its own board
(named after the width) for the application pages, and answers nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_EMAIL, ADVOCATE_EMAIL, check_page

KENJI_EMAIL = "kenji.sato@sakuraretail.example"  # a member of the Executive Customer Council
DIEGO_EMAIL = "diego.mora@cafepacifico.example"  # agreed to advisory-board contact
MARIA_EMAIL = "maria.lopez@bancoistmeno.example"
COUNCIL = "Executive Customer Council"


def _open_board(page, name: str) -> None:
    page.goto("/boards")
    page.get_by_role("article", name=name).get_by_role("button", name=re.compile(r"^(Read more and apply|See my place)")).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def _admin_board(page, name: str) -> None:
    page.goto("/admin/boards")
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def _test_board(open, size: str) -> str:
    """A board of this run's own, open to everyone, created through the team's form."""
    name = f"Accessibility Board {size}"
    admin = open(as_=ADMIN_EMAIL)
    admin.goto("/admin/boards")
    if admin.get_by_role("link", name=name, exact=True).count() == 0:
        admin.get_by_role("button", name="New board").click()
        admin.get_by_label("Name").fill(name)
        admin.get_by_label("Description").fill("A board for checking the pages.")
        admin.get_by_label("Seats").fill("3")
        admin.get_by_role("button", name="Save board").click()
        expect(admin.get_by_text(f"Board {name} is saved.")).to_be_visible()
    return name


def advocate_boards(open, size):
    page = open(as_=ADVOCATE_EMAIL)
    page.goto("/boards")
    expect(page.get_by_role("region", name="Boards taking applications")).to_contain_text(COUNCIL)
    return page


def advocate_board_without_consent(open, size):
    page = open(as_=ADVOCATE_EMAIL)
    _open_board(page, COUNCIL)
    expect(page.get_by_role("alert")).to_contain_text("You have not agreed to advisory-board contact")
    return page


def member_board_with_meetings(open, size):
    page = open(as_=KENJI_EMAIL)
    _open_board(page, COUNCIL)
    meetings = page.get_by_role("region", name="Upcoming meetings")
    expect(meetings.get_by_role("article", name="Quarterly council")).to_contain_text("(Asia/Tokyo)")
    return page


def application_with_mistake(open, size):
    name = _test_board(open, size)
    page = open(as_=MARIA_EMAIL)
    _open_board(page, name)
    page.get_by_role("button", name="Send my application").click()
    expect(page.get_by_label("Why you would like to join")).to_have_accessible_description(
        re.compile("Tell the team why you would like to join")
    )
    return page


def admin_boards(open, size):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/boards")
    expect(page.get_by_role("row").filter(has_text=COUNCIL)).to_contain_text("2 of 2")
    return page


def admin_board(open, size):
    page = open(as_=ADMIN_EMAIL)
    _admin_board(page, COUNCIL)
    expect(page.get_by_role("region", name="Waitlist")).to_contain_text("Carlos Méndez")
    return page


def admin_new_board_with_mistake(open, size):
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/boards/new")
    page.get_by_label("Seats").fill("0")
    page.get_by_role("button", name="Save board").click()
    expect(page.get_by_label("Seats")).to_have_accessible_description(re.compile("Between 1 and 500 seats"))
    return page


def admin_new_meeting(open, size):
    page = open(as_=ADMIN_EMAIL)
    _admin_board(page, COUNCIL)
    page.get_by_role("button", name="New meeting").click()
    expect(page.get_by_label("Time zone of that time")).to_be_visible()
    return page


def admin_attendance(open, size):
    page = open(as_=ADMIN_EMAIL)
    _admin_board(page, COUNCIL)
    page.get_by_role("link", name="Roadmap review").click()
    expect(page.get_by_role("checkbox", name=re.compile(r"^Present"))).to_have_count(2)
    return page


def admin_queue_board_application(open, size):
    name = _test_board(open, size)
    diego = open(as_=DIEGO_EMAIL)
    _open_board(diego, name)
    if diego.get_by_role("button", name="Send my application").count():
        diego.get_by_label("Why you would like to join").fill("I would like to help.")
        diego.get_by_role("button", name="Send my application").click()
        expect(diego.get_by_text("Your application is with the advocacy team.")).to_be_visible()
    page = open(as_=ADMIN_EMAIL)
    page.goto("/admin/queue?kind=board_application")
    page.get_by_role("row").filter(has_text=name).get_by_role("link", name=re.compile(r"^Review Board application")).click()
    expect(page.get_by_role("heading", name=f"Application to {name}")).to_be_visible()
    return page


PAGES = [
    advocate_boards,
    advocate_board_without_consent,
    member_board_with_meetings,
    application_with_mistake,
    admin_boards,
    admin_board,
    admin_new_board_with_mistake,
    admin_new_meeting,
    admin_attendance,
    admin_queue_board_application,
]


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("visit", PAGES, ids=lambda visit: visit.__name__.replace("_", "-"))
def test_boards_page_is_accessible(open_page, portal, visit, size):
    page = visit(lambda as_=None: open_page(size, as_=as_), size)
    check_page(page, f"boards-{visit.__name__.replace('_', '-')}-{size}")
