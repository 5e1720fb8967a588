"""Review campaigns over HTTP: who may open each page and action, another advocate's proof
is not reachable, uploads refused beside the field with nothing stored, the team's form and
its refusals, joining, the tracking link, verification in the queue, and pages that send as
many queries for 30 rows as for 3. The rules are tested without HTTP in
tests/services/test_campaigns.py."""

from __future__ import annotations

import io
import itertools
from collections import Counter
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.database import commit, db, utcnow
from portal.models import (
    Campaign,
    CampaignParticipation,
    GiftPolicy,
    ParticipationStatus,
    ProofStatus,
    QueueItem,
    QueueKind,
    ReviewProof,
    Upload,
)
from portal.services import campaigns, points
from tests.factories import AccountFactory, AdminFactory, AdvocateFactory, CampaignFactory, StaffFactory
from tests.services.helpers import count
from tests.web.intake import MISSING_ID, error_beside, flashes, queries_to_render, refused, text_of
from tests.web.pages import redirect_target, submit
from tests.web.test_query_counts import FEW, MANY

SIGN_IN, FORBIDDEN, NOT_FOUND, OK = "sign-in", 403, 404, 200


def png_bytes(size=(80, 50)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 140, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def invite(advocate, campaign=None, status=ParticipationStatus.INVITED) -> CampaignParticipation:
    participation = CampaignParticipation(campaign=campaign or CampaignFactory(), advocate=advocate, status=status)
    db.session.add(participation)
    db.session.flush()
    return participation


def with_proof(participation, *, screenshot=True) -> ReviewProof:
    participation.status = ParticipationStatus.JOINED
    db.session.flush()
    file = None
    if screenshot:
        file = FileStorage(io.BytesIO(png_bytes()), filename="shot.png", content_type="image/png")
    return campaigns.submit_proof(participation.advocate.user, participation, "https://www.g2.com/reviews/1", file)


# --- who may open what ----------------------------------------------------------------------


@pytest.fixture
def world(db):
    advocate = AdvocateFactory()
    other = AdvocateFactory()
    participation = invite(advocate)
    proof = with_proof(participation)
    commit()  # as in real life: a view's rollback undoes its own request only
    return {
        "advocate": advocate.user,
        "other": other.user,
        "staff": StaffFactory(),
        "admin": AdminFactory(),
        "campaign": participation.campaign,
        "proof": proof,
        "item": db.session.scalar(select(QueueItem).where(QueueItem.kind == QueueKind.REVIEW_PROOF)),
    }


ADVOCATE_PAGES = {"advocate": OK, "other": OK, "staff": FORBIDDEN, "admin": FORBIDDEN, None: SIGN_IN}
ADMIN_PAGES = {"advocate": FORBIDDEN, "other": FORBIDDEN, "staff": FORBIDDEN, "admin": OK, None: SIGN_IN}
PAGES = {
    "/campaigns": ADVOCATE_PAGES,
    "/campaigns/{campaign}": {**ADVOCATE_PAGES, "other": NOT_FOUND},  # not invited: does not exist for them
    f"/campaigns/{MISSING_ID}": {**ADVOCATE_PAGES, "advocate": NOT_FOUND, "other": NOT_FOUND},
    "/campaigns/proofs/{proof}/screenshot": {**ADVOCATE_PAGES, "other": NOT_FOUND, "admin": OK},
    "/admin/campaigns": ADMIN_PAGES,
    "/admin/campaigns/new": ADMIN_PAGES,
    "/admin/campaigns/caps": ADMIN_PAGES,
    "/admin/campaigns/{campaign}": ADMIN_PAGES,
    "/admin/campaigns/{campaign}/edit": ADMIN_PAGES,
    f"/admin/campaigns/{MISSING_ID}": {**ADMIN_PAGES, "admin": NOT_FOUND},
    "/admin/queue/{item}": ADMIN_PAGES,
}
MATRIX = [(path, who, expected) for path, by_who in PAGES.items() for who, expected in by_who.items()]


def _path(path, world):
    return path.format(campaign=world["campaign"].id, proof=world["proof"].id, item=world["item"].id)


@pytest.mark.parametrize(("path", "who", "expected"), MATRIX, ids=[f"{w}:{p}" for p, w, _ in MATRIX])
def test_who_may_open_each_page(client, login_as, world, path, who, expected):
    path = _path(path, world)
    if who:
        login_as(world[who])
    response = client.get(path)
    if expected == SIGN_IN:
        assert response.status_code == 302 and redirect_target(response) == ("/sign-in", {"next": [path]})
    else:
        assert response.status_code == expected, response.text[:500]


ACTIONS = {
    "/campaigns/{campaign}/join": {"other": NOT_FOUND, "staff": FORBIDDEN, "admin": FORBIDDEN},
    "/campaigns/{campaign}/proof": {"other": NOT_FOUND, "staff": FORBIDDEN, "admin": FORBIDDEN},
    "/admin/campaigns/{campaign}/invite": {"advocate": FORBIDDEN, "staff": FORBIDDEN},
    "/admin/campaigns/new": {"advocate": FORBIDDEN, "staff": FORBIDDEN},
    "/admin/campaigns/caps": {"advocate": FORBIDDEN, "staff": FORBIDDEN},
}
ACTION_MATRIX = [(path, who, code) for path, by_who in ACTIONS.items() for who, code in by_who.items()]


@pytest.mark.parametrize(("path", "who", "expected"), ACTION_MATRIX, ids=[f"{w}:{p}" for p, w, _ in ACTION_MATRIX])
def test_actions_of_others_are_refused_and_change_nothing(client, login_as, world, path, who, expected):
    login_as(world[who])
    before = (count(CampaignParticipation), count(ReviewProof), count(Campaign))
    response = client.post(_path(path, world), data={"name": "x", "review_url": "https://g2.com/r/9"})
    assert response.status_code == expected
    assert (count(CampaignParticipation), count(ReviewProof), count(Campaign)) == before


def test_signed_out_posts_go_to_sign_in(client, world):
    response = client.post(_path("/campaigns/{campaign}/join", world))
    assert response.status_code == 302 and redirect_target(response)[0] == "/sign-in"


def test_the_screenshot_is_served_as_the_image_it_is(client, login_as, world):
    login_as(world["advocate"])
    response = client.get(_path("/campaigns/proofs/{proof}/screenshot", world))
    assert response.mimetype == "image/png" and response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"  # personal: never kept by a browser or proxy
    assert response.data == png_bytes()


# --- the advocate's side --------------------------------------------------------------------


@pytest.fixture
def joined(db):
    participation = invite(AdvocateFactory(), status=ParticipationStatus.JOINED)
    commit()
    return participation


def post_proof(client, participation, content: bytes | None, filename="review.png", mimetype="image/png", url=""):
    """Built in memory like tests/web/test_intake_forms.py's ``post_file``: the test client
    would spool a large body to a temporary file it never closes."""
    data = {"review_url": url, "note": ""}
    if content is not None:
        data["screenshot"] = FileStorage(io.BytesIO(content), filename, content_type=mimetype)
    boundary, body = encode_multipart(data)
    return client.post(f"/campaigns/{participation.campaign_id}/proof", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize(
    "content,filename,mimetype,message",
    [
        (png_bytes() + b"\0" * (5 * 1024 * 1024), "huge.png", "image/png", "larger than 5 MB"),
        (b"%PDF-1.4 not an image at all", "review.png", "image/png", "not a PNG, JPEG or WebP"),
        (b"<!doctype html><script>alert(document.cookie)</script>", "review.html", "text/html", "not a PNG, JPEG or WebP"),
    ],
    ids=["oversized", "disguised-by-extension", "html"],
)
def test_bad_uploads_are_refused_beside_the_field_and_nothing_is_stored(client, login_as, joined, content, filename, mimetype, message):
    login_as(joined.advocate.user)
    response = post_proof(client, joined, content, filename, mimetype)
    refused(response, f"/campaigns/{joined.campaign_id}/proof", "screenshot", message)
    assert count(Upload) == count(ReviewProof) == count(QueueItem) == 0
    db.session.refresh(joined)
    assert joined.status is ParticipationStatus.JOINED


def test_proof_without_link_or_screenshot_is_refused_beside_the_link(client, login_as, joined):
    login_as(joined.advocate.user)
    response = post_proof(client, joined, None, url="")
    refused(response, f"/campaigns/{joined.campaign_id}/proof", "review_url", "Give the link to your review, a screenshot")


def test_a_screenshot_is_sent_to_the_queue(client, login_as, joined):
    login_as(joined.advocate.user)
    response = post_proof(client, joined, png_bytes())
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Your proof is being checked" in text_of(page.text)
    [proof] = db.session.scalars(select(ReviewProof)).all()
    assert proof.screenshot.mimetype == "image/png" and proof.status is ProofStatus.SUBMITTED
    assert count(QueueItem, QueueItem.kind == QueueKind.REVIEW_PROOF) == 1


def test_an_advocate_without_gifts_is_told_before_joining(client, login_as, db):
    advocate = AdvocateFactory(account=AccountFactory(gift_policy=GiftPolicy.NONE))
    participation = invite(advocate)
    commit()
    login_as(advocate.user)
    page = text_of(client.get(f"/campaigns/{participation.campaign_id}").text)
    assert "Your company's rules do not allow gifts or incentives" in page
    assert campaigns.RATING_RULE in page
    response = client.post(f"/campaigns/{participation.campaign_id}/join")
    assert response.status_code == 302
    db.session.refresh(participation)
    assert participation.status is ParticipationStatus.JOINED and participation.incentive.value == "none"
    page = client.get(f"/campaigns/{participation.campaign_id}").text
    assert f"/campaigns/go/{participation.token}" in page


def test_joining_an_ended_campaign_is_refused_with_a_message(client, login_as, db):
    today = utcnow().date()
    participation = invite(AdvocateFactory(), CampaignFactory(starts_on=today - timedelta(days=30), ends_on=today - timedelta(days=1)))
    commit()
    login_as(participation.advocate.user)
    response = client.post(f"/campaigns/{participation.campaign_id}/join", follow_redirects=True)
    assert "This campaign has ended." in flashes(response.text)
    db.session.refresh(participation)
    assert participation.status is ParticipationStatus.INVITED


def test_the_tracking_link_counts_and_redirects(client, joined):
    response = client.get(f"/campaigns/go/{joined.token}")
    assert response.status_code == 302 and response.headers["Location"] == joined.campaign.review_url
    db.session.refresh(joined)
    assert joined.clicks == 1
    assert client.get("/campaigns/go/nonsense").status_code == 404


def test_the_list_shows_progress_and_the_empty_state_says_what_next(client, login_as, db):
    advocate = AdvocateFactory()
    login_as(advocate.user)
    assert "No campaign has invited you yet" in text_of(client.get("/campaigns").text)
    invite(advocate, CampaignFactory(name="G2 winter", target_count=12))
    assert "0 of 12 verified reviews" in text_of(client.get("/campaigns").text)


# --- the team's side ------------------------------------------------------------------------


def campaign_data(**overrides) -> dict:
    today = utcnow().date()
    data = {
        "name": "Gartner spring", "platform": "gartner_peer_insights", "review_url": "https://www.gartner.com/reviews/x",
        "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=20)).isoformat(), "target_count": "15",
        "points_per_review": "200", "gift_value": "25", "instructions": "Be honest.",
    }
    data.update(overrides)
    return data


def test_the_team_creates_a_campaign(client, login_as, db):
    login_as(AdminFactory())
    form = client.get("/admin/campaigns/new").text
    assert campaigns.RATING_RULE in text_of(form)
    response = client.post("/admin/campaigns/new", data=campaign_data())
    assert response.status_code == 302
    campaign = db.session.scalar(select(Campaign))
    assert (campaign.name, campaign.target_count, campaign.points_per_review) == ("Gartner spring", 15, 200)
    assert "0 of 15 verified reviews" in text_of(client.get(response.headers["Location"]).text)


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"gift_value": "30"}, "gift_value", "Gartner Peer Insights allows incentives of at most $25.00"),
        ({"review_url": "javascript:alert(1)"}, "review_url", "http:// or https://"),
        ({"target_count": "0"}, "target_count", "Aim for 1 to 100,000 reviews."),
        ({"ends_on": "2000-01-01"}, "ends_on", "end on or after"),
        ({"points_per_review": "lots"}, "points_per_review", "Not a valid integer"),
        ({"gift_value": "-1"}, "gift_value", "0 or more"),
    ],
)
def test_bad_campaign_values_come_back_beside_their_field(client, login_as, db, overrides, field, message):
    login_as(AdminFactory())
    commit()
    response = client.post("/admin/campaigns/new", data=campaign_data(**overrides))
    refused(response, None, field, message)
    assert count(Campaign) == 0


def test_editing_keeps_values_and_the_caps_form_refuses_nonsense(client, login_as, db):
    login_as(AdminFactory())
    campaign = CampaignFactory(name="Old name")
    commit()
    page = client.get(f"/admin/campaigns/{campaign.id}/edit").text
    assert 'value="Old name"' in page
    assert client.post(f"/admin/campaigns/{campaign.id}/edit", data=campaign_data(name="New name", platform="g2")).status_code == 302
    db.session.refresh(campaign)
    assert campaign.name == "New name"
    caps = {p.value: "25" for p in campaigns.ReviewPlatform}
    refused(client.post("/admin/campaigns/caps", data={**caps, "g2": "-3"}), None, "g2", "0 or more")
    assert client.post("/admin/campaigns/caps", data={**caps, "capterra": "10"}).status_code == 302
    assert campaigns.caps()[campaigns.ReviewPlatform.CAPTERRA] == 10


def test_inviting_from_the_page(client, login_as, db):
    login_as(AdminFactory())
    campaign = CampaignFactory()
    AdvocateFactory()
    AdvocateFactory()
    assert "Invite 2 advocates" in text_of(client.get(f"/admin/campaigns/{campaign.id}").text)
    response = client.post(f"/admin/campaigns/{campaign.id}/invite", follow_redirects=True)
    assert "Invited 2 advocate(s)" in " ".join(flashes(response.text))
    assert count(CampaignParticipation) == 2


def test_the_team_verifies_in_the_queue_and_points_are_awarded(client, login_as, world):
    login_as(world["admin"])
    page = client.get(f"/admin/queue/{world['item'].id}").text
    assert f'src="/campaigns/proofs/{world["proof"].id}/screenshot"' in page
    assert "The reward never depends on the rating" in text_of(page)
    response = client.post(f"/admin/queue/{world['item'].id}", data={"decision": "approve", "reason": ""})
    assert response.status_code == 302
    db.session.refresh(world["proof"])
    assert world["proof"].status is ProofStatus.VERIFIED
    assert points.balance(world["advocate"]) == world["campaign"].points_per_review
    login_as(world["advocate"])
    assert "Your review is verified" in text_of(client.get(f"/campaigns/{world['campaign'].id}").text)


def test_rejecting_needs_a_reason(client, login_as, world):
    login_as(world["admin"])
    response = client.post(f"/admin/queue/{world['item'].id}", data={"decision": "reject", "reason": ""})
    assert response.status_code == 422
    assert "Give a reason" in error_beside(response.text, None, "reason")


# --- query counts ---------------------------------------------------------------------------

_n = itertools.count()


def scene_my_campaigns(db):
    advocate = AdvocateFactory()
    advocate_id = advocate.id

    def add(n):
        from portal.models import Advocate

        me = db.session.get(Advocate, advocate_id)
        for _ in range(n):
            participation = invite(me, CampaignFactory(name=f"C{next(_n)}"))
            invite(AdvocateFactory(), participation.campaign, ParticipationStatus.VERIFIED)

    return advocate.user, "/campaigns", add


def scene_admin_list(db):
    def add(n):
        for _ in range(n):
            invite(AdvocateFactory(), CampaignFactory(), ParticipationStatus.VERIFIED)

    return AdminFactory(), "/admin/campaigns", add


def scene_admin_detail(db):
    campaign = CampaignFactory(product_ids=[])
    campaign_id = campaign.id

    def add(n):
        for i in range(n):
            status = list(ParticipationStatus)[i % len(ParticipationStatus)]
            invite(AdvocateFactory(), db.session.get(Campaign, campaign_id), status)

    return AdminFactory(), f"/admin/campaigns/{campaign_id}", add


def scene_campaign_page(db):
    participation = invite(AdvocateFactory())
    participation_id = participation.id

    def add(n):
        mine = db.session.get(CampaignParticipation, participation_id)
        for _ in range(n):
            db.session.add(ReviewProof(participation=mine, review_url="https://g2.com/r", status=ProofStatus.REJECTED, reason="No"))
            invite(AdvocateFactory(), mine.campaign, ParticipationStatus.VERIFIED)
        db.session.flush()

    return participation.advocate.user, f"/campaigns/{participation.campaign_id}", add


SCENES = [scene_my_campaigns, scene_admin_list, scene_admin_detail, scene_campaign_page]


@pytest.mark.parametrize("scene", SCENES, ids=[s.__name__ for s in SCENES])
def test_a_campaign_page_sends_as_many_queries_for_30_rows_as_for_3(client, login_as, db, scene):
    viewer, path, add = scene(db)
    login_as(viewer)
    add(FEW)
    few = queries_to_render(client, path)
    add(MANY - FEW)
    many = queries_to_render(client, path)
    repeated = {sql: n for sql, n in Counter(many).items() if n > Counter(few)[sql]}
    assert len(many) == len(few), f"{len(few)} queries for {FEW} rows, {len(many)} for {MANY}; growing: {repeated}"


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True, ids=["csrf"])
@pytest.mark.parametrize("who,page,action", [
    ("advocate", "/campaigns/{campaign}", "/campaigns/{campaign}/join"),
    ("admin", "/admin/campaigns/{campaign}", "/admin/campaigns/{campaign}/invite"),
], ids=["join", "invite"])
def test_state_changes_need_the_forms_token(client, login_as, db, who, page, action):
    campaign = CampaignFactory()
    advocate = AdvocateFactory()
    participation = invite(advocate, campaign)
    AdvocateFactory()  # someone to invite
    commit()
    login_as(advocate.user if who == "advocate" else AdminFactory())
    page, action = page.format(campaign=campaign.id), action.format(campaign=campaign.id)
    html = client.get(page).text
    before = (count(CampaignParticipation), participation.status)

    assert client.post(action).status_code == 400
    db.session.refresh(participation)
    assert (count(CampaignParticipation), participation.status) == before

    assert submit(client, html, action).status_code == 302
    db.session.refresh(participation)
    assert (count(CampaignParticipation), participation.status) != before


def test_proof_sent_twice_says_it_is_already_being_checked(client, login_as, joined):
    login_as(joined.advocate.user)
    assert post_proof(client, joined, None, url="https://www.g2.com/reviews/1").status_code == 302
    response = post_proof(client, joined, None, url="https://www.g2.com/reviews/2")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "Your proof is already being checked" in " ".join(flashes(page))
    assert count(ReviewProof) == 1
