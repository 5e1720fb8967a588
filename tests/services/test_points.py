"""The points ledger: append-only, derived balance, never negative, never awarded twice."""

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.database import db
from portal.models import AdvocateStatus, PointsEntry, PointsSource
from portal.services import points
from portal.services.errors import DomainError
from tests.conftest import ON_POSTGRES
from tests.factories import AdminFactory, AdvocateFactory
from tests.services.helpers import count


def test_awards_add_up_and_the_balance_is_the_running_sum(db):
    advocate = AdvocateFactory()
    points.award(advocate, PointsSource.NOMINATION_APPROVED, advocate.id)
    points.award(advocate, PointsSource.ASK_COMPLETED, 7)
    assert points.balance(advocate.user) == 140
    entries = db.session.scalars(points.history(advocate.user)).all()
    assert [(e.points, e.balance_after) for e in entries] == [(40, 140), (100, 100)]


def test_the_same_event_is_never_awarded_twice(db):
    advocate = AdvocateFactory()
    first = points.award(advocate, PointsSource.ASK_ACCEPTED, 11)
    assert first is not None
    assert points.award(advocate, PointsSource.ASK_ACCEPTED, 11) is None
    assert count(PointsEntry, PointsEntry.user_id == advocate.user_id) == 1
    assert points.balance(advocate.user) == 20


def test_a_spend_beyond_the_balance_writes_nothing(db):
    advocate = AdvocateFactory()
    points.award(advocate, PointsSource.PROFILE_CONFIRMED, 1)
    with pytest.raises(points.InsufficientPoints) as refused:
        points.spend(advocate, 50, PointsSource.REWARD_CLAIM, 1)
    assert "50 points" in refused.value.message and "20" in refused.value.message
    assert points.balance(advocate.user) == 20
    assert count(PointsEntry, PointsEntry.user_id == advocate.user_id) == 1


def test_points_follow_the_person_across_a_job_change(db):
    old = AdvocateFactory()
    points.award(old, PointsSource.NOMINATION_APPROVED, old.id)
    old.status = AdvocateStatus.LAPSED
    db.session.flush()
    new = AdvocateFactory(user=old.user)
    points.spend(new, 60, PointsSource.REWARD_CLAIM, 3)
    assert points.balance(new.user) == 40


def test_manual_adjustments_need_a_reason_and_cannot_go_below_zero(db):
    advocate, admin = AdvocateFactory(), AdminFactory()
    with pytest.raises(DomainError) as no_reason:
        points.adjust(admin, advocate, 10, "  ")
    assert no_reason.value.field == "reason"
    points.adjust(admin, advocate, 10, "Spoke at the user conference")
    with pytest.raises(points.InsufficientPoints):
        points.adjust(admin, advocate, -11, "Correction")
    entry = points.adjust(admin, advocate, -10, "Correction")
    assert entry.actor_id == admin.id and entry.balance_after == 0


def test_the_database_refuses_a_negative_balance_written_behind_the_service(db):
    advocate = AdvocateFactory()
    db.session.add(
        PointsEntry(user_id=advocate.user_id, points=-5, balance_after=-5, source=PointsSource.MANUAL, reason="x")
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.skipif(not ON_POSTGRES, reason="races need PostgreSQL's concurrent transactions")
def test_simultaneous_spends_never_take_the_balance_below_zero(app, committed_db):
    """Ten spends of 30 at once against a balance of 100: exactly three go through."""
    advocate = AdvocateFactory()
    points.award(advocate, PointsSource.NOMINATION_APPROVED, advocate.id)
    db.session.commit()
    advocate_id = advocate.id
    barrier = threading.Barrier(10)
    outcomes = []

    def spend_once(n):
        with app.app_context():
            try:
                member = db.session.get(type(advocate), advocate_id)
                barrier.wait()
                points.spend(member, 30, PointsSource.REWARD_CLAIM, 1000 + n)
                db.session.commit()
                outcomes.append("spent")
            except points.InsufficientPoints:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=spend_once, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["spent"] * 3
    rows = db.session.scalars(select(PointsEntry).where(PointsEntry.user_id == advocate.user_id)).all()
    assert sum(r.points for r in rows) == 10 == points.balance(advocate.user_id)
