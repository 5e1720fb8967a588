"""The benchmark's data generator keeps up with the schema: it fills a freshly migrated
database (SQLite and PostgreSQL) with a consistent program."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import func, select

from bench.generate import BENCH_ADMIN, BENCH_ADVOCATE, Generator
from portal.database import db
from portal.models import Account, Advocate, AdvocateStatus, PointsEntry, PointsSource, User
from tests.test_migrations import migrating_app


def test_generates_a_consistent_program_on_a_migrated_database(databases):
    url = databases.new("bench")
    with migrating_app(url):
        flask_migrate.upgrade()
        counts = Generator(200, seed=7).run()
        assert db.session.scalar(select(func.count()).select_from(Advocate)) == 200 == counts["advocates"]
        assert {db.session.scalar(select(User.role).where(User.email == e)).value for e in (BENCH_ADMIN, BENCH_ADVOCATE)} == {
            "admin",
            "advocate",
        }
        statuses = set(db.session.scalars(select(Advocate.status).distinct()))
        assert AdvocateStatus.APPROVED in statuses and len(statuses) >= 5
        # The ledger's running balance (the latest entry's) is the sum of each person's
        # entries, claims and refunds included.
        latest = select(func.max(PointsEntry.id)).group_by(PointsEntry.user_id)
        balances = dict(db.session.execute(select(PointsEntry.user_id, PointsEntry.balance_after).where(PointsEntry.id.in_(latest))).all())
        sums = dict(db.session.execute(select(PointsEntry.user_id, func.sum(PointsEntry.points)).group_by(PointsEntry.user_id)).all())
        assert balances and balances == sums
        assert db.session.scalar(select(func.count()).where(PointsEntry.source == PointsSource.REWARD_CLAIM)) > 0
        # The portal's own inserts still get fresh ids after the bulk load (PostgreSQL's
        # sequences were moved past the explicit ids).
        db.session.add_all([Account(name="After the load"), User(email="after@load.example", name="After")])
        db.session.flush()
