"""/admin/boards: the team creates and edits boards, follows members, the waitlist and
meetings, and records attendance. Applications are decided in /admin/queue."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, func, select

from blueprints.boards import bp
from blueprints.boards.forms import BOARD_HELP, BoardForm, EmptyForm, MeetingForm
from blueprints.boards.views import certificate_response
from portal.database import commit, db, rollback, utcnow
from portal.exports import csv_response, export_filename, rows_of
from portal.models import (
    Board,
    BoardMeeting,
    BoardSeat,
    QueueItem,
    QueueKind,
    QueueStatus,
    Role,
    SeatStatus,
)
from portal.security import role_required
from portal.services import boards
from portal.services.errors import DomainError

PAGE_SIZE = 20


@bp.app_template_global()
def board_seat_for(item: QueueItem) -> BoardSeat | None:
    """The application a queue item is about (for the queue's board include)."""
    return db.session.get(BoardSeat, item.subject_id) if item.kind is QueueKind.BOARD_APPLICATION else None


@bp.get("/admin/boards")
@role_required(Role.ADMIN)
def admin_boards():
    page = db.paginate(boards.boards_query(), per_page=PAGE_SIZE, error_out=False)
    return render_template("boards/admin_boards.html", page=page, counts=boards.seat_counts([b.id for b in page.items]))


def _board_form(board: Board | None):
    form = BoardForm(formdata=request.form if request.method == "POST" else None)
    form.load_choices()
    if request.method == "GET" and board is not None:
        form.fill_from(board)
    if request.method == "POST" and form.validate():
        try:
            saved = boards.save_board(current_user, board, form.details())
        except DomainError as exc:
            rollback()
            form[exc.field or "name"].errors.append(exc.message)
        else:
            commit()
            flash(f"Board {saved.name} is saved.", "success")
            return redirect(url_for("boards.admin_board", board_id=saved.id))
    return render_template("boards/admin_board_form.html", form=form, board=board, help=BOARD_HELP), 422 if form.errors else 200


@bp.route("/admin/boards/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_board():
    return _board_form(None)


@bp.route("/admin/boards/<int:board_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_board(board_id: int):
    return _board_form(db.get_or_404(Board, board_id))


def _seats(board: Board, *statuses: SeatStatus):
    return (
        select(BoardSeat)
        .where(BoardSeat.board_id == board.id, BoardSeat.status.in_(statuses))
        .order_by(BoardSeat.waitlisted_at, BoardSeat.term_starts_on, BoardSeat.id)
    )


@bp.get("/admin/boards/<int:board_id>")
@role_required(Role.ADMIN)
def admin_board(board_id: int):
    board = db.get_or_404(Board, board_id)
    seated = db.session.scalars(_seats(board, SeatStatus.MEMBER, SeatStatus.OFFERED)).all()  # at most the seat count
    waitlist = db.paginate(_seats(board, SeatStatus.WAITLISTED), per_page=PAGE_SIZE, error_out=False, page=request.args.get("waitlist_page", 1, type=int))
    meetings = db.paginate(
        select(BoardMeeting).where(BoardMeeting.board_id == board.id).order_by(BoardMeeting.starts_at.desc(), BoardMeeting.id.desc()),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    tallies = boards.meeting_tallies([m.id for m in meetings.items])
    applied = db.session.scalar(
        select(func.count(BoardSeat.id)).where(BoardSeat.board_id == board.id, BoardSeat.status == SeatStatus.APPLIED)
    )
    return render_template(
        "boards/admin_board.html",
        board=board,
        seated=seated,
        waitlist=waitlist,
        meetings=meetings,
        tallies=tallies,
        applied=applied,
        counts=boards.seat_counts([board.id])[board.id],
        button=EmptyForm(formdata=None),
        now=utcnow(),
    )


@bp.get("/admin/boards/<int:board_id>/members.csv")
@role_required(Role.ADMIN)
def admin_board_members_csv(board_id: int):
    """Members and offered seats, then the waitlist in its order."""
    board = db.get_or_404(Board, board_id)
    seated_first = case((BoardSeat.status == SeatStatus.WAITLISTED, 1), else_=0)
    query = (
        _seats(board, SeatStatus.MEMBER, SeatStatus.OFFERED, SeatStatus.WAITLISTED)
        .order_by(None)
        .order_by(seated_first, BoardSeat.waitlisted_at, BoardSeat.term_starts_on, BoardSeat.id)
    )
    header = ["id", "advocate", "email", "company", "status", "term starts", "term ends", "waitlisted", "offer expires"]
    return csv_response(export_filename(f"board-{board.id}-members"), header, rows_of(query, lambda s: [
        s.id, s.advocate.user.name, s.advocate.user.email, s.advocate.account.name, s.status.label,
        s.term_starts_on, s.term_ends_on, s.waitlisted_at, s.offer_expires_at,
    ]))


@bp.route("/admin/boards/<int:board_id>/meetings/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_meeting(board_id: int):
    board = db.get_or_404(Board, board_id)
    form = MeetingForm()
    form.load_choices()
    if request.method == "GET":
        form.time_zone.data = "UTC"
    if form.validate_on_submit():
        try:
            boards.schedule_meeting(current_user, board, form.details())
        except DomainError as exc:
            rollback()
            form[exc.field or "title"].errors.append(exc.message)
        else:
            commit()
            flash("The meeting is scheduled and the members are invited.", "success")
            return redirect(url_for("boards.admin_board", board_id=board.id))
    return render_template("boards/admin_meeting_form.html", form=form, board=board), 422 if form.errors else 200


@bp.route("/admin/boards/meetings/<int:meeting_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_meeting(meeting_id: int):
    meeting = db.get_or_404(BoardMeeting, meeting_id)
    form = EmptyForm()
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        present = {int(v) for v in request.form.getlist("present") if v.isdigit()}
        try:
            newly = boards.record_attendance(current_user, meeting, present)
        except DomainError as exc:
            rollback()
            error = exc.message
        else:
            commit()
            flash(f"Attendance is recorded; {newly} member(s) earned attendance points.", "success")
            return redirect(url_for("boards.admin_meeting", meeting_id=meeting.id))
    return render_template(
        "boards/admin_meeting.html",
        meeting=meeting,
        sheet=boards.attendance_sheet(meeting),
        form=form,
        error=error,
        started=meeting.starts_at <= utcnow(),
        format_local=boards.format_local,
        where=boards.where,
    ), 422 if error else 200


@bp.post("/admin/boards/seats/<int:seat_id>/end")
@role_required(Role.ADMIN)
def end_membership(seat_id: int):
    seat = db.get_or_404(BoardSeat, seat_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        boards.end_membership(current_user, seat)
    except DomainError as exc:
        rollback()
        flash(exc.message, "error")
    else:
        commit()
        flash(f"The membership of {seat.advocate.user.name} has ended; the seat is offered to the waitlist.", "success")
    return redirect(url_for("boards.admin_board", board_id=seat.board_id))


@bp.get("/admin/boards/seats/<int:seat_id>/certificate.pdf")
@role_required(Role.ADMIN)
def admin_certificate(seat_id: int):
    return certificate_response(db.get_or_404(BoardSeat, seat_id))
