"""Reference requests: a seller describes a deal and the advocates it needs; the request
reaches the team's approval queue; the team answers it with asks and closes it as
fulfilled, or as unfilled with a reason (which is what recruiting should follow)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, select

from portal.database import db, utcnow
from portal.models import Ask, QueueKind, ReferenceRequest, Region, RequestStatus, Term, User
from portal.services import approvals, audit, demand
from portal.services.errors import DomainError


@dataclass
class RequestDetails:
    prospect_company: str
    due_on: date
    activity_type_id: int
    how_many: int = 1
    opportunity_id: str = ""
    deal_size: Decimal | None = None
    notes: str = ""
    product_ids: list[int] = field(default_factory=list)
    industry_id: int | None = None
    region_id: int | None = None


def create_request(actor: User, details: RequestDetails) -> ReferenceRequest:
    if not actor.is_team:
        raise DomainError("Only the company's team requests references.")
    if not details.prospect_company.strip():
        raise DomainError("Name the prospect.", field="prospect_company")
    if details.due_on < utcnow().date():
        raise DomainError("The date is in the past.", field="due_on")
    if not 1 <= details.how_many <= 10:
        raise DomainError("Ask for between 1 and 10 references.", field="how_many")
    request = ReferenceRequest(
        requested_by_id=actor.id,
        prospect_company=details.prospect_company.strip(),
        opportunity_id=details.opportunity_id.strip(),
        deal_size=details.deal_size,
        due_on=details.due_on,
        notes=details.notes.strip(),
        product_ids=list(details.product_ids),
        industry_id=details.industry_id,
        region_id=details.region_id,
        activity_type_id=details.activity_type_id,
        how_many=details.how_many,
    )
    db.session.add(request)
    db.session.flush()
    approvals.open_item(
        QueueKind.REFERENCE_REQUEST,
        None,
        request.id,
        summary=f"{request.how_many} × {request.activity_type.name} for {request.prospect_company} (by {actor.name})",
    )
    audit.record(actor, "reference_request.created", request, f"Requested references for {request.prospect_company}")
    return request


@dataclass(frozen=True)
class Criteria:
    """What kind of advocate a request asks for, by name, as the seller chose it."""

    activity: str
    how_many: int
    products: list[str]
    industry: str | None
    region: str | None


def criteria_of(requests: list[ReferenceRequest]) -> dict[int, Criteria]:
    """Each request's criteria by name (keyed by request id), in two queries for any number
    of requests. A product, industry or region removed since reads "(removed)"."""
    term_ids = {i for r in requests for i in r.product_ids or []} | {r.industry_id for r in requests if r.industry_id}
    region_ids = {r.region_id for r in requests if r.region_id}
    terms = dict(db.session.execute(select(Term.id, Term.name).where(Term.id.in_(term_ids))).all()) if term_ids else {}
    regions = dict(db.session.execute(select(Region.id, Region.name).where(Region.id.in_(region_ids))).all()) if region_ids else {}
    return {
        r.id: Criteria(
            activity=r.activity_type.name,
            how_many=r.how_many,
            products=sorted(terms.get(i, "(removed)") for i in r.product_ids or []),
            industry=terms.get(r.industry_id, "(removed)") if r.industry_id else None,
            region=regions.get(r.region_id, "(removed)") if r.region_id else None,
        )
        for r in requests
    }


def my_requests(actor: User) -> Select:
    return (
        select(ReferenceRequest)
        .where(ReferenceRequest.requested_by_id == actor.id)
        .order_by(ReferenceRequest.created_at.desc(), ReferenceRequest.id.desc())
    )


@approvals.handles(QueueKind.REFERENCE_REQUEST)
def _decide_request(actor: User, item, approve: bool, reason: str) -> tuple[User, str]:
    request = db.session.get(ReferenceRequest, item.subject_id)
    if request is None or request.status is not RequestStatus.OPEN:
        raise DomainError("This request is already closed.")
    answered = db.session.scalar(select(func.count(Ask.id)).where(Ask.reference_request_id == request.id))
    if approve and not answered:
        raise DomainError("Answer the request with at least one ask before marking it fulfilled.")
    request.status = RequestStatus.FULFILLED if approve else RequestStatus.UNFILLED
    request.closed_at = utcnow()
    request.team_note = reason
    db.session.flush()
    if not approve:  # what recruiting should follow
        demand.record_request(request)
    verb = "is fulfilled" if approve else "could not be filled"
    return request.requested_by, f"Your reference request for {request.prospect_company} {verb}"
