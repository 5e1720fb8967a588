"""CSV downloads of the admin lists, with the list's own filters applied (the same query
the page paginates), streamed through ``portal.exports``."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.admin import bp
from blueprints.admin.advocates import directory_filters
from blueprints.admin.asks import asks_query
from blueprints.admin.queue import filtered_queue, queue_filters
from blueprints.admin.records import audit_query
from portal.exports import csv_response, export_filename, rows_of
from portal.models import Advocate, PointsEntry
from portal.services import directory
from portal.services.taxonomy import country_names


@bp.get("/advocates.csv")
def advocates_csv():
    _form, filters = directory_filters()
    query = directory.search(filters).options(
        *directory.FROM_JOIN, selectinload(Advocate.products), selectinload(Advocate.industry)
    )
    names = country_names()
    header = ["id", "name", "email", "company", "status", "job title", "industry", "country", "products",
              "last confirmed", "joined"]
    return csv_response(export_filename("advocates"), header, rows_of(query, lambda a: [
        a.id, a.user.name, a.user.email, a.account.name, a.status.label, a.job_title,
        a.industry.name if a.industry else "", names.get(a.country, a.country or ""),
        [p.name for p in a.products], a.last_confirmed_at, a.created_at,
    ]))


@bp.get("/asks.csv")
def asks_csv():
    _status, query = asks_query()
    header = ["id", "advocate", "company", "request", "prospect", "opportunity id", "deal size", "due", "sent",
              "status", "outcome", "outcome amount", "override reason"]
    return csv_response(export_filename("asks"), header, rows_of(query, lambda a: [
        a.id, a.advocate.user.name, a.advocate.account.name, a.activity_type.name, a.prospect_company,
        a.opportunity_id, a.deal_size, a.due_on, a.created_at, a.status.label,
        a.outcome.value if a.outcome else "", a.outcome_amount, a.override_reason or "",
    ]))


@bp.get("/queue.csv")
def queue_csv():
    query = filtered_queue(queue_filters())
    header = ["id", "kind", "summary", "advocate", "company", "waiting since"]
    return csv_response(export_filename("queue"), header, rows_of(query, lambda i: [
        i.id, i.kind.label, i.summary, i.advocate.user.name if i.advocate else "",
        i.advocate.account.name if i.advocate else "", i.created_at,
    ]))


@bp.get("/audit.csv")
def audit_csv():
    _action, query = audit_query()
    header = ["id", "when", "who", "action", "summary", "subject", "subject id"]
    return csv_response(export_filename("audit"), header, rows_of(query, lambda e: [
        e.id, e.created_at, e.actor.name if e.actor else "system", e.action, e.summary, e.subject_type, e.subject_id,
    ]))


@bp.get("/points.csv")
def points_csv():
    query = (
        select(PointsEntry)
        .options(selectinload(PointsEntry.user), selectinload(PointsEntry.actor))
        .order_by(PointsEntry.id.desc())
    )
    header = ["id", "when", "person", "email", "points", "balance after", "source", "source id", "reason", "by"]
    return csv_response(export_filename("points-ledger"), header, rows_of(query, lambda e: [
        e.id, e.created_at, e.user.name, e.user.email, e.points, e.balance_after, e.source.label, e.source_id,
        e.reason, e.actor.name if e.actor else "",
    ]))
