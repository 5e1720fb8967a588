"""The outbox: side effects written in the same transaction as the change that causes them,
delivered after the commit by a job, retried with backoff until they succeed or give up."""

from __future__ import annotations

import logging
import smtplib
import sys
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlsplit

from flask import current_app, render_template
from markupsafe import Markup, escape
from sqlalchemy import select

from portal.database import after_commit, commit, db, utcnow
from portal.models import OutboxKind, OutboxMessage, OutboxStatus, normalise_email

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
REDRAIN_BATCH = 200


def queue_email(
    to: str, subject: str, template: str, *, headers: dict | None = None, **context
) -> OutboxMessage:
    """Render ``templates/email/<template>.txt`` and queue it for delivery after commit."""
    text = render_template(f"email/{template}.txt", subject=subject, **context)
    message = OutboxMessage(
        kind=OutboxKind.EMAIL,
        recipient=normalise_email(to),
        subject=subject,
        payload={"to": to, "subject": subject, "text": text, "headers": headers or {}},
    )
    db.session.add(message)
    db.session.flush()
    from portal.jobs import deliver_outbox_message

    after_commit(deliver_outbox_message, message.id)
    return message


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after each failed attempt, at most an hour."""
    # The exponent is capped so that a large MAIL_MAX_ATTEMPTS cannot overflow timedelta.
    return min(timedelta(minutes=2 ** min(attempts - 1, 16)), MAX_BACKOFF)


def deliver(message_id: int) -> None:
    """Try one message once. Locked (and skipped if another worker holds it) so that two
    consumers never send the same message twice on PostgreSQL."""
    now = utcnow()
    message = db.session.execute(
        select(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
        )
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if message is None:
        commit()
        return
    message.attempts += 1
    try:
        _SENDERS[message.kind](message)
    except Exception as exc:  # whatever failed, the message stays queued for a retry
        log.warning("outbox message %s failed (attempt %s): %s", message.id, message.attempts, exc)
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        # An email can go stale; a publish event never gives up (a lost withdrawal would
        # leave someone listed without consent): it waits, with backoff, however long.
        if message.kind is OutboxKind.EMAIL and message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            message.status = OutboxStatus.FAILED
        else:
            message.next_attempt_at = now + backoff(message.attempts)
    else:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.last_error = None
    commit()


def deliver_due() -> int:
    """Deliver every pending message whose time has come; returns how many were tried."""
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(REDRAIN_BATCH)
    ).all()
    commit()
    for message_id in ids:
        deliver(message_id)
    return len(ids)


def retry(message: OutboxMessage) -> None:
    """Put a failed message back in the queue now (an admin's retry)."""
    message.status = OutboxStatus.PENDING
    message.attempts = 0  # a fresh series of attempts, with backoff, as for a new message
    message.next_attempt_at = utcnow()
    db.session.flush()
    from portal.jobs import deliver_outbox_message

    after_commit(deliver_outbox_message, message.id)


def build_email(payload: dict) -> EmailMessage:
    """The queued text as ``multipart/alternative``: the text itself, and the same words as
    simple HTML (one template for every kind) for mail clients that show only HTML."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    # An aware UTC time: "+0000" says the zone is known (a naive one gives "-0000", "unknown").
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=message_id_domain())
    for name, value in payload.get("headers", {}).items():
        message[name] = value
    message.set_content(payload["text"])
    message.add_alternative(
        render_template("email/_base.html", subject=payload["subject"], paragraphs=html_paragraphs(payload["text"])),
        subtype="html",
    )
    return message


def development_mailbox(config) -> bool:
    """Whether email is kept for reading at /admin/mailbox: only in development without SMTP.
    In production a message's body holds working sign-in links, so nobody reads it there."""
    return config["ENV"] == "development" and config["MAIL_CONSOLE"] and not config["MAIL_LOG_ONLY"]


def message_id_domain() -> str:
    """A real domain for Message-IDs: the sender's, else the portal's own host."""
    _name, address = parseaddr(current_app.config["MAIL_FROM"])
    _local, at, domain = address.rpartition("@")
    return (at and domain) or urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


_URL = re.compile(r"https?://[^\s<>\"]+")


def html_paragraphs(text: str) -> list[Markup]:
    """Plain text as HTML paragraphs: blank lines part them, line breaks stay, addresses
    become links (escaped first, so nothing in the text can become markup)."""

    def linked(line: str) -> Markup:
        out, last = Markup(), 0
        for match in _URL.finditer(line):
            url = match.group(0).rstrip(".,;:)")
            out += escape(line[last : match.start()]) + Markup('<a href="{0}">{0}</a>').format(url)
            last = match.start() + len(url)
        return out + escape(line[last:])

    blocks = [block.strip("\n") for block in re.split(r"\n\s*\n", text.strip())]
    return [Markup("<br>\n").join(linked(line) for line in block.splitlines()) for block in blocks if block.strip()]


def _send_email(outbox_message: OutboxMessage) -> None:
    config = current_app.config
    message = build_email(outbox_message.payload)
    if config["MAIL_CONSOLE"] and not development_mailbox(config):
        # MAIL_LOG_ONLY (production's only way to run without SMTP): nothing is sent, and
        # the log says to whom and what about, never the body or the other headers, which
        # carry sign-in and unsubscribe links.
        log.warning("email not sent (no SMTP configured): to %s, subject %r", message["To"], message["Subject"])
        return
    if config["MAIL_CONSOLE"]:
        # Development without SMTP: print it; admins also read it at /admin/mailbox.
        # Decoded, not as MIME: a long line (every sign-in link) makes the body
        # quoted-printable or base64, and the link could not be copied from the console.
        headers = "".join(f"{name}: {value}\n" for name, value in message.items())
        print(
            f"----- email (not sent: no SMTP configured) -----\n{headers}\n{outbox_message.payload['text']}",
            file=sys.stderr,
        )
        return
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"]) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(message)


_SENDERS: dict = {OutboxKind.EMAIL: _send_email}


def register_sender(kind: OutboxKind, sender) -> None:
    """``sender(message)`` delivers one message of ``kind`` or raises (publishing registers
    its kinds here, so the same drain, backoff and re-drain serve every side effect)."""
    _SENDERS[kind] = sender
