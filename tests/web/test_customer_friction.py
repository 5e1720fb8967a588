"""What a customer trips over (issue 17): the start page leads with joining, the icon
answers, an over-size form keeps what was typed, money carries its currency."""

from __future__ import annotations

import re
from pathlib import Path

from tests.factories import UserFactory

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
