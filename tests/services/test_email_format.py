"""Every kind of email leaves as multipart/alternative (the text, and the same words as simple
HTML), with a Date in a known zone and a Message-ID at a real domain; checked on what a real
SMTP server (aiosmtpd) received."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from portal.database import commit
from portal.models import AdvocateStatus
from portal.services import outbox
from tests.factories import UserFactory

EMAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"
LINK = "http://portal.test/sign-in/link/abc?x=1&y=2"

# What each kind needs to render; a new kind without an entry here fails the test below.
CONTEXTS = {
    "already_nominated": lambda user: {"advocate": SimpleNamespace(status=AdvocateStatus.APPROVED), "url": LINK},
    "digest": lambda user: {"notifications": [SimpleNamespace(title="Your claim was approved", body="Enjoy <it>", link=LINK)]},
    "invitation": lambda user: {"nominator": SimpleNamespace(name="Sam Seller"), "reason": "Loves the product", "url": LINK},
    "invitation_expired": lambda user: {
        "advocate": SimpleNamespace(user=SimpleNamespace(name="Ada <Lovelace>"), account=SimpleNamespace(name="Globex & Co")),
        "invited_at": datetime(2026, 11, 2, tzinfo=UTC),
    },
    "invitation_reminder": lambda user: {
        "advocate": SimpleNamespace(invited_at=datetime(2026, 11, 2, tzinfo=UTC), created_at=datetime(2026, 11, 1, tzinfo=UTC)),
        "nominator": SimpleNamespace(name="Sam Seller"), "expires_at": datetime(2026, 12, 2, tzinfo=UTC), "url": LINK,
    },
    "job_change": lambda user: {"company": "Globex & Co", "url": LINK},
    "notification": lambda user: {"title": "Your request was accepted", "body": "See the details.", "link": LINK},
    "sign_in_link": lambda user: {"url": LINK, "minutes": 15},
    "sign_in_unknown": lambda user: {"program_url": "http://portal.test/"},
    "verify_nomination": lambda user: {"url": LINK},
}


def email_kinds() -> list[str]:
    return sorted(p.stem for p in EMAIL_TEMPLATES.glob("*.txt") if not p.name.startswith("_"))


def test_every_email_kind_is_covered():
    assert email_kinds() == sorted(CONTEXTS)


@pytest.mark.parametrize("kind", email_kinds())
def test_email_is_multipart_alternative_with_an_accessible_html_part(app, db, smtp, kind):
    user = UserFactory(email="rosa.diaz@customer.example", name="Rosa <Díaz>")
    outbox.queue_email(
        user.email, f"Subject for {kind}", kind, user=user, unsubscribe_url="http://portal.test/unsubscribe/t",
        **CONTEXTS[kind](user),
    )
    commit()

    [email] = smtp.messages
    assert email.get_content_type() == "multipart/alternative"
    parts = list(email.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    text = email.get_body(preferencelist=("plain",)).get_content()
    html = email.get_body(preferencelist=("html",)).get_content()

    # The HTML says what the text says: a language, a title, the links as links, the
    # recipient's name escaped (not markup).
    assert '<html lang="en">' in html
    assert f"<title>Subject for {kind}</title>" in html
    assert "Rosa &lt;Díaz&gt;" in html or "Rosa <Díaz>" not in text
    for line in ("The advocacy team at", app.config["COMPANY_NAME"]):
        assert line in text and line in html
    if LINK in text:
        assert f'<a href="{LINK.replace("&", "&amp;")}">' in html
    assert "<script" not in html

    # Date in a known zone (+0000, not -0000) and close to now.
    assert email["Date"].endswith("+0000")
    assert parsedate_to_datetime(email["Date"]).tzinfo is not None
    # The Message-ID's domain is the sender's domain.
    sender_domain = app.config["MAIL_FROM"].rsplit("@", 1)[1].rstrip(">")
    assert email["Message-ID"].endswith(f"@{sender_domain}>")


def test_message_id_falls_back_to_the_portal_host(app):
    app.config.update(MAIL_FROM="advocacy", BASE_URL="https://advocates.example.org/portal")
    with app.test_request_context():
        assert outbox.message_id_domain() == "advocates.example.org"


def test_html_part_escapes_text_and_links_addresses(app):
    paragraphs = outbox.html_paragraphs("Hi <b>you</b>,\n\nOpen https://x.example/a?b=1&c=2.\nThanks\n\n\n")
    assert [str(p) for p in paragraphs] == [
        "Hi &lt;b&gt;you&lt;/b&gt;,",
        'Open <a href="https://x.example/a?b=1&amp;c=2">https://x.example/a?b=1&amp;c=2</a>.<br>\nThanks',
    ]
