"""Helpers for the web tests of asks: the intake "world" plus asks, blackouts and a seller's
reference request, an advocate the rules allow to be asked, and valid form data for every
asks form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from portal.database import commit, db, utcnow
from portal.models import (
    ActivityType,
    Advocate,
    Ask,
    AskStatus,
    Blackout,
    ConsentPurpose,
    QueueItem,
    QueueKind,
    ReferenceRequest,
    Region,
    Term,
)
from portal.services import consent, references
from portal.services.contact_rules import local_date
from tests.web.intake import World, build_world, named

LONG_AGO = timedelta(days=200)  # outside every limit and cool-down: old asks count for nothing


def activity(key: str = "reference_call") -> ActivityType:
    return db.session.scalar(select(ActivityType).where(ActivityType.key == key))


def advocate_today(advocate: Advocate) -> date:
    return local_date(utcnow(), advocate.time_zone or "UTC")


def askable(advocate: Advocate) -> Advocate:
    """Open to reference calls and consenting to them: the rules allow asking them today."""
    advocate.activity_types = [activity()]
    consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})
    return advocate


def make_ask(advocate: Advocate, *, status: AskStatus = AskStatus.SENT, ago: timedelta = LONG_AGO,
             prospect: str = "Prospect Co", key: str = "reference_call", **values) -> Ask:
    ask = Ask(
        advocate=advocate,
        activity_type=activity(key),
        status=status,
        prospect_company=prospect,
        due_on=utcnow().date() + timedelta(days=14),
        created_at=utcnow() - ago,
        **values,
    )
    db.session.add(ask)
    db.session.flush()
    return ask


def make_blackout(advocate: Advocate, start_in: int = 10, days: int = 7) -> Blackout:
    today = utcnow().date()
    blackout = Blackout(advocate_id=advocate.id, starts_on=today + timedelta(days=start_in),
                        ends_on=today + timedelta(days=start_in + days), note="Holiday")
    db.session.add(blackout)
    db.session.flush()
    return blackout


def make_request(staff, prospect: str = "Seller Prospect", **values) -> ReferenceRequest:
    details = references.RequestDetails(
        prospect_company=prospect,
        due_on=utcnow().date() + timedelta(days=20),
        activity_type_id=activity().id,
        **values,
    )
    return references.create_request(staff, details)


def queue_item_of(request: ReferenceRequest) -> QueueItem:
    return db.session.scalar(
        select(QueueItem).where(QueueItem.kind == QueueKind.REFERENCE_REQUEST, QueueItem.subject_id == request.id)
    )


@dataclass
class AsksWorld:
    """The intake world (the owner is askable) with the owner's and the other advocate's asks
    and blackouts, and a seller's request that one of the owner's asks answers."""

    world: World
    ask: Ask  # the owner's, waiting for an answer
    accepted: Ask  # the owner's, accepted (the team may complete it)
    other_ask: Ask
    blackout: Blackout
    other_blackout: Blackout
    request: ReferenceRequest
    request_item: QueueItem

    def ids(self) -> dict[str, object]:
        return {
            **self.world.ids(),
            "ask": self.ask.id,
            "accepted": self.accepted.id,
            "other_ask": self.other_ask.id,
            "blackout": self.blackout.id,
            "other_blackout": self.other_blackout.id,
            "request": self.request.id,
            "request_item": self.request_item.id,
        }

    def user(self, role: str):
        return self.world.user(role)


def build_asks_world() -> AsksWorld:
    world = build_world()
    askable(world.owner)
    askable(world.other)
    request = make_request(world.staff)
    result = AsksWorld(
        world=world,
        ask=make_ask(world.owner, prospect="Olivia's Prospect", reference_request_id=request.id),
        accepted=make_ask(world.owner, status=AskStatus.ACCEPTED, prospect="Olivia's Accepted Prospect"),
        other_ask=make_ask(world.other, prospect="Oscar's Prospect"),
        blackout=make_blackout(world.owner),
        other_blackout=make_blackout(world.other),
        request=request,
        request_item=queue_item_of(request),
    )
    commit()  # a view that rolls back must not take the test's own records with it
    return result


# --- form data ------------------------------------------------------------------------------


def days_from_today(days: int) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()


def contact_data(**overrides) -> dict:
    """Valid values for POST /preferences/contact (field names without the ``contact-`` prefix)."""
    data = {
        "activity_types": [str(activity().id), str(activity("quote").id)],
        "month_limit": "",
        "quarter_limit": "",
        "channel": "email",
        "phone": "",
        "contact_days": ["1", "2", "3"],
        "hours_start": "9",
        "hours_end": "17",
        "paused_until": "",
        **overrides,
    }
    return {f"contact-{key}": value for key, value in data.items()}


def blackout_data(**overrides) -> dict:
    data = {"starts_on": days_from_today(30), "ends_on": days_from_today(40), "note": "Busy season", **overrides}
    return {f"blackout-{key}": value for key, value in data.items()}


def ask_data(**overrides) -> dict:
    return {
        "activity_type": str(activity().id),
        "prospect_company": "Banco Futuro",
        "opportunity_id": "OPP-42",
        "deal_size": "250000",
        "due_on": days_from_today(10),
        "notes": "They want to hear about fraud prevention.",
        "override_reason": "",
        **overrides,
    }


def settings_data(**overrides) -> dict:
    return {"month_limit": "1", "quarter_limit": "3", "light_cooldown_days": "14", "heavy_cooldown_days": "60", **overrides}


def request_data(**overrides) -> dict:
    return {
        "prospect_company": "Banco Futuro",
        "opportunity_id": "OPP-7",
        "deal_size": "120000",
        "due_on": days_from_today(20),
        "activity_type": str(activity().id),
        "how_many": "2",
        "products": [str(named(Term, "Payments Gateway").id)],
        "industry": str(named(Term, "Financial services").id),
        "region": str(named(Region, "Central America").id),
        "notes": "Core banking migration",
        **overrides,
    }
