"""Sessions end: on sign-out (every copy of the cookie with it), everywhere at the person's
or an admin's request, after a while without use, and some hours after sign-in whatever
happens (sooner for admins)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from portal.models import AuditEvent
from portal.security import SEEN_AT, SIGNED_IN_AT
from portal.services import auth
from tests.factories import TEST_PASSWORD, AdminFactory, AdvocateFactory, StaffFactory
from tests.web.pages import fresh, path_of, signed_in_user_id, submit

SESSION_COOKIE = "session"


def sign_in_by_link(client, user) -> None:
    """As an advocate does: open the emailed link and confirm."""
    link = path_of(auth.sign_in_url(user))
    response = submit(client, client.get(link).text, to=link)
    assert response.status_code == 302, response.text


def sign_in_with_password(client, user) -> None:
    response = client.post("/sign-in/password", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.text


def copy_of_session(app, client):
    """Another browser holding a copy of ``client``'s session cookie (stolen, or synced)."""
    other = app.test_client()
    other.set_cookie(SESSION_COOKIE, client.get_cookie(SESSION_COOKIE).value)
    return other


def signed_in(client, path: str = "/home") -> bool:
    response = client.get(path)
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and path_of(response.headers["Location"]).startswith("/sign-in"), response
    return False


# --- sign-out ends every copy -------------------------------------------------------------------


def test_a_copied_cookie_is_dead_after_sign_out(app, client, db):
    advocate = AdvocateFactory().user
    sign_in_by_link(client, advocate)
    thief = copy_of_session(app, client)
    assert signed_in(thief) and signed_in(thief, "/privacy/my-data.json")

    submit(client, client.get("/home").text, "/sign-out")

    assert not signed_in(client)
    assert not signed_in(thief)
    assert not signed_in(thief, "/privacy/my-data.json")
    assert thief.get("/privacy/my-data.json").status_code == 302


@pytest.mark.parametrize("factory", [StaffFactory, AdminFactory], ids=["staff", "admin"])
def test_a_copied_team_cookie_is_dead_after_sign_out(app, client, db, factory):
    user = factory()
    sign_in_with_password(client, user)
    thief = copy_of_session(app, client)
    landing = "/admin" if factory is AdminFactory else "/home"
    assert signed_in(thief, landing)

    client.post("/sign-out")

    assert not signed_in(thief, landing)
    assert fresh(user).session_generation == 1


def test_signing_in_again_after_sign_out_works(client, db):
    user = StaffFactory()
    sign_in_with_password(client, user)
    client.post("/sign-out")

    sign_in_with_password(client, user)

    assert signed_in(client)


def test_signing_in_elsewhere_does_not_end_other_sessions(app, client, db):
    user = StaffFactory()
    sign_in_with_password(client, user)
    laptop = app.test_client()
    sign_in_with_password(laptop, user)
    assert signed_in(client) and signed_in(laptop)


def test_a_session_from_before_session_generations_is_ended(client, db):
    """A cookie made before this change (a user id and nothing else) signs nobody in."""
    user = StaffFactory()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert not signed_in(client)
    assert signed_in_user_id(client) is None


# --- sign out everywhere ------------------------------------------------------------------------


def test_a_person_signs_out_everywhere(app, client, db):
    advocate = AdvocateFactory().user
    sign_in_by_link(client, advocate)
    phone = app.test_client()
    sign_in_by_link(phone, advocate)

    home = client.get("/home")
    assert 'href="/sign-out/everywhere"' in home.text
    page = client.get("/sign-out/everywhere")
    assert page.status_code == 200
    assert "120 minutes without use" in page.text and "24 hours after you signed in" in page.text
    response = submit(client, page.text, "/sign-out/everywhere")

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert "You are signed out on every device and browser." in client.get("/sign-in").text
    assert not signed_in(client)
    assert not signed_in(phone)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.signed_out_everywhere"))
    assert (event.actor_id, event.subject_type, event.subject_id) == (advocate.id, "users", advocate.id)


def test_sign_out_everywhere_needs_a_session(client, db):
    response = client.get("/sign-out/everywhere")
    assert response.status_code == 302
    assert path_of(response.headers["Location"]).startswith("/sign-in")
    assert client.post("/sign-out/everywhere").status_code == 302


def test_an_admin_signs_an_advocate_out_everywhere(app, client, db, login_as):
    advocate = AdvocateFactory(user__name="Rosa Diaz")
    person = app.test_client()
    sign_in_by_link(person, advocate.user)
    admin = login_as(AdminFactory(name="Ada Admin"))

    record = client.get(f"/admin/advocates/{advocate.id}")
    action = f"/admin/advocates/{advocate.id}/sign-out-everywhere"
    response = submit(client, record.text, action)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/advocates/{advocate.id}"
    record = client.get(f"/admin/advocates/{advocate.id}").text
    assert "is signed out on every device and browser." in record
    assert "Ada Admin signed Rosa Diaz out everywhere" in record  # the record's history
    assert not signed_in(person)
    assert signed_in(client, "/admin")  # the admin's own session is untouched
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.signed_out_everywhere"))
    assert (event.actor_id, event.subject_type, event.subject_id) == (admin.id, "advocates", advocate.id)
    assert event.details == {"user_id": advocate.user.id}


@pytest.mark.parametrize("role", ["advocate", "staff"])
def test_only_admins_sign_others_out(app, client, db, login_as, role):
    advocate = AdvocateFactory()
    person = app.test_client()
    sign_in_by_link(person, advocate.user)
    login_as(AdvocateFactory().user if role == "advocate" else StaffFactory())

    response = client.post(f"/admin/advocates/{advocate.id}/sign-out-everywhere")

    assert response.status_code == 403
    assert signed_in(person)


def test_signing_out_an_unknown_advocate_is_not_found(client, db, login_as):
    login_as(AdminFactory())
    assert client.post("/admin/advocates/999999/sign-out-everywhere").status_code == 404


# --- idle and absolute lifetimes ----------------------------------------------------------------


def age_session(client, *, idle_minutes: float = 0, hours_since_sign_in: float = 0) -> None:
    """Make the session look as if it was last used, and signed in, that long ago (what the
    cookie would say after that much time)."""
    now = time.time()
    with client.session_transaction() as session:
        session[SEEN_AT] = now - idle_minutes * 60
        session[SIGNED_IN_AT] = now - hours_since_sign_in * 3600


@pytest.mark.parametrize(
    ("factory", "landing", "idle_limit", "absolute_limit"),
    [(AdvocateFactory, "/home", 120, 24), (StaffFactory, "/home", 120, 24), (AdminFactory, "/admin", 30, 12)],
    ids=["advocate", "staff", "admin"],
)
class TestLifetimes:
    @staticmethod
    def sign_in(client, factory):
        if factory is AdvocateFactory:
            sign_in_by_link(client, factory().user)
        else:
            sign_in_with_password(client, factory())

    def test_a_session_used_within_the_idle_limit_goes_on(self, client, db, factory, landing, idle_limit, absolute_limit):
        self.sign_in(client, factory)
        age_session(client, idle_minutes=idle_limit - 1, hours_since_sign_in=absolute_limit - 1)
        assert signed_in(client, landing)
        with client.session_transaction() as session:
            assert time.time() - session[SEEN_AT] < 60  # marked used again

    def test_a_session_idle_too_long_ends(self, client, db, factory, landing, idle_limit, absolute_limit):
        self.sign_in(client, factory)
        age_session(client, idle_minutes=idle_limit + 1, hours_since_sign_in=1)
        response = client.get(landing)
        assert response.status_code == 302
        assert path_of(response.headers["Location"]) == f"/sign-in?next=%2F{landing[1:]}"
        assert signed_in_user_id(client) is None

    def test_a_session_ends_after_its_absolute_lifetime_even_in_use(self, client, db, factory, landing, idle_limit, absolute_limit):
        self.sign_in(client, factory)
        age_session(client, idle_minutes=0, hours_since_sign_in=absolute_limit + 0.1)
        assert not signed_in(client, landing)


@pytest.mark.parametrize(
    "app_config",
    [{"SESSION_IDLE_MINUTES": 5, "SESSION_MAX_HOURS": 2, "ADMIN_SESSION_IDLE_MINUTES": 3, "ADMIN_SESSION_MAX_HOURS": 1}],
    indirect=True,
)
def test_the_lifetimes_are_settings(client, db):
    sign_in_with_password(client, StaffFactory())
    age_session(client, idle_minutes=4, hours_since_sign_in=1.9)
    assert signed_in(client)
    age_session(client, idle_minutes=6, hours_since_sign_in=0)
    assert not signed_in(client)

    sign_in_with_password(client, AdminFactory())
    age_session(client, idle_minutes=4, hours_since_sign_in=0)
    assert not signed_in(client, "/admin")
