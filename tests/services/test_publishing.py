"""Publishing to the reference database: what is published, how changes flow, and that
nothing is lost or applied twice while the reference database is down."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal import reference
from portal.database import commit, db, utcnow
from portal.models import (
    Advocate,
    AdvocateStatus,
    AuditEvent,
    CheckStatus,
    CheckSubject,
    CheckTrigger,
    ConsentPurpose,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    QueueKind,
    ReferenceCheck,
)
from portal.services import approvals, checks, consent, outbox, preferences, privacy, profiles, publishing
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, free_port
from tests.factories import AdminFactory, AdvocateFactory, TermFactory
from tests.publishing import activity, applied_events, listed_advocate, published, published_count, reference_db  # noqa: F401

P = ConsentPurpose


def publish_events(advocate_id=None):
    query = select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.REFERENCE_PUBLISH)
    if advocate_id is not None:
        query = query.where(OutboxMessage.advocate_id == advocate_id)
    return db.session.scalars(query.order_by(OutboxMessage.id)).all()


# --- what is published -----------------------------------------------------------------------


def test_field_level_consent_decides_exactly_which_columns_are_filled(app, db, reference_db):
    call = activity("ref_call_t", "Reference call", P.REFERENCE_CALLS)
    study = activity("case_study_t", "Case study", P.CASE_STUDY)
    feedback = activity("feedback_t", "Product feedback", None)
    product = TermFactory(name="Ledger Cloud")
    advocate = listed_advocate(
        story="We closed the books in two days.", activity_types=[call, study, feedback], products=[product],
        languages=["en", "es"],
    )

    row = published(advocate.id)
    assert row["name"] == advocate.user.name
    assert row["company"] == advocate.account.name
    assert row["job_title"] == "Head of Operations"
    assert row["country"] == "PA" and row["country_name"] == "Panama"
    assert row["products"] == ["Ledger Cloud"] and row["languages"] == ["en", "es"]
    assert row["story"] is None  # no case-study consent
    assert row["logo_allowed"] is False
    assert row["activity_types"] == ["Reference call", "Product feedback"]  # not the case study
    assert row["consented_purposes"] == ["reference_calls"]
    assert row["available_now"] is True and row["unavailable_reason"] is None

    consent.set_consents(advocate.user, advocate, {P.REFERENCE_CALLS, P.CASE_STUDY, P.LOGO, P.PROGRAM_EMAILS})
    commit()
    row = published(advocate.id)
    assert row["story"] == "We closed the books in two days."
    assert row["logo_allowed"] is True
    assert row["activity_types"] == ["Reference call", "Case study", "Product feedback"]
    assert row["consented_purposes"] == ["case_study", "logo", "reference_calls"]  # program emails are not for sales


def test_a_consent_withdrawal_blanks_or_removes_the_data_within_one_drain(app, db, reference_db):
    advocate = listed_advocate(P.CASE_STUDY, story="Our story.")
    assert published(advocate.id)["story"] == "Our story."
    events_before = len(publish_events(advocate.id))

    consent.set_consents(advocate.user, advocate, {P.REFERENCE_CALLS})
    commit()  # the commit's own delivery is the one drain
    assert len(publish_events(advocate.id)) == events_before + 1
    assert published(advocate.id)["story"] is None

    consent.set_consents(advocate.user, advocate, set())
    commit()
    assert published(advocate.id) is None
    assert published_count() == 0


def test_only_approved_advocates_with_reference_consent_are_listed(app, db, reference_db):
    no_consent = AdvocateFactory()
    pending = AdvocateFactory(status=AdvocateStatus.PENDING)
    consent.set_consents(pending.user, pending, {P.REFERENCE_CALLS})
    listed = listed_advocate()
    commit()
    assert published(no_consent.id) is None
    assert published(pending.id) is None
    assert published(listed.id) is not None


def test_approval_publishes_and_a_rejection_keeps_out(app, db, reference_db):
    admin = AdminFactory()
    advocates = []
    for _ in range(2):
        advocate = AdvocateFactory(status=AdvocateStatus.PENDING)
        consent.set_consents(advocate.user, advocate, {P.REFERENCE_CALLS})
        advocates.append((advocate, approvals.open_item(QueueKind.NOMINATION, advocate, advocate.id)))
    commit()
    (accepted, item_a), (refused, item_r) = advocates
    assert published(accepted.id) is None

    approvals.decide(admin, item_a, True)
    approvals.decide(admin, item_r, False, "Not a customer yet.")
    commit()
    assert published(accepted.id)["name"] == accepted.user.name
    assert published(refused.id) is None


def test_profile_edit_and_key_field_approval_reach_the_row(app, db, reference_db):
    admin = AdminFactory()
    advocate = listed_advocate(P.CASE_STUDY)
    profile = profiles.profile_of(advocate)
    profile.story = "A new story."
    profile.job_title = "COO"  # a key field: waits for approval, the old title stays published
    change = profiles.update_profile(advocate.user, advocate, "Rosa Díaz", profile)
    commit()
    row = published(advocate.id)
    assert (row["name"], row["story"], row["job_title"]) == ("Rosa Díaz", "A new story.", "Head of Operations")

    item = db.session.scalar(select(approvals.QueueItem).where(approvals.QueueItem.subject_id == change.id,
                                                               approvals.QueueItem.kind == QueueKind.PROFILE_CHANGE))
    approvals.decide(admin, item, True)
    commit()
    assert published(advocate.id)["job_title"] == "COO"


def test_pause_and_account_at_risk_stay_listed_but_unavailable(app, db, reference_db):
    advocate = listed_advocate(time_zone="UTC")
    prefs = preferences.preferences_of(advocate)
    prefs.paused_until = utcnow().date() + timedelta(days=10)
    preferences.update(advocate.user, advocate, prefs)
    commit()
    row = published(advocate.id)
    assert (row["available_now"], row["unavailable_reason"]) == (False, "paused")
    assert row["paused_until"] == prefs.paused_until

    prefs.paused_until = None
    preferences.update(advocate.user, advocate, prefs)
    advocate.account.at_risk = True
    commit()
    row = published(advocate.id)
    assert (row["available_now"], row["unavailable_reason"]) == (False, "account_at_risk")

    advocate.account.at_risk = False
    commit()
    assert published(advocate.id)["available_now"] is True


def test_job_change_and_erasure_remove_the_row(app, db, reference_db):
    mover = listed_advocate()
    leaver = listed_advocate()
    profiles.move_to_company(mover.user, mover, "Another Company SA", "CFO")
    privacy.erase_account(leaver.user, leaver.user)
    commit()
    assert published(mover.id) is None  # the old membership lapsed with its consents
    assert published(leaver.id) is None
    assert published_count() == 0


def test_a_name_change_republishes_every_current_membership(app, db, reference_db):
    advocate = listed_advocate()
    advocate.user.name = "Rosa María Díaz"
    commit()
    assert published(advocate.id)["name"] == "Rosa María Díaz"


# --- idempotency and order ---------------------------------------------------------------------


def test_replaying_events_changes_nothing(app, db, reference_db):
    advocate = listed_advocate(P.CASE_STUDY, story="Before.")
    advocate.story = "After."
    commit()
    before = published(advocate.id)
    applied = applied_events()
    events = publish_events(advocate.id)
    assert all(e.status is OutboxStatus.SENT for e in events)

    for event in events:  # the consumer crashed after writing and runs every event again
        assert publishing.apply_event(event) == "replay"
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([e.id for e in events]))
                       .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow()))
    commit()
    publishing.drain()
    assert published(advocate.id) == before
    assert applied_events() == applied


def test_an_older_event_applied_late_never_overwrites_newer_data(app, db, reference_db):
    advocate = listed_advocate(P.CASE_STUDY, story="Old.")
    first = publish_events(advocate.id)[-1]
    consent.set_consents(advocate.user, advocate, {P.REFERENCE_CALLS})  # the story is withdrawn
    commit()
    newest = publish_events(advocate.id)[-1]
    assert published(advocate.id)["story"] is None
    # An older event, never applied (say it was stuck on another worker), arrives last.
    with reference.engine().begin() as conn:
        conn.execute(reference.applied_events.delete().where(reference.applied_events.c.event_id == first.id))
    assert publishing.apply_event(first) == "superseded"
    assert published(advocate.id)["story"] is None
    assert newest.id > first.id


# --- rebuild ---------------------------------------------------------------------------------------


def test_rebuild_on_a_consistent_database_reports_no_differences(app, db, reference_db):
    for _ in range(3):
        listed_advocate(P.CASE_STUDY, story="A story.")
    AdvocateFactory()  # not consented: not listed
    commit()
    assert publishing.differences() == []
    assert publishing.rebuild() == []


@pytest.mark.parametrize("batch", [1000, 2], ids=["one batch", "batches of two"])
def test_rebuild_reports_and_repairs_every_kind_of_difference(app, db, reference_db, monkeypatch, batch):
    # Batches of two put the three differences, and the one row that is right, in different batches.
    monkeypatch.setattr(publishing, "REBUILD_BATCH", batch)
    right = listed_advocate()
    missing, stale, extra = listed_advocate(), listed_advocate(), listed_advocate()
    with reference.engine().begin() as conn:
        advocates = reference.advocates
        conn.execute(advocates.delete().where(advocates.c.advocate_id == missing.id))
        conn.execute(advocates.update().where(advocates.c.advocate_id == stale.id).values(job_title="Intern", regions=["Mars"]))
    # Consent ends without an event reaching the reference database (say a restore of an old backup).
    db.session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT))
    for row in consent.consents_of(extra).values():
        row.granted = False
    db.session.flush()
    publishing._forget_changes(db.session(), type("T", (), {"parent": None})())
    commit()

    found = publishing.differences()
    assert [(d.advocate_id, d.change) for d in found] == sorted(
        [(missing.id, "add"), (stale.id, "update"), (extra.id, "remove")]
    )
    assert next(d for d in found if d.change == "update").fields == ("job_title", "regions")
    assert publishing.rebuild() == found
    assert publishing.differences() == []
    assert published(extra.id) is None and published(missing.id)["name"] == missing.user.name
    assert published(stale.id)["job_title"] == stale.job_title and published(right.id)["name"] == right.user.name
    # Every repaired row is marked as written at the rebuild, so older events in flight are skipped.
    with reference.engine().connect() as conn:
        state = dict(conn.execute(select(reference.sync_state.c.advocate_id, reference.sync_state.c.last_event_id)).all())
    watermark = db.session.scalar(select(func.max(OutboxMessage.id)))
    assert all(state[a.id] == watermark for a in (missing, stale, extra))


# --- checks and rebuilds as jobs, their result recorded ------------------------------------------------


def run_check(repair=False, trigger=CheckTrigger.ADMIN, actor=None):
    check = checks.start_check(actor, repair=repair, trigger=trigger)
    commit()
    return checks.run_check(check.id)


def rebuild_audits() -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "publishing.rebuild")).all()


def test_a_check_records_its_progress_and_result_and_changes_nothing(app, db, reference_db, monkeypatch):
    monkeypatch.setattr(publishing, "REBUILD_BATCH", 2)
    listed_advocate()
    missing = listed_advocate()
    with reference.engine().begin() as conn:
        conn.execute(reference.advocates.delete().where(reference.advocates.c.advocate_id == missing.id))
    told = []
    compare = publishing.differences
    monkeypatch.setattr(publishing, "differences", lambda progress: compare(lambda *n: (told.append(n), progress(*n))))

    admin = AdminFactory()
    check, found = run_check(actor=admin)
    assert told == [(0, 2), (2, 2)]  # before each batch and at the end
    assert found == [publishing.Difference(missing.id, "add")]
    assert (check.status, check.repair, check.in_progress, check.started_by_id) == (CheckStatus.FINISHED, False, None, admin.id)
    assert (check.advocates_done, check.advocates_total, check.difference_count) == (2, 2, 1)
    assert check.differences == [{"advocate_id": missing.id, "change": "add", "fields": []}]
    assert check.requested_at <= check.started_at <= check.alive_at <= check.finished_at and check.error == ""
    assert published(missing.id) is None and rebuild_audits() == []


def test_a_rebuild_records_what_it_repaired_and_is_audited(app, db, reference_db):
    stale = listed_advocate()
    with reference.engine().begin() as conn:
        conn.execute(reference.advocates.update().values(job_title="Intern"))
    admin = AdminFactory()
    check, found = run_check(repair=True, actor=admin)
    assert check.status is CheckStatus.FINISHED and check.repair is True and check.difference_count == 1
    assert check.differences == [{"advocate_id": stale.id, "change": "update", "fields": ["job_title"]}]
    assert published(stale.id)["job_title"] == stale.job_title
    [event] = rebuild_audits()
    assert (event.actor_id, event.subject_type, event.subject_id) == (admin.id, "reference_checks", check.id)
    assert event.details == {"advocates": [stale.id]}


def test_the_nightly_rebuild_records_its_result_the_same_way(app, db, reference_db):
    from portal import jobs

    missing = listed_advocate()
    with reference.engine().begin() as conn:
        conn.execute(reference.advocates.delete())
    jobs.rebuild_reference_database.call_local()
    check = db.session.scalar(select(ReferenceCheck).where(ReferenceCheck.subject == CheckSubject.REFERENCE))
    assert (check.trigger, check.repair, check.started_by_id, check.status) == (
        CheckTrigger.NIGHTLY, True, None, CheckStatus.FINISHED)
    assert check.difference_count == 1 and published(missing.id) is not None
    [event] = rebuild_audits()
    assert event.actor_id is None and event.subject_id == check.id

    jobs.rebuild_reference_database.call_local()  # nothing left to repair: recorded, not audited
    newest = db.session.scalar(
        select(ReferenceCheck).where(ReferenceCheck.subject == CheckSubject.REFERENCE).order_by(ReferenceCheck.id.desc()))
    assert newest.id != check.id and newest.difference_count == 0 and newest.status is CheckStatus.FINISHED
    assert len(rebuild_audits()) == 1


def test_the_nightly_rebuild_is_skipped_while_a_check_runs(app, db, reference_db, caplog):
    from portal import jobs

    checks.start_check(AdminFactory(), repair=False)
    commit()
    jobs.rebuild_reference_database.call_local()
    by_subject = dict(db.session.execute(select(ReferenceCheck.subject, func.count()).group_by(ReferenceCheck.subject)).all())
    assert by_subject == {CheckSubject.REFERENCE: 1, CheckSubject.AVAILABILITY: 1}  # the other subject still ran
    assert "nightly reference rebuild skipped: A check started by" in caplog.text


def test_only_one_check_or_rebuild_at_a_time(app, db, reference_db):
    first = checks.start_check(AdminFactory(name="Ada Admin"), repair=False)
    commit()
    with pytest.raises(checks.CheckInProgress, match=r"^A check started by Ada Admin at \d\d:\d\d UTC is waiting"):
        checks.start_check(None, repair=True, trigger=CheckTrigger.COMMAND)
    # The schema refuses a second unfinished one, whatever the code reads first.
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(ReferenceCheck(repair=True, trigger=CheckTrigger.NIGHTLY))
    with pytest.raises(IntegrityError):  # and an ended check holds no slot
        with db.session.begin_nested():
            db.session.add(ReferenceCheck(repair=True, trigger=CheckTrigger.NIGHTLY, status=CheckStatus.FINISHED))

    checks.run_check(first.id)
    assert checks.run_check(first.id) == (None, [])  # a task delivered twice runs once
    second = checks.start_check(None, repair=True, trigger=CheckTrigger.COMMAND)
    commit()
    assert second.id != first.id and db.session.get(ReferenceCheck, first.id).status is CheckStatus.FINISHED


def test_checks_started_at_the_same_moment_start_once(app, committed_db, reference_db):
    """Eight admins press "Check now" or "Rebuild now" at once: exactly one starts."""
    barrier = threading.Barrier(8)
    outcomes = []

    def start(repair):
        with app.app_context():
            try:
                barrier.wait()
                checks.start_check(None, repair=repair, trigger=CheckTrigger.COMMAND)
                commit()
                outcomes.append("started")
            except checks.CheckInProgress:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start, args=(n % 2 == 0,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["started"]
    assert db.session.scalar(select(func.count()).select_from(ReferenceCheck)) == 1


def test_a_check_lost_with_its_worker_is_given_up_by_the_next_start(app, db, reference_db):
    lost = checks.start_check(None, repair=True, trigger=CheckTrigger.NIGHTLY)
    lost.alive_at = utcnow() - checks.CHECK_LOST_AFTER + timedelta(minutes=1)
    commit()
    with pytest.raises(checks.CheckInProgress):  # quiet, but not for long enough
        checks.start_check(None, repair=False, trigger=CheckTrigger.COMMAND)
    lost.alive_at = utcnow() - checks.CHECK_LOST_AFTER - timedelta(minutes=1)
    commit()
    replacement = checks.start_check(None, repair=False, trigger=CheckTrigger.COMMAND)
    commit()
    db.session.refresh(lost)
    assert lost.status is CheckStatus.FAILED and lost.in_progress is None and lost.finished_at is not None
    assert lost.error.startswith("Gave up: no sign of life for 15 minutes")
    assert checks.run_check(lost.id) == (None, [])  # its job, arriving at last, does nothing
    assert checks.check_state().current.id == replacement.id


def test_a_check_given_up_while_it_runs_stops_and_writes_nothing(app, db, reference_db, monkeypatch):
    monkeypatch.setattr(publishing, "REBUILD_BATCH", 1)
    advocates = [listed_advocate(), listed_advocate()]
    with reference.engine().begin() as conn:
        conn.execute(reference.advocates.delete())
    check = checks.start_check(None, repair=True, trigger=CheckTrigger.COMMAND)
    commit()
    rows_for = publishing.rows_for

    def stalls_once(ids):  # its worker stalls so long after the first batch that a start gives up on it
        if ids == [advocates[0].id]:
            db.session.execute(update(ReferenceCheck).values(alive_at=utcnow() - 2 * checks.CHECK_LOST_AFTER))
            checks._end_lost_checks(utcnow())
            commit()
        return rows_for(ids)

    monkeypatch.setattr(publishing, "rows_for", stalls_once)
    assert checks.run_check(check.id) == (None, [])
    assert [published(a.id) for a in advocates] == [None, None]  # the rebuild's transaction rolled back
    db.session.refresh(check)
    assert check.status is CheckStatus.FAILED and check.error.startswith("Gave up")


def test_a_job_queue_that_does_not_answer_ends_the_check_as_failed(app, db, reference_db, monkeypatch):
    from portal import jobs

    def queue_down(check_id):
        raise ConnectionError("Redis does not answer")

    monkeypatch.setattr(jobs, "run_reference_check", queue_down)
    check = checks.request_check(AdminFactory(), repair=False)
    commit()
    db.session.refresh(check)
    assert check.status is CheckStatus.FAILED and check.in_progress is None
    assert check.error == "The job queue did not answer (ConnectionError: Redis does not answer); nothing was checked."


# --- the reference database down ---------------------------------------------------------------------


def unreachable_url() -> str:
    """A real reference database nobody can reach: a closed port, or a folder that does not exist."""
    if ON_POSTGRES:
        return f"postgresql://postgres@127.0.0.1:{free_port()}/reference"
    return "sqlite:////nonexistent-folder/reference.sqlite3"


@pytest.mark.parametrize("repair", [False, True], ids=["check", "rebuild"])
def test_a_reference_database_that_does_not_answer_is_recorded_as_the_checks_error(app, db, reference_db, repair):
    listed_advocate()
    app.config["REFERENCE_DATABASE_URL"] = unreachable_url()
    check, found = run_check(repair=repair, actor=AdminFactory())
    assert found == [] and check.status is CheckStatus.FAILED and check.in_progress is None
    assert check.error.startswith("The reference database did not answer: OperationalError")
    assert check.difference_count is None and check.finished_at is not None
    assert rebuild_audits() == []
    checks.start_check(None, repair=False, trigger=CheckTrigger.COMMAND)  # the slot is free again


# The re-drain works in batches (outbox.REDRAIN_BATCH, 200 in production). With a batch of 20
# here, 90 changes take five batches, the last one partial: the same paths as 1000 changes
# with the production batch, in a tenth of the commits.
DOWN_BATCH = 20
DOWN_ADVOCATES = 12
DOWN_CHANGES = 90


def test_while_the_reference_database_is_down_changes_wait_then_arrive_exactly_once(app, db, reference_db, monkeypatch):
    assert TEST_DATABASE_URL == "" or ON_POSTGRES
    monkeypatch.setattr(outbox, "REDRAIN_BATCH", DOWN_BATCH)
    assert DOWN_CHANGES > 4 * DOWN_BATCH and DOWN_CHANGES % DOWN_BATCH
    advocates = [listed_advocate(P.CASE_STUDY) for _ in range(DOWN_ADVOCATES)]
    ids = [a.id for a in advocates]
    first_new_event = (db.session.scalar(select(func.max(OutboxMessage.id))) or 0) + 1
    good_url = app.config["REFERENCE_DATABASE_URL"]

    app.config["REFERENCE_DATABASE_URL"] = unreachable_url()
    toggles = dict.fromkeys(ids, 0)
    for n in range(DOWN_CHANGES):
        advocate = advocates[n % DOWN_ADVOCATES]
        if n % 10 == 9:  # every tenth change withdraws or gives back the case-study consent
            granted = consent.granted_purposes(advocate) ^ {P.CASE_STUDY}
            consent.set_consents(advocate.user, advocate, granted)
            toggles[advocate.id] += 1
        else:
            advocate.story = f"Story version {n}"
        commit()  # each commit tries to deliver its event at once, and fails
    # Some advocates end with the consent withdrawn, some with it given back.
    assert {count % 2 for count in toggles.values() if count} == {0, 1}
    events = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id >= first_new_event)).all()
    assert len(events) == DOWN_CHANGES
    assert all(e.status is OutboxStatus.PENDING and e.attempts == 1 and e.last_error for e in events)
    assert publishing.feed_status().published is None  # the team sees it is down
    assert publishing.feed_status().failing == DOWN_CHANGES

    # A periodic re-drain while it is still down delivers nothing and loses nothing.
    publishing.retry_all_now()
    commit()
    publishing.drain()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.id >= first_new_event, OutboxMessage.status == OutboxStatus.PENDING)) == DOWN_CHANGES

    app.config["REFERENCE_DATABASE_URL"] = good_url
    publishing.retry_all_now()
    commit()  # delivers the first batch; the drain the rest
    assert len([e for e in applied_events() if e[0] >= first_new_event]) == DOWN_BATCH
    publishing.drain()

    db.session.expire_all()
    events = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id >= first_new_event)).all()
    assert {e.status for e in events} == {OutboxStatus.SENT}
    arrived = [e for e in applied_events() if e[0] >= first_new_event]
    assert len(arrived) == DOWN_CHANGES and len({e[0] for e in arrived}) == DOWN_CHANGES  # each exactly once
    assert {e[2] for e in arrived} == {"updated"}
    assert publishing.differences() == []
    for advocate in advocates:
        row = published(advocate.id)
        expected = (advocate.story or None) if P.CASE_STUDY in consent.granted_purposes(advocate) else None
        assert row["story"] == expected
    assert sorted(ids) == sorted(i for i in ids if published(i))

    # And a second drain (the next minute's) changes nothing.
    publishing.drain()
    assert len([e for e in applied_events() if e[0] >= first_new_event]) == DOWN_CHANGES


def test_publish_events_never_give_up(app, db, reference_db):
    app.config["MAIL_MAX_ATTEMPTS"] = 1
    good_url = app.config["REFERENCE_DATABASE_URL"]
    app.config["REFERENCE_DATABASE_URL"] = unreachable_url()
    advocate = listed_advocate()
    [event] = publish_events(advocate.id)
    for _ in range(3):
        event.next_attempt_at = utcnow()
        commit()
        outbox.deliver(event.id)
    db.session.refresh(event)
    assert event.status is OutboxStatus.PENDING and event.attempts == 4
    app.config["REFERENCE_DATABASE_URL"] = good_url
    publishing.retry_event(AdminFactory(), event.id)
    commit()
    assert published(advocate.id) is not None


def test_events_are_written_in_the_transaction_and_dropped_with_a_rollback(app, db, reference_db):
    advocate = listed_advocate()
    before = len(publish_events(advocate.id))
    advocate.story = "Never saved."
    db.session.flush()
    db.session.rollback()
    commit()
    assert len(publish_events(advocate.id)) == before


def test_unrelated_changes_write_no_event(app, db, reference_db):
    advocate = listed_advocate()
    before = len(publish_events())
    advocate.freshness_reminded_at = utcnow()
    advocate.contact_hours_start = 8
    commit()
    assert len(publish_events()) == before
    assert db.session.get(Advocate, advocate.id).contact_hours_start == 8


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks need PostgreSQL")
def test_events_of_one_advocate_applied_at_once_end_with_the_newest(app, committed_db, reference_db):
    """Eight workers apply eight events of one advocate at the same moment: the newest event
    wins and stays the advocate's watermark (the sync row is locked), whatever the order."""
    advocate = AdvocateFactory()
    consent.set_consents(advocate.user, advocate, {P.REFERENCE_CALLS})
    commit()
    advocate_id = advocate.id
    assert published(advocate_id) is not None
    events = [OutboxMessage(kind=OutboxKind.REFERENCE_PUBLISH, advocate_id=advocate_id, payload={}) for _ in range(8)]
    db.session.add_all(events)
    db.session.commit()
    ids = [e.id for e in events]
    barrier = threading.Barrier(8)
    outcomes = []

    def apply(event_id):
        with app.app_context():
            try:
                message = db.session.get(OutboxMessage, event_id)
                barrier.wait()
                outcomes.append(publishing.apply_event(message))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=apply, args=(i,)) for i in reversed(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 8
    with reference.engine().connect() as conn:
        last = conn.scalar(select(reference.sync_state.c.last_event_id).where(reference.sync_state.c.advocate_id == advocate_id))
    assert last == max(ids)
    assert sorted(e[0] for e in applied_events() if e[0] in ids) == sorted(ids)
