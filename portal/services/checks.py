"""Consistency checks and rebuilds of what the portal maintains as a copy, run as recorded
jobs, their latest result kept: the reference database (``publishing``) and each advocate's
availability state (``availability``).

Comparing every advocate takes about a minute per 50,000 (a rebuild longer), far beyond a
request: "Check now", "Rebuild now", the nightly task and the commands claim the one slot per
subject (``ReferenceCheck.subject`` with ``in_progress`` is unique), a job does the work and
records the result, and the page reads the latest result in one query. The commands run the
same work in-process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload

from portal.database import after_commit, commit, db, rollback, utcnow
from portal.models import CheckStatus, CheckSubject, CheckTrigger, ReferenceCheck, User
from portal.services import audit, availability, publishing
from portal.services.consistency import Difference, Progress, describe
from portal.services.errors import DomainError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subject:
    differences: Callable[[Progress | None], list[Difference]]
    rebuild: Callable[[Progress | None], list[Difference]]
    rebuilt: str  # the audit trail's words for a rebuild, with {n}
    unreachable: str  # what an OperationalError means here


SUBJECTS = {
    CheckSubject.REFERENCE: Subject(
        lambda progress: publishing.differences(progress),
        lambda progress: publishing.rebuild(progress),
        "Rebuilt the reference database: {n} rows corrected",
        "The reference database did not answer",
    ),
    CheckSubject.AVAILABILITY: Subject(
        lambda progress: availability.differences(progress=progress),
        lambda progress: availability.rebuild(progress=progress),
        "Rebuilt the availability states: {n} advocates corrected",
        "The database did not answer",
    ),
}



CHECK_KEEPS = 20  # differences kept with a result (the page lists them)
# A check that shows no sign of life for this long (a batch takes seconds) was lost with its
# worker, or no worker took it: the next start ends it as failed instead of waiting for ever.
CHECK_LOST_AFTER = timedelta(minutes=15)


class CheckInProgress(DomainError):
    """A check or rebuild is already queued or running: only one at a time."""

    def __init__(self, check: ReferenceCheck | None):
        if check is None:
            message = "Another check or rebuild has just started: wait for it to finish before starting another."
        else:
            state = "is waiting for a job worker" if check.status is CheckStatus.QUEUED else "is still running"
            message = (f"A {check.kind_label} started {check.requested_by_label} at {check.requested_at:%H:%M} UTC "
                       f"{state}: wait for it to finish before starting another.")
        super().__init__(message)
        self.check = check


class _CheckAbandoned(Exception):
    """The check was ended as lost while it still ran (its worker stalled): stop."""


def _in_progress(subject: CheckSubject):
    return select(ReferenceCheck).where(ReferenceCheck.subject == subject, ReferenceCheck.in_progress.is_not(None))


def _end_lost_checks(now) -> None:
    db.session.execute(
        update(ReferenceCheck)
        .where(ReferenceCheck.in_progress.is_not(None), ReferenceCheck.alive_at < now - CHECK_LOST_AFTER)
        .values(status=CheckStatus.FAILED, in_progress=None, finished_at=now,
                error=f"Gave up: no sign of life for {CHECK_LOST_AFTER.seconds // 60} minutes "
                      "(its job worker stopped, or no worker was running).")
        .execution_options(synchronize_session=False)
    )


def start_check(actor: User | None, *, repair: bool, trigger: CheckTrigger = CheckTrigger.ADMIN,
                subject: CheckSubject = CheckSubject.REFERENCE) -> ReferenceCheck:
    """Claim the subject's one slot for a check (``repair``: a rebuild); raises
    ``CheckInProgress`` when one is queued or running. The caller commits, then runs it
    (``run_check``)."""
    now = utcnow()
    _end_lost_checks(now)
    check = ReferenceCheck(subject=subject, repair=repair, trigger=trigger,
                           started_by_id=actor.id if actor is not None else None,
                           in_progress=True, requested_at=now, alive_at=now)
    try:
        with db.session.begin_nested():  # the unique slot decides, not a read before the write
            db.session.add(check)
    except IntegrityError:
        raise CheckInProgress(db.session.scalar(_in_progress(subject))) from None
    return check


def request_check(actor: User, *, repair: bool, subject: CheckSubject = CheckSubject.REFERENCE) -> ReferenceCheck:
    """"Check now" and "Rebuild now": claimed in this transaction, run by a job after it commits."""
    check = start_check(actor, repair=repair, trigger=CheckTrigger.ADMIN, subject=subject)
    after_commit(_enqueue_check, check.id)
    return check


def _enqueue_check(check_id: int) -> None:
    from portal.jobs import run_reference_check

    try:
        run_reference_check(check_id)
    except Exception as exc:  # the job queue does not answer: say so rather than wait for ever
        log.exception("could not queue reference check %s", check_id)
        _end(check_id, error=f"The job queue did not answer ({describe(exc)}); nothing was checked.")
        commit()


def _end(check_id: int, *, found: list[Difference] | None = None, error: str = "") -> bool:
    """Record how a check ended, unless it was already ended (as lost). Whether it was."""
    values = {"status": CheckStatus.FAILED if error else CheckStatus.FINISHED, "in_progress": None,
              "finished_at": utcnow(), "error": error}
    if found is not None:
        values.update(difference_count=len(found), differences=[d.as_json() for d in found[:CHECK_KEEPS]])
    result = db.session.execute(
        update(ReferenceCheck).where(ReferenceCheck.id == check_id, ReferenceCheck.in_progress.is_not(None)).values(**values)
    )
    return result.rowcount == 1


def run_check(check_id: int) -> tuple[ReferenceCheck | None, list[Difference]]:
    """The work of a claimed check, in a job (or the command): compare, or rebuild, every
    published advocate, recording progress after each batch and the result at the end; a
    reference database that does not answer is recorded as the check's error, not raised.
    Returns the check and every difference found (None: it was not this call's to run)."""
    now = utcnow()
    claimed = db.session.execute(
        update(ReferenceCheck)
        .where(ReferenceCheck.id == check_id, ReferenceCheck.status == CheckStatus.QUEUED)
        .values(status=CheckStatus.RUNNING, started_at=now, alive_at=now)
    )
    if claimed.rowcount != 1:  # already run, or ended as lost before a worker took it
        return None, []
    commit()
    check = db.session.get(ReferenceCheck, check_id)
    repair, subject = check.repair, SUBJECTS[check.subject]

    def progress(done: int, total: int) -> None:
        alive = db.session.execute(
            update(ReferenceCheck)
            .where(ReferenceCheck.id == check_id, ReferenceCheck.status == CheckStatus.RUNNING)
            .values(advocates_done=done, advocates_total=total, alive_at=utcnow())
        )
        commit()  # so the page sees it move
        if alive.rowcount != 1:
            raise _CheckAbandoned

    try:
        found = subject.rebuild(progress) if repair else subject.differences(progress)
    except _CheckAbandoned:
        log.warning("reference check %s was ended as lost while it ran; stopped", check_id)
        return None, []
    except Exception as exc:  # the reference database does not answer, or anything else
        log.warning("reference check %s failed", check_id, exc_info=True)
        rollback()
        if isinstance(exc, OperationalError):
            error = f"{subject.unreachable}: {describe(exc)}"
        else:
            error = f"The {'rebuild' if repair else 'check'} failed: {describe(exc)}"
        _end(check_id, error=error)
        commit()
        return db.session.get(ReferenceCheck, check_id), []
    if _end(check_id, found=found) and repair:
        check = db.session.get(ReferenceCheck, check_id)
        if check.trigger is not CheckTrigger.NIGHTLY or found:  # a nightly no-op is not an event
            record_rebuild(check.started_by, found, check)
    commit()
    if found and repair:
        log.warning("reference rebuild %s repaired %s rows", check_id, len(found))
    return db.session.get(ReferenceCheck, check_id), found


@dataclass
class CheckState:
    current: ReferenceCheck | None  # queued or running
    last: ReferenceCheck | None  # the latest that ended
    current_lost: bool = False  # no sign of life for a while: the next start replaces it

    @property
    def last_differences(self) -> list[Difference]:
        return [Difference.from_json(d) for d in self.last.differences] if self.last else []


def check_state(subject: CheckSubject = CheckSubject.REFERENCE) -> CheckState:
    """The subject's check in progress and its latest result, in one query: at most one is
    in progress and it is the newest (none can start while it runs), so the newest two hold
    both."""
    newest = db.session.scalars(
        select(ReferenceCheck)
        .where(ReferenceCheck.subject == subject)
        .options(joinedload(ReferenceCheck.started_by))
        .order_by(ReferenceCheck.id.desc())
        .limit(2)
    ).all()
    current = newest[0] if newest and not newest[0].ended else None
    last = next((c for c in newest if c.ended), None)
    lost = current is not None and current.alive_at < utcnow() - CHECK_LOST_AFTER
    return CheckState(current, last, lost)


def record_rebuild(actor: User | None, repaired: list[Difference], check: ReferenceCheck) -> None:
    action = "publishing.rebuild" if check.subject is CheckSubject.REFERENCE else "availability.rebuild"
    audit.record(actor, action, check, SUBJECTS[check.subject].rebuilt.format(n=len(repaired)),
                 advocates=[d.advocate_id for d in repaired[:200]])
