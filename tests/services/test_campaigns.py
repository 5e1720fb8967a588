"""Review campaigns: the incentive rules, invitations by criteria, the participation state
machine and its refusals, verification through the queue, privacy, and the race between
two proofs sent at once."""

import io
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from portal.database import db, utcnow
from portal.models import (
    AdvocateStatus,
    Campaign,
    CampaignParticipation,
    GiftPolicy,
    Incentive,
    NotificationCategory,
    ParticipationStatus,
    PointsEntry,
    PointsSource,
    ProofStatus,
    QueueItem,
    QueueKind,
    QueueStatus,
    Region,
    ReviewPlatform,
    ReviewProof,
    Term,
    Upload,
)
from portal.services import approvals, availability, campaigns, points, privacy
from portal.services.errors import DomainError
from tests.conftest import ON_POSTGRES
from tests.factories import AccountFactory, AdminFactory, AdvocateFactory, CampaignFactory, TermFactory
from tests.services.helpers import count, emails_to


def png(size=(60, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(content: bytes, name: str = "review.png", mimetype: str = "image/png") -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=name, content_type=mimetype)


def details(**overrides) -> campaigns.CampaignDetails:
    today = utcnow().date()
    values = dict(
        name="G2 winter reviews", platform=ReviewPlatform.G2, review_url="https://www.g2.com/products/x/take_survey",
        starts_on=today, ends_on=today + timedelta(days=30), target_count=20, points_per_review=150,
        gift_value=Decimal("25.00"), instructions="Tell peers what you use it for.",
    )
    values.update(overrides)
    return campaigns.CampaignDetails(**values)


def invited(advocate=None, campaign=None) -> CampaignParticipation:
    advocate = advocate or AdvocateFactory()
    campaign = campaign or CampaignFactory()
    participation = CampaignParticipation(campaign=campaign, advocate=advocate)
    db.session.add(participation)
    db.session.flush()
    return participation


def joined(advocate=None, campaign=None) -> CampaignParticipation:
    participation = invited(advocate, campaign)
    campaigns.join(participation.advocate.user, participation)
    return participation


def queue_item_of(proof: ReviewProof) -> QueueItem:
    return db.session.scalar(select(QueueItem).where(QueueItem.kind == QueueKind.REVIEW_PROOF, QueueItem.subject_id == proof.id))


class TestCampaignRules:
    def test_a_campaign_within_the_cap_is_saved_and_audited(self, db):
        campaign = campaigns.save_campaign(AdminFactory(), None, details())
        assert (campaign.platform, campaign.gift_value, campaign.target_count) == (ReviewPlatform.G2, Decimal("25.00"), 20)

    def test_gartner_refuses_a_gift_above_25(self, db):
        with pytest.raises(DomainError) as refused:
            campaigns.save_campaign(AdminFactory(), None, details(platform=ReviewPlatform.GARTNER, gift_value=Decimal("25.01")))
        assert refused.value.field == "gift_value" and "Gartner Peer Insights allows incentives of at most $25.00" in refused.value.message
        assert count(Campaign) == 0

    def test_caps_are_configurable_per_platform(self, db):
        admin = AdminFactory()
        campaigns.save_caps(admin, {ReviewPlatform.CAPTERRA: Decimal("10"), ReviewPlatform.G2: Decimal("40")})
        assert campaigns.caps()[ReviewPlatform.CAPTERRA] == Decimal("10")
        assert campaigns.caps()[ReviewPlatform.GARTNER] == Decimal("25.00")  # the default stays
        with pytest.raises(DomainError, match=r"at most \$10.00"):
            campaigns.save_campaign(admin, None, details(platform=ReviewPlatform.CAPTERRA, gift_value=Decimal("15")))
        assert campaigns.save_campaign(admin, None, details(gift_value=Decimal("40"))).gift_value == Decimal("40")

    @pytest.mark.parametrize(
        "overrides,field",
        [
            ({"review_url": "javascript:alert(1)"}, "review_url"),
            ({"review_url": "ftp://g2.com/review"}, "review_url"),
            ({"review_url": "www.g2.com/review"}, "review_url"),
            ({"name": "  "}, "name"),
            ({"target_count": 0}, "target_count"),
            ({"points_per_review": -5}, "points_per_review"),
        ],
    )
    def test_bad_values_are_refused_beside_their_field(self, db, overrides, field):
        with pytest.raises(DomainError) as refused:
            campaigns.save_campaign(AdminFactory(), None, details(**overrides))
        assert refused.value.field == field

    def test_the_end_cannot_come_before_the_start(self, db):
        today = utcnow().date()
        with pytest.raises(DomainError) as refused:
            campaigns.save_campaign(AdminFactory(), None, details(starts_on=today, ends_on=today - timedelta(days=1)))
        assert refused.value.field == "ends_on"

    def test_only_admins_run_campaigns(self, db):
        with pytest.raises(DomainError):
            campaigns.save_campaign(AdvocateFactory().user, None, details())


class TestInvitations:
    def test_invites_by_product_industry_and_nested_region_never_by_happiness(self, db, taxonomies):
        analytics = db.session.scalar(select(Term).where(Term.name == "Analytics Cloud"))
        finance = db.session.scalar(select(Term).where(Term.name == "Financial services"))
        latam = db.session.scalar(select(Region).where(Region.name == "Latin America"))
        fits = AdvocateFactory(country="PA", industry=finance, products=[analytics])
        unhappy = AdvocateFactory(country="CR", industry=finance, products=[analytics], account=AccountFactory(at_risk=True))
        other_product = AdvocateFactory(country="PA", industry=finance, products=[TermFactory()])
        elsewhere = AdvocateFactory(country="DE", industry=finance, products=[analytics])
        pending = AdvocateFactory(country="PA", industry=finance, products=[analytics], status=AdvocateStatus.PENDING)
        campaign = CampaignFactory(product_ids=[analytics.id], industry_ids=[finance.id], region_ids=[latam.id])

        assert campaigns.count_to_invite(campaign) == 2
        assert campaigns.invite(AdminFactory(), campaign) == 2

        invited_ids = set(db.session.scalars(select(CampaignParticipation.advocate_id)))
        assert invited_ids == {fits.id, unhappy.id}  # an account at risk is invited like any other
        assert not invited_ids & {other_product.id, elsewhere.id, pending.id}
        [message] = emails_to(fits.user.email)
        assert message.subject == "You are invited: review us on G2"
        assert campaigns.RATING_RULE in " ".join(message.payload["text"].split())

    def test_inviting_again_invites_only_newcomers(self, db):
        campaign = CampaignFactory()
        first = AdvocateFactory()
        admin = AdminFactory()
        assert campaigns.invite(admin, campaign) == 1
        AdvocateFactory()
        assert campaigns.invite(admin, campaign) == 1
        assert campaigns.invite(admin, campaign) == 0
        assert len(emails_to(first.user.email)) == 1

    def test_whoever_is_paused_or_away_is_invited_once_back_and_limits_do_not_matter(self, db, monkeypatch):
        from portal.models import Blackout

        today = utcnow().date()
        fits = AdvocateFactory(month_limit=0)  # at a limit: an invitation is not an ask
        paused = AdvocateFactory(paused_until=today + timedelta(days=5))
        away = AdvocateFactory()
        db.session.add(Blackout(advocate_id=away.id, starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=2)))
        db.session.flush()
        campaign = CampaignFactory(ends_on=today + timedelta(days=60))
        admin = AdminFactory()

        assert campaigns.count_to_invite(campaign) == 1
        assert campaigns.invite(admin, campaign) == 1
        assert set(db.session.scalars(select(CampaignParticipation.advocate_id))) == {fits.id}

        # A week on, the periodic job has moved their states: both are invited by the next click.
        later = utcnow() + timedelta(days=7)
        monkeypatch.setattr("portal.services.availability.utcnow", lambda: later)
        while availability.refresh_due(later):
            pass
        assert campaigns.invite(admin, campaign) == 2
        assert set(db.session.scalars(select(CampaignParticipation.advocate_id))) == {fits.id, paused.id, away.id}

    def test_an_ended_campaign_invites_nobody(self, db):
        AdvocateFactory()
        campaign = CampaignFactory(starts_on=utcnow().date() - timedelta(days=40), ends_on=utcnow().date() - timedelta(days=1))
        with pytest.raises(DomainError, match="ended"):
            campaigns.invite(AdminFactory(), campaign)
        assert count(CampaignParticipation) == 0

    def test_invitations_honour_the_email_preferences(self, db):
        advocate = AdvocateFactory()
        advocate.user.email_preferences = {NotificationCategory.PROGRAMS.value: "off"}
        campaigns.invite(AdminFactory(), CampaignFactory())
        assert emails_to(advocate.user.email) == []


class TestJoining:
    @pytest.mark.parametrize(
        "policy,incentive,value",
        [
            (GiftPolicy.ALLOWED, Incentive.GIFT, Decimal("25.00")),
            (GiftPolicy.CHARITY_ONLY, Incentive.DONATION, Decimal("25.00")),
            (GiftPolicy.NONE, Incentive.NONE, Decimal("0")),
        ],
    )
    def test_the_incentive_follows_the_accounts_gift_policy(self, db, policy, incentive, value):
        advocate = AdvocateFactory(account=AccountFactory(gift_policy=policy))
        participation = joined(advocate)
        assert participation.status is ParticipationStatus.JOINED and participation.joined_at is not None
        assert (participation.incentive, participation.incentive_value) == (incentive, value)

    def test_a_points_only_campaign_records_no_incentive(self, db):
        assert joined(campaign=CampaignFactory(gift_value=0)).incentive is Incentive.NONE

    def test_joining_twice_is_refused(self, db):
        participation = joined()
        with pytest.raises(DomainError, match="already joined"):
            campaigns.join(participation.advocate.user, participation)

    def test_another_person_cannot_join_for_the_invited(self, db):
        participation = invited()
        with pytest.raises(DomainError):
            campaigns.join(AdvocateFactory().user, participation)
        assert participation.status is ParticipationStatus.INVITED

    @pytest.mark.parametrize("starts,ends,message", [(-30, -1, "has ended"), (2, 30, "opens on")])
    def test_only_while_the_campaign_runs(self, db, starts, ends, message):
        today = utcnow().date()
        participation = invited(campaign=CampaignFactory(starts_on=today + timedelta(days=starts), ends_on=today + timedelta(days=ends)))
        with pytest.raises(DomainError, match=message):
            campaigns.join(participation.advocate.user, participation)

    def test_a_lapsed_advocate_cannot_join(self, db):
        participation = invited(AdvocateFactory(status=AdvocateStatus.LAPSED))
        with pytest.raises(DomainError, match="current members"):
            campaigns.join(participation.advocate.user, participation)


class TestProof:
    def test_proof_goes_to_the_queue(self, db):
        participation = joined()
        proof = campaigns.submit_proof(participation.advocate.user, participation, "https://www.g2.com/reviews/123", upload(png()))
        assert participation.status is ParticipationStatus.SUBMITTED
        assert proof.screenshot.mimetype == "image/png" and proof.review_url == "https://www.g2.com/reviews/123"
        item = queue_item_of(proof)
        assert item.status is QueueStatus.OPEN and item.advocate_id == participation.advocate_id

    @pytest.mark.parametrize(
        "url,file,field,message",
        [
            ("", None, "review_url", "link to your review, a screenshot"),
            ("javascript:alert(1)", None, "review_url", "http:// or https://"),
            ("", upload(b"<html><script>alert(1)</script></html>", "review.png"), "screenshot", "not a PNG, JPEG or WebP"),
            ("", upload(b"<!doctype html><p>my review</p>", "review.html", "text/html"), "screenshot", "not a PNG, JPEG or WebP"),
            ("", upload(png() + b"\0" * (5 * 1024 * 1024), "big.png"), "screenshot", "larger than 5 MB"),
        ],
        ids=["nothing", "not-a-web-link", "html-named-png", "html-file", "oversized"],
    )
    def test_bad_proof_is_refused_and_nothing_is_stored(self, db, url, file, field, message):
        participation = joined()
        with pytest.raises(DomainError) as refused:
            campaigns.submit_proof(participation.advocate.user, participation, url, file)
        assert refused.value.field == field and message in refused.value.message
        db.session.rollback()  # what the view does
        assert count(Upload) == count(ReviewProof) == count(QueueItem) == 0

    @pytest.mark.parametrize(
        "status,message",
        [
            (ParticipationStatus.INVITED, "Join the campaign"),
            (ParticipationStatus.SUBMITTED, "already being checked"),
            (ParticipationStatus.VERIFIED, "already verified"),
        ],
    )
    def test_proof_is_refused_in_the_wrong_state(self, db, status, message):
        participation = invited()
        participation.status = status
        db.session.flush()
        with pytest.raises(DomainError, match=message):
            campaigns.submit_proof(participation.advocate.user, participation, "https://g2.com/r/1")

    def test_no_proof_after_the_campaign_ends(self, db):
        participation = joined()
        participation.campaign.ends_on = utcnow().date() - timedelta(days=1)
        participation.campaign.starts_on = utcnow().date() - timedelta(days=10)
        db.session.flush()
        with pytest.raises(DomainError, match="ended"):
            campaigns.submit_proof(participation.advocate.user, participation, "https://g2.com/r/1")

    def test_only_the_participant_sends_proof(self, db):
        participation = joined()
        with pytest.raises(DomainError):
            campaigns.submit_proof(AdvocateFactory().user, participation, "https://g2.com/r/1")


class TestVerification:
    def test_verifying_awards_the_campaigns_points_once_and_tells_the_advocate(self, db):
        participation = joined()
        proof = campaigns.submit_proof(participation.advocate.user, participation, "https://g2.com/r/1")
        approvals.decide(AdminFactory(), queue_item_of(proof), True)
        assert proof.status is ProofStatus.VERIFIED and participation.status is ParticipationStatus.VERIFIED
        assert points.balance(participation.advocate.user) == 150
        entry = db.session.scalar(select(PointsEntry))
        assert (entry.source, entry.source_id) == (PointsSource.REVIEW_VERIFIED, proof.id)
        assert emails_to(participation.advocate.user.email)[-1].subject.startswith(
            f"Your review for “{participation.campaign.name}” is verified: 150 points and a gift of $25.00"
        )
        assert campaigns.verified_counts([participation.campaign_id]) == {participation.campaign_id: 1}
        with pytest.raises(DomainError, match="already verified"):
            campaigns.submit_proof(participation.advocate.user, participation, "https://g2.com/r/2")

    def test_a_rejected_proof_can_be_followed_by_new_proof(self, db):
        participation = joined()
        admin = AdminFactory()
        first = campaigns.submit_proof(participation.advocate.user, participation, "https://g2.com/r/1")
        approvals.decide(admin, queue_item_of(first), False, "The link shows another product's review.")
        assert participation.status is ParticipationStatus.REJECTED and first.reason.startswith("The link shows")
        assert points.balance(participation.advocate.user) == 0
        second = campaigns.submit_proof(participation.advocate.user, participation, "https://g2.com/r/2")
        approvals.decide(admin, queue_item_of(second), True)
        assert points.balance(participation.advocate.user) == 150

    def test_the_database_refuses_a_second_verified_review(self, db):
        participation = invited()
        db.session.add(ReviewProof(participation=participation, review_url="https://g2.com/1", status=ProofStatus.VERIFIED))
        db.session.flush()
        with pytest.raises(IntegrityError):
            with db.session.begin_nested():
                db.session.add(ReviewProof(participation=participation, review_url="https://g2.com/2", status=ProofStatus.VERIFIED))
                db.session.flush()

    def test_an_advocate_without_gifts_is_told_points_only(self, db):
        participation = joined(AdvocateFactory(account=AccountFactory(gift_policy=GiftPolicy.NONE)))
        proof = campaigns.submit_proof(participation.advocate.user, participation, "https://g2.com/r/1")
        approvals.decide(AdminFactory(), queue_item_of(proof), True)
        assert emails_to(participation.advocate.user.email)[-1].subject.endswith("is verified: 150 points")


def test_the_tracking_link_counts_clicks_and_leads_to_the_platform(db):
    participation = joined()
    assert campaigns.record_click(participation.token) == participation.campaign.review_url
    campaigns.record_click(participation.token)
    db.session.refresh(participation)
    assert participation.clicks == 2 and participation.last_clicked_at is not None
    assert campaigns.record_click("not-a-token") is None


def test_only_the_advocate_and_admins_see_a_proof(db):
    participation = joined()
    proof = campaigns.submit_proof(participation.advocate.user, participation, "", upload(png()))
    assert campaigns.proof_visible_to(participation.advocate.user, proof.id) is proof
    assert campaigns.proof_visible_to(AdminFactory(), proof.id) is proof
    assert campaigns.proof_visible_to(AdvocateFactory().user, proof.id) is None


def test_erasure_deletes_screenshots_and_the_export_lists_participations(db):
    participation = joined()
    user = participation.advocate.user
    proof = campaigns.submit_proof(user, participation, "https://g2.com/r/1", upload(png()))
    exported = privacy.export_data(user)["review_campaigns"]
    assert exported[0]["campaign"] == participation.campaign.name
    assert exported[0]["proofs"][0]["screenshot"] == "review.png" and exported[0]["incentive"] == "gift"

    privacy.erase_account(user, user)
    db.session.flush()
    assert count(Upload) == 0
    db.session.refresh(proof)
    assert proof.screenshot_id is None and proof.status is ProofStatus.WITHDRAWN
    assert queue_item_of(proof).status is QueueStatus.WITHDRAWN


@pytest.mark.skipif(not ON_POSTGRES, reason="races need PostgreSQL's concurrent transactions")
def test_proofs_sent_at_once_exactly_one_is_kept(app, committed_db):
    """Eight submissions of proof for one participation land at the same moment (a
    double-clicking advocate, several tabs): one is queued, the others are refused."""
    advocate = AdvocateFactory()
    participation = CampaignParticipation(campaign=CampaignFactory(), advocate=advocate)
    db.session.add(participation)
    db.session.flush()
    campaigns.join(advocate.user, participation)
    db.session.commit()
    ids = (participation.id, advocate.user_id)
    barrier = threading.Barrier(8)
    outcomes = []

    def send(n):
        with app.app_context():
            try:
                mine = db.session.get(CampaignParticipation, ids[0])
                user = mine.advocate.user
                barrier.wait()
                campaigns.submit_proof(user, mine, f"https://www.g2.com/reviews/{n}")
                db.session.commit()
                outcomes.append("sent")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused"] * 7 + ["sent"]
    assert count(ReviewProof) == 1
    assert count(QueueItem, QueueItem.kind == QueueKind.REVIEW_PROOF) == 1
