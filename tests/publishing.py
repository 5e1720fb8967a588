"""Helpers for the publishing tests: an empty reference database per test (built by its
real migrations), and readers of what arrived there."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import reference
from portal.database import commit, db
from portal.models import ActivityType, ConsentPurpose
from portal.services import consent
from tests.factories import AdvocateFactory


@pytest.fixture
def reference_db(app, databases):
    """An empty reference database for this test, migrated with ``reference upgrade``."""
    url = databases.empty("reference")
    app.config["REFERENCE_DATABASE_URL"] = url
    reference.upgrade()
    yield url
    reference.dispose()
    databases.give_back(url)


def published(advocate_id: int) -> dict | None:
    with reference.engine().connect() as conn:
        row = conn.execute(select(reference.advocates).where(reference.advocates.c.advocate_id == advocate_id)).first()
    return row._asdict() if row else None


def published_count() -> int:
    with reference.engine().connect() as conn:
        return conn.scalar(select(func.count()).select_from(reference.advocates))


def applied_events() -> list[tuple[int, int, str]]:
    table = reference.applied_events
    with reference.engine().connect() as conn:
        return [tuple(r) for r in conn.execute(select(table.c.event_id, table.c.advocate_id, table.c.action).order_by(table.c.event_id))]


def activity(key: str, name: str, purpose: ConsentPurpose | None) -> ActivityType:
    found = db.session.scalar(select(ActivityType).where(ActivityType.key == key))
    if found is None:
        found = ActivityType(key=key, name=name, purpose=purpose)
        db.session.add(found)
        db.session.flush()
    return found


def listed_advocate(*purposes: ConsentPurpose, **values):
    """An approved advocate with consent to reference calls (and ``purposes``), committed."""
    advocate = AdvocateFactory(**values)
    consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS, *purposes})
    commit()
    return advocate
