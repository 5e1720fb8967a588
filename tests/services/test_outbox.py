"""The outbox delivers real email over SMTP (aiosmtpd), after the commit, once, with retries."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.database import commit, db, rollback, utcnow
from portal.jobs import deliver_outbox_message
from portal.models import OutboxKind, OutboxMessage, OutboxStatus
from portal.services import outbox
from tests.conftest import ON_POSTGRES, free_port
from tests.factories import UserFactory

MINUTE = timedelta(minutes=1)


def queue_link(to: str = "rosa.diaz@customer.example", name: str = "Rosa Díaz") -> OutboxMessage:
    user = UserFactory(email=to, name=name)
    return outbox.queue_email(
        to,
        "Your sign-in link",
        "sign_in_link",
        user=user,
        url="http://portal.test/sign-in/link/abc",
        minutes=15,
    )


def smtp_down(app) -> None:
    """Point the app at a port where no SMTP server listens."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), MAIL_CONSOLE=False)


def smtp_up(app, smtp) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, MAIL_CONSOLE=False)


def make_due(message: OutboxMessage) -> None:
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


# --- delivery after commit --------------------------------------------------------------------


def test_queued_email_is_delivered_over_smtp_after_commit(app, db, smtp):
    message = queue_link()
    assert message.status is OutboxStatus.PENDING
    assert smtp.messages == [], "nothing may be sent before the transaction commits"

    commit()  # JOBS_IMMEDIATE: the delivery task runs right after the commit

    assert len(smtp.messages) == 1
    email = smtp.messages[0]
    assert email["From"] == app.config["MAIL_FROM"]
    assert email["To"] == "rosa.diaz@customer.example"
    assert email["Subject"] == "Your sign-in link"
    assert email["Message-ID"] and email["Date"]
    body = email.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Rosa Díaz," in body
    assert "http://portal.test/sign-in/link/abc" in body
    assert "expires in 15 minutes" in body
    assert app.config["PROGRAM_NAME"] in body

    db.session.refresh(message)
    assert message.status is OutboxStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None and message.sent_at.tzinfo is not None
    assert message.last_error is None


def test_recipient_is_normalised_and_extra_headers_are_sent(db, smtp):
    user = UserFactory()
    message = outbox.queue_email(
        "  Rosa.Diaz@Customer.Example ",
        "Sign-in link for the Champions programme — ¡bienvenida!",
        "sign_in_link",
        headers={"List-Unsubscribe": "<http://portal.test/unsubscribe/xyz>"},
        user=user,
        url="http://portal.test/x",
        minutes=15,
    )
    commit()
    assert message.recipient == "rosa.diaz@customer.example"
    [email] = smtp.messages
    assert email["Subject"] == "Sign-in link for the Champions programme — ¡bienvenida!"
    assert email["List-Unsubscribe"] == "<http://portal.test/unsubscribe/xyz>"


@pytest.mark.parametrize(
    "undo", [rollback, lambda: db.session.rollback()], ids=["rollback", "session.rollback"]
)
def test_rollback_drops_the_queued_delivery(db, smtp, undo):
    queue_link()
    undo()
    commit()  # a later commit must not run the delivery registered before the rollback

    assert smtp.messages == []
    assert outbox_count() == 0


def test_a_rolled_back_savepoint_keeps_the_enclosing_delivery(db, smtp):
    queue_link(to="kept@customer.example")
    savepoint = db.session.begin_nested()
    queue_link(to="dropped@customer.example", name="Dropped")
    savepoint.rollback()
    commit()

    assert [m["To"] for m in smtp.messages] == ["kept@customer.example"]
    assert outbox_count() == 1


def test_a_failed_commit_sends_nothing(db, smtp):
    """If the commit itself fails, the after-commit delivery must not run."""
    from sqlalchemy.exc import IntegrityError

    queue_link(to="someone@customer.example")
    db.session.add_all([UserFactory.build(email="dupe@customer.example") for _ in range(2)])
    with pytest.raises(IntegrityError):
        commit()
    rollback()
    commit()

    assert smtp.messages == []
    assert outbox_count() == 0


# --- retries and backoff ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "minutes"),
    [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 32), (7, 60), (8, 60), (50, 60), (10_000, 60)],
)
def test_backoff_doubles_up_to_an_hour(attempts, minutes):
    assert outbox.backoff(attempts) == timedelta(minutes=minutes)


def test_unreachable_smtp_keeps_the_message_pending_with_backoff(app, db, smtp):
    smtp_down(app)
    message = queue_link()
    before = utcnow()
    commit()
    after = utcnow()

    db.session.refresh(message)
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 1
    assert message.last_error and "ConnectionRefusedError" in message.last_error
    assert before + MINUTE <= message.next_attempt_at <= after + MINUTE
    assert message.sent_at is None

    # Before its time has come, nobody tries it again: not the task, not the re-drain.
    smtp_up(app, smtp)
    outbox.deliver(message.id)
    assert outbox.deliver_due() == 0
    db.session.refresh(message)
    assert message.attempts == 1
    assert smtp.messages == []

    # Once the time has come, the re-drain sends it, exactly once.
    make_due(message)
    assert outbox.deliver_due() == 1
    assert outbox.deliver_due() == 0
    outbox.deliver(message.id)

    assert len(smtp.to("rosa.diaz@customer.example")) == 1
    assert len(smtp.messages) == 1
    db.session.refresh(message)
    assert message.status is OutboxStatus.SENT
    assert message.attempts == 2
    assert message.last_error is None


def test_gives_up_after_max_attempts_and_retry_requeues(app, db, smtp):
    max_attempts = app.config["MAIL_MAX_ATTEMPTS"]
    smtp_down(app)
    message = queue_link()
    commit()  # attempt 1

    for attempt in range(1, max_attempts):
        db.session.refresh(message)
        assert message.status is OutboxStatus.PENDING
        assert message.attempts == attempt
        last_try = utcnow()
        wait = message.next_attempt_at - last_try
        expected = timedelta(minutes=min(2 ** (attempt - 1), 60))
        assert expected - timedelta(seconds=5) <= wait <= expected
        make_due(message)
        assert outbox.deliver_due() == 1  # attempt + 1

    db.session.refresh(message)
    assert message.attempts == max_attempts
    assert message.status is OutboxStatus.FAILED
    assert message.last_error
    # A failed message is left alone by the periodic re-drain and by stray tasks.
    make_due(message)
    assert outbox.deliver_due() == 0
    outbox.deliver(message.id)
    db.session.refresh(message)
    assert message.attempts == max_attempts

    # The admin's retry puts it back in the queue; with SMTP back it is sent.
    smtp_up(app, smtp)
    outbox.retry(message)
    assert smtp.messages == []  # not before the commit
    commit()

    assert len(smtp.messages) == 1
    db.session.refresh(message)
    assert message.status is OutboxStatus.SENT
    assert message.last_error is None


def test_retry_is_dropped_by_a_rollback(app, db, smtp):
    smtp_down(app)
    app.config["MAIL_MAX_ATTEMPTS"] = 1
    message = queue_link()
    commit()
    db.session.refresh(message)
    assert message.status is OutboxStatus.FAILED

    smtp_up(app, smtp)
    outbox.retry(message)
    rollback()
    commit()

    assert smtp.messages == []
    db.session.refresh(message)
    assert message.status is OutboxStatus.FAILED


def test_a_sent_message_is_never_sent_again(app, db, smtp):
    message = queue_link()
    commit()
    assert len(smtp.messages) == 1

    outbox.deliver(message.id)
    deliver_outbox_message(message.id)  # a duplicate task (immediate mode runs it now)
    make_due(message)
    assert outbox.deliver_due() == 0
    outbox.deliver(message.id)

    assert len(smtp.messages) == 1
    db.session.refresh(message)
    assert message.status is OutboxStatus.SENT
    assert message.attempts == 1


def test_deliver_of_an_unknown_id_does_nothing(db, smtp):
    outbox.deliver(987654321)
    assert smtp.messages == []


def test_deliver_due_sends_every_due_message_once(app, db, smtp):
    smtp_down(app)
    messages = [queue_link(to=f"person{i}@customer.example", name=f"P{i}") for i in range(3)]
    commit()
    smtp_up(app, smtp)
    for message in messages[:2]:
        make_due(message)

    assert outbox.deliver_due() == 2
    assert outbox.deliver_due() == 0
    assert sorted(m["To"] for m in smtp.messages) == [
        "person0@customer.example",
        "person1@customer.example",
    ]
    db.session.refresh(messages[2])
    assert messages[2].status is OutboxStatus.PENDING


# --- development without SMTP -----------------------------------------------------------------


def test_without_smtp_the_email_is_printed_and_marked_sent(app, db, capsys):
    assert app.config["MAIL_CONSOLE"]
    # A real sign-in link is longer than an email line; it must print whole and readable.
    url = "http://portal.test/sign-in/link/" + "eyJ1IjoxLCJnIjowfQ.Zx3k9Q." * 5
    message = outbox.queue_email(
        "rosa.diaz@customer.example",
        "Your sign-in link",
        "sign_in_link",
        user=UserFactory(name="Rosa Díaz"),
        url=url,
        minutes=15,
    )
    assert "Your sign-in link" not in capsys.readouterr().err
    commit()

    printed = capsys.readouterr().err
    assert "not sent: no SMTP configured" in printed
    assert "To: rosa.diaz@customer.example" in printed
    assert "Subject: Your sign-in link" in printed
    assert "Hello Rosa Díaz," in printed
    assert url in printed

    db.session.refresh(message)
    assert message.status is OutboxStatus.SENT
    assert message.attempts == 1


# --- two consumers at once (PostgreSQL row locks) ---------------------------------------------

needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="row locks (SKIP LOCKED) need PostgreSQL")


def committed_message(to: str) -> int:
    """A pending, due message committed without queueing a delivery task."""
    message = OutboxMessage(
        kind=OutboxKind.EMAIL,
        recipient=to,
        subject="Concurrent",
        payload={"to": to, "subject": "Concurrent", "text": "Hello", "headers": {}},
    )
    db.session.add(message)
    db.session.commit()
    return message.id


def run_in_thread(app, func, *args, errors: list) -> threading.Thread:
    """Run ``func`` as a consumer worker would: in its own thread, app context and session."""

    def target():
        try:
            with app.app_context():
                func(*args)
        except BaseException as exc:  # reported to the test, not lost in the thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread


@pytest.mark.postgres
@needs_postgres
def test_two_workers_never_send_the_same_message_twice(app, committed_db, smtp):
    message_id = committed_message("rosa.diaz@customer.example")

    # Hold the first worker inside the SMTP conversation, so the second one certainly
    # runs while the first holds the row.
    in_data = threading.Event()
    release = threading.Event()
    original = smtp.handle_DATA

    async def slow_data(server, session, envelope):
        in_data.set()
        await asyncio.to_thread(release.wait, 10)
        return await original(server, session, envelope)

    smtp.handle_DATA = slow_data  # read by each new SMTP connection
    errors: list = []
    first = run_in_thread(app, outbox.deliver, message_id, errors=errors)
    try:
        assert in_data.wait(10), "the first worker never reached the SMTP server"
        second = run_in_thread(app, outbox.deliver, message_id, errors=errors)
        second.join(10)
        assert not second.is_alive(), "the second worker waited for the lock instead of skipping"
        assert smtp.messages == []
    finally:
        release.set()
        first.join(10)
        del smtp.handle_DATA
    assert not first.is_alive()
    assert errors == []

    assert len(smtp.messages) == 1
    message = db.session.get(OutboxMessage, message_id)
    assert message.status is OutboxStatus.SENT
    assert message.attempts == 1


@pytest.mark.postgres
@needs_postgres
def test_many_workers_at_once_send_each_message_once(app, committed_db, smtp):
    ids = [committed_message(f"person{i}@customer.example") for i in range(3)]
    workers = 6
    barrier = threading.Barrier(workers)
    errors: list = []

    def worker():
        barrier.wait(10)
        outbox.deliver_due()
        for message_id in ids:
            outbox.deliver(message_id)

    threads = [run_in_thread(app, worker, errors=errors) for _ in range(workers)]
    for thread in threads:
        thread.join(30)
    assert errors == []

    assert sorted(m["To"] for m in smtp.messages) == [f"person{i}@customer.example" for i in range(3)]
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage.attempts)).all() == [1, 1, 1]
