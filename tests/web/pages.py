"""Reading pages the way a browser would: forms and their fields, field errors, links in
email. Parsed with the standard library so tests depend on markup, not on a parser's quirks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import inspect, select

from portal.database import db
from portal.models import OutboxMessage


@dataclass
class Form:
    action: str | None
    method: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    form: Form | None = None  # the form it sits in


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self._form: Form | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form":
            # The address the form posts to: a fragment (#section, where the page scrolls
            # back to) never reaches the server.
            action = attrs.get("action")
            self._form = Form(action.partition("#")[0] if action else action, attrs.get("method", "get").lower())
            self.forms.append(self._form)
        element = Element(tag, attrs, form=self._form)
        self.elements.append(element)
        if tag == "input" and self._form is not None and "name" in attrs:
            self._form.fields[attrs["name"]] = attrs.get("value", "")
        if tag not in ("input", "meta", "link", "br", "img"):
            self._open.append(element)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        for element in self._open:
            element.text += data


def parse(html: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(html)
    return parser


def find_form(html: str, action: str | None = None) -> Form:
    """The page's POST form whose action is ``action`` (a path); with None, the one that
    posts back to the page itself (no action attribute)."""
    forms = [f for f in parse(html).forms if f.method == "post"]
    if action is not None:
        matches = [f for f in forms if f.action == action]
    else:
        matches = [f for f in forms if f.action in (None, "")]
    assert len(matches) == 1, f"expected one form posting to {action!r}, found {forms}"
    return matches[0]


def submit(client, page_html: str, action: str | None = None, *, to: str | None = None, **values):
    """Post a form of the page as a browser would: its own fields (hidden ones included),
    overridden by ``values``. ``to`` is the URL when the form posts to its own page."""
    form = find_form(page_html, action)
    data = {**form.fields, **values}
    return client.post(form.action or to, data=data)


def field_error(html: str, action: str, name: str) -> str | None:
    """The error shown beside field ``name`` of the form posting to ``action``: the text of
    the elements its ``aria-describedby`` names with an ``-error`` id (so screen readers
    hear it too). None when the field is not marked invalid."""
    page = parse(html)
    [control] = [
        e
        for e in page.elements
        if e.form is not None and e.form.action == action and e.attrs.get("name") == name
        and e.tag in ("input", "select", "textarea")
    ]
    described = control.attrs.get("aria-describedby", "").split()
    errors = [e for e in page.elements if e.attrs.get("id") in described and e.attrs["id"].endswith("-error")]
    if not errors:
        assert control.attrs.get("aria-invalid") != "true"
        return None
    assert control.attrs.get("aria-invalid") == "true"
    ids = [e.attrs.get("id") for e in page.elements if e.attrs.get("id")]
    assert all(ids.count(e.attrs["id"]) == 1 for e in errors), "error ids must be unique"
    return " ".join(" ".join(e.text.split()) for e in errors)


def htmx_csrf_token(html: str) -> str:
    """The token the page gives htmx (static/js/portal.js sends it as X-CSRFToken)."""
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, "the page carries no csrf-token <meta> for htmx"
    return match.group(1)


def without_tokens(html: str) -> str:
    """The page with its per-session CSRF tokens blanked, to compare two pages."""
    html = re.sub(r'(<meta name="csrf-token" content=")[^"]+', r"\1", html)
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)


def path_of(url: str) -> str:
    """The on-site part of an absolute URL (links in email are built from BASE_URL)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def redirect_target(response) -> tuple[str, dict[str, list[str]]]:
    location = response.headers["Location"]
    parts = urlsplit(location)
    return parts.path, parse_qs(parts.query)


# --- email ----------------------------------------------------------------------------------

LINK_PATTERN = re.compile(r"https?://\S+/sign-in/link/\S+")


def sign_in_link_in(text: str) -> str:
    """The sign-in link in an email body, as a path the test client can open."""
    match = LINK_PATTERN.search(text)
    assert match, f"no sign-in link in:\n{text}"
    return path_of(match.group(0))


def emails_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == address).order_by(OutboxMessage.id)
        )
    )


def last_link_sent_to(address: str) -> str:
    messages = emails_to(address)
    assert messages, f"no email was queued for {address}"
    return sign_in_link_in(messages[-1].payload["text"])


def request_link(client, email: str, next_url: str | None = None):
    data = {"email": email}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/sign-in/link", data=data)


def link_for(client, email: str, next_url: str | None = None) -> str:
    """Ask for a sign-in link through the form and read it from the queued email."""
    response = request_link(client, email, next_url)
    assert response.status_code == 302, response.text
    return last_link_sent_to(email)


def fresh(obj):
    """The row as the database has it now, whatever the test's copy says."""
    state = inspect(obj)
    return db.session.get(type(obj), state.identity[0], populate_existing=True)


def signed_in_user_id(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")
