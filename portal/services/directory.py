"""Finding advocates: the team's directory with filters that combine (every filter narrows
the list; several products mean advocates who use all of them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, exists, func, or_, select

from portal.models import (
    Account,
    Advocate,
    AdvocateStatus,
    User,
    advocate_activity_types,
    advocate_products,
    advocate_use_cases,
)
from portal.services import profiles, taxonomy


@dataclass
class Filters:
    statuses: list[AdvocateStatus] = field(default_factory=list)
    product_ids: list[int] = field(default_factory=list)
    industry_ids: list[int] = field(default_factory=list)
    region_ids: list[int] = field(default_factory=list)
    use_case_ids: list[int] = field(default_factory=list)
    activity_type_ids: list[int] = field(default_factory=list)
    stale: bool = False
    text: str = ""

    @property
    def any(self) -> bool:
        return any(
            [self.statuses, self.product_ids, self.industry_ids, self.region_ids, self.use_case_ids,
             self.activity_type_ids, self.stale, self.text]
        )


def _has_all(link_table, column, ids: list[int]):
    return [exists().where(link_table.c.advocate_id == Advocate.id, column == term_id) for term_id in ids]


def search(filters: Filters) -> Select:
    query = select(Advocate).join(Advocate.user).join(Advocate.account)
    if filters.statuses:
        query = query.where(Advocate.status.in_(filters.statuses))
    else:
        query = query.where(Advocate.status.not_in([AdvocateStatus.LAPSED, AdvocateStatus.ERASED]))
    query = query.where(*_has_all(advocate_products, advocate_products.c.term_id, filters.product_ids))
    query = query.where(*_has_all(advocate_use_cases, advocate_use_cases.c.term_id, filters.use_case_ids))
    query = query.where(
        *_has_all(advocate_activity_types, advocate_activity_types.c.activity_type_id, filters.activity_type_ids)
    )
    if filters.industry_ids:
        query = query.where(Advocate.industry_id.in_(filters.industry_ids))
    if filters.region_ids:
        query = query.where(Advocate.country.in_(taxonomy.region_countries(filters.region_ids)))
    if filters.stale:
        query = query.where(Advocate.status == AdvocateStatus.APPROVED, profiles.stale_condition())
    if filters.text.strip():
        like = f"%{filters.text.strip().lower()}%"
        query = query.where(
            or_(func.lower(User.name).like(like), User.email.like(like), func.lower(Account.name).like(like))
        )
    return query.order_by(User.name, Advocate.id)
