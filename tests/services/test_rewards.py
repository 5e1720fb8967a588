"""Rewards: claims that never oversell or overspend, gift compliance, points returned on
rejection and cancellation, the points table, awards for earlier events, the leaderboard."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.database import db, utcnow
from portal.models import (
    AdvocateStatus,
    AskOutcome,
    AskStatus,
    ClaimStatus,
    GiftPolicy,
    PointsEntry,
    PointsSource,
    QueueItem,
    QueueKind,
    QueueStatus,
    Reward,
    RewardClaim,
    User,
)
from portal.services import approvals, points, privacy, profiles, rewards
from portal.services.errors import DomainError
from tests.conftest import ON_POSTGRES
from tests.factories import AccountFactory, AdminFactory, AdvocateFactory, RewardFactory
from tests.services.helpers import count


def rich(amount=1000, **account):
    """An approved advocate with ``amount`` points."""
    advocate = AdvocateFactory(account=AccountFactory(**account)) if account else AdvocateFactory()
    if amount:
        points.adjust(AdminFactory(), advocate, amount, "Starting balance")
    return advocate


def ledger_sum(user_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(PointsEntry.user_id == user_id))


def queue_item(claim) -> QueueItem:
    return db.session.scalar(select(QueueItem).where(QueueItem.kind == QueueKind.REWARD_CLAIM, QueueItem.subject_id == claim.id))


# --- claims ---------------------------------------------------------------------------------


def test_a_claim_deducts_the_points_and_one_from_stock(db):
    advocate = rich(500)
    reward = RewardFactory(points_cost=120, stock=4)
    claim = rewards.claim_reward(advocate.user, reward.id, delivery_note="Size L")
    assert claim.status is ClaimStatus.APPROVED  # no approval needed: straight to the send list
    assert points.balance(advocate.user) == 380
    assert reward.stock == 3
    spend = db.session.scalar(select(PointsEntry).where(PointsEntry.source == PointsSource.REWARD_CLAIM))
    assert (spend.points, spend.source_id, spend.reason) == (-120, claim.id, reward.name)


@pytest.mark.parametrize(
    "reward_values, message",
    [
        ({"stock": 0}, "out of stock"),
        ({"active": False}, "not available"),
        ({"available_from": utcnow().date() + timedelta(days=2)}, "not available"),
        ({"available_until": utcnow().date() - timedelta(days=1)}, "not available"),
        ({"points_cost": 5000}, "needs 5000 points"),
    ],
)
def test_a_refused_claim_deducts_nothing(db, reward_values, message):
    advocate = rich(500)
    reward = RewardFactory(**reward_values)
    with pytest.raises(DomainError) as refused:
        rewards.claim_reward(advocate.user, reward.id)
    assert message in refused.value.message
    assert points.balance(advocate.user) == 500
    assert count(RewardClaim) == 0


def test_the_per_advocate_limit_counts_held_claims_only(db):
    advocate = rich(1000)
    reward = RewardFactory(per_advocate_limit=1, points_cost=100)
    first = rewards.claim_reward(advocate.user, reward.id)
    with pytest.raises(rewards.ClaimRefused, match="at most 1"):
        rewards.claim_reward(advocate.user, reward.id)
    rewards.cancel_claim(AdminFactory(), first, "Sent the wrong one")
    rewards.claim_reward(advocate.user, reward.id)  # a cancelled claim no longer counts
    assert points.balance(advocate.user) == 900


def test_only_approved_advocates_claim(db):
    pending = AdvocateFactory(status=AdvocateStatus.PENDING)
    with pytest.raises(rewards.ClaimRefused, match="approved members"):
        rewards.claim_reward(pending.user, RewardFactory().id)


# --- gift compliance ------------------------------------------------------------------------


def test_an_account_without_rewards_refuses_every_claim_with_the_reason(db):
    advocate = rich(1000, name="Maple Public Services", gift_policy=GiftPolicy.NONE)
    with pytest.raises(rewards.ClaimRefused) as refused:
        rewards.claim_reward(advocate.user, RewardFactory(is_donation=True, charities=["Red Cross"]).id, charity="Red Cross")
    assert "Maple Public Services's gift policy does not allow" in refused.value.message
    assert points.balance(advocate.user) == 1000


def test_a_charity_only_account_may_claim_donations_which_record_the_charity(db):
    advocate = rich(1000, gift_policy=GiftPolicy.CHARITY_ONLY)
    with pytest.raises(rewards.ClaimRefused, match="charity donations only"):
        rewards.claim_reward(advocate.user, RewardFactory().id)
    donation = RewardFactory(is_donation=True, charities=["Code.org", "Room to Read"])
    with pytest.raises(rewards.ClaimRefused) as no_charity:
        rewards.claim_reward(advocate.user, donation.id, charity="Somewhere else")
    assert no_charity.value.field == "charity"
    claim = rewards.claim_reward(advocate.user, donation.id, charity="Room to Read")
    assert claim.charity == "Room to Read"
    assert points.balance(advocate.user) == 900


def test_the_annual_cap_counts_this_years_held_claims(db):
    advocate = rich(2000)  # the program default: 250 a year
    big = RewardFactory(monetary_value=Decimal("200"), points_cost=100)
    small = RewardFactory(monetary_value=Decimal("60"), points_cost=100)
    rewards.claim_reward(advocate.user, big.id)
    with pytest.raises(rewards.ClaimRefused) as refused:
        rewards.claim_reward(advocate.user, small.id)
    assert "260.00" in refused.value.message and "250.00" in refused.value.message
    assert points.balance(advocate.user) == 1900
    last_year = rewards.claim_reward(advocate.user, RewardFactory(monetary_value=Decimal("0")).id)
    last_year.created_at = utcnow().replace(year=utcnow().year - 1)
    assert rewards.gifts_this_year(advocate.user) == Decimal("200")


def test_an_accounts_own_cap_and_the_program_default_are_set_by_admins(db):
    admin = AdminFactory()
    advocate = rich(2000)
    reward = RewardFactory(monetary_value=Decimal("40"))
    rewards.set_gift_policy(admin, advocate.account, GiftPolicy.ALLOWED, Decimal("30"))
    with pytest.raises(rewards.ClaimRefused, match=r"limit of \$30.00"):
        rewards.claim_reward(advocate.user, reward.id)
    rewards.set_gift_policy(admin, advocate.account, GiftPolicy.ALLOWED, None)
    values = rewards.SettingsValues({}, Decimal("0.05"), Decimal("35"))
    rewards.update_settings(admin, values)
    with pytest.raises(rewards.ClaimRefused, match=r"limit of \$35.00"):
        rewards.claim_reward(advocate.user, reward.id)
    assert count(PointsEntry, PointsEntry.source == PointsSource.REWARD_CLAIM) == 0


# --- the claim's life -----------------------------------------------------------------------


def test_a_claim_needing_approval_goes_through_the_queue_and_a_rejection_returns_everything(db):
    advocate, admin = rich(500), AdminFactory()
    reward = RewardFactory(needs_approval=True, stock=2, points_cost=300)
    claim = rewards.claim_reward(advocate.user, reward.id)
    assert claim.status is ClaimStatus.REQUESTED
    assert points.balance(advocate.user) == 200  # set aside at once: they cannot be spent twice
    approvals.decide(admin, queue_item(claim), False, "Out of budget this quarter")
    assert claim.status is ClaimStatus.REJECTED and claim.reason == "Out of budget this quarter"
    assert points.balance(advocate.user) == 500
    assert reward.stock == 2
    refund = db.session.scalar(select(PointsEntry).where(PointsEntry.source == PointsSource.REWARD_REFUND))
    assert (refund.points, refund.source_id) == (300, claim.id)


def test_approve_then_fulfil_then_nothing_more(db):
    advocate, admin = rich(500), AdminFactory()
    claim = rewards.claim_reward(advocate.user, RewardFactory(needs_approval=True).id)
    with pytest.raises(DomainError):
        rewards.fulfil_claim(admin, claim)  # not approved yet
    approvals.decide(admin, queue_item(claim), True)
    assert claim.status is ClaimStatus.APPROVED
    rewards.fulfil_claim(admin, claim)
    assert claim.status is ClaimStatus.FULFILLED and claim.fulfilled_at is not None
    with pytest.raises(DomainError):
        rewards.cancel_claim(admin, claim, "too late")
    assert points.balance(advocate.user) == 400


def test_the_advocate_cancels_a_waiting_claim_and_its_queue_item_goes(db):
    advocate = rich(500)
    reward = RewardFactory(needs_approval=True, stock=1)
    claim = rewards.claim_reward(advocate.user, reward.id)
    other = rich(500)
    with pytest.raises(DomainError):
        rewards.cancel_claim(other.user, claim)
    rewards.cancel_claim(advocate.user, claim)
    assert claim.status is ClaimStatus.CANCELLED
    assert queue_item(claim).status is QueueStatus.WITHDRAWN
    assert points.balance(advocate.user) == 500 and reward.stock == 1
    with pytest.raises(DomainError):
        rewards.cancel_claim(advocate.user, claim)  # returned once only
    assert count(PointsEntry, PointsEntry.source == PointsSource.REWARD_REFUND) == 1


def test_an_admin_cancels_an_approved_claim_only_with_a_reason(db):
    advocate, admin = rich(500), AdminFactory()
    claim = rewards.claim_reward(advocate.user, RewardFactory().id)
    with pytest.raises(DomainError) as no_reason:
        rewards.cancel_claim(admin, claim, " ")
    assert no_reason.value.field == "reason"
    with pytest.raises(DomainError):
        rewards.cancel_claim(advocate.user, claim)  # approved: only the team can take it back
    rewards.cancel_claim(admin, claim, "Discontinued by the supplier")
    assert points.balance(advocate.user) == 500


# --- the ledger under random sequences ------------------------------------------------------

ACTIONS = st.lists(
    st.tuples(st.sampled_from(["award", "claim", "reject", "cancel", "approve", "fulfil", "deduct"]), st.integers(0, 5)),
    max_size=25,
)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_the_balance_is_the_ledger_sum_after_any_sequence(db, actions):
    with db.session.begin_nested() as example:  # each example starts from the same empty ledger
        advocate, admin = rich(150), AdminFactory()
        catalog = [
            RewardFactory(points_cost=30, stock=3, monetary_value=Decimal("1")),
            RewardFactory(points_cost=70, needs_approval=True, monetary_value=Decimal("1")),
            RewardFactory(points_cost=10, per_advocate_limit=2, stock=None, monetary_value=Decimal("1")),
        ]
        stock_at_start = {r.id: r.stock for r in catalog}
        claims = []
        events = 0
        for action, n in actions:
            try:
                with db.session.begin_nested():
                    if action == "award":
                        events += 1
                        points.award(advocate, PointsSource.ASK_COMPLETED, events)
                    elif action == "deduct":
                        points.adjust(admin, advocate, -(n * 7 + 1), "Correction")
                    elif action == "claim":
                        claims.append(rewards.claim_reward(advocate.user, catalog[n % 3].id))
                    elif claims:
                        claim = claims[n % len(claims)]
                        if action in ("reject", "approve"):
                            item = queue_item(claim)
                            if item is not None:  # only claims needing approval are queued
                                approvals.decide(admin, item, action == "approve", "No")
                        elif action == "cancel":
                            rewards.cancel_claim(admin, claim, "Not possible")
                        else:
                            rewards.fulfil_claim(admin, claim)
            except DomainError:
                pass
        db.session.expire_all()
        user_id = advocate.user_id
        assert points.balance(user_id) == ledger_sum(user_id) >= 0
        held = db.session.scalar(
            select(func.coalesce(func.sum(RewardClaim.points), 0)).where(
                RewardClaim.user_id == user_id, RewardClaim.status.in_(rewards.HOLDING_STATUSES)
            )
        )
        earned = db.session.scalar(
            select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
                PointsEntry.user_id == user_id, PointsEntry.source.in_((PointsSource.ASK_COMPLETED, PointsSource.MANUAL))
            )
        )
        assert points.balance(user_id) == earned - held
        for reward in catalog:
            if stock_at_start[reward.id] is not None:
                taken = db.session.scalar(
                    select(func.count(RewardClaim.id)).where(
                        RewardClaim.reward_id == reward.id, RewardClaim.status.in_(rewards.HOLDING_STATUSES)
                    )
                )
                assert db.session.get(Reward, reward.id).stock == stock_at_start[reward.id] - taken >= 0
        example.rollback()


def claim_all_at_once(app, claims: list[tuple[int, int]]) -> list[str]:
    """Each (user id, reward id) claimed in its own thread, released at the same moment."""
    barrier = threading.Barrier(len(claims), timeout=60)
    outcomes = []

    def claim_once(user_id, reward_id):
        with app.app_context():
            try:
                # Connections are taken after the barrier: 50 threads share the pool's 15,
                # so at least 15 transactions race at every moment.
                barrier.wait()
                rewards.claim_reward(db.session.get(User, user_id), reward_id)
                db.session.commit()
                outcomes.append("claimed")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim_once, args=pair) for pair in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.skipif(not ON_POSTGRES, reason="races need PostgreSQL's concurrent transactions")
def test_fifty_claims_at_once_against_stock_5_and_a_balance_for_3(app, committed_db):
    """50 simultaneous claims by one advocate who can afford 3 of a reward with 5 in stock."""
    advocate = AdvocateFactory()
    admin = AdminFactory()
    reward = RewardFactory(points_cost=100, stock=5, monetary_value=Decimal("1"))
    db.session.flush()
    points.adjust(admin, advocate, 350, "Enough for three")
    db.session.commit()
    user_id, reward_id = advocate.user_id, reward.id
    outcomes = claim_all_at_once(app, [(user_id, reward_id)] * 50)
    assert sorted(outcomes) == ["claimed"] * 3 + ["refused"] * 47
    db.session.expire_all()
    assert db.session.get(Reward, reward_id).stock == 2
    assert points.balance(user_id) == 50 == ledger_sum(user_id)
    assert count(RewardClaim, RewardClaim.reward_id == reward_id) == 3


@pytest.mark.skipif(not ON_POSTGRES, reason="races need PostgreSQL's concurrent transactions")
def test_fifty_advocates_at_once_never_oversell_stock_5(app, committed_db):
    """50 advocates, each able to afford it, claim the last 5 at the same moment."""
    admin = AdminFactory()
    reward = RewardFactory(points_cost=100, stock=5, monetary_value=Decimal("1"))
    users = []
    for _ in range(50):
        advocate = AdvocateFactory()
        db.session.flush()
        points.adjust(admin, advocate, 100, "Enough for one")
        users.append(advocate.user_id)
    db.session.commit()
    reward_id = reward.id
    outcomes = claim_all_at_once(app, [(user_id, reward_id) for user_id in users])
    assert sorted(outcomes) == ["claimed"] * 5 + ["refused"] * 45
    db.session.expire_all()
    assert db.session.get(Reward, reward_id).stock == 0
    assert sum(points.balance(u) for u in users) == 45 * 100


# --- the points table and earlier events ----------------------------------------------------


def test_admins_set_what_each_event_is_worth(db):
    admin = AdminFactory()
    assert points.points_value(PointsSource.NOMINATION_APPROVED) == 100
    table = {source: 0 if source is PointsSource.ASK_ACCEPTED else 7 for source in rewards.EARNING_SOURCES}
    rewards.update_settings(admin, rewards.SettingsValues(table, Decimal("0.10"), Decimal("250")))
    assert points.points_value(PointsSource.NOMINATION_APPROVED) == 7
    advocate = AdvocateFactory()
    assert points.award(advocate, PointsSource.ASK_ACCEPTED, 1) is None  # worth nothing now
    with pytest.raises(DomainError):
        rewards.update_settings(AdvocateFactory().user, rewards.SettingsValues(table, Decimal("0"), Decimal("0")))


def test_approving_a_nomination_awards_its_points_once(db):
    advocate = AdvocateFactory(status=AdvocateStatus.PENDING)
    item = approvals.open_item(QueueKind.NOMINATION, advocate, advocate.id)
    approvals.decide(AdminFactory(), item, True)
    assert points.balance(advocate.user) == 100
    assert rewards.backfill() == 0  # already in the ledger


def test_accepting_and_completing_an_ask_award_points(db, taxonomies):
    from tests.web.asks import askable, make_ask

    from portal.services import asks

    advocate = askable(AdvocateFactory())
    ask = make_ask(advocate)
    asks.respond(advocate.user, ask, True)
    asks.complete(AdminFactory(), ask, AskOutcome.WON, Decimal("1000"))
    assert points.balance(advocate.user) == 60
    sources = db.session.scalars(select(PointsEntry.source).where(PointsEntry.user_id == advocate.user_id)).all()
    assert sorted(sources) == [PointsSource.ASK_ACCEPTED, PointsSource.ASK_COMPLETED]


def test_confirming_a_due_profile_earns_points_but_clicking_again_does_not(db, app):
    advocate = AdvocateFactory(last_confirmed_at=utcnow() - timedelta(days=app.config["PROFILE_CONFIRM_DAYS"] + 1))
    profiles.confirm_details(advocate.user, advocate)
    profiles.confirm_details(advocate.user, advocate)
    assert points.balance(advocate.user) == 20


def test_the_backfill_awards_events_recorded_before_the_ledger_once(db, taxonomies):
    from tests.web.asks import make_ask

    old_member = AdvocateFactory()  # approved before points existed
    completed = make_ask(old_member, status=AskStatus.COMPLETED)
    accepted = make_ask(old_member, status=AskStatus.ACCEPTED)
    make_ask(old_member, status=AskStatus.DECLINED)
    AdvocateFactory(status=AdvocateStatus.PENDING)
    assert rewards.backfill() == 4  # nomination, two acceptances, one completion
    assert rewards.backfill() == 0
    assert points.balance(old_member.user) == 100 + 20 + 20 + 40
    ids = set(db.session.scalars(select(PointsEntry.source_id).where(PointsEntry.source == PointsSource.ASK_ACCEPTED)))
    assert ids == {completed.id, accepted.id}


# --- leaderboard, liability, privacy --------------------------------------------------------


def test_the_leaderboard_shows_opted_in_people_by_display_name_and_the_viewers_rank(db):
    admin = AdminFactory()
    people = []
    for n, amount in enumerate([500, 400, 300, 200, 100]):
        advocate = AdvocateFactory()
        points.adjust(admin, advocate, amount, "Demo")
        if n != 1:
            rewards.set_leaderboard_choice(advocate.user, True, f"Person {n}")
        people.append(advocate)
    top, mine = rewards.leaderboard(people[4].user, None, top=2)
    assert [(s.rank, s.name, s.points) for s in top] == [(1, "Person 0", 500), (2, "Person 2", 300)]
    assert (mine.rank, mine.points) == (4, 100)  # outside the top list, still told
    hidden_top, hidden = rewards.leaderboard(people[1].user, None)
    assert "Person 1" not in [s.name for s in hidden_top] and hidden.rank == 2
    # Spending does not lower a rank; earlier quarters do not count this quarter.
    rewards.claim_reward(people[0].user, RewardFactory(points_cost=450, monetary_value=Decimal("0")).id)
    old = db.session.scalar(select(PointsEntry).where(PointsEntry.user_id == people[2].user_id))
    old.created_at = utcnow() - timedelta(days=200)
    top, _ = rewards.leaderboard(people[4].user, rewards.quarter_start(utcnow().date()))
    assert [s.name for s in top] == ["Person 0", "Person 3", "Person 4"]
    with pytest.raises(DomainError):
        rewards.set_leaderboard_choice(people[4].user, True, " ")


def test_erasure_takes_a_person_off_the_leaderboard_and_the_export_has_their_choice(db):
    advocate = rich(300)
    rewards.set_leaderboard_choice(advocate.user, True, "Ana")
    rewards.claim_reward(advocate.user, RewardFactory().id, delivery_note="Home address")
    exported = privacy.export_data(advocate.user)
    assert exported["person"]["leaderboard_display_name"] == "Ana"
    assert [c["delivery_note"] for c in exported["reward_claims"]] == ["Home address"]
    assert exported["points"][-1]["source"] == "reward_claim"
    privacy.erase_account(advocate.user, advocate.user)
    top, _ = rewards.leaderboard(AdminFactory(), None)
    assert top == []
    assert advocate.user.display_name is None
    assert db.session.scalar(select(RewardClaim.delivery_note)) == ""


def test_the_liability_is_points_outstanding_times_the_value_of_a_point(db):
    rich(300), rich(200)
    spender = rich(100)
    rewards.claim_reward(spender.user, RewardFactory(points_cost=40).id)
    assert rewards.liability() == (560, Decimal("28.00"))  # 0.05 a point by default
