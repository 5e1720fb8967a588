"""The real job queue (SqliteHuey, or RedisHuey when PORTAL_REDIS_URL is set), not the
immediate mode the other tests use, and the health check that watches it."""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime

import pytest
from huey import RedisHuey, SqliteHuey
from sqlalchemy import select

from portal import create_app, jobs
from portal.database import commit, db
from portal.models import OutboxMessage, OutboxStatus
from portal.services import outbox
from tests.conftest import REDIS_URL, free_port, missing
from tests.factories import UserFactory

# --- the queue --------------------------------------------------------------------------------


@pytest.fixture
def queue(app):
    """The portal's own Huey with its real storage, emptied before and after the test.

    The module-level queue was built from the environment at import time (conftest gives it
    a per-process name), so flushing it cannot touch anybody else's jobs.
    """
    huey = jobs.huey
    assert huey.name == os.environ["PORTAL_JOBS_NAME"]
    assert huey.name.startswith("portal-test-")
    if REDIS_URL:
        assert isinstance(huey, RedisHuey), "PORTAL_REDIS_URL is set: jobs must go to Redis"
    else:
        assert isinstance(huey, SqliteHuey)

    was_immediate = huey.immediate
    huey.immediate = False  # back to the real storage
    storage = huey.storage
    try:
        try:
            huey.storage.queue_size()
        except Exception as exc:  # Redis is down or the URL is wrong
            missing(f"the job queue at PORTAL_REDIS_URL={REDIS_URL} does not answer: {exc}")
        huey.flush()
        yield huey
        huey.flush()
    finally:
        huey.immediate = was_immediate
        if isinstance(huey, RedisHuey):
            storage.pool.disconnect()
        else:
            storage.close()


@pytest.fixture
def consumer(monkeypatch, database_url, smtp):
    """Runs a task the way ``huey_consumer portal.jobs.huey`` does: in a worker thread with no
    app context, so the task builds the consumer's own app from PORTAL_* variables."""
    monkeypatch.setenv("PORTAL_DATABASE_URL", database_url)
    monkeypatch.setenv("PORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PORTAL_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("PORTAL_BASE_URL", "http://portal.test")
    monkeypatch.setattr(jobs, "_consumer_app", None)

    def run(huey, task) -> None:
        errors: list = []

        def work():
            try:
                huey.execute(task)
            except BaseException as exc:  # reported to the test, not lost in the thread
                errors.append(exc)

        thread = threading.Thread(target=work)
        thread.start()
        thread.join(30)
        assert not thread.is_alive(), "the task did not finish"
        assert errors == []

    yield run

    consumer_app = jobs._consumer_app
    if consumer_app is not None:
        with consumer_app.app_context():
            for engine in db.engines.values():
                engine.dispose()


def queue_sign_in_email(to: str = "rosa.diaz@customer.example") -> OutboxMessage:
    user = UserFactory(email=to, name="Rosa Díaz")
    return outbox.queue_email(
        to,
        "Your sign-in link",
        "sign_in_link",
        user=user,
        url="http://portal.test/sign-in/link/abc",
        minutes=15,
    )


def task_errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_email_goes_through_the_real_queue(app, committed_db, queue, consumer, smtp, caplog):
    message = queue_sign_in_email()
    assert queue.pending_count() == 0, "nothing is enqueued before the commit"
    commit()

    # Enqueued after the commit, not run: a consumer picks it up.
    assert queue.pending_count() == 1
    assert smtp.messages == []
    db.session.refresh(message)
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 0

    task = queue.dequeue()
    assert task.name.endswith("deliver_outbox_message")
    assert task.args == (message.id,)
    assert queue.pending_count() == 0

    consumer(queue, task)

    assert task_errors(caplog) == []
    [email] = smtp.messages
    assert email["To"] == "rosa.diaz@customer.example"
    assert email["Subject"] == "Your sign-in link"
    assert "http://portal.test/sign-in/link/abc" in email.get_body(preferencelist=("plain",)).get_content()
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert message.status is OutboxStatus.SENT
    assert message.attempts == 1


def test_a_rolled_back_change_enqueues_nothing(app, committed_db, queue, smtp):
    queue_sign_in_email()
    db.session.rollback()
    commit()
    assert queue.pending_count() == 0
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_a_lost_task_is_recovered_by_the_periodic_redrain(
    app, committed_db, queue, consumer, smtp, caplog
):
    message = queue_sign_in_email()
    commit()
    assert queue.pending_count() == 1
    queue.flush()  # the task is lost (Redis restarted, the queue file deleted ...)
    assert queue.pending_count() == 0

    # The consumer's scheduler runs the re-drain every minute.
    now = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    due = [t for t in queue.read_periodic(now) if t.name.endswith("redeliver_due_messages")]
    assert len(due) == 1

    consumer(queue, due[0])

    assert task_errors(caplog) == []
    assert len(smtp.to("rosa.diaz@customer.example")) == 1
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status is OutboxStatus.SENT

    # Running it again (the next minute) sends nothing more.
    consumer(queue, due[0])
    assert len(smtp.messages) == 1


# --- /healthz ---------------------------------------------------------------------------------


def test_healthz_reports_database_and_queue(client, queue):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "ok", "rate_limits": "off"}


@pytest.mark.parametrize(
    "unreachable",
    [
        "postgresql+psycopg://portal@127.0.0.1:1/nothing?connect_timeout=2",
        "sqlite:///{tmp}/no-such-directory/portal.sqlite3",
    ],
    ids=["postgresql-refused", "sqlite-missing-directory"],
)
def test_healthz_answers_503_when_the_database_is_unreachable(app_config, tmp_path, unreachable):
    app = create_app({**app_config, "DATABASE_URL": unreachable.format(tmp=tmp_path)})
    with app.app_context():
        try:
            response = app.test_client().get("/healthz")
        finally:
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unavailable", "queue": "ok",
                                   "rate_limits": "off"}


def test_healthz_says_degraded_when_the_queue_is_unreachable(client, monkeypatch):
    dead = RedisHuey("portal-test-dead", url=f"redis://127.0.0.1:{free_port()}/0", results=False)
    monkeypatch.setattr(jobs, "huey", dead)
    try:
        response = client.get("/healthz")
    finally:
        dead.storage.pool.disconnect()
    # Pages and forms still work (the outbox keeps the work): not a reason to leave the pool.
    assert response.status_code == 200
    assert response.get_json() == {"status": "degraded", "database": "ok", "queue": "unavailable",
                                   "rate_limits": "off"}
