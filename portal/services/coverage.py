"""Coverage against growth targets: admins set how many available advocates the program
wants for a combination of industry, region and product (each may be "any"); the matrix
shows target, actual (advocates available now who match, regions nesting as in the
directory) and the gap, and an open recruiting call asks staff to nominate customers who
fit until the gap closes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from portal.database import db, utcnow
from portal.models import (
    Advocate,
    AdvocateStatus,
    CoverageTarget,
    Region,
    RegionCountry,
    Term,
    TermKind,
    User,
    advocate_products,
)
from portal.services import audit, availability, reporting
from portal.services.errors import DomainError
from portal.services.reporting import Quarter, figure

MAX_TARGET = 10000


def _nested_countries() -> dict[int, set[str]]:
    """Every region's countries including those of the regions inside it (two queries for
    all regions, instead of two per target)."""
    children: dict[int | None, list[int]] = {}
    for region_id, parent_id in db.session.execute(select(Region.id, Region.parent_id)):
        children.setdefault(parent_id, []).append(region_id)
    own: dict[int, set[str]] = {}
    for region_id, country in db.session.execute(select(RegionCountry.region_id, RegionCountry.country)):
        own.setdefault(region_id, set()).add(country)
    result: dict[int, set[str]] = {}

    def collect(region_id: int, seen: frozenset) -> set[str]:
        if region_id in result:
            return result[region_id]
        countries = set(own.get(region_id, set()))
        for child in children.get(region_id, []):
            if child not in seen:
                countries |= collect(child, seen | {child})
        result[region_id] = countries
        return countries

    for parent_id, ids in children.items():
        for region_id in ids:
            collect(region_id, frozenset({region_id}))
    return result


def describe(industry: str | None, region: str | None, product: str | None) -> str:
    return " · ".join([industry or "any industry", region or "any region", product or "any product"])


def search_args(target: CoverageTarget) -> dict:
    """The directory search (available now) that lists the advocates a target counts."""
    args: dict = {"available": "y"}
    if target.industry_id:
        args["industry"] = [target.industry_id]
    if target.region_id:
        args["region"] = [target.region_id]
    if target.product_id:
        args["product"] = [target.product_id]
    return args


def matrix(now: datetime | None = None, targets: list[CoverageTarget] | None = None) -> list[dict]:
    """Every target (or the given ones) with its actual count of advocates available now
    and its gap, biggest gap first. One counting query for all of them: one pass over the
    approved advocates counting those available now (``availability.Counting``, the
    directory's rule), each target a conditional count, each product they name joined once."""
    now = now or utcnow()
    if targets is None:
        targets = list(db.session.scalars(select(CoverageTarget).order_by(CoverageTarget.id)))
    if not targets:
        return []
    countries = _nested_countries() if any(t.region_id for t in targets) else {}
    counting = availability.Counting(now)
    # Advocates of each product a target names (one row per advocate and product: a key).
    users_of = {
        product_id: select(advocate_products.c.advocate_id)
        .where(advocate_products.c.term_id == product_id)
        .subquery(f"product_{product_id}")
        for product_id in sorted({t.product_id for t in targets if t.product_id})
    }
    counts = []
    for target in targets:
        fits = [counting.available()]
        if target.industry_id:
            fits.append(Advocate.industry_id == target.industry_id)
        if target.region_id:
            fits.append(Advocate.country.in_(sorted(countries.get(target.region_id, set()))))
        if target.product_id:
            fits.append(users_of[target.product_id].c.advocate_id.is_not(None))
        counts.append(reporting._count_if(and_(*fits)))
    query = counting.join(select(*counts).select_from(Advocate))
    for users in users_of.values():
        query = query.outerjoin(users, users.c.advocate_id == Advocate.id)
    query = query.where(Advocate.status == AdvocateStatus.APPROVED)
    actuals = db.session.execute(query).one()
    rows = []
    for target, actual in zip(targets, actuals, strict=True):
        gap = max(target.target - int(actual), 0)
        rows.append(
            {
                "id": target.id,
                "industry": target.industry.name if target.industry else None,
                "region": target.region.name if target.region else None,
                "product": target.product.name if target.product else None,
                "label": describe(
                    target.industry.name if target.industry else None,
                    target.region.name if target.region else None,
                    target.product.name if target.product else None,
                ),
                "target": target.target,
                "actual": int(actual),
                "gap": gap,
                "percent": min(100, round(100 * int(actual) / target.target)),
                "call_open": target.call_open,
                "call_message": target.call_message,
                "search_args": search_args(target),
            }
        )
    rows.sort(key=lambda row: (-row["gap"], row["label"]))
    return rows


@figure("coverage")
def coverage_figure(quarter: Quarter, now: datetime) -> dict:
    rows = matrix(now)
    return {
        "rows": rows,
        "targets": sum(r["target"] for r in rows),
        "covered": sum(min(r["actual"], r["target"]) for r in rows),
        "gaps": sum(1 for r in rows if r["gap"]),
    }


def open_calls(now: datetime | None = None) -> list[dict]:
    """Recruiting calls staff see on /staff/nominate: open, and the gap not yet closed."""
    if not db.session.scalar(select(CoverageTarget.id).where(CoverageTarget.call_open.is_(True)).limit(1)):
        return []
    return [row for row in matrix(now) if row["call_open"] and row["gap"]]


def _term(term_id: int | None, kind: TermKind, field: str) -> Term | None:
    if term_id is None:
        return None
    term = db.session.get(Term, term_id)
    if term is None or term.kind is not kind:
        raise DomainError("Choose one from the list.", field=field)
    return term


def set_target(actor: User, industry_id: int | None, region_id: int | None, product_id: int | None, target: int) -> CoverageTarget:
    """Adds a target, or changes the count of the one for the same combination."""
    _term(industry_id, TermKind.INDUSTRY, "industry")
    _term(product_id, TermKind.PRODUCT, "product")
    if region_id is not None and db.session.get(Region, region_id) is None:
        raise DomainError("Choose one from the list.", field="region")
    if not isinstance(target, int) or not 1 <= target <= MAX_TARGET:
        raise DomainError(f"Enter a number from 1 to {MAX_TARGET}.", field="target")
    if industry_id is None and region_id is None and product_id is None:
        raise DomainError("Choose at least one of industry, region or product.", field="industry")
    combination = CoverageTarget.combination_of(industry_id, region_id, product_id)
    row = _target_for(combination)
    if row is None:
        try:
            with db.session.begin_nested():
                row = CoverageTarget(combination=combination, industry_id=industry_id, region_id=region_id,
                                     product_id=product_id, created_by_id=actor.id, target=target)
                db.session.add(row)
        except IntegrityError:  # someone set the same combination at this moment: change theirs
            row = _target_for(combination)
    row.target = target
    db.session.flush()
    audit.record(actor, "coverage.target_set", row, f"Coverage target set to {target}", target=target)
    return row


def _target_for(combination: str) -> CoverageTarget | None:
    return db.session.scalar(
        select(CoverageTarget).where(CoverageTarget.combination == combination).with_for_update(of=CoverageTarget)
    )


def remove_target(actor: User, target: CoverageTarget) -> None:
    audit.record(actor, "coverage.target_removed", target, f"Coverage target of {target.target} removed")
    db.session.delete(target)
    db.session.flush()


def open_call(actor: User, target: CoverageTarget, message: str) -> None:
    message = (message or "").strip()
    if len(message) > 1000:
        raise DomainError("Keep the message under 1,000 characters.", field="message")
    target.call_open = True
    target.call_message = message
    db.session.flush()
    audit.record(actor, "coverage.call_opened", target, "Recruiting call shown to staff")


def close_call(actor: User, target: CoverageTarget) -> None:
    target.call_open = False
    db.session.flush()
    audit.record(actor, "coverage.call_closed", target, "Recruiting call withdrawn")
