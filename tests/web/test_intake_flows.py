"""The intake journeys over HTTP, as the people involved click through them: joining and
being approved, being nominated by staff and accepting, bulk decisions, consent, profile
edits, the data download and erasure, one-click unsubscribe and job changes."""

from __future__ import annotations

import json
import re
import pytest
from sqlalchemy import select

from portal.database import commit, db
from portal.models import (
    Advocate,
    AdvocateStatus,
    ConsentChange,
    ConsentEvent,
    ConsentPurpose,
    Delivery,
    NominationSource,
    NotificationCategory,
    QueueItem,
    QueueKind,
    QueueStatus,
    User,
)
from portal.services import consent, notify
from tests.factories import AdminFactory, AdvocateFactory, StaffFactory, UserFactory
from tests.web.intake import (
    error_beside,
    flashes,
    join_data,
    pending,
    profile_data,
    sign_in,
    snapshot,
    text_of,
    unsubscribe_path,
)
from tests.web.pages import (
    emails_to,
    fresh,
    htmx_csrf_token,
    last_link_sent_to,
    parse,
    path_of,
    signed_in_user_id,
    submit,
)


@pytest.fixture
def taxonomies(taxonomies):
    commit()
    return taxonomies


@pytest.fixture
def admin_client(app, db):
    """A second browser, for the advocacy team."""
    client = app.test_client()
    admin = AdminFactory(name="Alex Admin")
    commit()
    sign_in(client, admin)
    client.admin = admin
    return client


def user_by_email(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def open_items(advocate_id: int, kind: QueueKind | None = None) -> list[QueueItem]:
    query = select(QueueItem).where(QueueItem.advocate_id == advocate_id, QueueItem.status == QueueStatus.OPEN)
    if kind is not None:
        query = query.where(QueueItem.kind == kind)
    return list(db.session.scalars(query))


def alerts(html: str) -> list[str]:
    return [" ".join(e.text.split()) for e in parse(html).elements if e.attrs.get("role") == "alert"]


def follow_email_link(client, link: str, *, lands_on: str) -> None:
    """Open an emailed sign-in link (a confirmation page that spends nothing) and confirm."""
    page = client.get(link)
    assert page.status_code == 200
    response = submit(client, page.text, to=link)
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


# --- self-nomination to approval ------------------------------------------------------------


def test_join_verify_approve_and_see_it_at_home(client, admin_client, taxonomies):
    assert client.get("/join").status_code == 200
    response = client.post("/join", data=join_data())
    assert response.headers["Location"] == "/join/check-your-email"
    assert "ana.ruiz@bancoistmeno.example" in client.get("/join/check-your-email").text
    user = user_by_email("ana.ruiz@bancoistmeno.example")
    advocate = db.session.scalar(select(Advocate).where(Advocate.user_id == user.id))
    assert advocate.status is AdvocateStatus.UNVERIFIED and open_items(advocate.id) == []
    assert "Ana Ruiz" not in admin_client.get("/admin/queue").text  # not before the address is proven

    # The verification email: its link shows a page first, and confirming signs in.
    link = last_link_sent_to(user.email)
    assert "Confirm your email" in client.get(link).text
    follow_email_link(client, link, lands_on="/home")
    assert signed_in_user_id(client) == str(user.id)
    assert fresh(advocate).status is AdvocateStatus.PENDING
    [item] = open_items(advocate.id, QueueKind.NOMINATION)
    assert "Waiting for approval" in client.get("/home").text

    # The team sees it in the queue and approves it.
    queue = admin_client.get("/admin/queue")
    assert f"/admin/queue/{item.id}" in queue.text and "Ana Ruiz" in queue.text
    page = admin_client.get(f"/admin/queue/{item.id}")
    assert "Head of Payments" in page.text
    decided = submit(admin_client, page.text, to=f"/admin/queue/{item.id}", decision="approve")
    assert decided.status_code == 302 and decided.headers["Location"] == "/admin/queue"
    assert "Self-nomination approved; the customer has been told." in flashes(admin_client.get("/admin/queue").text)

    home = client.get("/home").text
    assert "Your membership: Approved" in home
    assert "Welcome to the advocacy program: your membership is approved" in home
    assert emails_to(user.email)[-1].subject == "Welcome to the advocacy program: your membership is approved"

    # A second click (another admin, a stale tab) is told, and changes nothing.
    before = snapshot()
    again = admin_client.post(f"/admin/queue/{item.id}", data={"decision": "approve"})
    assert again.status_code == 422
    assert "This item has already been decided." in alerts(again.text)
    assert "Decided: approved by Alex Admin" in text_of(again.text)
    assert snapshot() == before


def test_a_rejection_reason_reaches_the_customer(client, admin_client, taxonomies):
    item = pending(AdvocateFactory(status=AdvocateStatus.PENDING, last_confirmed_at=None))
    advocate = item.advocate
    commit()
    sign_in(client, advocate.user)

    response = admin_client.post(f"/admin/queue/{item.id}", data={"decision": "reject", "reason": "Not live yet"})

    assert response.status_code == 302
    home = client.get("/home").text
    assert "The advocacy team did not accept your nomination: “Not live yet”" in home
    assert "Reason from the advocacy team: Not live yet" in home


# --- staff nomination to invitation accepted -------------------------------------------------


def test_staff_nominate_the_customer_accepts_and_the_team_sees_it(client, app, admin_client, taxonomies):
    staff_client = app.test_client()
    staff = StaffFactory(name="Sam Seller")
    commit()
    sign_in(staff_client, staff)

    page = staff_client.get("/staff/nominate")
    response = submit(
        staff_client,
        page.text,
        to="/staff/nominate",
        name="Rosa Díaz",
        email="Rosa.Diaz@Customer.example",
        company="Customer Co",
        job_title="CFO",
        reason="Cut her closing time in half.",
    )
    assert response.headers["Location"] == "/staff/nominations"
    listing = staff_client.get("/staff/nominations").text
    assert "The customer has been invited to confirm and give consent." in flashes(listing)
    assert "Rosa Díaz" in listing and "Invited" in listing

    # The invitation names the nominator and the reason, and its link leads to the profile.
    [invitation] = emails_to("rosa.diaz@customer.example")
    assert "Sam Seller" in invitation.subject and "Cut her closing time in half." in invitation.payload["text"]
    link = last_link_sent_to("rosa.diaz@customer.example")
    assert "You have been invited" in client.get(link).text
    follow_email_link(client, link, lands_on="/profile")
    profile = client.get("/profile")
    assert "You are invited" in profile.text and "Sam Seller nominated you." in " ".join(profile.text.split())

    accepted = submit(client, profile.text, "/profile/invitation", answer="accept")

    assert accepted.headers["Location"] == "/home"
    rosa = db.session.scalar(select(Advocate).join(Advocate.user).where(User.email == "rosa.diaz@customer.example"))
    assert rosa.status is AdvocateStatus.PENDING
    [item] = open_items(rosa.id, QueueKind.INVITATION)
    assert "Confirmed invitation" in admin_client.get("/admin/queue").text
    assert "Waiting for approval" in staff_client.get("/staff/nominations").text
    assert admin_client.post(f"/admin/queue/{item.id}", data={"decision": "approve"}).status_code == 302
    assert "Approved" in staff_client.get("/staff/nominations").text


def test_a_customer_who_declined_can_change_their_mind(client, taxonomies):
    advocate = AdvocateFactory(status=AdvocateStatus.INVITED, source=NominationSource.STAFF, last_confirmed_at=None)
    commit()
    sign_in(client, advocate.user)

    declined = submit(client, client.get("/profile").text, "/profile/invitation", answer="decline")
    assert declined.headers["Location"] == "/home"
    home = client.get("/home").text
    assert "You declined the invitation. Changed your mind?" in " ".join(home.split())
    profile = client.get("/profile")
    assert "You declined the invitation" in profile.text

    accepted = submit(client, profile.text, "/profile/invitation", answer="accept")

    assert accepted.headers["Location"] == "/home"
    assert fresh(advocate).status is AdvocateStatus.PENDING
    assert len(open_items(advocate.id, QueueKind.INVITATION)) == 1


# --- bulk decisions -------------------------------------------------------------------------


@pytest.fixture
def three_waiting(admin_client):
    items = [pending(), pending(), pending()]
    commit()
    return items


def test_bulk_approval_through_htmx_answers_with_the_queue_region(admin_client, three_waiting):
    first, second, third = three_waiting
    page = admin_client.get("/admin/queue")

    response = admin_client.post(
        "/admin/queue/bulk",
        data={"decision": "approve", "item_ids": [first.id, second.id]},
        headers={"HX-Request": "true", "X-CSRFToken": htmx_csrf_token(page.text)},
    )

    assert response.status_code == 200
    html = response.text
    assert html.lstrip().startswith('<div id="queue-region">')
    assert "<html" not in html and "<nav" not in html and "<main" not in html
    assert "2 item(s) approved." in html
    assert f"/admin/queue/{third.id}" in html and f"/admin/queue/{first.id}" not in html
    assert [fresh(i).status for i in three_waiting] == [QueueStatus.APPROVED, QueueStatus.APPROVED, QueueStatus.OPEN]


def test_bulk_approval_without_htmx_redirects_to_the_queue(admin_client, three_waiting):
    first, second, _ = three_waiting

    response = submit(admin_client, admin_client.get("/admin/queue").text, "/admin/queue/bulk",
                      decision="approve", item_ids=[first.id, second.id])

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/queue"
    assert "2 item(s) approved." in flashes(admin_client.get("/admin/queue").text)
    assert fresh(first).status is QueueStatus.APPROVED and fresh(second).status is QueueStatus.APPROVED


def test_bulk_rejection_skips_what_was_decided_meanwhile_and_says_so(admin_client, three_waiting):
    first, second, _ = three_waiting
    admin_client.post(f"/admin/queue/{first.id}", data={"decision": "approve"})

    response = admin_client.post(
        "/admin/queue/bulk",
        data={"decision": "reject", "reason": "Not a fit this year", "item_ids": [first.id, second.id]},
        headers={"HX-Request": "true"},
    )

    text = " ".join(response.text.split())
    assert "1 item(s) rejected." in text
    assert f"Skipped #{first.id}: This item has already been decided." in text
    assert fresh(first).status is QueueStatus.APPROVED and fresh(second).status is QueueStatus.REJECTED


# --- consent --------------------------------------------------------------------------------


def test_consent_choices_are_recorded_and_a_withdrawal_is_in_force_at_once(client, taxonomies):
    advocate = AdvocateFactory()
    commit()
    sign_in(client, advocate.user)
    page = client.get("/profile")

    granted = submit(client, page.text, "/profile/consent", **{"consent-purposes": ["reference_calls", "quote"]})

    assert granted.headers["Location"] == "/profile#consent"
    events = db.session.scalars(select(ConsentEvent).where(ConsentEvent.advocate_id == advocate.id)).all()
    assert {(e.purpose, e.change, e.wording_version, e.actor_id) for e in events} == {
        (ConsentPurpose.REFERENCE_CALLS, ConsentChange.GRANTED, 1, advocate.user_id),
        (ConsentPurpose.QUOTE, ConsentChange.GRANTED, 1, advocate.user_id),
    }
    page = client.get("/profile")
    assert "Your consent choices are saved and in force now." in flashes(page.text)
    assert checked_purposes(page.text) == {"reference_calls", "quote"}

    withdrawn = submit(client, page.text, "/profile/consent", **{"consent-purposes": ["quote"]})

    assert withdrawn.status_code == 302
    assert not consent.has_consent(advocate, ConsentPurpose.REFERENCE_CALLS)
    assert consent.has_consent(advocate, ConsentPurpose.QUOTE)
    assert checked_purposes(client.get("/profile").text) == {"quote"}
    last = consent.history(advocate)[0]
    assert (last.purpose, last.change) == (ConsentPurpose.REFERENCE_CALLS, ConsentChange.WITHDRAWN)
    assert "1 of 9 purposes" in client.get("/home").text


def checked_purposes(html: str) -> set[str]:
    return {e.attrs["value"] for e in parse(html).elements if e.attrs.get("name") == "consent-purposes" and "checked" in e.attrs}


def test_a_forged_consent_purpose_is_refused_and_nothing_changes(client, taxonomies):
    advocate = AdvocateFactory()
    commit()
    sign_in(client, advocate.user)
    before = snapshot()

    response = client.post("/profile/consent", data={"consent-purposes": ["reference_calls", "sell_my_data"]})

    assert response.status_code == 422
    error = error_beside(response.text, "/profile/consent", "consent-purposes")
    assert error == "'sell_my_data' is not a valid choice for this field."
    assert snapshot() == before


# --- profile edits --------------------------------------------------------------------------


def test_a_key_field_change_waits_for_the_team(client, admin_client, taxonomies):
    advocate = AdvocateFactory(job_title="Manager", user=UserFactory(name="Ana Ruiz"))
    commit()
    sign_in(client, advocate.user)

    response = client.post("/profile", data={"name": "Ana M. Ruiz", **profile_data(job_title="Director")})

    assert response.status_code == 302
    page = client.get("/profile").text
    assert "go to the advocacy team for approval" in " ".join(flashes(page))
    assert "Waiting for approval" in page
    assert fresh(advocate).job_title == "Manager" and fresh(advocate.user).name == "Ana M. Ruiz"
    [item] = open_items(advocate.id, QueueKind.PROFILE_CHANGE)
    review = admin_client.get(f"/admin/queue/{item.id}").text
    assert "Manager" in review and "Director" in review
    admin_client.post(f"/admin/queue/{item.id}", data={"decision": "approve"})
    assert fresh(advocate).job_title == "Director"


# --- privacy --------------------------------------------------------------------------------


def test_my_data_holds_my_own_data_only(client, taxonomies):
    mine = AdvocateFactory(story="My own story", user=UserFactory(name="Ana Mine"))
    theirs = AdvocateFactory(story="Their secret story", user=UserFactory(name="Bo Theirs"), account=mine.account)
    for advocate in (mine, theirs):
        consent.set_consents(advocate.user, advocate, {ConsentPurpose.CASE_STUDY})
        notify.notify(advocate.user, NotificationCategory.DECISIONS, f"News for {advocate.user.name}")
    commit()
    sign_in(client, mine.user)

    response = client.get("/privacy/my-data.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.text)
    assert data["person"]["email"] == mine.user.email
    assert [m["id"] for m in data["memberships"]] == [mine.id]
    assert data["memberships"][0]["story"] == "My own story"
    assert [n["title"] for n in data["notifications"]] == ["News for Ana Mine"]
    assert all(e["subject"] for e in data["emails"])
    for secret in (theirs.user.email, "Their secret story", "Bo Theirs", f'"id": {theirs.id},'):
        assert secret not in response.text


def test_deleting_my_account_erases_me_and_signs_me_out(client, taxonomies):
    advocate = AdvocateFactory(story="Secret story")
    email = advocate.user.email
    commit()
    sign_in(client, advocate.user)

    response = submit(client, client.get("/privacy").text, "/privacy/delete", confirm_email=email.upper())

    assert response.headers["Location"] == "/"
    assert signed_in_user_id(client) is None
    assert "Your account and personal data are deleted." in " ".join(flashes(client.get("/").text))
    assert fresh(advocate).status is AdvocateStatus.ERASED and user_by_email(email) is None


# --- one-click unsubscribe ------------------------------------------------------------------

CSRF_ON = pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True, ids=["csrf"])


@CSRF_ON
def test_one_click_unsubscribe_needs_no_form_token(app, client, db):
    user = UserFactory()
    notify.notify(user, NotificationCategory.REQUESTS, "Could you take a call?")
    [message] = emails_to(user.email)
    commit()

    response = client.post(
        unsubscribe_path(message),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "you will no longer receive emails about" in response.text
    assert notify.delivery_for(fresh(user), NotificationCategory.REQUESTS) is Delivery.OFF
    assert notify.delivery_for(fresh(user), NotificationCategory.DECISIONS) is Delivery.IMMEDIATE


@CSRF_ON
def test_the_unsubscribe_page_asks_first_and_its_button_works(client, db):
    user = UserFactory()
    path = path_of(notify.unsubscribe_url(user, None))
    commit()

    page = client.get(path)
    assert page.status_code == 200
    assert notify.delivery_for(fresh(user), NotificationCategory.REMINDERS) is Delivery.IMMEDIATE  # a GET changes nothing

    response = submit(client, page.text, to=path)

    assert response.status_code == 200
    assert all(notify.delivery_for(fresh(user), c) is Delivery.OFF for c in NotificationCategory)


@CSRF_ON
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("tamper", ["payload", "signature", "garbage"])
def test_a_tampered_unsubscribe_link_is_refused(client, db, method, tamper):
    user = UserFactory()
    token = notify.unsubscribe_url(user, NotificationCategory.REQUESTS).rsplit("/", 1)[1]
    payload, _, signature = token.rpartition(".")
    forged = {
        "payload": payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature,
        "signature": payload + "." + signature[::-1],
        "garbage": "not-a-token",
    }[tamper]
    commit()
    before = snapshot()

    response = client.open(f"/unsubscribe/{forged}", method=method, data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert "This unsubscribe link is not valid." in response.text
    assert snapshot() == before


# --- job change -----------------------------------------------------------------------------


def test_a_move_to_a_new_address_is_confirmed_from_that_address(client, app, taxonomies):
    advocate = AdvocateFactory(job_title="Manager")
    consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})
    other = AdvocateFactory()
    commit()
    sign_in(client, advocate.user)

    page = client.get("/profile/job-change")
    response = submit(client, page.text, to="/profile/job-change", company="Brand New Co",
                      email="me@brand-new.example", job_title="CTO")
    assert response.headers["Location"] == "/home"
    assert fresh(advocate).status is AdvocateStatus.APPROVED  # nothing moves before the new address is proven
    [email] = emails_to("me@brand-new.example")
    link = path_of(re.search(r"https?://\S+/profile/job-change/\S+", email.payload["text"]).group(0))

    # Someone else who gets hold of the link learns nothing and changes nothing.
    intruder = app.test_client()
    sign_in(intruder, other.user)
    before = snapshot()
    for method in ("GET", "POST"):
        refused = intruder.open(link, method=method)
        assert refused.status_code == 400
        assert "This confirmation link belongs to another account." in refused.text
        assert "Brand New Co" not in refused.text and "brand-new.example" not in refused.text
    assert snapshot() == before

    confirm = client.get(link)
    assert "Brand New Co" in confirm.text and "me@brand-new.example" in confirm.text
    moved = submit(client, confirm.text, to=link)

    assert moved.headers["Location"] == "/home"
    assert fresh(advocate).status is AdvocateStatus.LAPSED
    assert not consent.has_consent(advocate, ConsentPurpose.REFERENCE_CALLS)
    assert fresh(advocate.user).email == "me@brand-new.example"
    assert "Your membership: Waiting for approval" in client.get("/home").text
    assert client.post(link).status_code == 400  # once only
