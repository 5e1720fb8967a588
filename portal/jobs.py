"""Background jobs (Huey).

The queue is ``SqliteHuey`` in the instance folder by default and ``RedisHuey`` when
``PORTAL_REDIS_URL`` is set; tests switch it to immediate mode. Start a consumer with::

    huey_consumer portal.jobs.huey

Tasks carry ids, never objects, and each runs in an application context with its own
transaction; the outbox row is the durable record, so a lost task only delays delivery
until the periodic re-drain picks the row up.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from pathlib import Path

from flask import Flask, has_app_context
from huey import RedisHuey, SqliteHuey, crontab

from portal.config import default_instance_path, load_config

log = logging.getLogger(__name__)


def _create_huey():
    instance_path = default_instance_path()
    config = load_config(instance_path)
    if config["REDIS_URL"]:
        # A Redis that does not answer fails an enqueue within seconds (the outbox row waits
        # for the periodic drain) instead of holding the request.
        return RedisHuey(config["JOBS_NAME"], connection_pool=redis_pool(config["REDIS_URL"]), results=False)
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return SqliteHuey(
        config["JOBS_NAME"], filename=str(Path(instance_path) / "jobs.sqlite3"), results=False
    )


def redis_pool(url: str):
    from redis import ConnectionPool

    return ConnectionPool.from_url(url, socket_connect_timeout=2)


huey = _create_huey()
_consumer_app: Flask | None = None


def app_context():
    """The caller's app context (immediate mode, CLI) or the consumer's own app."""
    global _consumer_app
    if has_app_context():
        return nullcontext()
    if _consumer_app is None:
        from portal import create_app

        _consumer_app = create_app()
    return _consumer_app.app_context()


def queue_is_healthy() -> bool:
    try:
        huey.storage.queue_size()
    except Exception:  # any storage failure means jobs cannot be queued
        log.exception("job queue unreachable")
        return False
    return True


@huey.task()
def deliver_outbox_message(message_id: int) -> None:
    from portal.services import outbox

    with app_context():
        outbox.deliver(message_id)


@huey.periodic_task(crontab(minute="*"))
def redeliver_due_messages() -> None:
    """Safety net: whatever is still pending and due (a retry after backoff, or a task lost
    while the queue was down) is delivered now."""
    from portal.services import outbox

    with app_context():
        outbox.deliver_due()


@huey.periodic_task(crontab(minute="15", hour="9"))
def remind_stale_profiles() -> None:
    """Daily: ask advocates whose details are older than the interval to confirm them."""
    from portal.database import commit
    from portal.services import profiles

    with app_context():
        profiles.remind_stale()
        commit()


@huey.periodic_task(crontab(minute="0", hour="8", day_of_week="1"))
def send_weekly_digests() -> None:
    """Mondays: one email per person who chose a weekly summary."""
    from portal.database import commit
    from portal.services import notify

    with app_context():
        notify.send_digests()
        commit()


@huey.periodic_task(crontab(minute="30", hour="*"))
def expire_overdue_asks() -> None:
    """Hourly: asks nobody answered by their due date expire."""
    from portal.database import commit
    from portal.services import asks

    with app_context():
        asks.expire_overdue()
        commit()


# One run refreshes batches for at most this long, leaving the rest to the next minute.
AVAILABILITY_RUN_SECONDS = 45


@huey.periodic_task(crontab(minute="*"))
def move_availability() -> None:
    """Every minute: advocates whose availability changes with time alone (a new local month
    or quarter, a pause, blackout or cool-down ending, an ask growing old) are refreshed, one
    committed batch at a time; several consumers share the rows (SKIP LOCKED). A row whose
    availability flips publishes itself to the reference database."""
    from portal.database import commit
    from portal.services import availability

    with app_context():
        started = time.monotonic()
        while availability.refresh_due() and time.monotonic() - started < AVAILABILITY_RUN_SECONDS:
            commit()
        commit()


@huey.periodic_task(crontab(minute="45", hour="*"))
def run_advisory_boards() -> None:
    """Hourly: meeting reminders a day before, expired seat offers passed on, renewal offers
    a month before a term ends, and ended terms closed (their seats offered to the waitlist)."""
    from portal.database import commit
    from portal.services import boards

    with app_context():
        boards.send_meeting_reminders()
        boards.expire_offers()
        boards.offer_renewals()
        boards.end_terms()
        commit()


@huey.periodic_task(crontab(minute="20", hour="*"))
def follow_up_invitations() -> None:
    """Hourly: remind customers who have not answered a staff nomination (after 3 and 10
    days, each once) and expire the invitations older than their link, telling the nominator."""
    from portal.database import commit
    from portal.services import nominations

    with app_context():
        nominations.follow_up_invitations()
        commit()


@huey.task()
def render_program_report(report_id: int) -> None:
    """A large program report's PDF, drawn outside the request that asked for it."""
    from portal.services import program_report

    with app_context():
        program_report.render_job(report_id)


@huey.task()
def run_reference_check(check_id: int) -> None:
    """"Check now" or "Rebuild now" on /admin/publishing (the reference database or the
    availability states): minutes of work in a large program, recorded on the check for the
    page to show. (The task keeps its first name: tasks queued before an upgrade still run.)"""
    from portal.services import checks

    with app_context():
        checks.run_check(check_id)


@huey.periodic_task(crontab(minute="40", hour="3"))
def rebuild_reference_database() -> None:
    """Nightly: recompute the availability states, then the whole published set (anything
    that drifted is repaired, logged and audited), each recorded like a rebuild started on the
    page. A subject whose check is already running is skipped."""
    from portal.database import commit
    from portal.models import CheckSubject, CheckTrigger
    from portal.services import checks

    with app_context():
        for subject in (CheckSubject.AVAILABILITY, CheckSubject.REFERENCE):
            try:
                check = checks.start_check(None, repair=True, trigger=CheckTrigger.NIGHTLY, subject=subject)
            except checks.CheckInProgress as exc:
                log.warning("nightly %s rebuild skipped: %s", subject.value, exc.message)
                continue
            commit()
            checks.run_check(check.id)
