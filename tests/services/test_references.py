"""Sellers' reference requests: into the queue, answered with asks, closed with a reason."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.database import db, utcnow
from portal.models import ActivityType, ConsentPurpose, QueueItem, QueueKind, QueueStatus, RequestStatus
from portal.services import approvals, asks, consent, references
from portal.services.errors import DomainError
from tests.factories import AdminFactory, AdvocateFactory, StaffFactory, UserFactory
from tests.services.helpers import emails_to


@pytest.fixture
def call(taxonomies):
    return db.session.scalar(select(ActivityType).where(ActivityType.key == "reference_call"))


def details(call, **overrides):
    values = {"prospect_company": "Acme Bank", "due_on": utcnow().date() + timedelta(days=10),
              "activity_type_id": call.id, "how_many": 2}
    values.update(overrides)
    return references.RequestDetails(**values)


def item_for(request):
    return db.session.scalar(
        select(QueueItem).where(QueueItem.kind == QueueKind.REFERENCE_REQUEST, QueueItem.subject_id == request.id)
    )


def test_a_request_reaches_the_queue_and_is_fulfilled_with_asks(db, call):
    staff, admin = StaffFactory(), AdminFactory()
    request = references.create_request(staff, details(call))
    item = item_for(request)
    assert item.status is QueueStatus.OPEN and item.advocate_id is None
    assert "2 × Reference call for Acme Bank" in item.summary
    with pytest.raises(DomainError, match="at least one ask"):
        approvals.decide(admin, item, True)
    advocate = AdvocateFactory(activity_types=[call])
    consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})
    ask = asks.create_ask(admin, advocate.id, call, asks.AskContext("Acme Bank", request.due_on, reference_request_id=request.id))
    assert request.asks == [ask]
    db.session.refresh(item)
    approvals.decide(admin, item, True)
    assert request.status is RequestStatus.FULFILLED
    assert emails_to(staff.email)[-1].subject == "Your reference request for Acme Bank is fulfilled"


def test_an_unfillable_request_is_closed_with_a_reason_for_the_seller(db, call):
    staff = StaffFactory()
    request = references.create_request(staff, details(call))
    approvals.decide(AdminFactory(), item_for(request), False, "No healthcare advocates in APAC yet")
    assert request.status is RequestStatus.UNFILLED and request.team_note == "No healthcare advocates in APAC yet"
    assert "No healthcare advocates in APAC yet" in emails_to(staff.email)[-1].payload["text"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"prospect_company": " "}, "prospect_company"), ({"how_many": 0}, "how_many"), ({"due_on": utcnow().date() - timedelta(days=1)}, "due_on")],
)
def test_bad_requests_are_refused_beside_the_field(db, call, overrides, field):
    with pytest.raises(DomainError) as error:
        references.create_request(StaffFactory(), details(call, **overrides))
    assert error.value.field == field


def test_customers_cannot_request_references(db, call):
    with pytest.raises(DomainError):
        references.create_request(UserFactory(), details(call))
