"""Asks: the rules applied at the moment of asking, overrides, answers, and the race for
the last slot."""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.database import db, utcnow
from portal.models import ActivityType, Advocate, AdvocateAvailability, Ask, AskOutcome, AskStatus, AuditEvent, ConsentPurpose
from portal.services import asks, availability, consent, preferences, taxonomy
from portal.services.errors import DomainError
from tests.conftest import ON_POSTGRES
from tests.factories import AdminFactory, AdvocateFactory, StaffFactory, UserFactory
from tests.services.helpers import count, emails_to


def context(**overrides):
    values = {"prospect_company": "Prospect Inc", "due_on": utcnow().date() + timedelta(days=7)}
    values.update(overrides)
    return asks.AskContext(**values)


@pytest.fixture
def call(taxonomies):
    return db.session.scalar(select(ActivityType).where(ActivityType.key == "reference_call"))


@pytest.fixture
def ready(call):
    """An approved advocate, open to reference calls, who consented to them."""
    advocate = AdvocateFactory(activity_types=[call], time_zone="UTC")
    consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})
    return advocate


class TestCreate:
    def test_an_allowed_ask_is_sent_and_the_advocate_told(self, db, ready, call):
        ask = asks.create_ask(AdminFactory(), ready.id, call, context(deal_size=250000))
        assert ask.status is AskStatus.SENT and ask.override_reason is None
        assert emails_to(ready.user.email)[-1].subject == "New request: Reference call for Prospect Inc"
        assert availability.usage(ready).month_used == 1

    def test_refused_with_the_reason_and_next_date(self, db, ready, call):
        admin = AdminFactory()
        asks.create_ask(admin, ready.id, call, context())
        with pytest.raises(asks.AskRefused) as refused:
            asks.create_ask(admin, ready.id, call, context(prospect_company="Second"))
        verdict = refused.value.verdict
        assert "month_limit" in verdict.codes and "cooldown" in verdict.codes
        assert verdict.next_allowed > utcnow().date()
        assert count(Ask) == 1

    def test_opt_out_and_missing_consent_are_refused(self, db, call):
        advocate = AdvocateFactory(activity_types=[])
        with pytest.raises(asks.AskRefused) as refused:
            asks.create_ask(AdminFactory(), advocate.id, call, context())
        assert refused.value.verdict.codes == {"opted_out", "no_consent"}

    def test_withdrawn_consent_refuses_at_once(self, db, ready, call):
        consent.set_consents(ready.user, ready, set())
        with pytest.raises(asks.AskRefused) as refused:
            asks.create_ask(AdminFactory(), ready.id, call, context())
        assert refused.value.verdict.codes == {"no_consent"}

    def test_an_account_at_risk_pauses_asks(self, db, ready, call):
        ready.account.at_risk = True
        with pytest.raises(asks.AskRefused) as refused:
            asks.create_ask(AdminFactory(), ready.id, call, context())
        assert refused.value.verdict.codes == {"account_at_risk"}

    def test_override_needs_a_written_reason_and_is_audited(self, db, ready, call):
        admin = AdminFactory()
        asks.create_ask(admin, ready.id, call, context())
        with pytest.raises(asks.AskRefused):
            asks.create_ask(admin, ready.id, call, context(), override_reason="   ")
        ask = asks.create_ask(admin, ready.id, call, context(), override_reason="CEO-to-CEO call, agreed by phone")
        assert ask.override_reason == "CEO-to-CEO call, agreed by phone"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "ask.override"))
        assert event.actor_id == admin.id and event.details["reason"] == ask.override_reason
        assert any("a month" in r for r in event.details["refusals"])

    def test_only_admins_send_asks(self, db, ready, call):
        for actor in (StaffFactory(), UserFactory()):
            with pytest.raises(DomainError):
                asks.create_ask(actor, ready.id, call, context())

    def test_bad_context_is_refused_beside_its_field(self, db, ready, call):
        with pytest.raises(DomainError) as error:
            asks.create_ask(AdminFactory(), ready.id, call, context(due_on=date(2020, 1, 1)))
        assert error.value.field == "due_on"
        with pytest.raises(DomainError) as error:
            asks.create_ask(AdminFactory(), ready.id, call, context(prospect_company=" "))
        assert error.value.field == "prospect_company"


class TestLifecycle:
    def test_accept_complete_with_outcome(self, db, ready, call):
        admin = AdminFactory()
        ask = asks.create_ask(admin, ready.id, call, context())
        asks.respond(ready.user, ask, True)
        asks.complete(admin, ask, AskOutcome.WON, 50000)
        assert ask.status is AskStatus.COMPLETED and ask.outcome is AskOutcome.WON and ask.outcome_amount == 50000

    def test_another_advocate_cannot_answer(self, db, ready, call):
        ask = asks.create_ask(AdminFactory(), ready.id, call, context())
        with pytest.raises(DomainError):
            asks.respond(AdvocateFactory().user, ask, True)
        assert ask.status is AskStatus.SENT

    def test_an_answer_is_given_once(self, db, ready, call):
        ask = asks.create_ask(AdminFactory(), ready.id, call, context())
        asks.respond(ready.user, ask, False, "Too busy")
        with pytest.raises(DomainError):
            asks.respond(ready.user, ask, True)
        assert ask.status is AskStatus.DECLINED and ask.decline_reason == "Too busy"

    def test_declined_and_withdrawn_asks_stop_counting(self, db, ready, call):
        admin = AdminFactory()
        first = asks.create_ask(admin, ready.id, call, context())
        asks.respond(ready.user, first, False)
        second = asks.create_ask(admin, ready.id, call, context())
        asks.withdraw(admin, second)
        assert availability.usage(ready).month_used == 0
        asks.create_ask(admin, ready.id, call, context())  # the slot is free again

    def test_unanswered_asks_expire_and_still_count(self, db, ready, call):
        ask = asks.create_ask(AdminFactory(), ready.id, call, context())
        assert asks.expire_overdue(ask.due_on + timedelta(days=1)) == 1
        db.session.refresh(ask)
        assert ask.status is AskStatus.EXPIRED
        assert availability.usage(ready).month_used == 1


class TestPreferences:
    def prefs(self, advocate, **changes):
        current = preferences.preferences_of(advocate)
        for key, value in changes.items():
            setattr(current, key, value)
        return current

    def test_an_advocate_can_lower_but_not_raise_the_limits(self, db, ready):
        preferences.update(ready.user, ready, self.prefs(ready, month_limit=0, quarter_limit=2))
        assert availability.effective_limits(ready, availability.settings()) == (0, 2)
        with pytest.raises(DomainError) as error:
            preferences.update(ready.user, ready, self.prefs(ready, month_limit=5))
        assert error.value.field == "month_limit"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"month_limit": 1, "quarter_limit": 0}, "quarter_limit"),
            ({"paused_until": date(2020, 1, 1)}, "paused_until"),
            ({"hours_start": 17, "hours_end": 9}, "hours_end"),
            ({"channel": preferences.Channel.PHONE, "phone": ""}, "phone"),
        ],
    )
    def test_invalid_combinations_name_the_field(self, db, ready, changes, field):
        with pytest.raises(DomainError) as error:
            preferences.update(ready.user, ready, self.prefs(ready, **changes))
        assert error.value.field == field

    def test_blackouts(self, db, ready, call):
        today = utcnow().date()
        with pytest.raises(DomainError) as error:
            preferences.add_blackout(ready.user, ready, today + timedelta(days=5), today)
        assert error.value.field == "ends_on"
        preferences.add_blackout(ready.user, ready, today, today + timedelta(days=3))
        verdict = availability.check(ready, call)
        assert verdict.codes == {"blackout"} and verdict.next_allowed == today + timedelta(days=4)

    def test_nobody_else_changes_them(self, db, ready):
        for other in (AdminFactory(), AdvocateFactory().user):
            with pytest.raises(DomainError):
                preferences.update(other, ready, self.prefs(ready, month_limit=0))


@pytest.mark.skipif(not ON_POSTGRES, reason="races need PostgreSQL's concurrent transactions")
def test_asks_at_once_for_the_last_slot_exactly_one_succeeds(app, committed_db):
    """Eight admins ask the same advocate, who has one slot left, at the same moment."""
    taxonomy.load_defaults()
    call = db.session.scalar(select(ActivityType).where(ActivityType.key == "reference_call"))
    advocate = AdvocateFactory(activity_types=[call], time_zone="UTC")
    consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})
    admin = AdminFactory()
    db.session.commit()
    ids = (advocate.id, call.id, admin.id)
    barrier = threading.Barrier(8)
    outcomes = []

    def ask_once(n):
        with app.app_context():
            try:
                actor = db.session.get(type(admin), ids[2])
                activity = db.session.get(ActivityType, ids[1])
                barrier.wait()
                asks.create_ask(actor, ids[0], activity, context(prospect_company=f"P{n}"))
                db.session.commit()
                outcomes.append("sent")
            except asks.AskRefused:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask_once, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["sent"]
    assert db.session.scalar(select(func.count()).select_from(Ask).where(Ask.advocate_id == ids[0])) == 1
    # The maintained state, written in each ask's transaction, counts that one ask.
    state = db.session.get(AdvocateAvailability, ids[0], populate_existing=True)
    assert (state.month_used, state.quarter_used, state.askable) == (1, 1, False)
    assert availability.differences() == []


class TestMatching:
    def ids(self, **filters):
        from portal.services import directory

        return [a.id for a in db.session.scalars(directory.search(directory.Filters(**filters)))]

    def test_available_now_and_fair_ranking(self, db, ready, call):
        from portal.models import Blackout

        admin = AdminFactory()
        # Ready was asked 30 days ago (past the cool-down, in an earlier month).
        old = asks.create_ask(admin, ready.id, call, context())
        old.created_at = utcnow() - timedelta(days=40)
        never = AdvocateFactory(activity_types=[call], time_zone="UTC")
        consent.set_consents(never.user, never, {ConsentPurpose.REFERENCE_CALLS})
        paused = AdvocateFactory(activity_types=[call], paused_until=utcnow().date() + timedelta(days=3))
        consent.set_consents(paused.user, paused, {ConsentPurpose.REFERENCE_CALLS})
        # Blackout dates are days of the advocate's own calendar: today in UTC is today there.
        away = AdvocateFactory(activity_types=[call], time_zone="UTC")
        consent.set_consents(away.user, away, {ConsentPurpose.REFERENCE_CALLS})
        db.session.add(Blackout(advocate_id=away.id, starts_on=utcnow().date(), ends_on=utcnow().date()))
        busy = AdvocateFactory(activity_types=[call])
        consent.set_consents(busy.user, busy, {ConsentPurpose.REFERENCE_CALLS})
        asks.create_ask(admin, busy.id, call, context())  # used its slot this month
        AdvocateFactory(activity_types=[call])  # no consent
        db.session.flush()
        assert self.ids(available_now=True, activity_type_ids=[call.id]) == [never.id, ready.id]

    def test_under_and_over_used(self, db, ready, call):
        admin = AdminFactory()
        assert self.ids(usage="under") == [ready.id]
        this_month = asks.create_ask(admin, ready.id, call, context())
        last_month = asks.create_ask(admin, ready.id, call, context(), override_reason="test history")
        start_of_month = utcnow().replace(day=1, hour=12)
        last_month.created_at = start_of_month - timedelta(days=10)
        this_month.created_at = max(start_of_month, utcnow() - timedelta(hours=1))
        db.session.flush()
        assert self.ids(usage="under") == []
        assert self.ids(usage="over") == [ready.id]
