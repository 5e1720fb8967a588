"""The advocate's own profile: edits, re-approval of key fields, freshness, job changes."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Select, func, or_, select

from portal.database import db, utcnow
from portal.models import (
    Account,
    Advocate,
    AdvocateStatus,
    ChangeStatus,
    ConsentChange,
    NominationSource,
    NotificationCategory,
    PointsSource,
    ProfileChange,
    QueueKind,
    Term,
    User,
    normalise_email,
)
from portal.services import approvals, audit, consent, nominations, points
from portal.services.auth import find_user
from portal.services.errors import DomainError
from portal.services.nominations import Profile, apply_profile, profile_of
from portal.services.notify import email_user, notify
from portal.urls import external_url

# Changes to these wait for the team's approval once an advocate is approved; the approved
# values stay in force (and published) meanwhile. The company changes through a job change.
KEY_FIELDS = ("job_title", "product_ids")
KEY_FIELD_LABELS = {"job_title": "Job title", "product_ids": "Products"}
JOB_CHANGE_MAX_AGE = 7 * 24 * 3600


def _own(actor: User, advocate: Advocate) -> None:
    if actor.id != advocate.user_id:
        raise DomainError("You can only change your own profile.")
    if not advocate.is_current:
        raise DomainError("This profile belongs to a company you have left.")


def pending_change(advocate: Advocate) -> ProfileChange | None:
    return db.session.scalar(
        select(ProfileChange).where(
            ProfileChange.advocate_id == advocate.id, ProfileChange.status == ChangeStatus.PENDING
        )
    )


def update_profile(actor: User, advocate: Advocate, name: str, profile: Profile) -> ProfileChange | None:
    """Apply the edit. For an approved advocate, changed key fields go to the queue instead
    (returned as the pending change); everything else applies at once."""
    _own(actor, advocate)
    name = name.strip()
    if not name:
        raise DomainError("Enter your name.", field="name")
    actor.name = name
    current = profile_of(advocate)
    proposed = asdict(profile)
    held: dict = {}
    if advocate.status is AdvocateStatus.APPROVED:
        approved = asdict(current)
        for key in KEY_FIELDS:
            if _differs(approved[key], proposed[key]):
                held[key] = proposed[key]
                proposed[key] = approved[key]
    apply_profile(advocate, Profile(**proposed))
    db.session.flush()
    if not held:
        return None
    previous = pending_change(advocate)
    if previous is not None:  # the newest proposal replaces an undecided one
        previous.status = ChangeStatus.SUPERSEDED
        approvals.withdraw_open_items(advocate, QueueKind.PROFILE_CHANGE)
        db.session.flush()
    change = ProfileChange(advocate_id=advocate.id, changes=held)
    db.session.add(change)
    db.session.flush()
    approvals.open_item(
        QueueKind.PROFILE_CHANGE, advocate, change.id, summary=", ".join(KEY_FIELD_LABELS[k] for k in held)
    )
    return change


def _differs(old, new) -> bool:
    if isinstance(new, list):
        return sorted(old) != sorted(new)
    return old != new


def describe_change(change: ProfileChange) -> list[tuple[str, str, str]]:
    """(field, approved value, proposed value) for showing a change to people."""
    advocate = change.advocate
    rows = []
    for key, new in change.changes.items():
        if key == "product_ids":
            names = dict(db.session.execute(select(Term.id, Term.name).where(Term.id.in_(new))).all())
            rows.append(
                (KEY_FIELD_LABELS[key], ", ".join(t.name for t in advocate.products) or "—",
                 ", ".join(names.get(i, "?") for i in new) or "—")
            )
        else:
            rows.append((KEY_FIELD_LABELS[key], getattr(advocate, key) or "—", new or "—"))
    return rows


@approvals.handles(QueueKind.PROFILE_CHANGE)
def _decide_change(actor: User, item, approve: bool, reason: str) -> tuple[User, str]:
    change = db.session.get(ProfileChange, item.subject_id)
    if change is None or change.status is not ChangeStatus.PENDING:
        raise DomainError("This change is no longer waiting for a decision.")
    if approve:
        profile = profile_of(change.advocate)
        for key, value in change.changes.items():
            setattr(profile, key, value)
        apply_profile(change.advocate, profile)
        change.status = ChangeStatus.APPROVED
        db.session.flush()
        return change.advocate.user, "Your profile change is approved"
    change.status = ChangeStatus.REJECTED
    db.session.flush()
    return change.advocate.user, "Your profile change was not approved"


# --- freshness ------------------------------------------------------------------------------


def confirm_interval() -> timedelta:
    return timedelta(days=current_app.config["PROFILE_CONFIRM_DAYS"])


def confirm_details(actor: User, advocate: Advocate) -> None:
    _own(actor, advocate)
    # Confirming earns points when the confirmation was due (the reminder asked for it), not
    # at every click of the button.
    was_due = is_stale(advocate)
    advocate.last_confirmed_at = utcnow()
    advocate.freshness_reminded_at = None
    db.session.flush()
    event = audit.record(actor, "profile.confirmed", advocate, f"Advocate #{advocate.id} confirmed their profile", due=was_due)
    if was_due:
        db.session.flush()
        points.award(advocate, PointsSource.PROFILE_CONFIRMED, event.id, actor=actor)


def is_stale(advocate: Advocate) -> bool:
    confirmed = advocate.last_confirmed_at or advocate.created_at
    return advocate.status is AdvocateStatus.APPROVED and utcnow() - confirmed > confirm_interval()


def stale_condition(now=None):
    cutoff = (now or utcnow()) - confirm_interval()
    return func.coalesce(Advocate.last_confirmed_at, Advocate.created_at) < cutoff


def remind_stale(limit: int = 500) -> int:
    """Ask approved advocates whose profile is older than the interval to confirm it; once
    per interval at most. Returns how many were reminded."""
    now = utcnow()
    due: Select = (
        select(Advocate)
        .where(
            Advocate.status == AdvocateStatus.APPROVED,
            stale_condition(now),
            or_(Advocate.freshness_reminded_at.is_(None), Advocate.freshness_reminded_at < now - confirm_interval()),
        )
        .order_by(Advocate.id)
        .limit(limit)
    )
    advocates = db.session.scalars(due).all()
    for advocate in advocates:
        advocate.freshness_reminded_at = now
        notify(
            advocate.user,
            NotificationCategory.REMINDERS,
            "Are your details still right?",
            "Please take a minute to confirm or update your advocate profile, so we only ask you for what fits.",
            link_endpoint="advocate.profile",
        )
    db.session.flush()
    return len(advocates)


# --- job change -----------------------------------------------------------------------------


def _job_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="job-change")


def report_job_change(actor: User, advocate: Advocate, company: str, email: str, job_title: str) -> Advocate | None:
    """The advocate moved to another company. With the same sign-in address the move happens
    now; a new work address must first be verified by a link sent to it."""
    _own(actor, advocate)
    company, job_title, email = company.strip(), job_title.strip(), normalise_email(email)
    if not company:
        raise DomainError("Enter your new company.", field="company")
    if email == actor.email:
        return move_to_company(actor, advocate, company, job_title)
    other = find_user(email)
    if other is not None and other.id != actor.id:
        raise DomainError("That address already belongs to another account. Contact the advocacy team.", field="email")
    token = _job_serializer().dumps({"u": actor.id, "a": advocate.id, "e": email, "c": company, "t": job_title})
    email_user(
        actor,
        "Confirm your new work email",
        "job_change",
        company=company,
        url=external_url("advocate.confirm_job_change", token=token),
        to=email,  # the link goes to the new address: that is what it verifies
    )
    return None


def read_job_change_token(actor: User, token: str) -> dict:
    try:
        data = _job_serializer().loads(token, max_age=JOB_CHANGE_MAX_AGE)
    except BadSignature as exc:
        raise DomainError("This confirmation link is not valid or has expired.") from exc
    if data.get("u") != actor.id:
        raise DomainError("This confirmation link belongs to another account.")
    return data


def confirm_job_change(actor: User, token: str) -> Advocate:
    data = read_job_change_token(actor, token)
    advocate = db.session.get(Advocate, data["a"])
    if advocate is None or not advocate.is_current:
        raise DomainError("This job change has already been recorded.")
    other = find_user(data["e"])
    if other is not None and other.id != actor.id:
        raise DomainError("That address already belongs to another account. Contact the advocacy team.")
    actor.email = data["e"]
    return move_to_company(actor, advocate, data["c"], data["t"])


def move_to_company(actor: User, advocate: Advocate, company: str, job_title: str) -> Advocate:
    """History and points stay with the person; the old membership lapses with its consents;
    a new one for the new company goes through approval."""
    _own(actor, advocate)
    # A sign-in address still at the old company's domain says nothing about the new company.
    email = actor.email if nominations.email_domain(actor.email) != advocate.account.domain else ""
    account: Account = nominations.find_or_create_account(company, email, advocate.industry_id, advocate.country)
    if account.id == advocate.account_id:
        raise DomainError("That is the company you are with now.", field="company")
    profile = profile_of(advocate)
    profile.job_title = job_title
    consent.end_all(advocate, ConsentChange.LAPSED, actor, "job change")
    approvals.withdraw_open_items(advocate)
    for change in db.session.scalars(
        select(ProfileChange).where(ProfileChange.advocate_id == advocate.id, ProfileChange.status == ChangeStatus.PENDING)
    ):
        change.status = ChangeStatus.SUPERSEDED
    advocate.status = AdvocateStatus.LAPSED
    db.session.flush()  # the old record stops being current before the new one exists
    new = Advocate(
        user=actor,
        account=account,
        status=AdvocateStatus.PENDING,
        source=NominationSource.SELF,
        previous_id=advocate.id,
        nomination_reason=f"Moved from {advocate.account.name}.",
    )
    db.session.add(new)
    apply_profile(new, profile)
    db.session.flush()
    nominations.submit_for_approval(new, QueueKind.NOMINATION)
    audit.record(actor, "advocate.job_change", new, f"Advocate #{advocate.id} moved; new record #{new.id}")
    return new
