"""Advisory boards: who may apply, the decision in the queue (accept, waitlist, reject) and
its refusals, freed seats offered down the waitlist, terms ending and renewing, meetings in
each member's time zone (across a daylight-saving change), RSVPs, attendance points, the
certificate, and the race for the last seat."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.database import commit, db, utcnow
from portal.models import (
    AdvocateStatus,
    BoardSeat,
    ConsentPurpose,
    MeetingResponse,
    Notification,
    PointsSource,
    QueueItem,
    QueueKind,
    QueueStatus,
    Rsvp,
    SeatStatus,
    Term,
    TermKind,
)
from portal.services import approvals, boards, consent, points
from portal.services.errors import DomainError
from tests.conftest import ON_POSTGRES
from tests.factories import AdminFactory, AdvocateFactory, BoardFactory, TermFactory, board_applicant
from tests.web.intake import pending

MOTIVATION = "I run analytics for 40 stores and would love to shape the roadmap."


def item_for(seat: BoardSeat) -> QueueItem:
    return db.session.scalar(
        select(QueueItem).where(QueueItem.kind == QueueKind.BOARD_APPLICATION, QueueItem.subject_id == seat.id)
    )


def applied(board, **values) -> BoardSeat:
    advocate = board_applicant(**values)
    return boards.apply(advocate.user, board, MOTIVATION)


def member(board, admin=None, **values) -> BoardSeat:
    seat = applied(board, **values)
    approvals.decide(admin or AdminFactory(), item_for(seat), True)
    return seat


def waitlisted(board, admin=None, **values) -> BoardSeat:
    seat = applied(board, **values)
    approvals.decide(admin or AdminFactory(), item_for(seat), False, extra=boards.WAITLIST.name)
    return seat


def titles(user) -> list[str]:
    return list(db.session.scalars(select(Notification.title).where(Notification.user_id == user.id).order_by(Notification.id)))


# --- applying -------------------------------------------------------------------------------


class TestApplying:
    def test_an_approved_consenting_advocate_applies_and_the_team_gets_a_queue_item(self, db):
        board = BoardFactory()
        seat = applied(board)
        assert seat.status is SeatStatus.APPLIED
        item = item_for(seat)
        assert item.status is QueueStatus.OPEN and item.summary == board.name and item.advocate_id == seat.advocate_id

    def test_without_advisory_board_consent_the_refusal_says_where_to_give_it(self, db):
        advocate = AdvocateFactory()
        consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})
        with pytest.raises(DomainError, match="not agreed to advisory-board contact.*Consent on your profile"):
            boards.apply(advocate.user, BoardFactory(), MOTIVATION)
        assert db.session.scalar(select(func.count(BoardSeat.id))) == 0

    @pytest.mark.parametrize("status", [AdvocateStatus.PENDING, AdvocateStatus.REJECTED, AdvocateStatus.LAPSED])
    def test_only_approved_current_advocates_apply(self, db, status):
        advocate = board_applicant()
        advocate.status = status
        with pytest.raises(DomainError, match="Only approved members"):
            boards.apply(advocate.user, BoardFactory(), MOTIVATION)

    def test_a_closed_board_takes_no_applications(self, db):
        with pytest.raises(DomainError, match="not taking applications"):
            applied(BoardFactory(open_for_applications=False))

    def test_a_motivation_is_needed(self, db):
        advocate = board_applicant()
        with pytest.raises(DomainError) as refused:
            boards.apply(advocate.user, BoardFactory(), "   ")
        assert refused.value.field == "motivation"

    def test_one_active_application_per_board(self, db):
        board = BoardFactory()
        seat = applied(board)
        with pytest.raises(DomainError, match="already applied"):
            boards.apply(seat.advocate.user, board, MOTIVATION)
        boards.withdraw(seat.advocate.user, seat)
        again = boards.apply(seat.advocate.user, board, MOTIVATION)  # a withdrawn one does not count
        assert again.status is SeatStatus.APPLIED

    def test_criteria_reuse_the_directory_products_all_industries_and_nested_regions_any(self, db, taxonomies):
        from tests.web.intake import named, region
        from portal.models import Region

        analytics, payments = TermFactory(name="Prod A"), TermFactory(name="Prod B")
        finance = TermFactory(kind=TermKind.INDUSTRY, name="Finance X")
        americas = region("Test Americas")
        region("Test Central", parent=americas, countries=("PA",))
        board = BoardFactory(product_ids=[analytics.id, payments.id], industry_ids=[finance.id], region_ids=[americas.id])
        fits = board_applicant(country="PA", industry=finance, products=[analytics, payments])
        assert boards.refusals(fits, board) == []
        for misfit in (
            board_applicant(country="PA", industry=finance, products=[analytics]),  # not all products
            board_applicant(country="DE", industry=finance, products=[analytics, payments]),  # outside the region
            board_applicant(country="PA", products=[analytics, payments]),  # no industry
        ):
            assert boards.refusals(misfit, board) == [
                "Your profile does not match who this board is for (see Who can apply)."
            ]
            with pytest.raises(DomainError, match="does not match"):
                boards.apply(misfit.user, board, MOTIVATION)


# --- the decision in the queue ----------------------------------------------------------------


class TestDecision:
    def test_accepting_takes_a_seat_with_a_term_and_tells_the_applicant_by_email(self, db, smtp):
        board = BoardFactory(term_months=6)
        seat = applied(board)
        approvals.decide(AdminFactory(), item_for(seat), True)
        commit()
        assert seat.status is SeatStatus.MEMBER
        assert seat.term_starts_on == utcnow().date()
        assert seat.term_ends_on == boards.add_months(utcnow().date(), 6)
        assert item_for(seat).status is QueueStatus.APPROVED
        subjects = [m["Subject"] for m in smtp.to(seat.advocate.user.email)]
        assert subjects == [f"Welcome to the {board.name}: your application is accepted"]

    def test_accepting_a_full_board_is_refused_and_the_item_stays_open(self, db):
        board = BoardFactory(seat_count=1)
        member(board)
        seat = applied(board)
        with pytest.raises(DomainError, match="All 1 seats .* are taken: waitlist"):
            approvals.decide(AdminFactory(), item_for(seat), True)
        assert seat.status is SeatStatus.APPLIED
        assert item_for(seat).status is QueueStatus.OPEN

    def test_waitlisting_is_the_third_outcome_it_leaves_the_queue_and_needs_no_reason(self, db, smtp):
        board = BoardFactory(seat_count=1)
        member(board)
        seat = waitlisted(board)
        commit()
        assert seat.status is SeatStatus.WAITLISTED and seat.waitlisted_at is not None
        item = item_for(seat)
        assert item.status is QueueStatus.DEFERRED
        assert approvals.queue_query(kind=QueueKind.BOARD_APPLICATION).where(QueueItem.id == item.id) is not None
        assert item.id not in db.session.scalars(approvals.queue_query().with_only_columns(QueueItem.id)).all()
        [mail] = smtp.to(seat.advocate.user.email)
        assert "waitlist" in mail["Subject"]

    def test_rejecting_needs_a_reason_which_reaches_the_applicant(self, db):
        seat = applied(BoardFactory())
        with pytest.raises(DomainError, match="Give a reason"):
            approvals.decide(AdminFactory(), item_for(seat), False, "")
        approvals.decide(AdminFactory(), item_for(seat), False, "We look for product owners this year.")
        assert seat.status is SeatStatus.REJECTED
        body = db.session.scalar(select(Notification.body).where(Notification.user_id == seat.advocate.user_id))
        assert "We look for product owners this year." in body

    def test_a_decided_application_cannot_be_decided_again(self, db):
        seat = member(BoardFactory())
        with pytest.raises(DomainError, match="already been decided"):
            approvals.decide(AdminFactory(), item_for(seat), False, extra=boards.WAITLIST.name)

    def test_other_kinds_have_no_waitlist_and_keep_approve_and_reject(self, db):
        item = pending()
        with pytest.raises(DomainError, match="cannot be decided that way"):
            approvals.decide(AdminFactory(), item, False, extra="waitlist")
        assert item.status is QueueStatus.OPEN
        approvals.decide(AdminFactory(), item, True)
        assert item.status is QueueStatus.APPROVED and item.advocate.status is AdvocateStatus.APPROVED

    def test_bulk_approval_fills_the_seats_and_skips_the_rest_with_the_reason(self, db):
        board = BoardFactory(seat_count=2)
        seats = [applied(board) for _ in range(3)]
        result = approvals.decide_many(AdminFactory(), [item_for(s).id for s in seats], True)
        assert result.decided == 2
        assert len(result.skipped) == 1 and "waitlist the application instead" in result.skipped[0]
        assert [s.status for s in seats] == [SeatStatus.MEMBER, SeatStatus.MEMBER, SeatStatus.APPLIED]

    def test_the_applicant_withdraws_and_the_queue_item_goes_too(self, db):
        seat = applied(BoardFactory())
        boards.withdraw(seat.advocate.user, seat)
        assert seat.status is SeatStatus.WITHDRAWN
        assert item_for(seat).status is QueueStatus.WITHDRAWN

    def test_a_member_cannot_withdraw_and_nobody_else_can(self, db):
        seat = member(BoardFactory())
        with pytest.raises(DomainError, match="member and cannot change that way"):
            boards.withdraw(seat.advocate.user, seat)
        other = applied(BoardFactory())
        with pytest.raises(DomainError, match="Only the applicant"):
            boards.withdraw(seat.advocate.user, other)


# --- freed seats, offers and terms ------------------------------------------------------------


class TestFreedSeats:
    def test_when_a_member_leaves_the_first_on_the_waitlist_is_offered_the_seat(self, db):
        board = BoardFactory(seat_count=1)
        leaving = member(board)
        first, second = waitlisted(board), waitlisted(board)
        boards.end_membership(leaving.advocate.user, leaving)
        assert leaving.status is SeatStatus.ENDED
        assert first.status is SeatStatus.OFFERED and second.status is SeatStatus.WAITLISTED
        assert first.offer_expires_at > utcnow() + timedelta(days=boards.OFFER_DAYS - 1)
        assert titles(first.advocate.user)[-1] == f"A seat on the {board.name} is free for you"
        assert boards.seats_taken(board.id) == 1  # the offer holds the seat

    def test_an_offer_accepted_makes_a_member_one_declined_passes_it_on(self, db):
        board = BoardFactory(seat_count=1)
        leaving = member(board)
        first, second = waitlisted(board), waitlisted(board)
        boards.end_membership(AdminFactory(), leaving)
        boards.answer_offer(first.advocate.user, first, accept=False)
        assert first.status is SeatStatus.DECLINED and second.status is SeatStatus.OFFERED
        boards.answer_offer(second.advocate.user, second, accept=True)
        assert second.status is SeatStatus.MEMBER and second.term_ends_on is not None
        with pytest.raises(DomainError, match="cannot change that way"):
            boards.answer_offer(first.advocate.user, first, accept=True)

    def test_an_expired_offer_passes_to_the_next(self, db):
        board = BoardFactory(seat_count=1)
        leaving = member(board)
        first, second = waitlisted(board), waitlisted(board)
        boards.end_membership(AdminFactory(), leaving)
        later = utcnow() + timedelta(days=boards.OFFER_DAYS, minutes=1)
        with pytest.raises(DomainError, match="expired"):
            boards.answer_offer(first.advocate.user, first, accept=True, now=later)
        assert boards.expire_offers(later) == 1
        assert first.status is SeatStatus.EXPIRED and second.status is SeatStatus.OFFERED

    def test_more_seats_move_the_waitlist_up(self, db):
        board = BoardFactory(seat_count=1)
        member(board)
        first = waitlisted(board)
        details = boards.BoardDetails(name=board.name, seat_count=2, term_months=12)
        boards.save_board(AdminFactory(), board, details)
        assert first.status is SeatStatus.OFFERED

    def test_seats_cannot_drop_below_those_taken(self, db):
        board = BoardFactory(seat_count=2)
        member(board), member(board)
        with pytest.raises(DomainError, match="2 seats are taken") as refused:
            boards.save_board(AdminFactory(), board, boards.BoardDetails(name=board.name, seat_count=1, term_months=12))
        assert refused.value.field == "seat_count"

    def test_renewal_is_offered_a_month_before_the_end_and_extends_the_term(self, db):
        board = BoardFactory(term_months=12)
        seat = member(board)
        seat.term_ends_on = utcnow().date() + timedelta(days=40)
        with pytest.raises(DomainError, match="last month of a term"):
            boards.renew(seat.advocate.user, seat)
        assert boards.offer_renewals() == 0
        seat.term_ends_on = utcnow().date() + timedelta(days=20)
        assert boards.offer_renewals() == 1
        assert boards.offer_renewals() == 0  # once
        assert "renew it?" in titles(seat.advocate.user)[-1]
        ends = seat.term_ends_on
        boards.renew(seat.advocate.user, seat)
        assert seat.term_ends_on == boards.add_months(ends, 12) and seat.renewal_offered_at is None

    def test_terms_end_by_themselves_and_the_seat_goes_to_the_waitlist(self, db):
        board = BoardFactory(seat_count=1)
        seat = member(board)
        waiting = waitlisted(board)
        seat.term_starts_on = utcnow().date() - timedelta(days=366)
        seat.term_ends_on = utcnow().date() - timedelta(days=1)
        assert boards.end_terms() == 1
        assert seat.status is SeatStatus.ENDED and waiting.status is SeatStatus.OFFERED
        assert titles(seat.advocate.user)[-1] == f"Your term on the {board.name} has ended"
        assert boards.end_terms() == 0

    def test_add_months_keeps_the_day_where_the_month_has_it(self):
        assert boards.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
        assert boards.add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)


# --- meetings -------------------------------------------------------------------------------

# Europe/Berlin leaves winter time (CET, UTC+1) for summer time (CEST, UTC+2) on 28 March 2027.
BEFORE_DST = datetime(2027, 3, 26, 8, 0, tzinfo=UTC)
AFTER_DST = datetime(2027, 3, 29, 8, 0, tzinfo=UTC)
EARLIER = datetime(2027, 3, 1, tzinfo=UTC)


def meeting(board, starts_at, now=EARLIER, **values):
    details = {"title": "Roadmap review", "starts_at": starts_at, "video_link": "https://meet.example.com/x"} | values
    return boards.schedule_meeting(AdminFactory(), board, boards.MeetingDetails(**details), now)


class TestMeetings:
    def test_times_are_shown_in_the_members_zone_across_a_daylight_saving_change(self, db):
        assert boards.format_local(BEFORE_DST, "Europe/Berlin") == "Friday 26 March 2027, 09:00 CET (Europe/Berlin)"
        assert boards.format_local(AFTER_DST, "Europe/Berlin") == "Monday 29 March 2027, 10:00 CEST (Europe/Berlin)"
        assert boards.format_local(AFTER_DST, "America/Panama") == "Monday 29 March 2027, 03:00 EST (America/Panama)"
        # What the team types in Berlin time is stored as the right UTC on both sides.
        assert boards.local_to_utc(date(2027, 3, 26), 9, 0, "Europe/Berlin") == BEFORE_DST
        assert boards.local_to_utc(date(2027, 3, 29), 10, 0, "Europe/Berlin") == AFTER_DST

    def test_scheduling_invites_every_member_in_their_own_time_zone(self, db, smtp):
        board = BoardFactory()
        berlin, panama = member(board, time_zone="Europe/Berlin"), member(board, time_zone="America/Panama")
        waiting = applied(board)
        meeting(board, AFTER_DST, place="Friedrichstraße 10, Berlin")
        commit()
        [to_berlin] = [m for m in smtp.to(berlin.advocate.user.email) if m["Subject"].startswith("Invitation")]
        assert "Monday 29 March 2027, 10:00 CEST (Europe/Berlin)" in to_berlin.get_body(preferencelist=("plain",)).get_content()
        assert "Friedrichstraße 10, Berlin" in to_berlin.get_body(preferencelist=("plain",)).get_content()
        [to_panama] = [m for m in smtp.to(panama.advocate.user.email) if m["Subject"].startswith("Invitation")]
        assert "03:00 EST (America/Panama)" in to_panama.get_body(preferencelist=("plain",)).get_content()
        assert not [m for m in smtp.to(waiting.advocate.user.email) if m["Subject"].startswith("Invitation")]

    def test_invitations_honour_the_members_preferences(self, db, smtp):
        from portal.models import Delivery, NotificationCategory
        from portal.services import notify

        board = BoardFactory()
        quiet = member(board)
        notify.set_preferences(quiet.advocate.user, {c: Delivery.IMMEDIATE for c in NotificationCategory} | {NotificationCategory.PROGRAMS: Delivery.OFF})
        commit()
        smtp.clear()
        meeting(board, AFTER_DST)
        commit()
        assert smtp.to(quiet.advocate.user.email) == []
        assert titles(quiet.advocate.user)[-1].startswith("Invitation")  # still shown in the portal

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"title": " "}, "title"),
            ({"starts_at": EARLIER - timedelta(hours=1)}, "starts_on"),
            ({"video_link": "", "place": ""}, "place"),
            ({"video_link": "javascript:alert(1)"}, "video_link"),
        ],
    )
    def test_meeting_refusals_name_their_field(self, db, values, field):
        board = BoardFactory()
        with pytest.raises(DomainError) as refused:
            meeting(board, values.pop("starts_at", AFTER_DST), **values)
        assert refused.value.field == field

    def test_reminders_go_a_day_before_once_in_local_time_not_to_those_who_said_no(self, db, smtp):
        board = BoardFactory()
        coming = member(board, time_zone="Europe/Berlin")
        not_coming = member(board)
        m = meeting(board, AFTER_DST)
        boards.answer_meeting(not_coming.advocate.user, m, Rsvp.NO, now=EARLIER)
        assert boards.send_meeting_reminders(AFTER_DST - timedelta(hours=30)) == 0  # too early
        assert boards.send_meeting_reminders(AFTER_DST - timedelta(hours=23)) == 1
        assert boards.send_meeting_reminders(AFTER_DST - timedelta(hours=22)) == 0  # once
        commit()
        [reminder] = [m for m in smtp.to(coming.advocate.user.email) if m["Subject"].startswith("Tomorrow")]
        assert "Monday 29 March 2027, 10:00 CEST (Europe/Berlin)" in reminder.get_body(preferencelist=("plain",)).get_content()
        assert not [m for m in smtp.to(not_coming.advocate.user.email) if m["Subject"].startswith("Tomorrow")]

    def test_members_rsvp_and_change_their_mind_others_cannot(self, db):
        board = BoardFactory()
        seat = member(board)
        m = meeting(board, AFTER_DST)
        boards.answer_meeting(seat.advocate.user, m, Rsvp.MAYBE, now=EARLIER)
        boards.answer_meeting(seat.advocate.user, m, Rsvp.YES, now=EARLIER)
        assert boards.responses_of(seat, [m.id])[m.id].rsvp is Rsvp.YES
        assert db.session.scalar(select(func.count(MeetingResponse.id))) == 1
        outsider = applied(board)
        with pytest.raises(DomainError, match="Only members"):
            boards.answer_meeting(outsider.advocate.user, m, Rsvp.YES, now=EARLIER)
        with pytest.raises(DomainError, match="already started"):
            boards.answer_meeting(seat.advocate.user, m, Rsvp.NO, now=AFTER_DST)

    def test_attendance_awards_the_points_once_and_only_after_the_start(self, db):
        board = BoardFactory()
        came, absent = member(board), member(board)
        m = meeting(board, AFTER_DST)
        admin = AdminFactory()
        with pytest.raises(DomainError, match="once the meeting has started"):
            boards.record_attendance(admin, m, {came.id}, now=EARLIER)
        assert boards.record_attendance(admin, m, {came.id}, now=AFTER_DST) == 1
        assert boards.record_attendance(admin, m, {came.id}, now=AFTER_DST) == 0  # a second save
        worth = points.points_value(PointsSource.MEETING_ATTENDED)
        assert points.balance(came.advocate.user) == worth
        assert points.balance(absent.advocate.user) == 0
        # Unticking later does not take points back (the ledger is append-only).
        boards.record_attendance(admin, m, set(), now=AFTER_DST)
        assert points.balance(came.advocate.user) == worth
        sheet = dict((seat.id, row) for seat, row in boards.attendance_sheet(m))
        assert sheet[came.id].attended is True and sheet[absent.id] is None


def test_the_certificate_is_a_one_page_pdf_naming_the_member_board_and_term(db):
    board = BoardFactory(name="Executive Customer Council")
    seat = member(board)
    pdf = PdfReader(BytesIO(boards.certificate(seat, "Advocate Portal")))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert seat.advocate.user.name in text and "Executive Customer Council" in text
    assert f"{seat.term_ends_on:%-d %B %Y}" in text and "is a member" in text
    with pytest.raises(DomainError):
        boards.certificate(applied(board), "Advocate Portal")


# --- the race for the last seat ---------------------------------------------------------------


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite serialises writers; the race needs PostgreSQL")
def test_acceptances_at_once_for_the_last_seat_exactly_one_succeeds(app, committed_db):
    """Eight admins accept eight different applications for the one free seat at once."""
    board = BoardFactory(seat_count=1)
    seats = [applied(board) for _ in range(8)]
    items = [item_for(s).id for s in seats]
    admins = [AdminFactory().id for _ in range(8)]
    db.session.commit()
    barrier = threading.Barrier(8)
    outcomes = []

    def accept(n):
        with app.app_context():
            try:
                from portal.models import User

                actor = db.session.get(User, admins[n])
                item = db.session.get(QueueItem, items[n])
                barrier.wait()
                approvals.decide(actor, item, True)
                db.session.commit()
                outcomes.append("accepted")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=accept, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted"] + ["refused"] * 7
    assert db.session.scalar(
        select(func.count(BoardSeat.id)).where(BoardSeat.board_id == board.id, BoardSeat.status == SeatStatus.MEMBER)
    ) == 1
    assert db.session.scalar(select(func.count(QueueItem.id)).where(QueueItem.status == QueueStatus.OPEN)) == 7


def test_the_hourly_job_runs_reminders_offers_renewals_and_term_ends(db):
    from portal import jobs

    board = BoardFactory(seat_count=1)
    seat = member(board)
    waiting = waitlisted(board)
    seat.term_starts_on = utcnow().date() - timedelta(days=400)
    seat.term_ends_on = utcnow().date() - timedelta(days=1)
    m = meeting(board, utcnow() + timedelta(hours=20), now=utcnow())
    jobs.run_advisory_boards.call_local()
    assert fresh_status(seat) is SeatStatus.ENDED and fresh_status(waiting) is SeatStatus.OFFERED
    assert db.session.get(type(m), m.id, populate_existing=True).reminded_at is not None


def fresh_status(seat):
    return db.session.get(BoardSeat, seat.id, populate_existing=True).status
