"""Rewards (SPEC §8): the catalog, claims that never oversell or overspend, gift compliance,
the leaderboard, the points table and the liability.

A claim locks the reward's row first (so stock and the per-advocate limit are counted by one
claim at a time) and then the person's row (so their balance and annual gift total are too),
checks every rule, and only then spends the points: a refused claim moves nothing. Points
come back (``REWARD_REFUND``, once per claim thanks to the ledger's unique index) when a
claim is rejected or cancelled, and the stock with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Select, and_, case, func, select, update
from sqlalchemy.orm import contains_eager

from portal.database import db, utcnow
from portal.models import (
    HOLDING_STATUSES,
    Account,
    Advocate,
    AdvocateStatus,
    Ask,
    AskStatus,
    AuditEvent,
    ClaimStatus,
    GiftPolicy,
    NotificationCategory,
    PointsEntry,
    PointsSource,
    QueueItem,
    QueueKind,
    QueueStatus,
    Reward,
    RewardClaim,
    RewardSettings,
    Role,
    User,
)
from portal.models.points import DEFAULT_POINTS
from portal.models.rewards import DEFAULT_ANNUAL_GIFT_CAP, DEFAULT_CURRENCY, DEFAULT_VALUE_PER_POINT
from portal import money
from portal.services import approvals, audit, points
from portal.services.errors import DomainError
from portal.services.notify import notify

EARNING_SOURCES = tuple(DEFAULT_POINTS)


class ClaimRefused(DomainError):
    """A rule refused the claim; nothing was deducted."""


# --- settings -------------------------------------------------------------------------------


def settings(*, for_update: bool = False) -> RewardSettings:
    """The program's row. Until an admin saves the settings there is none, and reading them
    (on any page) writes nothing: the defaults are a row not added to the session."""
    row = db.session.scalar(select(RewardSettings).order_by(RewardSettings.id).limit(1))
    if row is None:
        row = RewardSettings(
            value_per_point=DEFAULT_VALUE_PER_POINT,
            default_annual_gift_cap=DEFAULT_ANNUAL_GIFT_CAP,
            currency=DEFAULT_CURRENCY,
            **{source.value: worth for source, worth in DEFAULT_POINTS.items()},
        )
        if for_update:
            db.session.add(row)
    return row


@dataclass
class SettingsValues:
    points: dict[PointsSource, int]
    value_per_point: Decimal
    default_annual_gift_cap: Decimal
    currency: str | None = None  # None: unchanged


def update_settings(actor: User, values: SettingsValues) -> RewardSettings:
    _admin(actor)
    row = settings(for_update=True)
    before = {source.value: getattr(row, source.value) for source in EARNING_SOURCES}
    for source, worth in values.points.items():
        if worth < 0:
            raise DomainError("Points cannot be negative.", field=source.value)
        setattr(row, source.value, worth)
    if values.value_per_point < 0:
        raise DomainError("The value of a point cannot be negative.", field="value_per_point")
    if values.default_annual_gift_cap < 0:
        raise DomainError("The cap cannot be negative.", field="default_annual_gift_cap")
    if values.currency is not None and not money.is_currency(values.currency):
        raise DomainError("Choose a currency from the list (an ISO 4217 code such as USD or EUR).", field="currency")
    row.value_per_point = values.value_per_point
    row.default_annual_gift_cap = values.default_annual_gift_cap
    if values.currency is not None:
        row.currency = values.currency
    db.session.flush()
    money.forget_program_currency()
    audit.record(
        actor,
        "rewards.settings_changed",
        row,
        "Changed the points table and reward settings",
        before=before,
        after={source.value: getattr(row, source.value) for source in EARNING_SOURCES},
        value_per_point=str(row.value_per_point),
        default_annual_gift_cap=str(row.default_annual_gift_cap),
        currency=row.currency,
    )
    return row


def _admin(actor: User) -> None:
    if actor.role is not Role.ADMIN:
        raise DomainError("Only admins manage rewards.")


# --- catalog --------------------------------------------------------------------------------


@dataclass
class RewardDetails:
    name: str
    description: str
    points_cost: int
    monetary_value: Decimal
    stock: int | None
    per_advocate_limit: int | None
    available_from: date | None
    available_until: date | None
    needs_approval: bool
    is_donation: bool
    charities: list[str]
    active: bool


def _check_details(details: RewardDetails) -> None:
    if not details.name.strip():
        raise DomainError("Name the reward.", field="name")
    if details.points_cost < 1:
        raise DomainError("A reward costs at least 1 point.", field="points_cost")
    if details.monetary_value < 0:
        raise DomainError("The value cannot be negative.", field="monetary_value")
    if details.stock is not None and details.stock < 0:
        raise DomainError("Stock cannot be negative; leave it empty for unlimited.", field="stock")
    if details.per_advocate_limit is not None and details.per_advocate_limit < 1:
        raise DomainError("Allow at least 1 per advocate, or leave it empty for no limit.", field="per_advocate_limit")
    if details.available_from and details.available_until and details.available_until < details.available_from:
        raise DomainError("The last day comes before the first day.", field="available_until")
    if details.is_donation and not details.charities:
        raise DomainError("Name at least one charity the donation can go to.", field="charities")


def save_reward(actor: User, reward: Reward | None, details: RewardDetails, image=None) -> Reward:
    """Create (``reward`` None) or change a catalog item; ``image`` is an uploaded file."""
    from portal.services import uploads

    _admin(actor)
    _check_details(details)
    if reward is None:
        reward = Reward()
        db.session.add(reward)
    else:
        reward = _locked_reward(reward.id)
    for name, value in vars(details).items():
        setattr(reward, name, value.strip() if isinstance(value, str) else value)
    if not details.is_donation:
        reward.charities = []
    if image is not None:
        reward.image = uploads.store_image(actor, image, field="image")
    db.session.flush()
    audit.record(actor, "reward.saved", reward, f"Saved reward #{reward.id} {reward.name}", stock=reward.stock)
    return reward


def catalog(day: date | None = None) -> Select:
    """What advocates may claim today, cheapest first."""
    day = day or utcnow().date()
    return (
        select(Reward)
        .where(
            Reward.active.is_(True),
            (Reward.available_from.is_(None)) | (Reward.available_from <= day),
            (Reward.available_until.is_(None)) | (Reward.available_until >= day),
        )
        .order_by(Reward.points_cost, Reward.id)
    )


def all_rewards() -> Select:
    return select(Reward).order_by(Reward.active.desc(), Reward.name, Reward.id)


def is_visible(reward: Reward, viewer: User) -> bool:
    return viewer.is_team or reward.available_on(utcnow().date())


# --- gift compliance ------------------------------------------------------------------------


def annual_cap(account: Account) -> Decimal:
    return account.annual_gift_cap if account.annual_gift_cap is not None else settings().default_annual_gift_cap


def _year_bounds(day: date) -> tuple[datetime, datetime]:
    return datetime(day.year, 1, 1, tzinfo=UTC), datetime(day.year + 1, 1, 1, tzinfo=UTC)


def gifts_this_year(user: User | int, day: date | None = None) -> Decimal:
    """The monetary value of the person's claims this calendar year that were not rejected or cancelled."""
    user_id = user if isinstance(user, int) else user.id
    start, end = _year_bounds(day or utcnow().date())
    total = db.session.scalar(
        select(func.coalesce(func.sum(RewardClaim.monetary_value), 0)).where(
            RewardClaim.user_id == user_id,
            RewardClaim.status.in_(HOLDING_STATUSES),
            RewardClaim.created_at >= start,
            RewardClaim.created_at < end,
        )
    )
    return Decimal(total)


def gift_refusal(advocate: Advocate, reward: Reward) -> str | None:
    """Why the account's gift rules refuse this reward to this advocate, or None."""
    account = advocate.account
    if account.gift_policy is GiftPolicy.NONE:
        return f"{account.name}'s gift policy does not allow its employees to accept rewards."
    if account.gift_policy is GiftPolicy.CHARITY_ONLY and not reward.is_donation:
        return f"{account.name}'s gift policy allows charity donations only: choose a donation reward."
    cap = annual_cap(account)
    already = gifts_this_year(advocate.user_id)
    if already + reward.monetary_value > cap:
        return (
            f"This would take your rewards this year to {money.format_money(already + reward.monetary_value)}, over the annual "
            f"gift limit of {money.format_money(cap)} that applies to {account.name}."
        )
    return None


# --- claims ---------------------------------------------------------------------------------


def _locked_reward(reward_id: int) -> Reward:
    reward = db.session.scalar(
        select(Reward).where(Reward.id == reward_id).with_for_update(of=Reward).execution_options(populate_existing=True)
    )
    if reward is None:
        raise ClaimRefused("This reward does not exist.")
    return reward


def claims_held(user_id: int, reward_id: int) -> int:
    return db.session.scalar(
        select(func.count(RewardClaim.id)).where(
            RewardClaim.user_id == user_id, RewardClaim.reward_id == reward_id, RewardClaim.status.in_(HOLDING_STATUSES)
        )
    )


def claim_reward(actor: User, reward_id: int, *, charity: str | None = None, delivery_note: str = "") -> RewardClaim:
    """The signed-in advocate claims a reward. Every rule is checked before any point moves."""
    from portal.services.nominations import current_advocate

    advocate = current_advocate(actor)
    if actor.role is not Role.ADVOCATE or advocate is None or advocate.status is not AdvocateStatus.APPROVED:
        raise ClaimRefused("Rewards are for approved members of the program.")
    reward = _locked_reward(reward_id)  # first the reward: stock and limits, one claim at a time
    points._lock_person(actor.id)  # then the person: balance and annual gift total
    if not reward.available_on(utcnow().date()):
        raise ClaimRefused("This reward is not available now.")
    if reward.stock is not None and reward.stock <= 0:
        raise ClaimRefused("This reward is out of stock; nothing was deducted.")
    if reward.per_advocate_limit is not None and claims_held(actor.id, reward.id) >= reward.per_advocate_limit:
        raise ClaimRefused(f"You can claim this reward at most {reward.per_advocate_limit} time(s).")
    refusal = gift_refusal(advocate, reward)
    if refusal:
        raise ClaimRefused(refusal)
    if reward.is_donation:
        if charity not in reward.charities:
            raise ClaimRefused("Choose the charity the donation goes to.", field="charity")
    else:
        charity = None
    have = points.balance(actor.id)
    if have < reward.points_cost:
        raise points.InsufficientPoints(have, reward.points_cost)

    claim = RewardClaim(
        reward=reward,
        user_id=actor.id,
        advocate=advocate,
        points=reward.points_cost,
        monetary_value=reward.monetary_value,
        charity=charity,
        delivery_note=delivery_note.strip()[:2000],
        status=ClaimStatus.REQUESTED if reward.needs_approval else ClaimStatus.APPROVED,
        decided_at=None if reward.needs_approval else utcnow(),
    )
    db.session.add(claim)
    db.session.flush()
    points.spend(advocate, reward.points_cost, PointsSource.REWARD_CLAIM, claim.id, actor=actor, reason=reward.name)
    if reward.stock is not None:
        reward.stock -= 1
    if reward.needs_approval:
        approvals.open_item(
            QueueKind.REWARD_CLAIM, advocate, claim.id, f"{reward.name} ({reward.points_cost} points, {money.format_money(reward.monetary_value)})"
        )
    db.session.flush()
    audit.record(actor, "reward.claimed", claim, f"Claimed {reward.name}", advocate_id=advocate.id, charity=charity)
    return claim


def _transition(claim: RewardClaim, allowed_from: tuple[ClaimStatus, ...], **values) -> None:
    """Compare-and-set on the status: a claim is approved, fulfilled or returned once."""
    done = db.session.execute(
        update(RewardClaim)
        .where(RewardClaim.id == claim.id, RewardClaim.status.in_(allowed_from))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(claim)
    if done.rowcount != 1:
        raise DomainError(f"This claim is {claim.status.label.lower()} and cannot change that way.")


def _return(claim: RewardClaim, status: ClaimStatus, allowed_from: tuple[ClaimStatus, ...], actor: User, reason: str) -> None:
    """Reject or cancel: the points and the stock come back."""
    reward = _locked_reward(claim.reward_id)
    _transition(claim, allowed_from, status=status, closed_at=utcnow(), reason=reason)
    points.award(claim.advocate, PointsSource.REWARD_REFUND, claim.id, points=claim.points, actor=actor, reason=reward.name)
    if reward.stock is not None:
        reward.stock += 1
    db.session.flush()


@approvals.handles(QueueKind.REWARD_CLAIM)
def _decide_claim(actor: User, item: QueueItem, approve: bool, reason: str) -> tuple[User, str]:
    claim = db.session.get(RewardClaim, item.subject_id)
    if approve:
        _transition(claim, (ClaimStatus.REQUESTED,), status=ClaimStatus.APPROVED, decided_at=utcnow())
        return claim.user, f"Your reward claim is approved: {claim.reward.name}"
    _return(claim, ClaimStatus.REJECTED, (ClaimStatus.REQUESTED,), actor, reason)
    return claim.user, f"Your reward claim was not approved; {claim.points} points are back: {claim.reward.name}"


def cancel_claim(actor: User, claim: RewardClaim, reason: str = "") -> None:
    """The advocate takes back a claim still waiting for approval; admins may also cancel an
    approved one that cannot be sent (with a reason)."""
    reason = reason.strip()
    if actor.role is Role.ADMIN:
        if not reason:
            raise DomainError("Give a reason: the advocate reads it.", field="reason")
        allowed = (ClaimStatus.REQUESTED, ClaimStatus.APPROVED)
    elif actor.id == claim.user_id:
        allowed = (ClaimStatus.REQUESTED,)
    else:
        raise DomainError("Only the advocate or an admin can cancel a claim.")
    if claim.status not in allowed:
        raise DomainError(f"This claim is {claim.status.label.lower()} and can no longer be cancelled.")
    _return(claim, ClaimStatus.CANCELLED, allowed, actor, reason)
    db.session.execute(
        update(QueueItem)
        .where(QueueItem.kind == QueueKind.REWARD_CLAIM, QueueItem.subject_id == claim.id, QueueItem.status == QueueStatus.OPEN)
        .values(status=QueueStatus.WITHDRAWN, decided_at=utcnow())
    )
    audit.record(actor, "reward.claim_cancelled", claim, f"Cancelled claim #{claim.id}", reason=reason)
    if actor.id != claim.user_id:
        notify(
            claim.user,
            NotificationCategory.DECISIONS,
            f"Your reward claim was cancelled; {claim.points} points are back: {claim.reward.name}",
            f"Reason from the advocacy team: {reason}",
            link_endpoint="rewards.my_claims",
        )


def fulfil_claim(actor: User, claim: RewardClaim) -> None:
    _admin(actor)
    _transition(claim, (ClaimStatus.APPROVED,), status=ClaimStatus.FULFILLED, fulfilled_at=utcnow())
    audit.record(actor, "reward.fulfilled", claim, f"Fulfilled claim #{claim.id}: {claim.reward.name}")
    what = f"a donation to {claim.charity}" if claim.charity else claim.reward.name
    notify(
        claim.user,
        NotificationCategory.DECISIONS,
        f"Your reward is on its way: {claim.reward.name}",
        f"The advocacy team has sent {what}. Your certificate is ready on the My rewards page.",
        link_endpoint="rewards.my_claims",
    )


def my_claims(user: User) -> Select:
    return select(RewardClaim).where(RewardClaim.user_id == user.id).order_by(RewardClaim.id.desc())


def claims_list(status: ClaimStatus | None = ClaimStatus.APPROVED) -> Select:
    """The fulfilment list: oldest first, so nobody waits longest."""
    query = select(RewardClaim).join(User, RewardClaim.user_id == User.id).options(contains_eager(RewardClaim.user))
    if status is not None:
        query = query.where(RewardClaim.status == status)
    return query.order_by(RewardClaim.created_at, RewardClaim.id)


def certificate_values(claim: RewardClaim, program_name: str, company_name: str) -> dict:
    """Plain values for ``pdf/reward_certificate.html``."""
    return {
        "program_name": program_name,
        "company_name": company_name,
        "advocate_name": claim.user.name,
        "account_name": claim.advocate.account.name,
        "reward_name": claim.reward.name,
        "reward_description": claim.reward.description,
        "charity": claim.charity,
        "points": claim.points,
        "fulfilled_on": claim.fulfilled_at.date() if claim.fulfilled_at else None,
        "claim_id": claim.id,
    }


# --- manual awards, accounts ----------------------------------------------------------------


def adjust_points(actor: User, advocate: Advocate, amount: int, reason: str):
    _admin(actor)
    entry = points.adjust(actor, advocate, amount, reason)
    audit.record(
        actor, "points.adjusted", entry, f"{amount:+d} points for advocate #{advocate.id}", advocate_id=advocate.id, reason=reason
    )
    return entry


def set_gift_policy(actor: User, account: Account, policy: GiftPolicy, cap: Decimal | None) -> None:
    _admin(actor)
    if cap is not None and cap < 0:
        raise DomainError("The cap cannot be negative.", field="annual_gift_cap")
    before = (account.gift_policy.value, str(account.annual_gift_cap))
    account.gift_policy = policy
    account.annual_gift_cap = cap
    db.session.flush()
    audit.record(
        actor,
        "account.gift_policy",
        account,
        f"Gift policy of {account.name}: {policy.label}, cap {cap if cap is not None else 'program default'}",
        before=list(before),
    )


# --- leaderboard and liability --------------------------------------------------------------


def quarter_start(day: date) -> datetime:
    return datetime(day.year, 3 * ((day.month - 1) // 3) + 1, 1, tzinfo=UTC)


def _earned(since: datetime | None):
    """Points earned per person: every entry except spending and refunds (so a claim does
    not lower anyone's rank, and manual corrections count)."""
    condition = PointsEntry.source.notin_((PointsSource.REWARD_CLAIM, PointsSource.REWARD_REFUND))
    if since is not None:
        condition = and_(condition, PointsEntry.created_at >= since)
    return func.coalesce(func.sum(case((condition, PointsEntry.points), else_=0)), 0)


@dataclass
class Standing:
    rank: int
    name: str
    points: int
    is_viewer: bool


def leaderboard(viewer: User, since: datetime | None, top: int = 10) -> tuple[list[Standing], Standing | None]:
    """The top opted-in advocates by points earned (``since`` None = all time), and the
    viewer's own standing (also when they are outside the top, or have not opted in)."""
    earned = _earned(since).label("earned")
    totals = (
        select(User.id.label("user_id"), User.display_name, earned)
        .join(PointsEntry, PointsEntry.user_id == User.id)
        .where(User.leaderboard_opt_in.is_(True), User.active.is_(True), User.role == Role.ADVOCATE)
        .group_by(User.id, User.display_name)
        .subquery()
    )
    rows = db.session.execute(
        select(totals.c.user_id, totals.c.display_name, totals.c.earned)
        .where(totals.c.earned > 0)
        .order_by(totals.c.earned.desc(), totals.c.user_id)
        .limit(top)
    ).all()
    standings = []
    for row in rows:
        rank = 1 + sum(1 for s in standings if s.points > row.earned)
        standings.append(Standing(rank, row.display_name or "An advocate", row.earned, row.user_id == viewer.id))
    mine = db.session.scalar(select(_earned(since)).where(PointsEntry.user_id == viewer.id))
    ahead = db.session.scalar(select(func.count()).select_from(totals).where(totals.c.earned > mine))
    own = Standing(ahead + 1, viewer.display_name or viewer.name, mine, True)
    return standings, own


def set_leaderboard_choice(actor: User, opt_in: bool, display_name: str) -> None:
    display_name = display_name.strip()
    if opt_in and not display_name:
        raise DomainError("Choose the name others see on the leaderboard.", field="display_name")
    actor.leaderboard_opt_in = opt_in
    actor.display_name = display_name or None
    db.session.flush()


def liability() -> tuple[int, Decimal]:
    """Points outstanding (everyone's balance) and what they would cost the program."""
    latest = select(func.max(PointsEntry.id)).group_by(PointsEntry.user_id).scalar_subquery()
    outstanding = db.session.scalar(
        select(func.coalesce(func.sum(PointsEntry.balance_after), 0)).where(PointsEntry.id.in_(latest))
    )
    return int(outstanding), (Decimal(outstanding) * settings().value_per_point).quantize(Decimal("0.01"))


# --- events recorded before the ledger ------------------------------------------------------


def _not_awarded(source: PointsSource, column):
    return ~select(PointsEntry.id).where(PointsEntry.source == source, PointsEntry.source_id == column).exists()


def backfill() -> int:
    """Award every earning event already recorded that has no ledger entry yet. Safe to run
    any number of times: the ledger's unique index refuses a second award anyway."""
    awarded = 0
    # Approved through the queue (whatever the membership's state now), or approved when
    # the record was made (the demo, imports of existing advocates).
    queue_approved = select(QueueItem.advocate_id).where(
        QueueItem.kind.in_((QueueKind.NOMINATION, QueueKind.INVITATION)), QueueItem.status == QueueStatus.APPROVED
    )
    approved = (
        select(Advocate)
        .where(
            (Advocate.status == AdvocateStatus.APPROVED) | Advocate.id.in_(queue_approved),
            Advocate.status != AdvocateStatus.ERASED,
            _not_awarded(PointsSource.NOMINATION_APPROVED, Advocate.id),
        )
        .order_by(Advocate.id)
    )
    for advocate in db.session.scalars(approved):
        awarded += points.award(advocate, PointsSource.NOMINATION_APPROVED, advocate.id) is not None
    accepted = select(AuditEvent.subject_id).where(AuditEvent.action == "ask.accepted", AuditEvent.subject_type == "asks")
    for source, condition in (
        (PointsSource.ASK_ACCEPTED, Ask.status.in_((AskStatus.ACCEPTED, AskStatus.COMPLETED)) | Ask.id.in_(accepted)),
        (PointsSource.ASK_COMPLETED, Ask.status == AskStatus.COMPLETED),
    ):
        query = (
            select(Ask)
            .join(Advocate, Ask.advocate_id == Advocate.id)
            .where(condition, Advocate.status != AdvocateStatus.ERASED, _not_awarded(source, Ask.id))
            .order_by(Ask.id)
        )
        for ask in db.session.scalars(query):
            awarded += points.award(ask.advocate, source, ask.id) is not None
    confirmed = (
        select(AuditEvent, Advocate)
        .join(Advocate, Advocate.id == AuditEvent.subject_id)
        .where(
            AuditEvent.action == "profile.confirmed",
            AuditEvent.subject_type == "advocates",
            Advocate.status != AdvocateStatus.ERASED,
            _not_awarded(PointsSource.PROFILE_CONFIRMED, AuditEvent.id),
        )
        .order_by(AuditEvent.id)
    )
    for event, advocate in db.session.execute(confirmed):
        awarded += points.award(advocate, PointsSource.PROFILE_CONFIRMED, event.id) is not None
    return awarded
