"""Erasure is complete: a person with data in every table is erased, then every text column
of every table (read from the metadata, so a new table is scanned the day it is added) is
searched for their name, their email and every text they wrote or that was written about
them. A board seat they held goes to the waitlist."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import JSON, LargeBinary, String, Text, func, select

from portal.database import db, utcnow
from portal.models import (
    ActivityWeight,
    ApiToken,
    Ask,
    AuditEvent,
    Blackout,
    BoardMeeting,
    BoardSeat,
    CampaignParticipation,
    CheckTrigger,
    ConsentPurpose,
    CoverageTarget,
    DemandSource,
    FiguresVersion,
    ImportBatch,
    MeetingResponse,
    Notification,
    NotificationCategory,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    PlatformIncentiveCap,
    PointsEntry,
    PointsSource,
    ProfileChange,
    ProgramReport,
    ProgramSettings,
    QueueItem,
    QueueKind,
    ReferenceCheck,
    ReferenceRequest,
    Region,
    RegionCountry,
    ReviewPlatform,
    ReviewProof,
    RewardClaim,
    RewardSettings,
    SeatStatus,
    TermKind,
    UnmetDemand,
    Upload,
    UserIdentity,
)
from portal.services import boards, consent, privacy
from tests.factories import (
    ActivityTypeFactory,
    AdminFactory,
    AdvocateFactory,
    BoardFactory,
    CampaignFactory,
    RewardFactory,
    StaffFactory,
    TermFactory,
    UserFactory,
    board_applicant,
)

NAME = "Zelda Quixote"
EMAIL = "zelda.quixote@erasure-customer.example"


def secret(field: str) -> str:
    """A free text only this person's data holds, named after where it was written."""
    return f"zq-secret-{field}"


def person_with_data_everywhere():
    """The person, with a row of theirs (or about them) in every table, and the team's rows
    that the schema needs around them."""
    admin = AdminFactory(name="Ada Admin")
    staff = StaffFactory(name="Sam Seller")
    product = TermFactory(name="Ledger Cloud")
    industry = TermFactory(name="Banking", kind=TermKind.INDUSTRY)
    use_case = TermFactory(name="Payroll", kind=TermKind.USE_CASE)
    activity = ActivityTypeFactory(name="Reference call", weight=ActivityWeight.LIGHT)
    region = Region(name="Central America", countries=[RegionCountry(country="PA")])
    db.session.add_all([region, ProgramSettings(), RewardSettings(),
                        PlatformIncentiveCap(platform=ReviewPlatform.G2, max_gift_value=Decimal("25"))])

    user = UserFactory(name=NAME, email=EMAIL, display_name=secret("display"), email_preferences={"programs": "digest"})
    advocate = AdvocateFactory(
        user=user, nominated_by=staff, nomination_reason=secret("nomination"), job_title=secret("job"),
        department=secret("department"), story=secret("story"), phone="+507 6000-1234", industry=industry,
        products=[product], use_cases=[use_case], activity_types=[activity], languages=["es"],
    )
    consent.set_consents(user, advocate, {ConsentPurpose.REFERENCE_CALLS, ConsentPurpose.ADVISORY_BOARD})
    them = advocate.id
    db.session.add_all([
        ProfileChange(advocate_id=them, changes={"job_title": secret("proposed-job")}),
        Blackout(advocate_id=them, starts_on=date(2027, 1, 1), ends_on=date(2027, 1, 9), note=secret("blackout")),
        QueueItem(kind=QueueKind.NOMINATION, advocate_id=them, subject_id=them, summary=secret("job"),
                  reason=secret("decision-reason")),
        Notification(user_id=user.id, category=NotificationCategory.DECISIONS, title=secret("notice"), body=secret("notice-body")),
        # What the team was told about them.
        Notification(user_id=admin.id, category=NotificationCategory.REQUESTS, title=f"{NAME} answered",
                     body=f"{NAME} <{EMAIL}> wrote: {secret('story')}"),
        OutboxMessage(kind=OutboxKind.EMAIL, recipient=EMAIL, subject=secret("mail-subject"), status=OutboxStatus.SENT,
                      payload={"to": EMAIL, "subject": secret("mail-subject"), "text": f"Hello {NAME}", "headers": {}}),
        OutboxMessage(kind=OutboxKind.EMAIL, recipient=EMAIL, subject=secret("pending-subject"),
                      payload={"to": EMAIL, "subject": secret("pending-subject"), "text": f"Hello {NAME}", "headers": {}}),
        OutboxMessage(kind=OutboxKind.EMAIL, recipient=staff.email, subject=f"{NAME} accepted your nomination",
                      status=OutboxStatus.SENT,
                      payload={"to": staff.email, "subject": f"{NAME} accepted", "text": f"{NAME} ({EMAIL}) said yes", "headers": {}}),
        AuditEvent(actor_id=admin.id, action="nomination.approved", subject_type="advocates", subject_id=them,
                   summary=f"Approved {NAME}", details={"email": EMAIL, "job_title": secret("job")}),
        ImportBatch(created_by_id=admin.id, filename="advocates.csv",
                    content=f"name,email,company\nOther Person,other@x.example,X\n{NAME},{EMAIL},Y\n"),
    ])

    ask = Ask(advocate_id=them, activity_type_id=activity.id, created_by_id=staff.id, prospect_company="Prospect Bank",
              due_on=date(2027, 2, 1), notes=secret("ask-notes"), override_reason=secret("override"),
              decline_reason=secret("decline"))
    request = ReferenceRequest(requested_by_id=staff.id, prospect_company="Prospect Bank", due_on=date(2027, 2, 1),
                               activity_type_id=activity.id)
    db.session.add_all([ask, request])

    board = BoardFactory(seat_count=1)
    seat = boards.apply(user, board, secret("motivation"))
    seat.status, seat.term_starts_on, seat.term_ends_on = SeatStatus.MEMBER, date.today(), date.today() + timedelta(days=365)
    waiting = board_applicant()
    boards.apply(waiting.user, board, "I would bring the view of a small bank.").status = SeatStatus.WAITLISTED
    meeting = BoardMeeting(board=board, title="Roadmap review", starts_at=utcnow() + timedelta(days=9))
    db.session.add(meeting)
    db.session.flush()
    db.session.add(MeetingResponse(meeting_id=meeting.id, seat_id=seat.id))

    campaign = CampaignFactory()
    participation = CampaignParticipation(campaign=campaign, advocate_id=them)
    screenshot = Upload(uploaded_by_id=user.id, mimetype="image/png", filename=secret("screenshot.png"), size=3,
                        sha256="0" * 64, content=b"png")
    db.session.add_all([participation, screenshot])
    db.session.flush()
    db.session.add(ReviewProof(participation_id=participation.id, review_url=f"https://g2.com/r/{secret('review')}",
                               screenshot_id=screenshot.id, note=secret("proof-note"), reason=secret("proof-reason")))

    reward = RewardFactory(is_donation=True, charities=["Red Cross"])
    db.session.add(PointsEntry(user_id=user.id, advocate_id=them, points=500, balance_after=500,
                               source=PointsSource.MANUAL, actor_id=admin.id, reason=secret("award-reason")))
    db.session.flush()
    db.session.add(RewardClaim(reward_id=reward.id, user_id=user.id, advocate_id=them, points=100,
                               monetary_value=Decimal("20"), charity=secret("charity"),
                               delivery_note=secret("delivery"), reason=secret("claim-reason")))

    # The team's own rows, which the schema has whoever is erased.
    db.session.add_all([
        ApiToken(name="CRM", token_hash="1" * 64, prefix="ap_1234567", created_by_id=admin.id),
        CoverageTarget(combination="i-.r-.p-", target=5),
        UnmetDemand(source=DemandSource.SEARCH, criteria_key="p1", criteria={"products": [product.id]}),
        ProgramReport(year=2026, quarter=4),
        ReferenceCheck(repair=False, trigger=CheckTrigger.ADMIN),
        FiguresVersion(id=1, version=1),
    ])
    # Some providers' subject is the person's email address.
    db.session.add(UserIdentity(user_id=user.id, issuer="https://id.customer.example", subject=EMAIL))
    db.session.flush()
    texts = [NAME, EMAIL, "+507 6000-1234", "zq-secret"]
    return user, advocate, waiting, seat, texts


def text_columns():
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (String, Text, JSON)) and not isinstance(column.type, LargeBinary):
                yield table, column


def leftovers(texts: list[str]) -> list[str]:
    found = []
    for table, column in text_columns():
        for value in db.session.execute(select(column).select_from(table)).scalars():
            if value is None:
                continue
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            found += [f"{table.name}.{column.name}: {text!r} in {shown[:120]!r}"
                      for text in texts if text.lower() in shown.lower()]
    return found


def test_an_erased_person_leaves_no_text_of_theirs_in_any_table(db):
    user, advocate, _waiting, _seat, texts = person_with_data_everywhere()
    empty = [t.name for t in db.metadata.sorted_tables
             if db.session.scalar(select(func.count()).select_from(t)) == 0]
    assert not empty, f"give the person data in these tables too: {empty}"
    assert leftovers(texts)  # the scan finds what is there
    tracking = db.session.scalar(select(CampaignParticipation.token).where(CampaignParticipation.advocate_id == advocate.id))

    privacy.erase_account(user, user)
    db.session.flush()
    db.session.expire_all()

    # The tracking link is dead (the participation stays, with a token linked to nobody).
    assert db.session.scalar(select(CampaignParticipation).where(CampaignParticipation.token == tracking)) is None

    left = leftovers(texts)
    assert not left, "\n".join(left)


def test_kept_after_erasure_documents_what_stays(db):
    kept = " ".join(privacy.KEPT_AFTER_ERASURE).lower()
    for what in ("company", "points", "consent", "board", "review", "ask", "audit"):
        assert what in kept, what


def test_an_erased_member_s_seat_is_ended_and_offered_to_the_waitlist(db):
    user, _advocate, waiting, seat, _texts = person_with_data_everywhere()

    privacy.erase_account(user, user)
    db.session.flush()

    db.session.refresh(seat)
    assert seat.status is SeatStatus.ENDED and seat.ended_at is not None and seat.motivation == ""
    offered = db.session.scalar(select(BoardSeat).where(BoardSeat.advocate_id == waiting.id))
    assert offered.status is SeatStatus.OFFERED
    assert boards.members(seat.board) == []


def test_an_erased_applicant_leaves_the_waitlist(db):
    board = BoardFactory(seat_count=1)
    applicant = board_applicant()
    seat = boards.apply(applicant.user, board, "Because I care about payroll.")
    seat.status = SeatStatus.WAITLISTED

    privacy.erase_account(applicant.user, applicant.user)
    db.session.flush()

    db.session.refresh(seat)
    assert seat.status is SeatStatus.WITHDRAWN and seat.motivation == ""
