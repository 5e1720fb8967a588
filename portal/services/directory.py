"""Finding advocates: the team's directory with filters that combine (every filter narrows
the list; several products mean advocates who use all of them), "available now", and a
ranking that spreads the load fairly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import contains_eager

from portal.database import contains_text, db, utcnow
from portal.models import (
    Account,
    Advocate,
    AdvocateStatus,
    User,
    advocate_activity_types,
    advocate_products,
    advocate_use_cases,
)
from portal.services import availability, profiles, taxonomy
from portal.services.availability import USAGE_CHOICES

# Load an advocate's user and account from the search's own join instead of joining again.
FROM_JOIN = (contains_eager(Advocate.user), contains_eager(Advocate.account))


@dataclass
class Filters:
    statuses: list[AdvocateStatus] = field(default_factory=list)
    product_ids: list[int] = field(default_factory=list)
    industry_ids: list[int] = field(default_factory=list)
    region_ids: list[int] = field(default_factory=list)
    use_case_ids: list[int] = field(default_factory=list)
    activity_type_ids: list[int] = field(default_factory=list)
    available_now: bool = False
    usage: str = ""  # "over" or "under"
    stale: bool = False
    text: str = ""

    @property
    def search_text(self) -> str:
        return self.text.strip()

    @property
    def any(self) -> bool:
        return any(
            [self.statuses, self.product_ids, self.industry_ids, self.region_ids, self.use_case_ids,
             self.activity_type_ids, self.available_now, self.usage, self.stale, self.text]
        )


def _has_all(link_table, column, ids: list[int]):
    return [exists().where(link_table.c.advocate_id == Advocate.id, column == term_id) for term_id in ids]


def _conditions(filters: Filters, now: datetime) -> list:
    """The WHERE conditions for ``filters``. Only the text search reads the joined user and
    account; every other condition asks of the advocate alone."""
    conditions = []
    if filters.statuses:
        conditions.append(Advocate.status.in_(filters.statuses))
    else:
        conditions.append(Advocate.status.not_in([AdvocateStatus.LAPSED, AdvocateStatus.ERASED]))
    conditions += _has_all(advocate_products, advocate_products.c.term_id, filters.product_ids)
    conditions += _has_all(advocate_use_cases, advocate_use_cases.c.term_id, filters.use_case_ids)
    conditions += _has_all(advocate_activity_types, advocate_activity_types.c.activity_type_id, filters.activity_type_ids)
    if filters.industry_ids:
        conditions.append(Advocate.industry_id.in_(filters.industry_ids))
    if filters.region_ids:
        conditions.append(Advocate.country.in_(taxonomy.region_countries(filters.region_ids)))
    if filters.stale:
        conditions += [Advocate.status == AdvocateStatus.APPROVED, profiles.stale_condition()]
    if filters.available_now:
        conditions.append(availability.available_now_condition(filters.activity_type_ids, now))
    if filters.usage in USAGE_CHOICES:
        conditions.append(availability.usage_condition(filters.usage, now))
    if filters.search_text:
        conditions.append(or_(*(contains_text(c, filters.search_text) for c in (User.name, User.email, Account.name))))
    return conditions


def search(filters: Filters, now: datetime | None = None) -> Select:
    """Advocates matching ``filters``, in the directory's order (joined to their user and
    account; add :data:`FROM_JOIN` to the options to load them from that join)."""
    now = now or utcnow()
    return _listed(filters, _conditions(filters, now), now)


def _listed(filters: Filters, conditions: list, now: datetime) -> Select:
    query = select(Advocate).join(Advocate.user).join(Advocate.account).where(*conditions)
    if filters.available_now or filters.activity_type_ids or filters.usage:
        return availability.ranked(query)  # spread the load
    return query.order_by(User.name, Advocate.id)


def _counted(filters: Filters, conditions: list):
    # Users and accounts are joined only for the text search: counting a large program does
    # not also join every user and account.
    counted = select(func.count()).select_from(Advocate)
    if filters.search_text:
        counted = counted.join(Advocate.user).join(Advocate.account)
    return counted.where(*conditions)


def _of_state_alone(filters: Filters) -> bool:
    """Nothing chosen but "Available now" or a usage list (and activities): a count the
    availability state answers alone."""
    availability_only = Filters(activity_type_ids=filters.activity_type_ids, available_now=filters.available_now,
                                usage=filters.usage if filters.usage in USAGE_CHOICES else "")
    return (filters.available_now or filters.usage in USAGE_CHOICES) and filters == availability_only


def _total(filters: Filters, conditions: list, where: tuple, now: datetime) -> int:
    if not where and _of_state_alone(filters):
        return availability.count_of_state(filters.activity_type_ids, filters.available_now, filters.usage, now)
    return db.session.scalar(_counted(filters, conditions))


def count(filters: Filters, *where, now: datetime | None = None) -> int:
    now = now or utcnow()
    return _total(filters, [*_conditions(filters, now), *where], where, now)


def ids_after(filters: Filters, *where, after: int, limit: int, now: datetime | None = None) -> list[int]:
    """The ids of advocates matching ``filters`` (narrowed by ``where``) after ``after``, in id
    order: keyset pages that cost the same at any depth."""
    query = select(Advocate.id).where(*_conditions(filters, now or utcnow()), *where, Advocate.id > after)
    if filters.search_text:
        query = query.join(Advocate.user).join(Advocate.account)
    return list(db.session.scalars(query.order_by(Advocate.id).limit(limit)))


def paginate(filters: Filters, *where, page: int | None = None, per_page: int, options=(), now: datetime | None = None):
    """One page of :func:`search` (narrowed by ``where``) and the matching total."""
    now = now or utcnow()
    conditions = [*_conditions(filters, now), *where]
    query = _listed(filters, conditions, now).options(*FROM_JOIN, *options)
    result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=False)
    result.total = _total(filters, conditions, where, now)
    return result
