"""The benchmark's data generator keeps up with the schema: it fills a freshly migrated
database (SQLite and PostgreSQL) with a consistent program."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import func, select

from bench.generate import BENCH_ADMIN, BENCH_ADVOCATE, Generator
from portal.database import db
from portal.models import Advocate, AdvocateStatus, PointsEntry, User
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
        # The ledger's running balance is the sum of each person's entries.
        sums = db.session.execute(
            select(PointsEntry.user_id, func.sum(PointsEntry.points), func.max(PointsEntry.balance_after)).group_by(PointsEntry.user_id)
        ).all()
        assert sums and all(total == last for _user, total, last in sums)
