"""Unmet demand: what people looked for that the program could not offer. A directory
search for available advocates that finds none, and a seller's reference request the team
closes as unfilled, are recorded with their criteria, normalised so that the same
combination counts together whatever order it was chosen in; the dashboard lists the most
frequent combinations so that recruiting follows what sellers actually look for."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from portal.database import db, utcnow
from portal.models import ActivityType, DemandSource, ReferenceRequest, Region, Term, UnmetDemand, User
from portal.services.reporting import Quarter, figure

KINDS = ("products", "use_cases", "industries", "regions", "activities")
# The same person repeating the same search (reloading, paging) within this time counts once.
REPEAT_WINDOW = timedelta(hours=1)
TOP = 10


def normalise(**ids: list[int]) -> tuple[str, dict[str, list[int]]]:
    criteria = {kind: sorted({int(i) for i in ids.get(kind) or []}) for kind in KINDS}
    key = ";".join(f"{kind}={','.join(map(str, values))}" for kind, values in criteria.items() if values)
    return key, criteria


def record_search(actor: User, filters, total: int) -> UnmetDemand | None:
    """A directory search for advocates available now that found nobody (``total`` == 0)."""
    if total or not filters.available_now:
        return None
    key, criteria = normalise(
        products=filters.product_ids,
        use_cases=filters.use_case_ids,
        industries=filters.industry_ids,
        regions=filters.region_ids,
        activities=filters.activity_type_ids,
    )
    if not key:  # "anyone available" finding nobody is not a recruiting criterion
        return None
    repeated = db.session.scalar(
        select(UnmetDemand.id).where(
            UnmetDemand.actor_id == actor.id,
            UnmetDemand.criteria_key == key,
            UnmetDemand.source == DemandSource.SEARCH,
            UnmetDemand.created_at > utcnow() - REPEAT_WINDOW,
        ).limit(1)
    )
    if repeated:
        return None
    return _add(DemandSource.SEARCH, key, criteria, actor_id=actor.id)


def record_request(request: ReferenceRequest) -> UnmetDemand:
    """A seller's request closed as unfilled."""
    key, criteria = normalise(
        products=request.product_ids,
        industries=[request.industry_id] if request.industry_id else [],
        regions=[request.region_id] if request.region_id else [],
        activities=[request.activity_type_id],
    )
    return _add(DemandSource.REQUEST, key, criteria, actor_id=request.requested_by_id, reference_request_id=request.id)


def _add(source: DemandSource, key: str, criteria: dict, **values) -> UnmetDemand:
    row = UnmetDemand(source=source, criteria_key=key, criteria=criteria, **values)
    db.session.add(row)
    db.session.flush()
    return row


def most_frequent(quarter: Quarter, limit: int = TOP) -> list[dict]:
    """The most frequent unmet combinations in the quarter: a grouped count, then the
    names of what they name (a bounded number of queries)."""
    in_quarter = quarter.contains(UnmetDemand.created_at)
    searches = func.sum(case((UnmetDemand.source == DemandSource.SEARCH, 1), else_=0))
    grouped = db.session.execute(
        select(
            UnmetDemand.criteria_key,
            func.count(UnmetDemand.id).label("times"),
            func.min(UnmetDemand.id),
            func.max(UnmetDemand.created_at),
            searches,
        )
        .where(in_quarter)
        .group_by(UnmetDemand.criteria_key)
        .order_by(func.count(UnmetDemand.id).desc(), func.max(UnmetDemand.created_at).desc(), UnmetDemand.criteria_key)
        .limit(limit)
    ).all()
    if not grouped:
        return []
    examples = {
        row.id: row.criteria
        for row in db.session.execute(select(UnmetDemand.id, UnmetDemand.criteria).where(
            UnmetDemand.id.in_([g[2] for g in grouped])))
    }
    wanted = {kind: set() for kind in KINDS}
    for criteria in examples.values():
        for kind in KINDS:
            wanted[kind].update(criteria.get(kind, []))
    term_ids = wanted["products"] | wanted["use_cases"] | wanted["industries"]
    terms = dict(db.session.execute(select(Term.id, Term.name).where(Term.id.in_(term_ids))).all()) if term_ids else {}
    regions = dict(db.session.execute(select(Region.id, Region.name).where(Region.id.in_(wanted["regions"]))).all()) if wanted["regions"] else {}
    activities = (
        dict(db.session.execute(select(ActivityType.id, ActivityType.name).where(ActivityType.id.in_(wanted["activities"]))).all())
        if wanted["activities"] else {}
    )
    result = []
    for key, times, example_id, last, from_searches in grouped:
        criteria = examples[example_id]
        names = {
            "products": [terms.get(i, "(removed)") for i in criteria.get("products", [])],
            "use_cases": [terms.get(i, "(removed)") for i in criteria.get("use_cases", [])],
            "industries": [terms.get(i, "(removed)") for i in criteria.get("industries", [])],
            "regions": [regions.get(i, "(removed)") for i in criteria.get("regions", [])],
            "activities": [activities.get(i, "(removed)") for i in criteria.get("activities", [])],
        }
        result.append(
            {
                "key": key,
                "label": describe(names),
                "times": int(times),
                "searches": int(from_searches or 0),
                "requests": int(times) - int(from_searches or 0),
                "last": last,
                "search_args": {
                    "product": criteria.get("products", []),
                    "use_case": criteria.get("use_cases", []),
                    "industry": criteria.get("industries", []),
                    "region": criteria.get("regions", []),
                    "activity": criteria.get("activities", []),
                    "available": "y",
                },
            }
        )
    return result


def describe(names: dict[str, list[str]]) -> str:
    """"products Analytics Cloud+Payments Gateway, Financial services, Central America"."""
    parts = []
    if names["products"]:
        parts.append(("product " if len(names["products"]) == 1 else "products ") + "+".join(names["products"]))
    if names["use_cases"]:
        parts.append("+".join(names["use_cases"]))
    parts += ["/".join(names["industries"])] if names["industries"] else []
    parts += ["/".join(names["regions"])] if names["regions"] else []
    if names["activities"]:
        parts.append("for " + "+".join(names["activities"]))
    return ", ".join(p for p in parts if p)


@figure("demand")
def demand_figure(quarter: Quarter, now: datetime) -> dict:
    rows = most_frequent(quarter)
    total = db.session.scalar(select(func.count(UnmetDemand.id)).where(quarter.contains(UnmetDemand.created_at)))
    return {"rows": rows, "total": int(total or 0)}
