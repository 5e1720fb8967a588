"""/boards: advisory boards an advocate can apply to, their applications and memberships,
meetings with RSVPs, and the membership certificate."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.boards import bp
from blueprints.boards.forms import ApplyForm, EmptyForm
from portal.database import commit, db, rollback, utcnow
from portal.documents import pdf_response
from portal.extensions import htmx
from portal.models import ACTIVE_SEAT_STATUSES, Advocate, Board, BoardMeeting, BoardSeat, Role, Rsvp, SeatStatus
from portal.security import role_required
from portal.services import boards
from portal.services.errors import DomainError
from portal.services.nominations import current_advocate

PAGE_SIZE = 10


def _my_seat(seat_id: int) -> BoardSeat:
    """One of the signed-in person's own places on a board; anyone else's is not found."""
    seat = db.session.get(BoardSeat, seat_id)
    if seat is None or seat.advocate.user_id != current_user.id:
        abort(404)
    return seat


@bp.get("/boards")
@role_required(Role.ADVOCATE)
def my_boards():
    mine = db.session.scalars(
        select(BoardSeat)
        .join(Advocate, BoardSeat.advocate_id == Advocate.id)
        .where(Advocate.user_id == current_user.id)
        .order_by(BoardSeat.status.in_(ACTIVE_SEAT_STATUSES).desc(), BoardSeat.created_at.desc(), BoardSeat.id.desc())
        .limit(50)
    ).all()
    active_board_ids = {s.board_id for s in mine if s.status in ACTIVE_SEAT_STATUSES}
    page = db.paginate(boards.boards_query(only_open=True), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "boards/my_boards.html",
        mine=mine,
        page=page,
        counts=boards.seat_counts([b.id for b in page.items]),
        active_board_ids=active_board_ids,
        advocate=current_advocate(current_user),
    )


def _render_board(board: Board, form: ApplyForm | None = None, status: int = 200):
    advocate = current_advocate(current_user)
    seat = boards.seat_of(advocate, board)
    active = seat is not None and seat.status in ACTIVE_SEAT_STATUSES
    if not board.open_for_applications and seat is None:
        abort(404)
    meetings = responses = None
    if seat is not None and seat.status is SeatStatus.MEMBER:
        meetings = db.paginate(boards.upcoming_meetings(board), per_page=PAGE_SIZE, error_out=False)
        responses = boards.responses_of(seat, [m.id for m in meetings.items])
    return render_template(
        "boards/board.html",
        board=board,
        seat=seat if seat is not None else None,
        active=active,
        counts=boards.seat_counts([board.id])[board.id],
        refusals=[] if active else boards.refusals(advocate, board),
        consent_refusals=[boards.NO_CONSENT],
        form=form or ApplyForm(formdata=None),
        button=EmptyForm(),
        meetings=meetings,
        responses=responses,
        time_zone=advocate.time_zone if advocate else "UTC",
        format_local=boards.format_local,
        where=boards.where,
        Rsvp=Rsvp,
        now=utcnow(),
    ), status


@bp.get("/boards/<int:board_id>")
@role_required(Role.ADVOCATE)
def board(board_id: int):
    return _render_board(db.get_or_404(Board, board_id))


@bp.post("/boards/<int:board_id>/apply")
@role_required(Role.ADVOCATE)
def apply(board_id: int):
    board = db.get_or_404(Board, board_id)
    form = ApplyForm()
    if form.validate_on_submit():
        try:
            boards.apply(current_user, board, form.motivation.data)
        except DomainError as exc:
            rollback()
            form.motivation.errors.append(exc.message)
        else:
            commit()
            flash("Your application is with the advocacy team. You will hear from us by email.", "success")
            return redirect(url_for("boards.board", board_id=board.id))
    return _render_board(board, form, 422)


def _seat_action(seat_id: int, action, done: str):
    seat = _my_seat(seat_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        action(seat)
    except DomainError as exc:
        rollback()
        flash(exc.message, "error")
    else:
        commit()
        flash(done, "success")
    return redirect(url_for("boards.board", board_id=seat.board_id))


@bp.post("/boards/seats/<int:seat_id>/withdraw")
@role_required(Role.ADVOCATE)
def withdraw(seat_id: int):
    return _seat_action(seat_id, lambda seat: boards.withdraw(current_user, seat), "Your application is withdrawn.")


@bp.post("/boards/seats/<int:seat_id>/offer")
@role_required(Role.ADVOCATE)
def answer_offer(seat_id: int):
    answer = request.form.get("answer")
    if answer not in ("accept", "decline"):
        abort(400)
    accept = answer == "accept"
    return _seat_action(
        seat_id,
        lambda seat: boards.answer_offer(current_user, seat, accept),
        "Welcome to the board: the seat is yours." if accept else "You declined the seat; it goes to the next person waiting.",
    )


@bp.post("/boards/seats/<int:seat_id>/renew")
@role_required(Role.ADVOCATE)
def renew(seat_id: int):
    return _seat_action(seat_id, lambda seat: boards.renew(current_user, seat), "Thank you: your term is renewed.")


@bp.post("/boards/seats/<int:seat_id>/leave")
@role_required(Role.ADVOCATE)
def leave(seat_id: int):
    return _seat_action(seat_id, lambda seat: boards.end_membership(current_user, seat), "You have left the board. Thank you for taking part.")


@bp.post("/boards/meetings/<int:meeting_id>/rsvp")
@role_required(Role.ADVOCATE)
def rsvp(meeting_id: int):
    meeting = db.get_or_404(BoardMeeting, meeting_id)
    seat = boards.member_seat(current_user, meeting.board_id)
    if seat is None:
        abort(404)  # not this person's board
    form = EmptyForm()
    try:
        answer = Rsvp(request.form.get("answer", ""))
    except ValueError:
        abort(400)
    error = None
    if not form.validate_on_submit():
        abort(400)
    try:
        boards.answer_meeting(current_user, meeting, answer)
    except DomainError as exc:
        rollback()
        error = exc.message
    else:
        commit()
    if not htmx:
        flash(error or f"Thank you: your answer ({answer.label}) is recorded.", "error" if error else "success")
        return redirect(url_for("boards.board", board_id=meeting.board_id) + f"#meeting-{meeting.id}")
    return render_template(
        "boards/_meeting.html",
        meeting=meeting,
        response=boards.responses_of(seat, [meeting.id]).get(meeting.id),
        time_zone=seat.advocate.time_zone,
        format_local=boards.format_local,
        where=boards.where,
        Rsvp=Rsvp,
        button=EmptyForm(formdata=None),
        answered=error is None,
        error=error,
    ), 422 if error else 200


@bp.get("/boards/seats/<int:seat_id>/certificate.pdf")
@role_required(Role.ADVOCATE)
def certificate(seat_id: int):
    return certificate_response(_my_seat(seat_id))


def certificate_response(seat: BoardSeat):
    try:
        pdf = boards.certificate(seat, current_app.config["PROGRAM_NAME"])
    except DomainError:
        abort(404)
    return pdf_response(pdf, f"board-membership-{seat.board_id}-{seat.id}.pdf")
