"""Pages render with a bounded number of SQL queries: the same with 3 rows to show as with
30 (no query per row, an "N+1")."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from portal.database import utcnow
from portal.models import (
    Advocate,
    AdvocateStatus,
    AskStatus,
    ConsentPurpose,
    ImportBatch,
    NominationSource,
    NotificationCategory,
    QueueKind,
    QueueStatus,
    Region,
    Term,
    TermKind,
    User,
)
from portal.services import approvals, audit, consent, notify
from tests.factories import AdminFactory, AdvocateFactory, StaffFactory, TermFactory
from tests.web.asks import activity, askable, make_ask, make_blackout, make_request
from tests.web.intake import named, pending, queries_to_render, region

FEW, MANY = 3, 30


@dataclass
class Scene:
    """Who looks at which page, and how to add ``n`` more of what it lists."""

    viewer: object
    path: str
    add: Callable[[int], None]


def queue(db, taxonomies) -> Scene:
    def add(n):
        for _ in range(n):
            pending(AdvocateFactory(status=AdvocateStatus.PENDING, products=[TermFactory()]))

    return Scene(AdminFactory(), "/admin/queue", add)


def directory(db, taxonomies) -> Scene:
    def add(n):
        finance = named(Term, "Financial services")
        analytics, payments = named(Term, "Analytics Cloud"), named(Term, "Payments Gateway")
        for _ in range(n):
            AdvocateFactory(country="PA", industry=finance, products=[analytics, payments, TermFactory()])

    finance, analytics = named(Term, "Financial services"), named(Term, "Analytics Cloud")
    central = named(Region, "Central America")
    path = f"/admin/advocates?region={central.id}&industry={finance.id}&product={analytics.id}&status=approved"
    return Scene(AdminFactory(), path, add)


def nominations(db, taxonomies) -> Scene:
    staff = StaffFactory()
    staff_id = staff.id

    def add(n):
        for _ in range(n):
            AdvocateFactory(status=AdvocateStatus.INVITED, source=NominationSource.STAFF, nominated_by_id=staff_id)

    return Scene(staff, "/staff/nominations", add)


def home(db, taxonomies) -> Scene:
    advocate_id = AdvocateFactory().id
    purposes = iter(ConsentPurpose)

    def add(n):
        advocate = db.session.get(Advocate, advocate_id)
        for index in range(n):
            notify.notify(advocate.user, NotificationCategory.DECISIONS, f"News {index}")
        consent.set_consents(advocate.user, advocate, {next(purposes)} | consent.granted_purposes(advocate))

    return Scene(db.session.get(Advocate, advocate_id).user, "/home", add)


def audit_trail(db, taxonomies) -> Scene:
    def add(n):
        for _ in range(n):
            actor = AdminFactory()
            audit.record(actor, "taxonomy.defaults", None, "Something an admin did", reason="Because")

    return Scene(AdminFactory(), "/admin/audit", add)


def advocate_record(db, taxonomies) -> Scene:
    advocate = AdvocateFactory(products=[named(Term, "Analytics Cloud")])
    advocate_id = advocate.id

    def add(n):
        advocate = db.session.get(Advocate, advocate_id)
        for _ in range(n):
            item = approvals.open_item(QueueKind.NOMINATION, advocate, advocate.id)
            item.status, item.decided_by_id, item.decided_at = QueueStatus.APPROVED, AdminFactory().id, utcnow()
            audit.record(AdminFactory(), "queue.nomination.approved", item, "Approved")
            audit.record(AdminFactory(), "advocate.note", advocate, "Noted")

    return Scene(AdminFactory(), f"/admin/advocates/{advocate_id}", add)


def import_preview(db, taxonomies) -> Scene:
    admin = AdminFactory()
    batch = ImportBatch(created_by_id=admin.id, filename="people.csv", content="email,name,company\n")
    db.session.add(batch)
    db.session.flush()
    batch_id = batch.id

    def add(n):
        batch = db.session.get(ImportBatch, batch_id)
        rows = []
        for _ in range(n):
            known = AdvocateFactory()
            rows.append(f"{known.user.email},{known.user.name},{known.account.name}\n")
            rows.append(f"new.{known.id}@newco.example,New {known.id},NewCo\n")
            team = StaffFactory()
            rows.append(f"{team.email},{team.name},Us\n")
        batch.content += "".join(rows)

    return Scene(admin, f"/admin/import/{batch.id}", add)


def taxonomy_lists(db, taxonomies) -> Scene:
    numbers = itertools.count()

    def add(n):
        parent = named(Region, "Americas")
        for _ in range(n):
            region(f"Region {next(numbers)}", parent, ("PA", "CR"))
            TermFactory(kind=TermKind.USE_CASE)

    return Scene(AdminFactory(), "/admin/taxonomies", add)


def queue_item(db, taxonomies) -> Scene:
    item = pending(AdvocateFactory(status=AdvocateStatus.PENDING))
    advocate_id = item.advocate_id

    def add(n):
        advocate = db.session.get(Advocate, advocate_id)
        advocate.products = advocate.products + [TermFactory() for _ in range(n)]
        advocate.use_cases = advocate.use_cases + [TermFactory(kind=TermKind.USE_CASE) for _ in range(n)]

    return Scene(AdminFactory(), f"/admin/queue/{item.id}", add)


# --- asks ---------------------------------------------------------------------------------


def _ask_to(advocate, key="reference_call", status=AskStatus.SENT, **values):
    return make_ask(advocate, key=key, status=status, ago=timedelta(days=next(_days)), **values)


_days = itertools.count(1)
_KEYS = itertools.cycle(["reference_call", "quote", "case_study", "peer_review"])
_STATUSES = itertools.cycle([AskStatus.SENT, AskStatus.ACCEPTED, AskStatus.COMPLETED, AskStatus.DECLINED])


def my_asks(db, taxonomies) -> Scene:
    advocate = askable(AdvocateFactory())
    advocate_id = advocate.id
    admin_id = AdminFactory().id

    def add(n):
        advocate = db.session.get(Advocate, advocate_id)
        for _ in range(n):
            _ask_to(advocate, next(_KEYS), next(_STATUSES), created_by_id=admin_id)

    return Scene(advocate.user, "/asks", add)


def admin_asks(db, taxonomies) -> Scene:
    def add(n):
        for _ in range(n):
            _ask_to(AdvocateFactory(), next(_KEYS), next(_STATUSES), created_by_id=AdminFactory().id,
                    override_reason="Asked for by name")

    return Scene(AdminFactory(), "/admin/asks", add)


def preferences_page(db, taxonomies) -> Scene:
    advocate = askable(AdvocateFactory())
    advocate_id = advocate.id

    def add(n):
        advocate = db.session.get(Advocate, advocate_id)
        for index in range(n):
            make_blackout(advocate, start_in=index * 10)
            _ask_to(advocate)

    return Scene(advocate.user, "/preferences", add)


def staff_requests(db, taxonomies) -> Scene:
    staff = StaffFactory()
    staff_id = staff.id

    def add(n):
        staff = db.session.get(User, staff_id)
        for _ in range(n):
            request = make_request(staff, prospect=f"Prospect {next(_days)}")
            for status in (AskStatus.SENT, AskStatus.ACCEPTED):
                _ask_to(AdvocateFactory(), status=status, reference_request_id=request.id)

    return Scene(staff, "/staff/requests", add)


def available_directory(db, taxonomies) -> Scene:
    reference_call = activity()
    central = named(Region, "Central America")

    def add(n):
        for index in range(n):
            advocate = askable(AdvocateFactory(country="PA", products=[TermFactory()]))
            if index:  # the first is never asked: the list is never empty, whatever the asks' statuses
                _ask_to(advocate, next(_KEYS), next(_STATUSES))
            make_blackout(advocate, start_in=index + 30)

    return Scene(AdminFactory(), f"/admin/advocates?available=y&activity={reference_call.id}&region={central.id}", add)


def advocate_record_asks(db, taxonomies) -> Scene:
    advocate_id = askable(AdvocateFactory()).id

    def add(n):
        advocate = db.session.get(Advocate, advocate_id)
        request = make_request(StaffFactory())
        for _ in range(n):
            _ask_to(advocate, next(_KEYS), next(_STATUSES), created_by_id=AdminFactory().id,
                    override_reason="Asked for by name", reference_request_id=request.id)

    return Scene(AdminFactory(), f"/admin/advocates/{advocate_id}", add)


def ask_page(db, taxonomies) -> Scene:
    advocate = askable(AdvocateFactory())
    advocate_id = advocate.id
    ask_id = _ask_to(advocate, created_by_id=AdminFactory().id).id

    def add(n):
        advocate = db.session.get(Advocate, advocate_id)
        for _ in range(n):
            _ask_to(advocate)

    return Scene(AdminFactory(), f"/admin/asks/{ask_id}", add)


def usage_lists(db, taxonomies) -> Scene:
    def add(n):
        for index in range(n):
            advocate = askable(AdvocateFactory())  # not asked: under-used
            if index % 3 == 0:
                _ask_to(advocate, next(_KEYS), next(_STATUSES))

    return Scene(AdminFactory(), "/admin/advocates?usage=under", add)


SCENES = [queue, directory, nominations, home, audit_trail, advocate_record, import_preview, taxonomy_lists, queue_item,
          my_asks, admin_asks, preferences_page, staff_requests, available_directory, advocate_record_asks, ask_page,
          usage_lists]


@pytest.mark.parametrize("scene", SCENES, ids=[s.__name__ for s in SCENES])
def test_a_page_sends_as_many_queries_for_30_rows_as_for_3(client, db, login_as, taxonomies, scene):
    scene = scene(db, taxonomies)
    login_as(scene.viewer)

    scene.add(FEW)
    few = queries_to_render(client, scene.path)
    scene.add(MANY - FEW)
    many = queries_to_render(client, scene.path)

    repeated = {sql: count for sql, count in Counter(many).items() if count > Counter(few)[sql]}
    shrinking = {sql: count for sql, count in Counter(few).items() if count > Counter(many)[sql]}
    assert len(many) == len(few), (
        f"{len(few)} queries for {FEW} rows, {len(many)} for {MANY}; growing: {repeated}; shrinking: {shrinking}")


@pytest.mark.parametrize("path", ["/admin/advocates?available=y", "/admin/advocates?usage=over",
                                  "/admin/advocates?usage=under", "/home"])
def test_availability_is_read_from_the_state_never_recounted_from_asks(client, db, login_as, taxonomies, path):
    """"Available now", the usage lists and the advocate's usage read the maintained state."""
    for index in range(3):
        advocate = askable(AdvocateFactory())
        _ask_to(advocate, next(_KEYS), next(_STATUSES))
    viewer = advocate.user if path == "/home" else AdminFactory()
    login_as(viewer)
    sent = queries_to_render(client, path)
    # /home lists the advocate's open requests; no page counts asks by when they were sent.
    recount = r"asks\.created_at" if path == "/home" else r"\bFROM asks\b|\bJOIN asks\b"
    assert not [sql for sql in sent if re.search(recount, sql)], sent
