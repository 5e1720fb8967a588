"""Consent per purpose. Only the advocate gives or withdraws it; every change is a dated
record of the wording version shown; a withdrawal is in force the moment it is saved."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.database import db, utcnow
from portal.models import Advocate, Consent, ConsentChange, ConsentEvent, ConsentPurpose, User
from portal.services.errors import DomainError


@dataclass(frozen=True)
class Wording:
    version: int
    label: str
    text: str


# Every wording ever shown stays here, so the history can show what each person agreed to.
# To change a wording, add a new version at the end of its list; never edit an old one.
WORDINGS: dict[ConsentPurpose, list[Wording]] = {
    ConsentPurpose.REFERENCE_CALLS: [
        Wording(1, "Reference calls with prospects",
                "Our sales team may share my name, title and company with a prospective customer and ask me to take a reference call with them, within my contact limits."),
    ],
    ConsentPurpose.CASE_STUDY: [
        Wording(1, "Case study publication",
                "My story may be published as a case study naming me and my company, after I have reviewed and approved the final text."),
    ],
    ConsentPurpose.QUOTE: [
        Wording(1, "Quotes and testimonials",
                "Quotes I have approved may be used with my name, title and company on the website, in presentations and in marketing material."),
    ],
    ConsentPurpose.LOGO: [
        Wording(1, "Logo use",
                "My company's logo may be shown as a customer reference. (Check that you are allowed to grant this for your company.)"),
    ],
    ConsentPurpose.SPEAKING: [
        Wording(1, "Speaking at events",
                "I may be invited to speak at events and webinars, and my name and title may appear in the event programme."),
    ],
    ConsentPurpose.MEDIA: [
        Wording(1, "Media and analyst interviews",
                "My contact details may be passed to journalists and industry analysts for interviews I have agreed to."),
    ],
    ConsentPurpose.PEER_REVIEW: [
        Wording(1, "Peer-review outreach",
                "I may be invited to write reviews on independent review platforms. Rewards never depend on what I write."),
    ],
    ConsentPurpose.ADVISORY_BOARD: [
        Wording(1, "Advisory-board contact",
                "The advocacy team may contact me about customer advisory boards and share my profile with board members."),
    ],
    ConsentPurpose.PROGRAM_EMAILS: [
        Wording(1, "Program emails",
                "I would like to receive news about the advocacy program, such as new campaigns, events and rewards."),
    ],
}


def current_wording(purpose: ConsentPurpose) -> Wording:
    return WORDINGS[purpose][-1]


def wording(purpose: ConsentPurpose, version: int) -> Wording | None:
    return next((w for w in WORDINGS[purpose] if w.version == version), None)


def consents_of(advocate: Advocate) -> dict[ConsentPurpose, Consent]:
    rows = db.session.scalars(select(Consent).where(Consent.advocate_id == advocate.id))
    return {row.purpose: row for row in rows}


def granted_purposes(advocate: Advocate) -> set[ConsentPurpose]:
    return {purpose for purpose, row in consents_of(advocate).items() if row.granted}


def has_consent(advocate: Advocate, purpose: ConsentPurpose) -> bool:
    return bool(
        db.session.scalar(
            select(Consent.granted).where(Consent.advocate_id == advocate.id, Consent.purpose == purpose)
        )
    )


def history(advocate: Advocate) -> list[ConsentEvent]:
    return list(
        db.session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.advocate_id == advocate.id)
            .order_by(ConsentEvent.created_at.desc(), ConsentEvent.id.desc())
        )
    )


def set_consents(actor: User, advocate: Advocate, granted: set[ConsentPurpose], context: str = "profile") -> list[ConsentEvent]:
    """Make exactly ``granted`` the purposes in force; returns the events recorded."""
    if actor.id != advocate.user_id:
        raise DomainError("Only the advocate can give or withdraw their consent.")
    if not advocate.is_current:
        raise DomainError("Consent can only be given for your current company.")
    existing = consents_of(advocate)
    events = []
    for purpose in ConsentPurpose:
        want = purpose in granted
        row = existing.get(purpose)
        if (row.granted if row else False) == want:
            continue
        change = ConsentChange.GRANTED if want else ConsentChange.WITHDRAWN
        events.append(_change(advocate, purpose, want, change, actor, context, row))
    db.session.flush()
    return events


def end_all(advocate: Advocate, change: ConsentChange, actor: User | None, context: str) -> None:
    """Every consent in force ends (job change: lapsed; account deleted: erased)."""
    for purpose, row in consents_of(advocate).items():
        if row.granted:
            _change(advocate, purpose, False, change, actor, context, row)
    db.session.flush()


def _change(advocate, purpose, granted, change, actor, context, row) -> ConsentEvent:
    version = current_wording(purpose).version if granted or row is None else row.wording_version
    now = utcnow()
    if row is None:
        row = Consent(advocate_id=advocate.id, purpose=purpose)
        db.session.add(row)
    row.granted = granted
    row.wording_version = version
    row.updated_at = now
    event = ConsentEvent(
        advocate_id=advocate.id,
        purpose=purpose,
        change=change,
        wording_version=version,
        actor_id=actor.id if actor else None,
        created_at=now,
        context=context,
    )
    db.session.add(event)
    return event
