"""The main navigation marks where you are: the page's own link, and the menu it sits in."""

import re

import pytest

from tests.factories import AdminFactory, UserFactory


def main_nav(html: str) -> str:
    return re.search(r'<nav aria-label="Main">.*?</nav>', html, re.S).group(0)


def current_links(html: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', main_nav(html))


def current_menus(html: str) -> list[str]:
    return re.findall(r'<summary class="current">([^<]+)</summary>', main_nav(html))


@pytest.mark.parametrize(
    "path, link, menu",
    [
        ("/admin", "Dashboard", None),
        ("/admin/queue", "Queue", None),
        ("/admin/reports", "Reports", "Data"),  # the Data menu holds Reports
        ("/admin/publishing", "Publishing", "Data"),
        ("/admin/rewards/claims", "Rewards", "Programs"),  # a page under Rewards (by prefix)
        ("/admin/rewards", "Rewards", "Programs"),
    ],
)
def test_an_admin_sees_where_they_are(client, login_as, path, link, menu):
    login_as(AdminFactory())
    html = client.get(path).text
    assert current_links(html) == [link]
    assert current_menus(html) == ([menu] if menu else [])


@pytest.mark.parametrize(
    "path, link, menu",
    [
        ("/home", "Home", None),
        ("/rewards", "Rewards", "Rewards"),
        ("/points", "My points", "Rewards"),
        ("/preferences", "Preferences", "My details"),
    ],
)
def test_an_advocate_sees_where_they_are(client, login_as, path, link, menu):
    login_as(UserFactory())
    html = client.get(path).text
    assert current_links(html) == [link]
    assert current_menus(html) == ([menu] if menu else [])
