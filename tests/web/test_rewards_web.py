"""The rewards pages over HTTP: who may open them, claims and their refusals, the admin
forms' messages, reward images, the certificate PDF, and bounded queries per page."""

from __future__ import annotations

import io
from collections import Counter
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.database import db
from portal.models import Account, AuditEvent, ClaimStatus, GiftPolicy, PointsSource, Reward, RewardClaim
from portal.services import points, rewards
from tests.factories import AdminFactory, AdvocateFactory, RewardFactory, StaffFactory
from tests.services.test_uploads import image_bytes
from tests.web.intake import queries_to_render
from tests.web.pages import field_error, redirect_target, submit
from tests.web.test_access import ADMINS, FORBIDDEN, OK, SIGN_IN

ADVOCATES = {"anonymous": SIGN_IN, "advocate": OK, "staff": FORBIDDEN, "admin": FORBIDDEN}
PAGES = {
    "/points": ADVOCATES,
    "/leaderboard": ADVOCATES,
    "/rewards": ADVOCATES,
    "/rewards/mine": ADVOCATES,
    "/admin/rewards": ADMINS,
    "/admin/rewards/new": ADMINS,
    "/admin/rewards/{reward}": ADMINS,
    "/admin/rewards/claims": ADMINS,
    "/admin/rewards/points": ADMINS,
    "/admin/rewards/accounts": ADMINS,
}
MATRIX = [(path, role, expected) for path, by_role in PAGES.items() for role, expected in by_role.items()]


def person(role: str):
    return {"advocate": lambda: AdvocateFactory().user, "staff": StaffFactory, "admin": AdminFactory}[role]()


@pytest.mark.parametrize(("path", "role", "expected"), MATRIX, ids=[f"{r}:{p}" for p, r, _ in MATRIX])
def test_who_may_open_each_rewards_page(client, db, login_as, path, role, expected):
    path = path.format(reward=RewardFactory().id)
    if role != "anonymous":
        login_as(person(role))
    response = client.get(path)
    if expected == SIGN_IN:
        assert response.status_code == 302
        assert redirect_target(response) == ("/sign-in", {"next": [path]})
    else:
        assert response.status_code == expected


def funded(amount=500, **account_values):
    advocate = AdvocateFactory()
    for name, value in account_values.items():
        setattr(advocate.account, name, value)
    points.adjust(AdminFactory(), advocate, amount, "Thanks for the webinar")
    return advocate


def test_points_page_shows_balance_and_why(client, db, login_as):
    advocate = funded(500)
    points.award(advocate, PointsSource.ASK_COMPLETED, 99)
    login_as(advocate.user)
    page = client.get("/points").text
    assert "540" in page and "Thanks for the webinar" in page and "Request completed" in page


def test_empty_states_say_what_to_do_next(client, db, login_as):
    login_as(AdvocateFactory().user)
    assert "You earn them when your nomination is approved" in client.get("/points").text
    assert "No rewards in the catalog right now" in client.get("/rewards").text
    assert "Browse the rewards" in client.get("/rewards/mine").text


def test_claiming_over_the_web_and_a_refusal_beside_the_reward(client, db, login_as):
    advocate = funded(150, gift_policy=GiftPolicy.CHARITY_ONLY, name="Sakura Retail")
    hoodie = RewardFactory(name="Hoodie", points_cost=100)
    donation = RewardFactory(name="Donation", points_cost=100, is_donation=True, charities=["Code.org", "Room to Read"])
    login_as(advocate.user)
    db.session.commit()  # a refusal rolls the request back: the setup must survive it
    page = client.get("/rewards").text
    refused = submit(client, page, f"/rewards/{hoodie.id}/claim")
    assert refused.status_code == 422
    assert "Sakura Retail&#39;s gift policy allows charity donations only" in refused.text
    assert points.balance(advocate.user) == 150
    claimed = submit(client, page, f"/rewards/{donation.id}/claim", charity="Room to Read")
    assert claimed.status_code == 302 and claimed.headers["Location"].endswith("/rewards/mine")
    claim = db.session.scalar(select(RewardClaim))
    assert (claim.charity, claim.status) == ("Room to Read", ClaimStatus.APPROVED)
    assert "Room to Read" in client.get("/rewards/mine").text


def test_a_claim_without_csrf_is_refused(client, db, login_as, app):
    app.config["WTF_CSRF_ENABLED"] = True
    advocate = funded(500)
    login_as(advocate.user)
    response = client.post(f"/rewards/{RewardFactory().id}/claim", data={})
    assert response.status_code in (400, 422)
    assert points.balance(advocate.user) == 500


def test_hidden_rewards_and_their_images_do_not_exist_for_advocates(client, db, login_as):
    from tests.services.test_uploads import file

    admin = AdminFactory()
    reward = RewardFactory(active=False)
    from portal.services import uploads

    reward.image = uploads.store_image(admin, file(image_bytes("PNG"), "r.png"))
    db.session.flush()
    login_as(AdvocateFactory().user)
    assert client.get(f"/rewards/{reward.id}/image").status_code == 404
    assert client.post(f"/rewards/{reward.id}/claim").status_code == 404
    reward.active = True
    image = client.get(f"/rewards/{reward.id}/image")
    assert image.status_code == 200 and image.mimetype == "image/png"


def _fulfilled_claim(name="Ana Advocate"):
    advocate = funded(500)
    advocate.user.name = name
    claim = rewards.claim_reward(advocate.user, RewardFactory(name="Conference pass", points_cost=300).id)
    rewards.fulfil_claim(AdminFactory(), claim)
    return advocate, claim


def test_the_certificate_is_a_pdf_with_the_name_and_reward_for_its_owner_and_admins_only(client, db, login_as):
    advocate, claim = _fulfilled_claim("Ana Advocate")
    path = f"/rewards/claims/{claim.id}/certificate.pdf"
    login_as(advocate.user)
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    reader = PdfReader(io.BytesIO(response.data))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 1
    assert "Ana Advocate" in text and "Conference pass" in text and "300 points" in text
    login_as(AdvocateFactory().user)
    assert client.get(path).status_code == 404
    login_as(StaffFactory())
    assert client.get(path).status_code == 403
    login_as(AdminFactory())
    assert client.get(path).status_code == 200


def test_no_certificate_before_fulfilment_and_another_advocate_cannot_cancel(client, db, login_as):
    advocate = funded(500)
    claim = rewards.claim_reward(advocate.user, RewardFactory(needs_approval=True).id)
    login_as(advocate.user)
    assert client.get(f"/rewards/claims/{claim.id}/certificate.pdf").status_code == 404
    login_as(AdvocateFactory().user)
    assert client.post(f"/rewards/mine/{claim.id}/cancel").status_code == 404
    assert claim.status is ClaimStatus.REQUESTED
    login_as(advocate.user)
    page = client.get("/rewards/mine").text
    assert submit(client, page, f"/rewards/mine/{claim.id}/cancel").status_code == 302
    assert claim.status is ClaimStatus.CANCELLED and points.balance(advocate.user) == 500


def test_the_reward_form_explains_mistakes_beside_the_fields(client, db, login_as):
    login_as(AdminFactory())
    db.session.commit()  # a refusal rolls the request back: the setup must survive it
    page = client.get("/admin/rewards/new").text
    response = submit(client, page, to="/admin/rewards/new", name="Mug", points_cost="0", monetary_value="-3",
                      is_donation="y", charities="")
    assert response.status_code == 422
    assert "Between 1 and 1,000,000" in field_error(response.text, None, "points_cost")
    assert "0 to 99,999,999" in field_error(response.text, None, "monetary_value")
    assert db.session.scalar(select(Reward)) is None
    donation = submit(client, page, to="/admin/rewards/new", name="Gift", points_cost="10", monetary_value="5",
                      is_donation="y", charities="")
    assert donation.status_code == 422
    assert "at least one charity" in field_error(donation.text, None, "charities")


def test_admins_create_a_reward_with_an_image_and_stock(client, db, login_as):
    login_as(AdminFactory())
    db.session.commit()
    page = client.get("/admin/rewards/new").text
    from tests.web.pages import find_form

    fields = {k: v for k, v in find_form(page).fields.items() if k not in ("is_donation", "needs_approval")}
    data = {**fields, "name": "Mug", "points_cost": "50", "monetary_value": "8.50", "stock": "3",
            "per_advocate_limit": "1", "active": "y", "image": (io.BytesIO(image_bytes("PNG")), "mug.png")}
    response = client.post("/admin/rewards/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    mug = db.session.scalar(select(Reward))
    assert (mug.name, mug.stock, mug.monetary_value, mug.image.mimetype) == ("Mug", 3, Decimal("8.50"), "image/png")
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "reward.saved"))


def test_manual_points_need_a_reason_and_are_audited(client, db, login_as):
    advocate = AdvocateFactory()
    login_as(AdminFactory())
    db.session.commit()  # a refusal rolls the request back: the setup must survive it
    page = client.get("/admin/rewards/points").text
    action = "/admin/rewards/points/adjust"
    no_reason = submit(client, page, action, email=advocate.user.email, points="25", reason="")
    assert no_reason.status_code == 422 and "Give a reason" in field_error(no_reason.text, action, "reason")
    unknown = submit(client, page, action, email="nobody@example.com", points="25", reason="Thanks")
    assert "No current advocate" in field_error(unknown.text, action, "email")
    below = submit(client, page, action, email=advocate.user.email, points="-5", reason="Correction")
    assert below.status_code == 422 and "balance is 0" in field_error(below.text, action, "points")
    done = submit(client, page, action, email=advocate.user.email, points="25", reason="Spoke at our summit")
    assert done.status_code == 302 and points.balance(advocate.user) == 25
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "points.adjusted")).details["reason"] == "Spoke at our summit"


def test_the_points_table_form(client, db, login_as):
    login_as(AdminFactory())
    db.session.commit()
    page = client.get("/admin/rewards/points").text
    action = "/admin/rewards/points/settings"
    bad = submit(client, page, action, ask_completed="-1", value_per_point="")
    assert bad.status_code == 422
    assert "Between 0 and 100,000" in field_error(bad.text, action, "ask_completed")
    assert "Enter the value of a point" in field_error(bad.text, action, "value_per_point")
    good = submit(client, page, action, ask_completed="55", value_per_point="0.02", currency="USD")
    assert good.status_code == 302
    assert points.points_value(PointsSource.ASK_COMPLETED) == 55


def test_gift_policies_are_set_per_account_and_audited(client, db, login_as):
    account = AdvocateFactory().account
    login_as(AdminFactory())
    db.session.commit()
    page = client.get("/admin/rewards/accounts").text
    action = f"/admin/rewards/accounts/{account.id}?page=1"
    bad = submit(client, page, action, gift_policy="charity_only", annual_gift_cap="-4")
    assert bad.status_code == 422 and "from 0 to 99,999,999" in bad.text
    assert account.gift_policy is GiftPolicy.ALLOWED
    good = submit(client, page, action, gift_policy="charity_only", annual_gift_cap="100")
    assert good.status_code == 302
    db.session.refresh(account)
    assert (account.gift_policy, account.annual_gift_cap) == (GiftPolicy.CHARITY_ONLY, Decimal("100.00"))
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.subject_type == Account.__tablename__))


def test_the_fulfilment_list_and_marking_sent(client, db, login_as):
    advocate = funded(500)
    claim = rewards.claim_reward(advocate.user, RewardFactory(name="Hoodie").id, delivery_note="Size M, 1 Main St")
    login_as(AdminFactory())
    page = client.get("/admin/rewards/claims").text
    assert "Size M, 1 Main St" in page and advocate.user.email in page
    assert submit(client, page, f"/admin/rewards/claims/{claim.id}/fulfil").status_code == 302
    assert claim.status is ClaimStatus.FULFILLED
    assert "Certificate" in client.get("/admin/rewards/claims?status=fulfilled").text


def test_the_leaderboard_opt_in_form(client, db, login_as):
    advocate = funded(100)
    login_as(advocate.user)
    db.session.commit()  # a refusal rolls the request back: the setup must survive it
    page = client.get("/leaderboard").text
    assert "you would be number" in page
    missing = submit(client, page, "/leaderboard", leaderboard_opt_in="y", display_name="")
    assert missing.status_code == 422 and "Choose the name" in field_error(missing.text, "/leaderboard", "display_name")
    assert submit(client, page, "/leaderboard", leaderboard_opt_in="y", display_name="Ana").status_code == 302
    shown = client.get("/leaderboard").text
    assert "Ana (you)" in shown and "Your rank: <strong>1</strong>" in shown


def test_the_queue_item_shows_the_claim(client, db, login_as):
    advocate = funded(500)
    claim = rewards.claim_reward(advocate.user, RewardFactory(name="Conference pass", needs_approval=True).id)
    from portal.models import QueueItem

    item = db.session.scalar(select(QueueItem).where(QueueItem.subject_id == claim.id))
    login_as(AdminFactory())
    page = client.get(f"/admin/queue/{item.id}").text
    assert "Conference pass" in page and "set aside; returned if you reject" in page


# --- bounded queries ------------------------------------------------------------------------


def _scene_points(n_state):
    advocate = AdvocateFactory()
    advocate_id, admin_id = advocate.id, AdminFactory().id

    def add(n):
        from portal.models import Advocate, User

        for _ in range(n):
            points.adjust(db.session.get(User, admin_id), db.session.get(Advocate, advocate_id), 5, "Thanks")

    return advocate.user, "/points", add


def _scene_catalog(n_state):
    advocate = AdvocateFactory()

    def add(n):
        for _ in range(n):
            RewardFactory(stock=3, is_donation=True, charities=["A", "B"])

    return advocate.user, "/rewards", add


def _scene_my_claims(n_state):
    advocate = funded(100_000)
    user_id = advocate.user_id

    def add(n):
        from portal.models import User

        for i in range(n):
            claim = rewards.claim_reward(db.session.get(User, user_id), RewardFactory(monetary_value=Decimal("0")).id)
            if i % 2:
                rewards.fulfil_claim(AdminFactory(), claim)

    return advocate.user, "/rewards/mine", add


def _scene_leaderboard(n_state):
    viewer = funded(10)
    admin_id = AdminFactory().id

    def add(n):
        from portal.models import User

        for _ in range(n):
            other = AdvocateFactory()
            points.adjust(db.session.get(User, admin_id), other, 50, "x")
            other.user.leaderboard_opt_in = True
            other.user.display_name = "Someone"

    return viewer.user, "/leaderboard", add


def _scene_admin_catalog(n_state):
    def add(n):
        for _ in range(n):
            funded(50)
            RewardFactory(stock=2)

    return AdminFactory(), "/admin/rewards", add


def _scene_admin_claims(n_state):
    def add(n):
        for _ in range(n):
            advocate = funded(500)
            rewards.claim_reward(advocate.user, RewardFactory(charities=[]).id, delivery_note="Addr")

    return AdminFactory(), "/admin/rewards/claims", add


def _scene_accounts(n_state):
    def add(n):
        for _ in range(n):
            AdvocateFactory()

    return AdminFactory(), "/admin/rewards/accounts", add


SCENES = [_scene_points, _scene_catalog, _scene_my_claims, _scene_leaderboard, _scene_admin_catalog, _scene_admin_claims,
          _scene_accounts]


@pytest.mark.parametrize("scene", SCENES, ids=[s.__name__[7:] for s in SCENES])
def test_a_rewards_page_sends_as_many_queries_for_30_rows_as_for_3(client, db, login_as, scene):
    viewer, path, add = scene(None)
    login_as(viewer)
    add(3)
    few = queries_to_render(client, path)
    add(27)
    many = queries_to_render(client, path)
    growing = {sql: c for sql, c in Counter(many).items() if c > Counter(few)[sql]}
    assert len(many) == len(few), f"{len(few)} queries for 3 rows, {len(many)} for 30; growing: {growing}"

