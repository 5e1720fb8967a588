"""Helpers for the web tests of the intake feature: a small world of people and records,
form data for the profile forms, database snapshots ("nothing was written"), field errors of
checkbox groups, and a SQL statement counter."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event, select

from portal.database import commit, db
from portal.models import (
    ActivityType,
    Advocate,
    AdvocateStatus,
    Consent,
    ConsentEvent,
    ImportBatch,
    Notification,
    NotificationCategory,
    OutboxMessage,
    ProfileChange,
    QueueItem,
    QueueKind,
    Region,
    RegionCountry,
    Term,
    TermKind,
    User,
)
from portal.security import start_session
from portal.services import approvals, notify, profiles, taxonomy
from tests.factories import AccountFactory, AdminFactory, AdvocateFactory, StaffFactory, UserFactory
from tests.web.pages import field_error, parse, path_of

MISSING_ID = 987654321


def sign_in(client, user) -> None:
    """Sign ``user`` in on any test client (``login_as`` does it for ``client`` only)."""
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        start_session(user, session, time.time())


# --- the database as a whole ---------------------------------------------------------------


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table: equal snapshots mean nothing was inserted, changed or
    deleted in between."""
    db.session.flush()
    return {
        table.name: sorted((tuple(row) for row in db.session.execute(select(table))), key=repr)
        for table in db.metadata.sorted_tables
    }


def owned_rows(user: User) -> dict[str, list[tuple]]:
    """Everything that belongs to ``user``: their account row, memberships, consents,
    notifications, decisions, pending changes and emails."""
    advocate_ids = select(Advocate.id).where(Advocate.user_id == user.id)

    def rows(model, *where):
        return sorted((tuple(r) for r in db.session.execute(select(model.__table__).where(*where))), key=repr)

    return {
        "user": rows(User, User.id == user.id),
        "advocates": rows(Advocate, Advocate.user_id == user.id),
        "consents": rows(Consent, Consent.advocate_id.in_(advocate_ids)),
        "consent_events": rows(ConsentEvent, ConsentEvent.advocate_id.in_(advocate_ids)),
        "profile_changes": rows(ProfileChange, ProfileChange.advocate_id.in_(advocate_ids)),
        "queue_items": rows(QueueItem, QueueItem.advocate_id.in_(advocate_ids)),
        "notifications": rows(Notification, Notification.user_id == user.id),
        "emails": rows(OutboxMessage, OutboxMessage.recipient == user.email),
    }


# --- records --------------------------------------------------------------------------------


def pending(advocate: Advocate | None = None, kind: QueueKind = QueueKind.NOMINATION) -> QueueItem:
    """An advocate waiting for the team, with their open queue item."""
    advocate = advocate or AdvocateFactory(status=AdvocateStatus.PENDING, last_confirmed_at=None)
    advocate.status = AdvocateStatus.PENDING
    return approvals.open_item(kind, advocate, advocate.id, summary=advocate.job_title)


def region(name: str, parent: Region | None = None, countries: tuple[str, ...] = ()) -> Region:
    item = Region(name=name, parent=parent, countries=[RegionCountry(country=c) for c in countries])
    db.session.add(item)
    db.session.flush()
    return item


def named(model, name: str):
    return db.session.scalar(select(model).where(model.name == name))


def job_change_token(advocate: Advocate, new_email: str, company: str = "Brand New Co") -> str:
    """Report a move to a new address; the token is in the link emailed there."""
    profiles.report_job_change(advocate.user, advocate, company, new_email, "Chief Reference Officer")
    [email] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == new_email)).all()
    return email.payload["text"].split("/profile/job-change/")[1].split()[0]


def unsubscribe_path(message: OutboxMessage) -> str:
    """The one-click unsubscribe address of an email, from its List-Unsubscribe header."""
    return path_of(message.payload["headers"]["List-Unsubscribe"].strip("<>"))


@dataclass
class World:
    """Two advocates (the one whose records are in the URLs, and another), a staff member,
    an admin, and one record of every kind an admin URL names."""

    owner: Advocate
    other: Advocate
    staff: User
    admin: User
    item: QueueItem
    batch: ImportBatch
    term: Term
    activity_id: int
    region: Region
    token: str  # the owner's job-change confirmation
    unsubscribe: str  # the owner's one-click unsubscribe path

    def ids(self) -> dict[str, object]:
        return {
            "item": self.item.id,
            "advocate": self.owner.id,
            "batch": self.batch.id,
            "term": self.term.id,
            "activity": self.activity_id,
            "region": self.region.id,
            "token": self.token,
            "unsubscribe": self.unsubscribe.rsplit("/", 1)[1],
        }

    def user(self, role: str) -> User | None:
        return {
            "anonymous": None,
            "advocate": self.owner.user,
            "other_advocate": self.other.user,
            "staff": self.staff,
            "admin": self.admin,
        }[role]


def build_world() -> World:
    taxonomy.load_defaults()
    owner = AdvocateFactory(
        user=UserFactory(name="Olivia Owner", email="olivia@owner-bank.example"),
        account=AccountFactory(name="Owner Bank", domain="owner-bank.example"),
        story="Olivia's own story",
    )
    other = AdvocateFactory(
        user=UserFactory(name="Oscar Other", email="oscar@other-telco.example"),
        account=AccountFactory(name="Other Telco", domain="other-telco.example"),
        story="Oscar's own story",
    )
    # The owner's own decision in the queue: a new job title waiting for approval.
    proposal = profiles.profile_of(owner)
    proposal.job_title = "Chief Payments Officer"
    change = profiles.update_profile(owner.user, owner, owner.user.name, proposal)
    item = db.session.scalar(select(QueueItem).where(QueueItem.subject_id == change.id))
    batch = ImportBatch(
        created_by_id=AdminFactory().id,
        filename="advocates.csv",
        content="email,name,company\nnew.person@imported.example,New Person,Imported Co\n",
    )
    db.session.add(batch)
    token = job_change_token(owner, "olivia@brand-new.example")
    notify.notify(owner.user, NotificationCategory.DECISIONS, "Something for Olivia")
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == owner.user.email).order_by(OutboxMessage.id.desc())
    ).first()
    world = World(
        owner=owner,
        other=other,
        staff=StaffFactory(),
        admin=AdminFactory(),
        item=item,
        batch=batch,
        term=taxonomy.terms(TermKind.PRODUCT)[0],
        activity_id=taxonomy.activity_types()[0].id,
        region=named(Region, "Central America"),
        token=token,
        unsubscribe=unsubscribe_path(message),
    )
    commit()  # a view that rolls back must not take the test's own records with it
    return world


# --- form data ------------------------------------------------------------------------------


def term_ids(kind: TermKind, *names: str) -> list[str]:
    return [str(named(Term, name).id) for name in names] if names else []


def profile_data(**overrides) -> dict:
    """Valid values for the profile fields shared by /join and /profile (needs the default
    taxonomies); an override of None leaves the field out."""
    data = {
        "job_title": "Head of Payments",
        "seniority": "director",
        "department": "Operations",
        "industry": str(named(Term, "Financial services").id),
        "country": "PA",
        "languages": ["es", "en"],
        "time_zone": "America/Panama",
        "products": term_ids(TermKind.PRODUCT, "Payments Gateway", "Analytics Cloud"),
        "use_cases": term_ids(TermKind.USE_CASE, "Fraud prevention"),
        "activity_types": [
            str(a.id) for a in db.session.scalars(select(ActivityType).where(ActivityType.key.in_(["reference_call", "quote"])))
        ],
        "story": "We cut fraud losses by 40% in a year.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def join_data(**overrides) -> dict:
    return profile_data(
        **{"name": "Ana Ruiz", "email": "ana.ruiz@bancoistmeno.example", "company": "Banco Istmeño", **overrides}
    )


# --- reading pages --------------------------------------------------------------------------


def error_beside(html: str, action: str | None, name: str) -> str | None:
    """The error shown beside field ``name`` of the form posting to ``action``. A single
    control must be marked invalid and point at its error (``field_error``); a group of
    checkboxes or radio buttons is a fieldset that points at the error."""
    page = parse(html)
    controls = [
        e
        for e in page.elements
        if e.form is not None and e.form.action == action and e.attrs.get("name") == name
        and e.tag in ("input", "select", "textarea")
    ]
    assert controls, f"no field {name!r} in the form posting to {action!r}"
    if len(controls) == 1:
        return field_error(html, action, name)
    error_id = controls[0].attrs["id"].rsplit("-", 1)[0] + "-error"
    errors = [e for e in page.elements if e.attrs.get("id") == error_id]
    if not errors:
        return None
    [error] = errors
    assert "field-error" in error.attrs.get("class", "").split()
    groups = [e for e in page.elements if e.tag == "fieldset" and error_id in e.attrs.get("aria-describedby", "").split()]
    assert len(groups) == 1, f"no fieldset points at #{error_id}"
    return " ".join(error.text.split())


def invalid_fields(html: str) -> set[str]:
    """The ids of every field error on the page, without the ``-error`` suffix."""
    return {
        e.attrs["id"].removesuffix("-error")
        for e in parse(html).elements
        if "field-error" in e.attrs.get("class", "").split() and e.attrs.get("id")
    }


def refused(response, action: str | None, field: str, message: str, *, status: int = 422) -> None:
    """The form came back with ``message`` beside ``field`` and beside no other field."""
    assert response.status_code == status, response.text[:2000]
    error = error_beside(response.text, action, field)
    assert error is not None, f"no error beside {field!r}"
    assert message in error
    assert len(invalid_fields(response.text)) == 1, invalid_fields(response.text)


def text_of(html: str) -> str:
    """The page's text, whitespace collapsed, as a reader sees it."""
    return " ".join(parse(html).elements[0].text.split())


def flashes(html: str) -> list[str]:
    return [" ".join(e.text.split()) for e in parse(html).elements if "flash" in e.attrs.get("class", "").split()]


# --- counting SQL ---------------------------------------------------------------------------


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def queries_to_render(client, path: str) -> list[str]:
    """The statements one GET of ``path`` sends, starting from an empty session as every
    real request does (objects the test made would otherwise hide lazy loads)."""
    commit()
    db.session.expunge_all()
    with statements() as sent:
        response = client.get(path)
    assert response.status_code == 200, response.text
    return [s for s in sent if not s.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO"))]
