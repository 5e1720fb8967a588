"""CSRF on every state change of the intake feature: without the token nothing happens; the
page's own form carries it, and so does the header htmx sends (the one-click unsubscribe,
which mail clients post without a token, is tested in test_intake_flows.py)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from portal.database import commit, db
from portal.models import (
    ActivityType,
    AdvocateStatus,
    ConsentPurpose,
    Delivery,
    ImportBatch,
    NotificationCategory,
    QueueStatus,
    Region,
    Term,
    User,
)
from portal.services import consent, notify
from tests.web.intake import build_world, join_data, profile_data, snapshot
from tests.web.pages import emails_to, find_form, fresh, htmx_csrf_token, submit


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


@dataclass
class Change:
    """A state change: the page whose form makes it, the form's action (None: the page
    itself), what is posted besides the page's own fields, and how to tell it happened."""

    page: str
    action: str
    data: dict
    happened: Callable[[], bool]
    form_action: str | None


def world_as(login_as, role="advocate"):
    world = build_world()
    login_as(world.user(role))
    return world


def join(login_as):
    build_world()
    return Change("/join", "/join", join_data(), lambda: user_by_email("ana.ruiz@bancoistmeno.example") is not None, None)


def staff_nominate(login_as):
    world_as(login_as, "staff")
    return Change("/staff/nominate", "/staff/nominate",
                  {"name": "Rosa", "email": "rosa@customer.example", "company": "Customer Co", "reason": "Great"},
                  lambda: user_by_email("rosa@customer.example") is not None, None)


def edit_profile(login_as):
    w = world_as(login_as)
    return Change("/profile", "/profile", {"name": "Olivia Renamed", **profile_data()},
                  lambda: fresh(w.owner.user).name == "Olivia Renamed", "/profile")


def save_consent(login_as):
    w = world_as(login_as)
    return Change("/profile", "/profile/consent", {"consent-purposes": ["quote"]},
                  lambda: consent.has_consent(w.owner, ConsentPurpose.QUOTE), "/profile/consent")


def confirm_profile(login_as):
    w = world_as(login_as)
    w.owner.last_confirmed_at = None
    commit()
    return Change("/profile", "/profile/confirm", {}, lambda: fresh(w.owner).last_confirmed_at is not None, "/profile/confirm")


def answer_invitation(login_as):
    w = world_as(login_as)
    w.owner.status = AdvocateStatus.INVITED
    commit()
    return Change("/profile", "/profile/invitation", {"answer": "accept"},
                  lambda: fresh(w.owner).status is AdvocateStatus.PENDING, "/profile/invitation")


def report_job_change(login_as):
    world_as(login_as)
    return Change("/profile/job-change", "/profile/job-change",
                  {"company": "Moved Co", "email": "olivia@moved.example", "job_title": "CTO"},
                  lambda: bool(emails_to("olivia@moved.example")), None)


def confirm_job_change(login_as):
    w = world_as(login_as)
    path = f"/profile/job-change/{w.token}"
    return Change(path, path, {}, lambda: fresh(w.owner).status is AdvocateStatus.LAPSED, None)


def preferences(login_as):
    w = world_as(login_as)
    return Change("/preferences", "/preferences", dict.fromkeys(["decisions", "requests", "programs", "reminders"], "off"),
                  lambda: notify.delivery_for(fresh(w.owner.user), NotificationCategory.DECISIONS) is Delivery.OFF, "/preferences")


def delete_account(login_as):
    w = world_as(login_as)
    return Change("/privacy", "/privacy/delete", {"confirm_email": w.owner.user.email},
                  lambda: fresh(w.owner).status is AdvocateStatus.ERASED, "/privacy/delete")


def mark_read(login_as):
    w = world_as(login_as)
    return Change("/home", "/notifications/read", {}, lambda: notify.unread(fresh(w.owner.user)) == [], "/notifications/read")


def decide_item(login_as):
    w = world_as(login_as, "admin")
    path = f"/admin/queue/{w.item.id}"
    return Change(path, path, {"decision": "approve"}, lambda: fresh(w.item).status is QueueStatus.APPROVED, None)


def bulk_decide(login_as):
    w = world_as(login_as, "admin")
    return Change("/admin/queue", "/admin/queue/bulk", {"decision": "approve", "item_ids": [w.item.id]},
                  lambda: fresh(w.item).status is QueueStatus.APPROVED, "/admin/queue/bulk")


def upload_import(login_as):
    world_as(login_as, "admin")
    count = lambda: db.session.scalar(select(func.count()).select_from(ImportBatch))  # noqa: E731
    before = count()
    return Change("/admin/import", "/admin/import",
                  {"file": (io.BytesIO(b"email,name,company\nx@y.example,X,Y\n"), "a.csv")},
                  lambda: count() == before + 1, None)


def run_import(login_as):
    w = world_as(login_as, "admin")
    path = f"/admin/import/{w.batch.id}"
    return Change(path, path, {}, lambda: user_by_email("new.person@imported.example") is not None, None)


def load_defaults(login_as):
    world_as(login_as, "admin")
    db.session.execute(Term.__table__.delete())  # the button is offered while the lists are empty
    commit()
    return Change("/admin/taxonomies", "/admin/taxonomies/defaults", {},
                  lambda: bool(db.session.scalar(select(Term.id).limit(1))), "/admin/taxonomies/defaults")


def add_term(login_as):
    world_as(login_as, "admin")
    return Change("/admin/taxonomies", "/admin/taxonomies/products", {"products-name": "Quantum Ledger"},
                  lambda: db.session.scalar(select(Term).where(Term.name == "Quantum Ledger")) is not None,
                  "/admin/taxonomies/products")


def rename_term(login_as):
    w = world_as(login_as, "admin")
    action = f"/admin/taxonomies/terms/{w.term.id}"
    return Change("/admin/taxonomies", action, {f"term-{w.term.id}-name": "Renamed Product"},
                  lambda: fresh(w.term).name == "Renamed Product", action)


def toggle_term(login_as):
    w = world_as(login_as, "admin")
    action = f"/admin/taxonomies/terms/{w.term.id}/active"
    return Change("/admin/taxonomies", action, {}, lambda: not fresh(w.term).active, action)


def edit_activity(login_as):
    w = world_as(login_as, "admin")
    action = f"/admin/taxonomies/activities/{w.activity_id}"
    return Change("/admin/taxonomies", action, {f"activity-{w.activity_id}-name": "Renamed activity",
                                                 f"activity-{w.activity_id}-weight": "heavy"},
                  lambda: db.session.get(ActivityType, w.activity_id, populate_existing=True).name == "Renamed activity",
                  action)


def toggle_activity(login_as):
    w = world_as(login_as, "admin")
    action = f"/admin/taxonomies/activities/{w.activity_id}/active"
    return Change("/admin/taxonomies", action, {},
                  lambda: not db.session.get(ActivityType, w.activity_id, populate_existing=True).active, action)


def new_region(login_as):
    world_as(login_as, "admin")
    path = "/admin/taxonomies/regions/new"
    return Change(path, path, {"name": "Isthmus", "parent_id": "0", "countries": ["PA"]},
                  lambda: db.session.scalar(select(Region).where(Region.name == "Isthmus")) is not None, None)


def edit_region(login_as):
    w = world_as(login_as, "admin")
    path = f"/admin/taxonomies/regions/{w.region.id}"
    return Change(path, path, {"name": "Central America", "parent_id": "0", "countries": ["PA"]},
                  lambda: fresh(w.region).parent_id is None, None)


CHANGES = [
    join, staff_nominate, edit_profile, save_consent, confirm_profile, answer_invitation, report_job_change,
    confirm_job_change, preferences, delete_account, mark_read, decide_item, bulk_decide, upload_import, run_import,
    load_defaults, add_term, rename_term, toggle_term, edit_activity, toggle_activity, new_region, edit_region,
]


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True, ids=["csrf"])
@pytest.mark.parametrize("make", CHANGES, ids=[f.__name__ for f in CHANGES])
class TestCsrf:
    def test_without_a_token_nothing_happens(self, client, db, login_as, make):
        change = make(login_as)
        client.get(change.page)  # the session holds a token; the request does not carry it
        before = snapshot()

        response = client.post(change.action, data=change.data)

        assert response.status_code == 400
        assert "Your form expired or was sent from another page" in response.text
        assert snapshot() == before
        assert not change.happened()

    def test_the_form_on_the_page_carries_the_token(self, client, db, login_as, make):
        change = make(login_as)
        page = client.get(change.page)
        assert page.status_code == 200
        fields = find_form(page.text, change.form_action).fields
        assert any(name.endswith("csrf_token") and value for name, value in fields.items())  # prefixed forms too

        response = submit(client, page.text, change.form_action, to=change.action, **change.data)

        assert response.status_code == 302, response.text[:2000]
        assert change.happened()

    def test_the_htmx_header_carries_the_token(self, client, db, login_as, make):
        change = make(login_as)
        page = client.get(change.page)

        response = client.post(change.action, data=change.data,
                               headers={"X-CSRFToken": htmx_csrf_token(page.text), "HX-Request": "true"})

        assert response.status_code in (200, 302)
        assert change.happened()
