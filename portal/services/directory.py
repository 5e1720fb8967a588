"""Finding advocates: the team's directory with filters that combine (every filter narrows
the list; several products mean advocates who use all of them), "available now", and a
ranking that spreads the load fairly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, case, exists, func, literal, or_, select, true
from sqlalchemy.orm import contains_eager

from portal.database import contains_text, db, utcnow
from portal.models import (
    COUNTING_STATUSES,
    Account,
    ActivityType,
    ActivityWeight,
    Advocate,
    AdvocateStatus,
    Ask,
    Blackout,
    Consent,
    ConsentPurpose,
    User,
    advocate_activity_types,
    advocate_products,
    advocate_use_cases,
)
from portal.services import asks as asks_service
from portal.services import profiles, taxonomy

# Load an advocate's user and account from the search's own join instead of joining again.
FROM_JOIN = (contains_eager(Advocate.user), contains_eager(Advocate.account))
RECENT_DAYS = 90  # "recent contacts" for fair ranking and under-use
USAGE_CHOICES = ("over", "under")


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


def account_not_at_risk():
    """The advocate's account is not at risk, asked of the advocate itself (a correlated
    subquery), so the condition holds whether or not the query joins accounts."""
    return ~select(Account.id).where(
        Account.id == Advocate.account_id, Account.at_risk.is_(True)
    ).correlate_except(Account).exists()


def _has_all(link_table, column, ids: list[int]):
    return [exists().where(link_table.c.advocate_id == Advocate.id, column == term_id) for term_id in ids]


def _counting_asks(since: datetime):
    return select(func.count(Ask.id)).where(
        Ask.advocate_id == Advocate.id, Ask.status.in_(COUNTING_STATUSES), Ask.created_at >= since
    ).scalar_subquery()


def _period_starts(now: datetime) -> tuple[datetime, datetime, datetime, datetime]:
    """Starts of this and last month and quarter (UTC)."""
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (month - timedelta(days=1)).replace(day=1)
    quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    last_quarter = (quarter - timedelta(days=1)).replace(day=1)
    last_quarter = last_quarter.replace(month=(last_quarter.month - 1) // 3 * 3 + 1)
    return month, last_month, quarter, last_quarter


def _limits():
    program = asks_service.settings()
    month_limit = func.coalesce(Advocate.month_limit, program.month_limit)
    quarter_limit = func.coalesce(Advocate.quarter_limit, program.quarter_limit)
    # An advocate's own limit never exceeds the program's (min() without LEAST, for SQLite).
    month_limit = _smaller(month_limit, program.month_limit)
    quarter_limit = _smaller(quarter_limit, program.quarter_limit)
    return program, month_limit, quarter_limit


def limit_expressions():
    """(program settings, this advocate's monthly limit, quarterly limit) as SQL
    expressions, for reports that aggregate over advocates."""
    return _limits()


def _smaller(expression, bound: int):
    return case((expression < bound, expression), else_=literal(bound))


def available_now_condition(activity_type_ids: list[int], now: datetime | None = None):
    """Approved, account not at risk, opted in and consented (to the chosen activities, or to
    reference calls when none is chosen), not paused or in a blackout today, with room in
    this month and quarter and past the cool-down of the last ask. Dates are UTC here; the
    exact rule in the advocate's time zone is applied again when an ask is made."""
    now = now or utcnow()
    today = now.date()
    program, month_limit, quarter_limit = _limits()
    month, _last_month, quarter, _last_quarter = _period_starts(now)
    purposes = select(ActivityType.purpose).where(
        ActivityType.id.in_(activity_type_ids or [-1]), ActivityType.purpose.is_not(None)
    )
    wanted = list(db.session.scalars(purposes)) if activity_type_ids else [ConsentPurpose.REFERENCE_CALLS]
    consented = [
        exists().where(Consent.advocate_id == Advocate.id, Consent.purpose == purpose, Consent.granted == true())
        for purpose in set(wanted)
    ]
    in_cooldown = exists().where(
        Ask.advocate_id == Advocate.id,
        Ask.status.in_(COUNTING_STATUSES),
        Ask.activity_type_id == ActivityType.id,
        or_(
            and_(ActivityType.weight == ActivityWeight.LIGHT, Ask.created_at > now - timedelta(days=program.light_cooldown_days)),
            and_(ActivityType.weight == ActivityWeight.HEAVY, Ask.created_at > now - timedelta(days=program.heavy_cooldown_days)),
        ),
    )
    return and_(
        Advocate.status == AdvocateStatus.APPROVED,
        account_not_at_risk(),
        *consented,
        or_(Advocate.paused_until.is_(None), Advocate.paused_until <= today),
        ~exists().where(Blackout.advocate_id == Advocate.id, Blackout.starts_on <= today, Blackout.ends_on >= today),
        _counting_asks(month) < month_limit,
        _counting_asks(quarter) < quarter_limit,
        ~in_cooldown,
    )


def usage_condition(kind: str, now: datetime | None = None):
    """Over-used: at their monthly limit last month and this month, or at their quarterly
    limit last quarter and this quarter. Under-used: available now, not asked in 90 days."""
    now = now or utcnow()
    _program, month_limit, quarter_limit = _limits()
    month, last_month, quarter, last_quarter = _period_starts(now)
    if kind == "over":
        in_last_month = _counting_asks(last_month) - _counting_asks(month)
        in_last_quarter = _counting_asks(last_quarter) - _counting_asks(quarter)
        return and_(
            Advocate.status == AdvocateStatus.APPROVED,
            or_(
                and_(_counting_asks(month) >= month_limit, in_last_month >= month_limit),
                and_(_counting_asks(quarter) >= quarter_limit, in_last_quarter >= quarter_limit),
            ),
        )
    return and_(available_now_condition([], now), _counting_asks(now - timedelta(days=RECENT_DAYS)) == 0)


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
        conditions.append(available_now_condition(filters.activity_type_ids, now))
    if filters.usage in USAGE_CHOICES:
        conditions.append(usage_condition(filters.usage, now))
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
        # Spread the load: fewest recent contacts first, then whoever waited longest.
        last_asked = (
            select(func.max(Ask.created_at))
            .where(Ask.advocate_id == Advocate.id, Ask.status.in_(COUNTING_STATUSES))
            .scalar_subquery()
        )
        return query.order_by(
            _counting_asks(now - timedelta(days=RECENT_DAYS)),
            last_asked.is_not(None),
            last_asked,
            User.name,
            Advocate.id,
        )
    return query.order_by(User.name, Advocate.id)


def paginate(filters: Filters, *where, page: int | None = None, per_page: int, options=(), now: datetime | None = None):
    """One page of :func:`search` (narrowed by ``where``) and the matching total. The total
    joins users and accounts only for the text search, so counting a large program does not
    also join every user and account."""
    now = now or utcnow()
    conditions = [*_conditions(filters, now), *where]
    query = _listed(filters, conditions, now).options(*FROM_JOIN, *options)
    result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=False)
    counted = select(func.count()).select_from(Advocate)
    if filters.search_text:
        counted = counted.join(Advocate.user).join(Advocate.account)
    result.total = db.session.scalar(counted.where(*conditions))
    return result
