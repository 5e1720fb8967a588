"""An advocate's contact preferences: what they are open to, how often, how and when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from portal.database import db, utcnow
from portal.models import ActivityType, Advocate, Blackout, Channel, User
from portal.services import availability
from portal.services.contact_rules import local_date
from portal.services.errors import DomainError


@dataclass
class ContactPreferences:
    activity_type_ids: list[int] = field(default_factory=list)
    month_limit: int | None = None
    quarter_limit: int | None = None
    channel: Channel = Channel.EMAIL
    phone: str = ""
    contact_days: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    hours_start: int = 9
    hours_end: int = 17
    paused_until: date | None = None


def _own(actor: User, advocate: Advocate) -> None:
    if actor.id != advocate.user_id:
        raise DomainError("Only the advocate can change their contact preferences.")
    if not advocate.is_current:
        raise DomainError("These preferences belong to a company you have left.")


def preferences_of(advocate: Advocate) -> ContactPreferences:
    return ContactPreferences(
        activity_type_ids=[a.id for a in advocate.activity_types],
        month_limit=advocate.month_limit,
        quarter_limit=advocate.quarter_limit,
        channel=advocate.preferred_channel,
        phone=advocate.phone,
        contact_days=list(advocate.contact_days or []),
        hours_start=advocate.contact_hours_start,
        hours_end=advocate.contact_hours_end,
        paused_until=advocate.paused_until,
    )


def update(actor: User, advocate: Advocate, prefs: ContactPreferences) -> None:
    """Validate and save; every problem names the field it belongs to."""
    _own(actor, advocate)
    program = availability.settings()
    if prefs.month_limit is not None:
        if prefs.month_limit < 0:
            raise DomainError("Enter 0 or more.", field="month_limit")
        if prefs.month_limit > program.month_limit:
            raise DomainError(f"The program allows at most {program.month_limit} a month; you can only choose fewer.", field="month_limit")
    if prefs.quarter_limit is not None:
        if prefs.quarter_limit < 0:
            raise DomainError("Enter 0 or more.", field="quarter_limit")
        if prefs.quarter_limit > program.quarter_limit:
            raise DomainError(f"The program allows at most {program.quarter_limit} a quarter; you can only choose fewer.", field="quarter_limit")
    month = program.month_limit if prefs.month_limit is None else prefs.month_limit
    quarter = program.quarter_limit if prefs.quarter_limit is None else prefs.quarter_limit
    if quarter < month:
        raise DomainError("A quarter has three months: allow at least as many a quarter as a month.", field="quarter_limit")
    if prefs.channel is Channel.PHONE and not prefs.phone.strip():
        raise DomainError("Enter the number to call, or choose email.", field="phone")
    if not 0 <= prefs.hours_start < prefs.hours_end <= 24:
        raise DomainError("The end of your contact hours must come after the start.", field="hours_end")
    if any(day not in range(1, 8) for day in prefs.contact_days):
        raise DomainError("Choose days of the week.", field="contact_days")
    today = local_date(utcnow(), advocate.time_zone or "UTC")
    if prefs.paused_until is not None and prefs.paused_until <= today and prefs.paused_until != advocate.paused_until:
        raise DomainError("Choose a date after today, or clear the pause.", field="paused_until")
    activity_types = (
        list(db.session.scalars(select(ActivityType).where(ActivityType.id.in_(prefs.activity_type_ids))))
        if prefs.activity_type_ids
        else []
    )
    advocate.activity_types = activity_types
    advocate.month_limit = prefs.month_limit
    advocate.quarter_limit = prefs.quarter_limit
    advocate.preferred_channel = prefs.channel
    advocate.phone = prefs.phone.strip()
    advocate.contact_days = sorted(set(prefs.contact_days))
    advocate.contact_hours_start = prefs.hours_start
    advocate.contact_hours_end = prefs.hours_end
    advocate.paused_until = prefs.paused_until
    db.session.flush()


def blackouts(advocate: Advocate) -> list[Blackout]:
    return list(
        db.session.scalars(select(Blackout).where(Blackout.advocate_id == advocate.id).order_by(Blackout.starts_on))
    )


def add_blackout(actor: User, advocate: Advocate, starts_on: date, ends_on: date, note: str = "") -> Blackout:
    _own(actor, advocate)
    if ends_on < starts_on:
        raise DomainError("The blackout must end on or after the day it starts.", field="ends_on")
    if ends_on < local_date(utcnow(), advocate.time_zone or "UTC"):
        raise DomainError("This blackout is already over.", field="ends_on")
    blackout = Blackout(advocate_id=advocate.id, starts_on=starts_on, ends_on=ends_on, note=note.strip()[:200])
    db.session.add(blackout)
    db.session.flush()
    return blackout


def remove_blackout(actor: User, advocate: Advocate, blackout_id: int) -> None:
    _own(actor, advocate)
    blackout = db.session.get(Blackout, blackout_id)
    if blackout is None or blackout.advocate_id != advocate.id:
        raise DomainError("No such blackout.")
    db.session.delete(blackout)
    db.session.flush()
