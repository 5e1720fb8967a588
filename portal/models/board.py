"""Customer advisory boards: the boards, the seats advocates apply for, meetings, and who
answered and came to each meeting."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db, enum_type, utcnow
from portal.models.advocate import Advocate


class Board(db.Model):
    __tablename__ = "boards"
    __table_args__ = (
        CheckConstraint("seat_count >= 1", name="seat_count_positive"),
        CheckConstraint("term_months BETWEEN 1 AND 60", name="term_months_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Who may apply, in words; the optional criteria below are checked with the directory's
    # filters (all the products, any of the industries, any of the regions).
    eligibility: Mapped[str] = mapped_column(Text, default="")
    product_ids: Mapped[list] = mapped_column(JSON, default=list)
    industry_ids: Mapped[list] = mapped_column(JSON, default=list)
    region_ids: Mapped[list] = mapped_column(JSON, default=list)
    seat_count: Mapped[int]
    term_months: Mapped[int] = mapped_column(default=12)
    open_for_applications: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SeatStatus(enum.StrEnum):
    """One advocate's way through a board: applied → member, waitlisted or rejected;
    waitlisted → offered (a seat freed) → member, declined or expired; member → ended."""

    APPLIED = "applied"  # waiting for the team's decision in the queue
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # a freed seat is held for them until the offer expires
    MEMBER = "member"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the advocate took the application back
    DECLINED = "declined"  # the advocate said no to an offered seat
    EXPIRED = "expired"  # an offered seat was not answered in time
    ENDED = "ended"  # the term ended, or the member left

    @property
    def label(self) -> str:
        return {
            "applied": "Waiting for the team's decision",
            "waitlisted": "On the waitlist",
            "offered": "A seat is offered to you",
            "member": "Member",
            "rejected": "Not accepted",
            "withdrawn": "Withdrawn",
            "declined": "Seat declined",
            "expired": "Offer expired",
            "ended": "Term ended",
        }[self.value]


# While in one of these a person holds (or waits for) a place: one such row per board.
ACTIVE_SEAT_STATUSES = (SeatStatus.APPLIED, SeatStatus.WAITLISTED, SeatStatus.OFFERED, SeatStatus.MEMBER)
# These take a seat: an offer holds one until it is answered.
SEAT_TAKING_STATUSES = (SeatStatus.MEMBER, SeatStatus.OFFERED)
_ACTIVE = "status IN ('applied', 'waitlisted', 'offered', 'member')"


class BoardSeat(db.Model):
    """An application for a seat and, once accepted, the membership with its term."""

    __tablename__ = "board_seats"
    __table_args__ = (
        Index(
            "uq_board_seats_active",
            "board_id",
            "advocate_id",
            unique=True,
            sqlite_where=text(_ACTIVE),
            postgresql_where=text(_ACTIVE),
        ),
        Index("ix_board_seats_board_status", "board_id", "status"),
        CheckConstraint("term_ends_on IS NULL OR term_ends_on > term_starts_on", name="term_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    advocate_id: Mapped[int] = mapped_column(ForeignKey("advocates.id", ondelete="CASCADE"), index=True)
    status: Mapped[SeatStatus] = mapped_column(enum_type(SeatStatus, "seat_status"), default=SeatStatus.APPLIED)
    motivation: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    waitlisted_at: Mapped[datetime | None]  # the waitlist's order
    offer_expires_at: Mapped[datetime | None]
    term_starts_on: Mapped[date | None] = mapped_column(Date)
    term_ends_on: Mapped[date | None] = mapped_column(Date)
    renewal_offered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    board: Mapped[Board] = relationship(lazy="joined", innerjoin=True)
    advocate: Mapped[Advocate] = relationship(lazy="joined", innerjoin=True)


class BoardMeeting(db.Model):
    __tablename__ = "board_meetings"
    __table_args__ = (
        Index("ix_board_meetings_board_starts", "board_id", "starts_at"),
        CheckConstraint("duration_minutes BETWEEN 15 AND 1440", name="duration_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]  # UTC; shown in each member's own time zone
    duration_minutes: Mapped[int] = mapped_column(default=60)
    place: Mapped[str] = mapped_column(String(300), default="")
    video_link: Mapped[str] = mapped_column(String(500), default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminded_at: Mapped[datetime | None]

    board: Mapped[Board] = relationship(lazy="joined", innerjoin=True)


class Rsvp(enum.StrEnum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"

    @property
    def label(self) -> str:
        return {"yes": "Yes", "no": "No", "maybe": "Maybe"}[self.value]


class MeetingResponse(db.Model):
    """A member's answer to a meeting invitation and, afterwards, whether they came (the
    row's id is the source of the attendance points, so they are awarded once)."""

    __tablename__ = "meeting_responses"
    __table_args__ = (UniqueConstraint("meeting_id", "seat_id", name="uq_meeting_responses_meeting_seat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("board_meetings.id", ondelete="CASCADE"))
    seat_id: Mapped[int] = mapped_column(ForeignKey("board_seats.id", ondelete="CASCADE"), index=True)
    rsvp: Mapped[Rsvp | None] = mapped_column(enum_type(Rsvp, "rsvp"))
    answered_at: Mapped[datetime | None]
    attended: Mapped[bool | None]
    attendance_recorded_at: Mapped[datetime | None]

    meeting: Mapped[BoardMeeting] = relationship()
    seat: Mapped[BoardSeat] = relationship()
