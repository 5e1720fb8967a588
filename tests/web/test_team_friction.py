"""What the team and sellers tripped over (issue 17), over HTTP: "Send anyway" without a
reason, a reference request's criteria after it is sent, an advocate's points on their
record, and the amount of a won ask in the asks list."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.database import commit, db, rollback
from portal.models import Ask, AskOutcome, AskStatus, PointsSource, Region, Term, TermKind, User
from portal.services import points, reporting, rewards
from tests.web.asks import activity, ask_data, build_asks_world, make_ask, make_request, queue_item_of
from tests.web.intake import error_beside, named, sign_in, text_of
from tests.web.pages import find_form, parse, submit


@pytest.fixture
def world(db):
    return build_asks_world()


# --- 1. "Send anyway" needs a reason ---------------------------------------------------------


def test_send_anyway_without_a_reason_says_so_beside_the_reason_and_keeps_the_form(client, world, login_as):
    owner = world.world.owner
    make_ask(owner, ago=timedelta(0), prospect="Earlier This Month")
    commit()
    login_as(world.world.admin)
    path = f"/admin/asks/new?advocate_id={owner.id}"
    refused = client.post(path, data=ask_data())
    assert refused.status_code == 422
    # The first refusal offers the reason field without an error yet.
    assert error_beside(refused.text, None, "override_reason") is None

    again = submit(client, refused.text, None, to=path, override_reason="   ", notes="Typed before pressing it",
                   activity_type=str(activity().id))

    assert again.status_code == 422
    assert error_beside(again.text, None, "override_reason") == (
        "Write why you send it despite the rules: it goes into the audit trail."
    )
    assert find_form(again.text).fields["prospect_company"] == "Banco Futuro"
    notes = [e for e in parse(again.text).elements if e.tag == "textarea" and e.attrs.get("name") == "notes"]
    assert [e.text.strip() for e in notes] == ["Typed before pressing it"]
    assert db.session.scalar(select(func.count(Ask.id)).where(Ask.prospect_company == "Banco Futuro")) == 0


# --- 2. a request's criteria stay visible -----------------------------------------------------


def _request_with_criteria(world):
    products = db.session.scalars(select(Term).where(Term.kind == TermKind.PRODUCT).order_by(Term.name).limit(2)).all()
    industry = db.session.scalars(select(Term).where(Term.kind == TermKind.INDUSTRY).order_by(Term.name)).first()
    request = make_request(
        world.world.staff,
        prospect="Istmo Seguros",
        how_many=2,
        product_ids=[p.id for p in products],
        industry_id=industry.id,
        region_id=named(Region, "Central America").id,
        notes="How the rollout went in a regulated bank.",
    )
    commit()
    return request, [p.name for p in products], industry.name


def _criteria_text(products, industry) -> list[tuple[str, str]]:
    return [
        ("Advocates wanted", f"2 × {activity().name}"),
        ("Products", ", ".join(products)),
        ("Industry", industry),
        ("Region", "Central America"),
    ]


def facts(html: str) -> list[tuple[str, str]]:
    """The page's definition lists as (term, description) pairs, in order."""
    items = [e for e in parse(html).elements if e.tag in ("dt", "dd")]
    return [(" ".join(t.text.split()), " ".join(d.text.split())) for t, d in zip(items[::2], items[1::2], strict=True)]


def test_the_seller_sees_what_they_asked_for_on_their_request(client, world, login_as):
    request, products, industry = _request_with_criteria(world)
    login_as(world.world.staff)

    html = client.get("/staff/requests").text
    page = text_of(html)

    for expected in _criteria_text(products, industry):
        assert expected in facts(html)
    assert "What the prospect wants to hear about: How the rollout went in a regulated bank." in page


def test_the_team_sees_the_criteria_on_the_request_page(client, world, login_as):
    request, products, industry = _request_with_criteria(world)
    login_as(world.world.admin)

    html = client.get(f"/admin/queue/{queue_item_of(request).id}").text

    for expected in _criteria_text(products, industry):
        assert expected in facts(html)


def test_a_request_without_criteria_says_any(client, world, login_as):
    login_as(world.world.staff)

    html = client.get("/staff/requests").text

    assert [("Products", "Any"), ("Industry", "Any"), ("Region", "Any")] == [f for f in facts(html) if f[1] == "Any"]


# --- 4. an advocate's points on their record --------------------------------------------------


def test_an_advocates_record_shows_the_balance_and_a_paginated_history(client, world, login_as):
    owner = world.world.owner
    for n in range(22):
        points.award(owner, PointsSource.PROFILE_CONFIRMED, 1000 + n, points=5)
    points.adjust(world.world.admin, owner, -10, "Duplicate award taken back")
    commit()
    login_as(world.world.admin)

    first = client.get(f"/admin/advocates/{owner.id}")
    page = text_of(first.text)

    assert "100 points" in page  # 22 × 5 − 10
    assert "23 entries · newest first" in page
    assert "Duplicate award taken back" in page and "-10" in page
    assert "Page 1 of 2" in page
    second = text_of(client.get(f"/admin/advocates/{owner.id}?page=2").text)
    assert "Page 2 of 2" in second
    assert "Duplicate award taken back" not in second


def test_an_advocate_without_points_has_an_empty_history_that_says_how_they_are_earned(client, world, login_as):
    login_as(world.world.admin)

    page = text_of(client.get(f"/admin/advocates/{world.world.other.id}").text)

    assert "0 points" in page
    assert "No points yet" in page


# --- 5. the asks list shows what a won ask was worth ------------------------------------------


def test_the_asks_list_shows_a_won_asks_amount(client, world, login_as):
    make_ask(world.world.owner, status=AskStatus.COMPLETED, prospect="Won Deal Co",
             outcome=AskOutcome.WON, outcome_amount=Decimal("125000.00"))
    make_ask(world.world.other, status=AskStatus.COMPLETED, prospect="Lost Deal Co", outcome=AskOutcome.LOST)
    commit()
    login_as(world.world.admin)

    page = text_of(client.get("/admin/asks?status=completed").text)

    assert "Completed · won · $125,000.00" in page
    assert "Completed · lost" in page and "Completed · lost ·" not in page


def test_deal_sizes_carry_the_program_currency_for_the_seller_and_the_team(client, world, login_as):
    rewards.update_settings(world.world.admin, rewards.SettingsValues(
        points={}, value_per_point=Decimal("0.05"), default_annual_gift_cap=Decimal("250"), currency="EUR"))
    request = make_request(world.world.staff, prospect="Istmo Seguros", deal_size=Decimal("480000"))
    commit()

    login_as(world.world.staff)
    seller = client.get("/staff/requests").text
    assert "deal size €480,000" in text_of(seller)
    assert "In EUR." in text_of(seller)  # beside the form's deal size
    login_as(world.world.admin)
    assert ("Deal size", "€480,000") in facts(client.get(f"/admin/queue/{queue_item_of(request).id}").text)
    assert "In EUR." in text_of(client.get(f"/admin/asks/new?advocate_id={world.world.owner.id}").text)


# --- 6. the dashboard sees the team's own changes at once ---------------------------------------


def figure_text(html: str, heading_id: str) -> str:
    """The text of the dashboard figure whose heading has this id."""
    start = html.rindex("<article", 0, html.index(f'id="{heading_id}"'))
    return " ".join(text_of(html[start:html.index("</article>", start)]).split())


def _revenue(html: str) -> str:
    return figure_text(html, "revenue-heading")


def test_the_team_s_writes_show_on_the_next_dashboard_load(app, client, world, login_as):
    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    login_as(world.world.admin)
    first = client.get("/admin").text
    assert "won in 0 deals" in _revenue(first)
    assert "No growth targets yet." in first
    assert client.get("/admin").text == first  # nothing changed: the same figures, reused

    # A completed deal.
    done = client.post(f"/admin/asks/{world.accepted.id}", data={"outcome": "won", "outcome_amount": "125000"})
    assert done.status_code == 302
    after_deal = client.get("/admin").text
    assert "125,000" in _revenue(after_deal) and "won in 1 deal " in _revenue(after_deal)

    # A new growth target.
    target = client.post("/admin/coverage", data={"industry": "0", "region": str(world.world.region.id), "product": "0", "target": "4"})
    assert target.status_code == 302
    after_target = client.get("/admin").text
    assert "No growth targets yet." not in after_target and "of 4 wanted advocates are available now" in text_of(after_target)

    # An approval (the owner's new job title).
    approved = client.post(f"/admin/queue/{world.world.item.id}", data={"decision": "approve", "reason": ""})
    assert approved.status_code == 302
    assert client.get("/admin").text != after_target


def test_the_figures_version_rises_once_per_transaction_that_changes_them_and_not_otherwise(db, world):
    before = reporting.figures_version()
    make_ask(world.world.owner, prospect="Counted Co")
    make_ask(world.world.other, prospect="Counted Too")
    commit()
    assert reporting.figures_version() == before + 1
    world.world.staff.name = "Renamed Seller"  # not something the figures count
    commit()
    assert reporting.figures_version() == before + 1
    make_ask(world.world.owner, prospect="Rolled Back Co")
    rollback()
    commit()
    assert reporting.figures_version() == before + 1


def test_a_write_through_one_app_instance_shows_on_the_next_load_of_another(app, app_config, committed_db):
    """Two app instances (each its own engine and its own figures in memory) on one database:
    a deal completed through the first shows on the second's next load."""
    from portal import create_app
    from portal.services import taxonomy
    from tests.factories import AdminFactory, AdvocateFactory

    taxonomy.load_defaults()
    admin = AdminFactory()
    ask = make_ask(AdvocateFactory(), status=AskStatus.ACCEPTED, prospect="Two Instances Co")
    commit()
    ids = {"admin": admin.id, "ask": ask.id}
    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    second = create_app({**app_config, "DASHBOARD_CACHE_SECONDS": 60})
    clients = [app.test_client(), second.test_client()]
    for c in clients:
        sign_in(c, admin)
    try:
        for c in clients:
            assert "won in 0 deals" in _revenue(c.get("/admin").text)

        assert clients[0].post(f"/admin/asks/{ids['ask']}", data={"outcome": "won", "outcome_amount": "98000"}).status_code == 302

        for c in clients:
            assert "98,000" in _revenue(c.get("/admin").text)
    finally:
        with second.app_context():
            for engine in second.extensions["sqlalchemy"].engines.values():
                engine.dispose()


# --- 7. the funnel and the active advocates agree and say what they count -----------------------


def test_the_funnel_and_active_advocates_are_labelled_so_they_do_not_contradict(client, world, login_as):
    login_as(world.world.admin)

    html = client.get("/admin").text
    funnel = figure_text(html, "funnel-heading")
    activity_box = figure_text(html, "activity-heading")

    assert "Took part in an ask" in funnel and ">Active<" not in html
    assert "Only" in funnel and "nominees count here; “Active advocates” beside it counts every approved advocate." in funnel
    assert "approved advocates" in activity_box
    assert "the nomination funnel follows only the people nominated in" in activity_box


# --- 8. the publishing page lists who is published ----------------------------------------------


def test_the_publishing_page_lists_who_is_published_by_name_a_page_at_a_time(client, world, login_as):
    from portal.models import ConsentPurpose
    from portal.services import consent
    from tests.factories import AdvocateFactory, UserFactory

    for n in range(26):
        advocate = AdvocateFactory(user=UserFactory(name=f"Published {n:02d}"))
        consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})
    AdvocateFactory(user=UserFactory(name="Not Consenting"))  # approved, no consent: not published
    commit()
    login_as(world.world.admin)

    first = client.get("/admin/publishing")
    page = text_of(first.text)

    # Olivia and Oscar (askable: approved and consenting) and the 26, by name.
    assert "28 advocates · by name · page 1 of 2" in page
    assert "Olivia Owner" in page and "Oscar Other" in page
    assert "Published 00" in page and "Published 22" in page and "Published 23" not in page
    assert "Not Consenting" not in page
    assert 'href="/admin/publishing?published_page=2"' in first.text
    second = text_of(client.get("/admin/publishing?published_page=2").text)
    assert "Published 23" in second and "Published 25" in second and "Olivia Owner" not in second


@pytest.mark.parametrize("path", ["/admin/publishing", "/staff/requests"])
def test_the_new_lists_send_as_many_queries_for_12_rows_as_for_2(client, world, login_as, path):
    from portal.models import ConsentPurpose
    from portal.services import consent
    from tests.factories import AdvocateFactory
    from tests.web.intake import queries_to_render

    staff_id = world.world.staff.id

    def add(n):
        world.world.staff = db.session.get(User, staff_id)  # the session was emptied to count
        for _ in range(n):
            if path == "/staff/requests":
                _request_with_criteria(world)
            else:
                advocate = AdvocateFactory()
                consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})

    login_as(world.world.staff if path == "/staff/requests" else world.world.admin)
    add(2)
    few = queries_to_render(client, path)
    add(10)
    many = queries_to_render(client, path)
    assert len(many) == len(few)
