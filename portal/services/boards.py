"""Customer advisory boards (SPEC §6): applying, the team's decision in the approval queue
(accept, waitlist or reject), seats, offers of freed seats, terms and their renewal,
meetings with RSVPs and attendance.

Seats are counted under a lock on the board's row: every change that takes a seat (an
acceptance, an offer) first locks the board, so two admins accepting at the same moment are
served one after the other and the second sees the first's member."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal.database import db, utcnow
from portal.models import (
    ACTIVE_SEAT_STATUSES,
    SEAT_TAKING_STATUSES,
    Advocate,
    AdvocateStatus,
    Board,
    BoardMeeting,
    BoardSeat,
    ConsentPurpose,
    MeetingResponse,
    NotificationCategory,
    PointsSource,
    QueueItem,
    QueueKind,
    QueueStatus,
    Rsvp,
    SeatStatus,
    User,
)
from portal.services import approvals, audit, consent, directory, points
from portal.services.errors import DomainError
from portal.services.nominations import current_advocate
from portal.services.notify import notify

OFFER_DAYS = 7  # a freed seat is held this long for the first on the waitlist
RENEWAL_NOTICE_DAYS = 30  # members are offered a renewal this long before their term ends
REMINDER_HOURS = 24  # meeting reminders go out a day before

WAITLIST = approvals.ExtraOutcome(name="waitlist", label="Waitlist", past="waitlisted")


# --- boards ---------------------------------------------------------------------------------


@dataclass
class BoardDetails:
    name: str
    seat_count: int
    term_months: int
    description: str = ""
    eligibility: str = ""
    open_for_applications: bool = True
    product_ids: list[int] = field(default_factory=list)
    industry_ids: list[int] = field(default_factory=list)
    region_ids: list[int] = field(default_factory=list)


def save_board(actor: User, board: Board | None, details: BoardDetails) -> Board:
    name = details.name.strip()
    if not name:
        raise DomainError("Name the board.", field="name")
    same = select(Board.id).where(func.lower(Board.name) == name.lower())
    if board is not None:
        same = same.where(Board.id != board.id)
    if db.session.scalar(same) is not None:
        raise DomainError("Another board has this name.", field="name")
    if details.seat_count < 1:
        raise DomainError("A board needs at least one seat.", field="seat_count")
    if board is not None:
        board = _lock(board.id)
        taken = seats_taken(board.id)
        if details.seat_count < taken:
            raise DomainError(
                f"{taken} seats are taken or offered: end memberships first, or keep at least {taken} seats.",
                field="seat_count",
            )
    is_new = board is None
    if is_new:
        board = Board(seat_count=details.seat_count)
        db.session.add(board)
    board.name = name
    board.description = details.description.strip()
    board.eligibility = details.eligibility.strip()
    board.seat_count = details.seat_count
    board.term_months = details.term_months
    board.open_for_applications = details.open_for_applications
    board.product_ids = sorted(details.product_ids)
    board.industry_ids = sorted(details.industry_ids)
    board.region_ids = sorted(details.region_ids)
    db.session.flush()
    audit.record(actor, "board.created" if is_new else "board.updated", board, f"{'Created' if is_new else 'Edited'} board {name}")
    if not is_new:
        fill_free_seats(board)  # more seats: the waitlist moves up
    return board


def _lock(board_id: int) -> Board:
    board = db.session.execute(
        select(Board).where(Board.id == board_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    return board


def seats_taken(board_id: int) -> int:
    return db.session.scalar(
        select(func.count(BoardSeat.id)).where(BoardSeat.board_id == board_id, BoardSeat.status.in_(SEAT_TAKING_STATUSES))
    )


def boards_query(only_open: bool = False):
    query = select(Board).order_by(Board.name, Board.id)
    if only_open:
        query = query.where(Board.open_for_applications.is_(True))
    return query


@dataclass
class SeatCounts:
    taken: int = 0  # members and open offers
    waiting: int = 0  # on the waitlist
    applied: int = 0  # waiting for the team's decision


def meeting_tallies(meeting_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per meeting, in one query: (members who answered yes, members who came)."""
    if not meeting_ids:
        return {}
    rows = db.session.execute(
        select(
            MeetingResponse.meeting_id,
            func.count(MeetingResponse.id).filter(MeetingResponse.rsvp == Rsvp.YES),
            func.count(MeetingResponse.id).filter(MeetingResponse.attended.is_(True)),
        )
        .where(MeetingResponse.meeting_id.in_(meeting_ids))
        .group_by(MeetingResponse.meeting_id)
    )
    return {meeting_id: (yes, came) for meeting_id, yes, came in rows}


def seat_counts(board_ids: list[int]) -> dict[int, SeatCounts]:
    """Per board, in one query: seats taken, the waitlist's length, applications waiting."""
    counts = {board_id: SeatCounts() for board_id in board_ids}
    if not board_ids:
        return counts
    rows = db.session.execute(
        select(BoardSeat.board_id, BoardSeat.status, func.count(BoardSeat.id))
        .where(BoardSeat.board_id.in_(board_ids), BoardSeat.status.in_(ACTIVE_SEAT_STATUSES))
        .group_by(BoardSeat.board_id, BoardSeat.status)
    )
    for board_id, status, n in rows:
        c = counts[board_id]
        if status in SEAT_TAKING_STATUSES:
            c.taken += n
        elif status is SeatStatus.WAITLISTED:
            c.waiting += n
        else:
            c.applied += n
    return counts


# --- eligibility and applying ----------------------------------------------------------------

NO_CONSENT = (
    "You have not agreed to advisory-board contact: the team needs it to invite you and to share "
    "your profile with the other members. You can agree under Consent on your profile."
)


def refusals(advocate: Advocate | None, board: Board) -> list[str]:
    """Why this advocate may not apply to this board (empty: they may)."""
    if advocate is None or advocate.status is not AdvocateStatus.APPROVED:
        return ["Only approved members of the advocacy program can apply."]
    reasons = []
    if not board.open_for_applications:
        reasons.append("This board is not taking applications at the moment.")
    if not consent.has_consent(advocate, ConsentPurpose.ADVISORY_BOARD):
        reasons.append(NO_CONSENT)
    if not meets_criteria(advocate, board):
        reasons.append("Your profile does not match who this board is for (see Who can apply).")
    return reasons


def meets_criteria(advocate: Advocate, board: Board) -> bool:
    if not (board.product_ids or board.industry_ids or board.region_ids):
        return True
    filters = directory.Filters(
        statuses=[AdvocateStatus.APPROVED],
        product_ids=list(board.product_ids),
        industry_ids=list(board.industry_ids),
        region_ids=list(board.region_ids),
    )
    query = directory.search(filters).where(Advocate.id == advocate.id).order_by(None).with_only_columns(Advocate.id)
    return db.session.scalar(query) is not None


def seat_of(advocate: Advocate | None, board: Board) -> BoardSeat | None:
    """The advocate's active place on the board, or else their latest one."""
    if advocate is None:
        return None
    return db.session.scalar(
        select(BoardSeat)
        .where(BoardSeat.board_id == board.id, BoardSeat.advocate_id == advocate.id)
        .order_by(BoardSeat.status.in_(ACTIVE_SEAT_STATUSES).desc(), BoardSeat.id.desc())
        .limit(1)
    )


def apply(actor: User, board: Board, motivation: str) -> BoardSeat:
    advocate = current_advocate(actor)
    motivation = motivation.strip()
    if not motivation:
        raise DomainError("Tell the team why you would like to join and what you would bring.", field="motivation")
    reasons = refusals(advocate, board)
    if reasons:
        raise DomainError(" ".join(reasons))
    seat = BoardSeat(board=board, advocate=advocate, motivation=motivation[:4000])
    try:
        with db.session.begin_nested():
            db.session.add(seat)
            db.session.flush()
    except IntegrityError:
        raise DomainError("You have already applied to this board.") from None
    approvals.open_item(QueueKind.BOARD_APPLICATION, advocate, seat.id, summary=board.name)
    audit.record(actor, "board.applied", seat, f"Applied to board {board.name}", advocate_id=advocate.id)
    return seat


def _transition(seat: BoardSeat, allowed_from: tuple[SeatStatus, ...], **values) -> None:
    """Compare-and-set on the status: two answers at once cannot both win."""
    done = db.session.execute(
        update(BoardSeat)
        .where(BoardSeat.id == seat.id, BoardSeat.status.in_(allowed_from))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(seat)
    if done.rowcount != 1:
        raise DomainError(f"This application is {seat.status.label.lower()} and cannot change that way.")


def _own(actor: User, seat: BoardSeat) -> None:
    if seat.advocate.user_id != actor.id:
        raise DomainError("Only the applicant can do this.")


def withdraw(actor: User, seat: BoardSeat) -> None:
    _own(actor, seat)
    _transition(seat, (SeatStatus.APPLIED, SeatStatus.WAITLISTED), status=SeatStatus.WITHDRAWN, decided_at=utcnow())
    db.session.execute(
        update(QueueItem)
        .where(QueueItem.kind == QueueKind.BOARD_APPLICATION, QueueItem.subject_id == seat.id, QueueItem.status == QueueStatus.OPEN)
        .values(status=QueueStatus.WITHDRAWN, decided_at=utcnow())
    )
    audit.record(actor, "board.withdrawn", seat, f"Withdrew the application to {seat.board.name}")


def _start_term(seat: BoardSeat, today: date) -> dict:
    return {"status": SeatStatus.MEMBER, "term_starts_on": today, "term_ends_on": add_months(today, seat.board.term_months),
            "offer_expires_at": None, "renewal_offered_at": None}


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@approvals.handles(QueueKind.BOARD_APPLICATION, extra=WAITLIST)
def _decide_application(actor: User, item: QueueItem, approve: bool, reason: str, extra: str | None = None):
    seat = db.session.get(BoardSeat, item.subject_id)
    if seat is None:
        raise DomainError("This application no longer exists.")
    board = _lock(seat.board_id)
    now = utcnow()
    if approve:
        if seats_taken(board.id) >= board.seat_count:
            raise DomainError(f"All {board.seat_count} seats of {board.name} are taken: waitlist the application instead.")
        _transition(seat, (SeatStatus.APPLIED,), decided_at=now, **_start_term(seat, now.date()))
        return seat.advocate.user, f"Welcome to the {board.name}: your application is accepted"
    if extra == WAITLIST.name:
        _transition(seat, (SeatStatus.APPLIED,), status=SeatStatus.WAITLISTED, decided_at=now, waitlisted_at=now)
        return seat.advocate.user, f"You are on the waitlist of the {board.name}: we will offer you the next free seat"
    _transition(seat, (SeatStatus.APPLIED,), status=SeatStatus.REJECTED, decided_at=now)
    return seat.advocate.user, f"Your application to the {board.name} was not accepted"


# --- freed seats, offers, terms -------------------------------------------------------------


def erase_for(advocate_ids: list[int], now: datetime | None = None) -> None:
    """An erased person leaves every board: a member's term ends and a seat offered to them
    is declined, both offered to the waitlist; applications are withdrawn (their queue items
    are withdrawn with the person's others); every motivation is cleared."""
    if not advocate_ids:
        return
    now = now or utcnow()
    freed: set[int] = set()
    seats = db.session.scalars(select(BoardSeat).where(BoardSeat.advocate_id.in_(advocate_ids)).order_by(BoardSeat.id))
    for seat in seats.all():
        if seat.status is SeatStatus.MEMBER:
            _transition(seat, (SeatStatus.MEMBER,), status=SeatStatus.ENDED, ended_at=now)
            freed.add(seat.board_id)
        elif seat.status is SeatStatus.OFFERED:
            _transition(seat, (SeatStatus.OFFERED,), status=SeatStatus.DECLINED, offer_expires_at=None, decided_at=now)
            freed.add(seat.board_id)
        elif seat.status in (SeatStatus.APPLIED, SeatStatus.WAITLISTED):
            _transition(seat, (SeatStatus.APPLIED, SeatStatus.WAITLISTED), status=SeatStatus.WITHDRAWN, decided_at=now)
        seat.motivation = ""
    db.session.flush()
    for board_id in sorted(freed):
        fill_free_seats(db.session.get(Board, board_id), now)


def fill_free_seats(board: Board, now: datetime | None = None) -> list[BoardSeat]:
    """Offer every free seat to the next on the waitlist, first come first served."""
    now = now or utcnow()
    board = _lock(board.id)
    free = board.seat_count - seats_taken(board.id)
    if free <= 0:
        return []
    nexts = db.session.scalars(
        select(BoardSeat)
        .where(BoardSeat.board_id == board.id, BoardSeat.status == SeatStatus.WAITLISTED)
        .order_by(BoardSeat.waitlisted_at, BoardSeat.id)
        .limit(free)
    ).all()
    for seat in nexts:
        expires = now + timedelta(days=OFFER_DAYS)
        _transition(seat, (SeatStatus.WAITLISTED,), status=SeatStatus.OFFERED, offer_expires_at=expires)
        notify(
            seat.advocate.user,
            NotificationCategory.PROGRAMS,
            f"A seat on the {board.name} is free for you",
            f"Accept or decline it by {format_local(expires, seat.advocate.time_zone)}; after that it goes to the next person on the waitlist.",
            link_endpoint="boards.board",
            board_id=board.id,
        )
    return list(nexts)


def answer_offer(actor: User, seat: BoardSeat, accept: bool, now: datetime | None = None) -> None:
    _own(actor, seat)
    now = now or utcnow()
    if seat.status is SeatStatus.OFFERED and seat.offer_expires_at and seat.offer_expires_at <= now:
        raise DomainError("This offer has expired; the seat has gone to the next person on the waitlist.")
    if accept:
        _transition(seat, (SeatStatus.OFFERED,), decided_at=now, **_start_term(seat, now.date()))
        audit.record(actor, "board.offer_accepted", seat, f"Took the offered seat on {seat.board.name}")
    else:
        _transition(seat, (SeatStatus.OFFERED,), status=SeatStatus.DECLINED, offer_expires_at=None, decided_at=now)
        audit.record(actor, "board.offer_declined", seat, f"Declined the offered seat on {seat.board.name}")
        fill_free_seats(seat.board, now)


def end_membership(actor: User, seat: BoardSeat, now: datetime | None = None) -> None:
    """A member leaves (or the team ends the membership): the seat goes to the waitlist."""
    if not actor.is_team:
        _own(actor, seat)
    now = now or utcnow()
    _transition(seat, (SeatStatus.MEMBER,), status=SeatStatus.ENDED, ended_at=now)
    audit.record(actor, "board.membership_ended", seat, f"Membership of {seat.board.name} ended", advocate_id=seat.advocate_id)
    if actor.is_team:
        notify(seat.advocate.user, NotificationCategory.PROGRAMS, f"Your membership of the {seat.board.name} has ended",
               "Thank you for taking part. The advocacy team can tell you more.", link_endpoint="boards.my_boards")
    fill_free_seats(seat.board, now)


def renew(actor: User, seat: BoardSeat) -> None:
    _own(actor, seat)
    if seat.status is not SeatStatus.MEMBER or seat.renewal_offered_at is None:
        raise DomainError("Renewal is offered in the last month of a term.")
    _transition(
        seat,
        (SeatStatus.MEMBER,),
        term_ends_on=add_months(seat.term_ends_on, seat.board.term_months),
        renewal_offered_at=None,
    )
    audit.record(actor, "board.renewed", seat, f"Renewed the term on {seat.board.name} until {seat.term_ends_on}")


def offer_renewals(now: datetime | None = None) -> int:
    now = now or utcnow()
    due = db.session.scalars(
        select(BoardSeat).where(
            BoardSeat.status == SeatStatus.MEMBER,
            BoardSeat.renewal_offered_at.is_(None),
            BoardSeat.term_ends_on <= now.date() + timedelta(days=RENEWAL_NOTICE_DAYS),
        )
    ).all()
    for seat in due:
        seat.renewal_offered_at = now
        notify(
            seat.advocate.user,
            NotificationCategory.PROGRAMS,
            f"Your term on the {seat.board.name} ends on {seat.term_ends_on:%-d %B %Y}: renew it?",
            f"Renew for another {seat.board.term_months} months from the board's page; otherwise your seat passes on.",
            link_endpoint="boards.board",
            board_id=seat.board_id,
        )
    db.session.flush()
    return len(due)


def end_terms(now: datetime | None = None) -> int:
    """Terms whose last day has passed end; their seats are offered to the waitlist."""
    now = now or utcnow()
    ended = db.session.scalars(
        select(BoardSeat).where(BoardSeat.status == SeatStatus.MEMBER, BoardSeat.term_ends_on < now.date())
    ).all()
    for seat in ended:
        _transition(seat, (SeatStatus.MEMBER,), status=SeatStatus.ENDED, ended_at=now)
        notify(
            seat.advocate.user,
            NotificationCategory.PROGRAMS,
            f"Your term on the {seat.board.name} has ended",
            "Thank you for taking part. To serve again, apply from the board's page: your certificate stays there.",
            link_endpoint="boards.board",
            board_id=seat.board_id,
        )
    for board_id in {s.board_id for s in ended}:
        fill_free_seats(db.session.get(Board, board_id), now)
    return len(ended)


def expire_offers(now: datetime | None = None) -> int:
    now = now or utcnow()
    expired = db.session.scalars(
        select(BoardSeat).where(BoardSeat.status == SeatStatus.OFFERED, BoardSeat.offer_expires_at <= now)
    ).all()
    for seat in expired:
        _transition(seat, (SeatStatus.OFFERED,), status=SeatStatus.EXPIRED, decided_at=now)
        notify(seat.advocate.user, NotificationCategory.PROGRAMS, f"The seat offered on the {seat.board.name} has expired",
               "It has been offered to the next person on the waitlist.", link_endpoint="boards.my_boards")
    for board_id in {s.board_id for s in expired}:
        fill_free_seats(db.session.get(Board, board_id), now)
    return len(expired)


# --- meetings -------------------------------------------------------------------------------


def format_local(moment: datetime, time_zone: str | None) -> str:
    """``moment`` (UTC) as the person reads it, with their zone named."""
    zone = ZoneInfo(time_zone or "UTC")
    local = moment.astimezone(zone)
    return f"{local:%A %-d %B %Y, %H:%M} {local.tzname()} ({zone.key})"


def local_to_utc(day: date, hour: int, minute: int, time_zone: str) -> datetime:
    from datetime import UTC, time

    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


@dataclass
class MeetingDetails:
    title: str
    starts_at: datetime
    duration_minutes: int = 60
    place: str = ""
    video_link: str = ""
    agenda: str = ""


def members(board: Board) -> list[BoardSeat]:
    return list(
        db.session.scalars(
            select(BoardSeat)
            .where(BoardSeat.board_id == board.id, BoardSeat.status == SeatStatus.MEMBER)
            .order_by(BoardSeat.term_starts_on, BoardSeat.id)
        )
    )


def schedule_meeting(actor: User, board: Board, details: MeetingDetails, now: datetime | None = None) -> BoardMeeting:
    now = now or utcnow()
    if not details.title.strip():
        raise DomainError("Give the meeting a title.", field="title")
    if details.starts_at <= now:
        raise DomainError("The meeting must start in the future.", field="starts_on")
    if not details.place.strip() and not details.video_link.strip():
        raise DomainError("Give a place or a video link, so members know where to go.", field="place")
    link = details.video_link.strip()
    if link and not link.startswith("https://"):
        raise DomainError("A video link starts with https://.", field="video_link")
    meeting = BoardMeeting(
        board=board,
        title=details.title.strip(),
        starts_at=details.starts_at,
        duration_minutes=details.duration_minutes,
        place=details.place.strip(),
        video_link=link,
        agenda=details.agenda.strip(),
    )
    db.session.add(meeting)
    db.session.flush()
    audit.record(actor, "board.meeting_scheduled", meeting, f"Scheduled {meeting.title} for {board.name}")
    _tell_members(meeting, f"Invitation: {meeting.title} ({board.name})", "Please tell us whether you can come.")
    return meeting


def _tell_members(meeting: BoardMeeting, title: str, closing: str = "", skip: set[int] = frozenset()) -> int:
    """Each member (but those in ``skip``) hears of the meeting at their own local time."""
    told = 0
    for seat in members(meeting.board):
        if seat.id in skip:
            continue
        when = format_local(meeting.starts_at, seat.advocate.time_zone)
        body = " ".join(part for part in (f"{when}.", f"{where(meeting)}.", closing) if part)
        notify(seat.advocate.user, NotificationCategory.PROGRAMS, title, body,
               link_endpoint="boards.board", board_id=meeting.board_id)
        told += 1
    return told


def where(meeting: BoardMeeting) -> str:
    parts = [p for p in (meeting.place, meeting.video_link) if p]
    return " · ".join(parts)


def send_meeting_reminders(now: datetime | None = None) -> int:
    """A day before each meeting: a reminder to every member, at their local time."""
    now = now or utcnow()
    due = db.session.scalars(
        select(BoardMeeting).where(
            BoardMeeting.reminded_at.is_(None),
            BoardMeeting.starts_at > now,
            BoardMeeting.starts_at <= now + timedelta(hours=REMINDER_HOURS),
        )
    ).all()
    sent = 0
    for meeting in due:
        claimed = db.session.execute(
            update(BoardMeeting)
            .where(BoardMeeting.id == meeting.id, BoardMeeting.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # another consumer sent it
            continue
        declined = set(
            db.session.scalars(
                select(MeetingResponse.seat_id).where(MeetingResponse.meeting_id == meeting.id, MeetingResponse.rsvp == Rsvp.NO)
            )
        )
        sent += _tell_members(meeting, f"Tomorrow: {meeting.title} ({meeting.board.name})", skip=declined)
    db.session.flush()
    return sent


def member_seat(actor: User, board_id: int) -> BoardSeat | None:
    return db.session.scalar(
        select(BoardSeat)
        .join(Advocate, BoardSeat.advocate_id == Advocate.id)
        .where(BoardSeat.board_id == board_id, BoardSeat.status == SeatStatus.MEMBER, Advocate.user_id == actor.id)
    )


def upcoming_meetings(board: Board, now: datetime | None = None):
    return (
        select(BoardMeeting)
        .where(BoardMeeting.board_id == board.id, BoardMeeting.starts_at > (now or utcnow()))
        .order_by(BoardMeeting.starts_at, BoardMeeting.id)
    )


def responses_of(seat: BoardSeat, meeting_ids: list[int]) -> dict[int, MeetingResponse]:
    if not meeting_ids:
        return {}
    rows = db.session.scalars(
        select(MeetingResponse).where(MeetingResponse.seat_id == seat.id, MeetingResponse.meeting_id.in_(meeting_ids))
    )
    return {r.meeting_id: r for r in rows}


def _response(meeting: BoardMeeting, seat: BoardSeat) -> MeetingResponse:
    row = db.session.scalar(
        select(MeetingResponse).where(MeetingResponse.meeting_id == meeting.id, MeetingResponse.seat_id == seat.id)
    )
    if row is None:
        try:
            with db.session.begin_nested():
                row = MeetingResponse(meeting_id=meeting.id, seat_id=seat.id)
                db.session.add(row)
                db.session.flush()
        except IntegrityError:  # the same person answered twice at once
            row = db.session.scalar(
                select(MeetingResponse).where(MeetingResponse.meeting_id == meeting.id, MeetingResponse.seat_id == seat.id)
            )
    return row


def answer_meeting(actor: User, meeting: BoardMeeting, answer: Rsvp, now: datetime | None = None) -> MeetingResponse:
    seat = member_seat(actor, meeting.board_id)
    if seat is None:
        raise DomainError("Only members of this board can answer its invitations.")
    if meeting.starts_at <= (now or utcnow()):
        raise DomainError("This meeting has already started.")
    row = _response(meeting, seat)
    row.rsvp = answer
    row.answered_at = now or utcnow()
    db.session.flush()
    return row


def attendance_sheet(meeting: BoardMeeting) -> list[tuple[BoardSeat, MeetingResponse | None]]:
    """Who can be marked present: the board's members, and anyone who answered."""
    responses = {
        r.seat_id: r for r in db.session.scalars(select(MeetingResponse).where(MeetingResponse.meeting_id == meeting.id))
    }
    seats = db.session.scalars(
        select(BoardSeat)
        .where(
            BoardSeat.board_id == meeting.board_id,
            (BoardSeat.status == SeatStatus.MEMBER) | BoardSeat.id.in_(list(responses) or [-1]),
        )
        .order_by(BoardSeat.id)
    ).all()
    return [(seat, responses.get(seat.id)) for seat in seats]


def record_attendance(actor: User, meeting: BoardMeeting, present_seat_ids: set[int], now: datetime | None = None) -> int:
    """Mark who came; each one present earns the attendance points once (the response
    row is the ledger's source). Returns how many were newly marked present."""
    now = now or utcnow()
    if meeting.starts_at > now:
        raise DomainError("Attendance can be recorded once the meeting has started.")
    newly = 0
    for seat, row in attendance_sheet(meeting):
        present = seat.id in present_seat_ids
        if row is None:
            if not present:
                continue
            row = _response(meeting, seat)
        if row.attended and not present:
            continue  # points once awarded stay: the ledger is append-only
        if present and not row.attended:
            newly += 1
        row.attended = present
        row.attendance_recorded_at = now
        db.session.flush()
        if present:
            points.award(seat.advocate, PointsSource.MEETING_ATTENDED, row.id, actor=actor,
                         reason=f"Attended {meeting.title} ({meeting.board.name})")
    audit.record(actor, "board.attendance_recorded", meeting, f"Recorded attendance of {meeting.title}", present=sorted(present_seat_ids))
    return newly


def certificate(seat: BoardSeat, program_name: str) -> bytes:
    from portal.documents import render_pdf

    if seat.status not in (SeatStatus.MEMBER, SeatStatus.ENDED) or seat.term_starts_on is None:
        raise DomainError("A certificate is issued for a membership.")
    return render_pdf(
        "board_certificate.html",
        program_name=program_name,
        name=seat.advocate.user.name,
        company=seat.advocate.account.name,
        board=seat.board.name,
        description=seat.board.description,
        term_starts=f"{seat.term_starts_on:%-d %B %Y}",
        term_ends=f"{(seat.ended_at.date() if seat.ended_at else seat.term_ends_on):%-d %B %Y}",
        current=seat.status is SeatStatus.MEMBER,
        issued=f"{utcnow():%-d %B %Y}",
        reference=f"CAB-{seat.board_id}-{seat.id}",
    )
