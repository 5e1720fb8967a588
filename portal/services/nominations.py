"""How people enter the program: self-nomination at /join, nomination by staff, and the
customer's confirmation of an invitation. A person has one current advocate record: a
second nomination for the same email merges into it, also when both arrive at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.database import db, utcnow
from portal.models import (
    CURRENT_STATUSES,
    Account,
    ActivityType,
    Advocate,
    AdvocateStatus,
    NominationSource,
    PointsSource,
    QueueKind,
    Role,
    Seniority,
    Term,
    User,
    normalise_email,
)
from portal.services import approvals, audit, points
from portal.services.auth import LinkPurpose, find_user, sign_in_url
from portal.services.errors import DomainError
from portal.services.notify import email_user

# Addresses at these domains say nothing about the company someone works for.
PUBLIC_EMAIL_DOMAINS = frozenset(
    "gmail.com googlemail.com outlook.com hotmail.com live.com yahoo.com icloud.com me.com "
    "aol.com proton.me protonmail.com gmx.de gmx.net web.de mail.com yandex.ru".split()
)


@dataclass
class Profile:
    """The descriptive fields of an advocate, as a form or an import row gives them."""

    job_title: str = ""
    seniority: Seniority | None = None
    department: str = ""
    industry_id: int | None = None
    country: str | None = None
    languages: list[str] = field(default_factory=list)
    time_zone: str = "UTC"
    story: str = ""
    product_ids: list[int] = field(default_factory=list)
    use_case_ids: list[int] = field(default_factory=list)
    activity_type_ids: list[int] = field(default_factory=list)


def apply_profile(advocate: Advocate, profile: Profile) -> None:
    advocate.job_title = profile.job_title
    advocate.seniority = profile.seniority
    advocate.department = profile.department
    advocate.industry_id = profile.industry_id
    advocate.country = profile.country
    advocate.languages = list(profile.languages)
    advocate.time_zone = profile.time_zone or "UTC"
    advocate.story = profile.story
    advocate.products = _terms(profile.product_ids)
    advocate.use_cases = _terms(profile.use_case_ids)
    advocate.activity_types = _activity_types(profile.activity_type_ids)


def profile_of(advocate: Advocate) -> Profile:
    return Profile(
        job_title=advocate.job_title,
        seniority=advocate.seniority,
        department=advocate.department,
        industry_id=advocate.industry_id,
        country=advocate.country,
        languages=list(advocate.languages or []),
        time_zone=advocate.time_zone,
        story=advocate.story,
        product_ids=[t.id for t in advocate.products],
        use_case_ids=[t.id for t in advocate.use_cases],
        activity_type_ids=[a.id for a in advocate.activity_types],
    )


def _terms(ids: list[int]) -> list[Term]:
    return list(db.session.scalars(select(Term).where(Term.id.in_(ids)))) if ids else []


def _activity_types(ids: list[int]) -> list[ActivityType]:
    return list(db.session.scalars(select(ActivityType).where(ActivityType.id.in_(ids)))) if ids else []


# --- people and companies -------------------------------------------------------------------


def email_domain(email: str) -> str | None:
    domain = normalise_email(email).rpartition("@")[2]
    return None if not domain or domain in PUBLIC_EMAIL_DOMAINS else domain


def get_or_create_user(email: str, name: str) -> User:
    """The person with this email, created if new. Two requests creating the same person at
    once both end with the one row: the loser's insert fails on the unique email and it
    reads the winner's row."""
    user = find_user(email)
    if user is not None:
        return user
    try:
        with db.session.begin_nested():
            user = User(email=email, name=name.strip(), role=Role.ADVOCATE)
            db.session.add(user)
    except IntegrityError:
        user = find_user(email)
        if user is None:  # pragma: no cover - the unique violation came from elsewhere
            raise
    return user


def find_or_create_account(company: str, email: str, industry_id: int | None, country: str | None) -> Account:
    """Match by the email's company domain, then by name (any case); else a new account."""
    domain = email_domain(email)
    if domain:
        account = db.session.scalar(select(Account).where(Account.domain == domain))
        if account is not None:
            return account
    account = db.session.scalar(
        select(Account).where(func.lower(Account.name) == company.strip().lower()).order_by(Account.id).limit(1)
    )
    if account is not None:
        return account
    try:
        with db.session.begin_nested():
            account = Account(name=company.strip(), domain=domain, industry_id=industry_id, country=country)
            db.session.add(account)
    except IntegrityError:  # the same new company arrived at the same moment
        account = db.session.scalar(select(Account).where(Account.domain == domain))
        if account is None:  # pragma: no cover
            raise
    return account


def current_advocate(user: User, *, lock: bool = False) -> Advocate | None:
    query = select(Advocate).where(Advocate.user_id == user.id, Advocate.status.in_(CURRENT_STATUSES))
    if lock:
        query = query.with_for_update(of=Advocate)
    return db.session.scalar(query)


def _create_advocate(user: User, account: Account, **values) -> tuple[Advocate, bool]:
    """A new current advocate record for ``user``, or the existing one when another request
    created it first (the partial unique index allows one current record per person)."""
    try:
        with db.session.begin_nested():
            advocate = Advocate(user=user, account=account, **values)
            db.session.add(advocate)
        return advocate, True
    except IntegrityError:
        existing = current_advocate(user, lock=True)
        if existing is None:  # pragma: no cover
            raise
        return existing, False


# --- self-nomination ------------------------------------------------------------------------


def self_nominate(name: str, email: str, company: str, profile: Profile) -> Advocate | None:
    """Record a nomination from /join and email a link that verifies the address.

    The form is public, so it never changes a record someone has verified: for a person who
    is already in the program it only sends them an email explaining where they stand.
    """
    email = normalise_email(email)
    user = get_or_create_user(email, name)
    if user.role is not Role.ADVOCATE or not user.active:
        return None  # a team member's or a closed account's address: nothing to do
    existing = current_advocate(user, lock=True)
    reopen = existing is not None and existing.status in (
        AdvocateStatus.UNVERIFIED,
        AdvocateStatus.REJECTED,
        AdvocateStatus.DECLINED,
    )
    if existing is not None and not reopen:
        _email_existing(existing)
        return existing

    account = find_or_create_account(company, email, profile.industry_id, profile.country)
    if existing is None:
        advocate, created = _create_advocate(
            user, account, status=AdvocateStatus.UNVERIFIED, source=NominationSource.SELF
        )
        if not created and advocate.status is not AdvocateStatus.UNVERIFIED:
            _email_existing(advocate)
            return advocate
    else:
        advocate = existing
    # Unverified data may be replaced: only the address owner can take it further.
    if advocate.user.last_sign_in_at is None:
        advocate.user.name = name.strip()
    advocate.account = account
    advocate.status = AdvocateStatus.UNVERIFIED
    advocate.source = NominationSource.SELF
    apply_profile(advocate, profile)
    db.session.flush()
    email_user(
        user,
        "Confirm your email to complete your nomination",
        "verify_nomination",
        url=sign_in_url(user, purpose=LinkPurpose.VERIFY),
        advocate=advocate,
    )
    return advocate


def _email_existing(advocate: Advocate) -> None:
    """Someone submitted /join for a person who is already further along."""
    user = advocate.user
    purpose = LinkPurpose.INVITE if advocate.status is AdvocateStatus.INVITED else LinkPurpose.SIGN_IN
    email_user(
        user,
        "You are already part of the advocacy program",
        "already_nominated",
        advocate=advocate,
        url=sign_in_url(user, purpose=purpose),
    )


def on_email_verified(user: User) -> Advocate | None:
    """Called when a person proves their address by signing in with an emailed link: a
    self-nomination waiting for that proof now reaches the team."""
    advocate = current_advocate(user, lock=True)
    if advocate is None or advocate.status is not AdvocateStatus.UNVERIFIED:
        return advocate
    submit_for_approval(advocate, QueueKind.NOMINATION)
    return advocate


def submit_for_approval(advocate: Advocate, kind: QueueKind) -> None:
    advocate.status = AdvocateStatus.PENDING
    advocate.submitted_at = utcnow()
    db.session.flush()
    approvals.open_item(kind, advocate, advocate.id, summary=advocate.job_title)


# --- staff nomination -----------------------------------------------------------------------


@dataclass
class StaffNominationResult:
    advocate: Advocate
    created: bool
    message: str


def staff_nominate(
    actor: User, name: str, email: str, account: Account, reason: str, job_title: str = ""
) -> StaffNominationResult:
    """A team member nominates a customer contact; the customer is invited to confirm, complete
    the profile and consent. Nothing is published before they do."""
    if not actor.is_team:
        raise DomainError("Only the company's team can nominate customers.")
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why this customer would be a good advocate.", field="reason")
    email = normalise_email(email)
    user = get_or_create_user(email, name)
    if user.is_team:
        raise DomainError("This address belongs to a team member, not a customer.", field="email")
    advocate = current_advocate(user, lock=True)
    created = False
    if advocate is None:
        advocate, created = _create_advocate(
            user,
            account,
            status=AdvocateStatus.INVITED,
            source=NominationSource.STAFF,
            nominated_by_id=actor.id,
            nomination_reason=reason,
            job_title=job_title.strip(),
            invited_at=utcnow(),
        )
    if created or (advocate.status is AdvocateStatus.INVITED and advocate.invitation_expired_at is not None):
        if not created:  # the earlier invitation expired unanswered: this one starts afresh
            advocate.nominated_by_id = actor.id
            advocate.nomination_reason = f"{advocate.nomination_reason}\nNominated again by {actor.name}: {reason}".strip()
            advocate.invited_at = utcnow()
            advocate.invitation_reminders = 0
            advocate.invitation_expired_at = None
        db.session.flush()
        email_user(
            user,
            f"{actor.name} has nominated you for our customer advocacy program",
            "invitation",
            advocate=advocate,
            nominator=actor,
            reason=reason,
            url=sign_in_url(user, purpose=LinkPurpose.INVITE),
        )
        audit.record(actor, "nomination.staff", advocate, f"Nominated advocate #{advocate.id}", reason=reason)
        return StaffNominationResult(advocate, True, "The customer has been invited to confirm and give consent.")
    # The same person again: one record, with this nomination's reason added to it.
    note = f"Also nominated by {actor.name}: {reason}"
    advocate.nomination_reason = f"{advocate.nomination_reason}\n{note}".strip()
    if advocate.nominated_by_id is None:
        advocate.nominated_by_id = actor.id
    db.session.flush()
    audit.record(actor, "nomination.merged", advocate, f"Added a nomination to advocate #{advocate.id}", reason=reason)
    return StaffNominationResult(
        advocate, False, f"{user.name} is already in the program ({advocate.status.label}); your reason was added to their record."
    )


def confirm_invitation(actor: User, advocate: Advocate) -> None:
    if actor.id != advocate.user_id:
        raise DomainError("Only the invited customer can confirm the invitation.")
    # Someone who declined may change their mind: /home and /profile offer them to join.
    if advocate.status not in (AdvocateStatus.INVITED, AdvocateStatus.DECLINED):
        raise DomainError("This invitation has already been answered.")
    submit_for_approval(advocate, QueueKind.INVITATION)
    audit.record(actor, "invitation.confirmed", advocate, f"Advocate #{advocate.id} confirmed the invitation")


def decline_invitation(actor: User, advocate: Advocate) -> None:
    if actor.id != advocate.user_id:
        raise DomainError("Only the invited customer can decline the invitation.")
    if advocate.status is not AdvocateStatus.INVITED:
        raise DomainError("This invitation has already been answered.")
    advocate.status = AdvocateStatus.DECLINED
    advocate.decided_at = utcnow()
    db.session.flush()
    audit.record(actor, "invitation.declined", advocate, f"Advocate #{advocate.id} declined the invitation")


def staff_nominations(actor: User):
    """The nominations ``actor`` made, newest first (a query, for pagination)."""
    return (
        select(Advocate)
        .where(Advocate.nominated_by_id == actor.id)
        .order_by(Advocate.created_at.desc(), Advocate.id.desc())
    )


# --- invitations waiting for the customer ---------------------------------------------------

# Days after the invitation on which the customer is reminded, while it has not expired.
REMINDER_DAYS = (3, 10)


def _invitation_max_age() -> timedelta:
    """An invitation lasts as long as its link: ``INVITATION_LINK_MAX_AGE``."""
    return timedelta(seconds=current_app.config["INVITATION_LINK_MAX_AGE"])


def _invited_at():
    return func.coalesce(Advocate.invited_at, Advocate.created_at)


def _waiting_for_customer():
    return and_(Advocate.status == AdvocateStatus.INVITED, Advocate.source == NominationSource.STAFF)


def awaiting_customer():
    """Staff nominations the customer has not answered, oldest first, expired ones included
    (a query, for pagination)."""
    return (
        select(Advocate)
        .options(selectinload(Advocate.nominated_by))
        .where(_waiting_for_customer())
        .order_by(_invited_at(), Advocate.id)
    )


def invitation_expires_at(advocate: Advocate) -> datetime:
    return (advocate.invited_at or advocate.created_at) + _invitation_max_age()


def _compare_and_set(advocate: Advocate, expected, **values) -> bool:
    """Set ``values`` on a waiting invitation if it still is as ``expected``: True for the
    one transaction that did (another run at the same moment waits for it, then finds
    nothing to do)."""
    changed = db.session.execute(
        update(Advocate)
        .where(Advocate.id == advocate.id, expected, Advocate.status == AdvocateStatus.INVITED,
               Advocate.invitation_expired_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount:
        db.session.refresh(advocate)
    return bool(changed.rowcount)


def follow_up_invitations(now: datetime | None = None) -> tuple[int, int]:
    """Remind customers who have not answered a staff nomination (``REMINDER_DAYS`` after
    the invitation, each reminder once), and mark the invitations older than their link as
    expired, telling the nominator. Each step is a compare-and-set on the advocate's row, so
    two runs at once (or one run repeated) send nothing twice. Returns (reminded, expired)."""
    now = now or utcnow()
    max_age = _invitation_max_age()
    open_ = and_(_waiting_for_customer(), Advocate.invitation_expired_at.is_(None))
    expired = 0
    for advocate in db.session.scalars(select(Advocate).where(open_, _invited_at() <= now - max_age)).all():
        if not _compare_and_set(advocate, Advocate.invitation_expired_at.is_(None), invitation_expired_at=now):
            continue
        expired += 1
        audit.record(None, "invitation.expired", advocate, f"The invitation to advocate #{advocate.id} expired unanswered")
        if advocate.nominated_by is not None and advocate.nominated_by.active:
            email_user(
                advocate.nominated_by,
                f"Your nomination of {advocate.user.name} expired unanswered",
                "invitation_expired",
                advocate=advocate,
                invited_at=advocate.invited_at or advocate.created_at,
            )
    reminded = 0
    first_due = now - timedelta(days=REMINDER_DAYS[0])
    candidates = select(Advocate).where(
        open_,
        _invited_at() <= first_due,
        _invited_at() > now - max_age,
        Advocate.invitation_reminders < len(REMINDER_DAYS),
    )
    for advocate in db.session.scalars(candidates).all():
        age = now - (advocate.invited_at or advocate.created_at)
        due = sum(1 for days in REMINDER_DAYS if age >= timedelta(days=days))
        sent = advocate.invitation_reminders
        if due <= sent:
            continue
        # One email however many reminders fell due while the job did not run.
        if not _compare_and_set(advocate, Advocate.invitation_reminders == sent, invitation_reminders=due):
            continue
        reminded += 1
        email_user(
            advocate.user,
            "Reminder: your invitation to our customer advocacy program",
            "invitation_reminder",
            advocate=advocate,
            nominator=advocate.nominated_by,
            expires_at=invitation_expires_at(advocate),
            url=sign_in_url(advocate.user, purpose=LinkPurpose.INVITE),
        )
    db.session.flush()
    return reminded, expired


@approvals.handles(QueueKind.NOMINATION)
@approvals.handles(QueueKind.INVITATION)
def _decide_membership(actor: User, item, approve: bool, reason: str) -> tuple[User, str]:
    advocate = item.advocate
    if advocate.status is not AdvocateStatus.PENDING:
        raise DomainError(f"This advocate is {advocate.status.label.lower()}, not waiting for approval.")
    now = utcnow()
    advocate.decided_at = now
    if approve:
        advocate.status = AdvocateStatus.APPROVED
        advocate.last_confirmed_at = advocate.last_confirmed_at or now
        db.session.flush()
        points.award(advocate, PointsSource.NOMINATION_APPROVED, advocate.id, actor=actor)
        return advocate.user, "Welcome to the advocacy program: your membership is approved"
    advocate.status = AdvocateStatus.REJECTED
    db.session.flush()
    return advocate.user, "Your nomination to the advocacy program was not accepted"
