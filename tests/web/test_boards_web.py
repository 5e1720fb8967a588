"""Advisory boards over HTTP: who may open which page, another advocate's objects answer
404, bad input comes back beside its field with nothing written, the queue's waitlist
button, RSVPs by htmx and by plain post, certificates, CSRF on every change, and a bounded
number of queries on every new page."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.database import commit, db, utcnow
from portal.models import Board, BoardMeeting, BoardSeat, MeetingResponse, QueueItem, QueueStatus, Rsvp, SeatStatus
from portal.services import approvals, boards
from tests.factories import AdminFactory, BoardFactory, StaffFactory, UserFactory, board_applicant
from tests.services.test_boards import MOTIVATION, applied, item_for, member, waitlisted
from tests.web.intake import queries_to_render, refused, snapshot
from tests.web.pages import find_form, fresh, htmx_csrf_token, redirect_target, submit

SOON = timedelta(days=10)


def upcoming(board, **values) -> BoardMeeting:
    details = {"title": "Roadmap review", "starts_at": utcnow() + SOON, "video_link": "https://meet.example.com/r"} | values
    return boards.schedule_meeting(AdminFactory(), board, boards.MeetingDetails(**details))


def past(board) -> BoardMeeting:
    meeting = BoardMeeting(board=board, title="Last quarter", starts_at=utcnow() - timedelta(days=3), place="HQ")
    db.session.add(meeting)
    db.session.flush()
    return meeting


# --- who may open what ----------------------------------------------------------------------

OK, SIGN_IN, FORBIDDEN = 200, "sign-in", 403
ADVOCATES = {"anonymous": SIGN_IN, "advocate": OK, "staff": FORBIDDEN, "admin": FORBIDDEN}
ADMINS = {"anonymous": SIGN_IN, "advocate": FORBIDDEN, "staff": FORBIDDEN, "admin": OK}
PAGES = {
    "/boards": ADVOCATES,
    "/boards/{board}": ADVOCATES,
    "/admin/boards": ADMINS,
    "/admin/boards/new": ADMINS,
    "/admin/boards/{board}": ADMINS,
    "/admin/boards/{board}/edit": ADMINS,
    "/admin/boards/{board}/meetings/new": ADMINS,
    "/admin/boards/meetings/{meeting}": ADMINS,
    "/admin/boards/seats/{seat}/certificate.pdf": ADMINS,
}
MATRIX = [(path, role, expected) for path, by_role in PAGES.items() for role, expected in by_role.items()]
ROLES = {"anonymous": None, "advocate": UserFactory, "staff": StaffFactory, "admin": AdminFactory}


@pytest.mark.parametrize(("path", "role", "expected"), MATRIX, ids=[f"{r}:{p}" for p, r, _ in MATRIX])
def test_role_endpoint_matrix(client, db, login_as, path, role, expected):
    board = BoardFactory()
    seat = member(board)
    path = path.format(board=board.id, meeting=upcoming(board).id, seat=seat.id)
    if ROLES[role]:
        login_as(ROLES[role]())
    response = client.get(path)
    if expected == SIGN_IN:
        assert redirect_target(response) == ("/sign-in", {"next": [path]})
    else:
        assert response.status_code == expected


def test_another_advocates_objects_are_not_found(client, db, login_as):
    board = BoardFactory()
    theirs = member(board)
    meeting = upcoming(board)
    other_board = BoardFactory()
    mine = member(other_board)
    commit()
    login_as(mine.advocate.user)
    assert client.get(f"/boards/seats/{theirs.id}/certificate.pdf").status_code == 404
    for action in ("withdraw", "renew", "leave"):
        assert client.post(f"/boards/seats/{theirs.id}/{action}").status_code == 404
    assert client.post(f"/boards/seats/{theirs.id}/offer", data={"answer": "accept"}).status_code == 404
    assert client.post(f"/boards/meetings/{meeting.id}/rsvp", data={"answer": "yes"}).status_code == 404
    assert fresh(theirs).status is SeatStatus.MEMBER
    assert db.session.scalar(select(func.count(MeetingResponse.id))) == 0


def test_a_closed_board_is_hidden_from_those_without_a_place_on_it(client, db, login_as):
    board = BoardFactory(open_for_applications=False)
    login_as(board_applicant().user)
    assert client.get(f"/boards/{board.id}").status_code == 404
    assert board.name not in client.get("/boards").text


# --- the advocate's side ----------------------------------------------------------------------


def test_the_boards_page_lists_open_boards_with_free_seats_and_my_places(client, db, login_as):
    full = BoardFactory(name="Full Council", seat_count=1)
    member(full)
    BoardFactory(name="Open Board", seat_count=4)
    BoardFactory(name="Closed Board", open_for_applications=False)
    me = login_as(board_applicant().user)
    seat = boards.apply(me, full, MOTIVATION)
    page = client.get("/boards").text
    assert "Open Board" in page and "4 of 4 free" in page
    assert "All 1 taken: new members join from the waitlist" in page
    assert "Closed Board" not in page
    assert "Waiting for the team&#39;s decision" in page and seat.status is SeatStatus.APPLIED


def test_applying_with_no_motivation_comes_back_beside_the_field_and_writes_nothing(client, db, login_as):
    board = BoardFactory()
    login_as(board_applicant().user)
    page = client.get(f"/boards/{board.id}")
    before = snapshot()
    response = submit(client, page.text, f"/boards/{board.id}/apply", motivation="")
    refused(response, f"/boards/{board.id}/apply", "motivation", "Tell the team why you would like to join")
    assert snapshot() == before


def test_missing_consent_is_explained_with_a_link_to_give_it(client, db, login_as):
    from tests.factories import AdvocateFactory

    board = BoardFactory()
    login_as(AdvocateFactory().user)
    page = client.get(f"/boards/{board.id}").text
    assert "You have not agreed to advisory-board contact" in page
    assert f'href="/profile?next=/boards/{board.id}#consent"' in page
    assert f'action="/boards/{board.id}/apply"' not in page

    # Giving it on the profile brings the advocate back to the board, to apply.
    profile = client.get(f"/profile?next=/boards/{board.id}").text
    saved = submit(client, profile, "/profile/consent", **{"consent-purposes": ["advisory_board"]})
    assert redirect_target(saved)[0] == f"/boards/{board.id}"
    back = client.get(saved.headers["Location"]).text
    assert "Your consent choices are saved and in force now." in back
    assert "You have not agreed to advisory-board contact" not in back


def test_the_consent_form_returns_only_to_a_page_of_this_site(client, db, login_as):
    from tests.factories import AdvocateFactory

    login_as(AdvocateFactory().user)
    profile = client.get("/profile?next=https://evil.example/").text
    assert "evil.example" not in profile
    saved = submit(client, profile, "/profile/consent", **{"consent-purposes": ["advisory_board"]})
    assert redirect_target(saved)[0] == "/profile"


def test_apply_then_see_the_state_then_withdraw(client, db, login_as):
    board = BoardFactory()
    me = login_as(board_applicant().user)
    page = client.get(f"/boards/{board.id}")
    response = submit(client, page.text, f"/boards/{board.id}/apply", motivation=MOTIVATION)
    assert response.status_code == 302
    seat = db.session.scalar(select(BoardSeat).where(BoardSeat.board_id == board.id))
    assert seat.status is SeatStatus.APPLIED
    page = client.get(f"/boards/{board.id}").text
    assert "My place: Waiting for the team&#39;s decision" in page
    response = submit(client, page, f"/boards/seats/{seat.id}/withdraw")
    assert response.status_code == 302 and fresh(seat).status is SeatStatus.WITHDRAWN


def test_a_member_sees_meetings_in_their_zone_rsvps_by_htmx_and_by_plain_post(client, db, login_as):
    board = BoardFactory()
    seat = member(board, time_zone="Europe/Berlin")
    meeting = upcoming(board, place="Friedrichstraße 10", agenda="One\nTwo")
    login_as(seat.advocate.user)
    page = client.get(f"/boards/{board.id}")
    assert boards.format_local(meeting.starts_at, "Europe/Berlin") in page.text
    assert "Friedrichstraße 10" in page.text and f"{seat.term_ends_on:%-d %B %Y}" in page.text
    response = client.post(f"/boards/meetings/{meeting.id}/rsvp", data={"answer": "maybe"},
                           headers={"HX-Request": "true", "X-CSRFToken": htmx_csrf_token(page.text)})
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<article id="meeting-{meeting.id}"')
    assert '<strong>Maybe</strong>' in response.text and "your answer is recorded" in response.text
    response = client.post(f"/boards/meetings/{meeting.id}/rsvp", data={"answer": "yes"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/boards/{board.id}#meeting-{meeting.id}")
    assert boards.responses_of(seat, [meeting.id])[meeting.id].rsvp is Rsvp.YES
    assert client.post(f"/boards/meetings/{meeting.id}/rsvp", data={"answer": "perhaps"}).status_code == 400


def test_the_member_and_the_team_download_the_certificate(client, db, login_as):
    seat = member(BoardFactory())
    commit()
    login_as(seat.advocate.user)
    mine = client.get(f"/boards/seats/{seat.id}/certificate.pdf")
    assert mine.status_code == 200 and mine.mimetype == "application/pdf" and mine.data.startswith(b"%PDF")
    assert mine.headers["Cache-Control"] == "no-store"
    login_as(AdminFactory())
    assert client.get(f"/admin/boards/seats/{seat.id}/certificate.pdf").data.startswith(b"%PDF")
    assert client.get(f"/admin/boards/seats/{applied(seat.board).id}/certificate.pdf").status_code == 404


def test_an_offered_seat_is_taken_from_the_board_page(client, db, login_as):
    board = BoardFactory(seat_count=1)
    leaving = member(board)
    seat = waitlisted(board)
    boards.end_membership(AdminFactory(), leaving)
    login_as(seat.advocate.user)
    page = client.get(f"/boards/{board.id}").text
    assert "A seat is yours if you want it" in page
    response = submit(client, page, f"/boards/seats/{seat.id}/offer", answer="accept")
    assert response.status_code == 302 and fresh(seat).status is SeatStatus.MEMBER


# --- the team's side --------------------------------------------------------------------------


def board_data(**overrides) -> dict:
    return {"name": "Retail Council", "description": "Retailers", "eligibility": "Retail leaders",
            "seat_count": "5", "term_months": "12", "open_for_applications": "y"} | overrides


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Name the board."),
        ({"seat_count": "0"}, "seat_count", "Between 1 and 500 seats."),
        ({"seat_count": "many"}, "seat_count", "Not a valid integer value."),
        ({"term_months": "61"}, "term_months", "Between 1 and 60 months."),
        ({"name": "Taken Name"}, "name", "Another board has this name."),
    ],
)
def test_board_form_mistakes_come_back_beside_their_field(client, db, login_as, taxonomies, overrides, field, message):
    BoardFactory(name="Taken Name")
    login_as(AdminFactory())
    commit()
    page = client.get("/admin/boards/new")
    before = db.session.scalar(select(func.count(Board.id)))
    response = submit(client, page.text, None, to="/admin/boards/new", **board_data(**overrides))
    refused(response, None, field, message)
    assert db.session.scalar(select(func.count(Board.id))) == before


def test_the_team_creates_and_edits_a_board(client, db, login_as, taxonomies):
    login_as(AdminFactory())
    page = client.get("/admin/boards/new")
    response = submit(client, page.text, None, to="/admin/boards/new", **board_data())
    board = db.session.scalar(select(Board).where(Board.name == "Retail Council"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/boards/{board.id}")
    page = client.get(f"/admin/boards/{board.id}/edit")
    assert 'value="Retail Council"' in page.text and "checked" in page.text
    data = board_data(seat_count="7")
    data.pop("open_for_applications")  # the switch turned off: a browser sends nothing for it
    assert client.post(f"/admin/boards/{board.id}/edit", data=data).status_code == 302
    assert fresh(board).seat_count == 7 and fresh(board).open_for_applications is False


def meeting_data(**overrides) -> dict:
    day = (utcnow() + SOON).date()
    return {"title": "Spring review", "starts_on": day.isoformat(), "starts_time": "10:00", "time_zone": "Europe/Berlin",
            "duration_minutes": "60", "place": "Berlin office", "video_link": "", "agenda": "Roadmap"} | overrides


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "Give the meeting a title."),
        ({"starts_on": "2020-01-01"}, "starts_on", "The meeting must start in the future."),
        ({"starts_on": "soon"}, "starts_on", "Not a valid date value."),
        ({"place": "", "video_link": ""}, "place", "Give a place or a video link"),
        ({"video_link": "http://insecure.example"}, "video_link", "A video link starts with https://."),
        ({"duration_minutes": "5"}, "duration_minutes", "Between 15 and 1440 minutes."),
    ],
)
def test_meeting_form_mistakes_come_back_beside_their_field(client, db, login_as, overrides, field, message):
    board = BoardFactory()
    login_as(AdminFactory())
    commit()
    path = f"/admin/boards/{board.id}/meetings/new"
    page = client.get(path)
    response = submit(client, page.text, None, to=path, **meeting_data(**overrides))
    refused(response, None, field, message)
    assert db.session.scalar(select(func.count(BoardMeeting.id))) == 0


def test_a_meeting_typed_in_berlin_time_is_stored_in_utc(client, db, login_as):
    board = BoardFactory()
    login_as(AdminFactory())
    path = f"/admin/boards/{board.id}/meetings/new"
    submit(client, client.get(path).text, None, to=path, **meeting_data(starts_on="2099-03-30", starts_time="10:00"))
    meeting = db.session.scalar(select(BoardMeeting))
    assert meeting.starts_at.isoformat() == "2099-03-30T08:00:00+00:00"  # CEST is UTC+2


def test_the_queue_item_shows_the_application_and_waitlists_it(client, db, login_as):
    board = BoardFactory(seat_count=1)
    member(board)
    seat = applied(board)
    login_as(AdminFactory())
    commit()
    path = f"/admin/queue/{item_for(seat).id}"
    page = client.get(path)
    assert MOTIVATION in page.text and f"Application to {board.name}" in page.text
    response = submit(client, page.text, None, to=path, decision="approve")
    assert response.status_code == 422 and "waitlist the application instead" in response.text
    assert fresh(seat).status is SeatStatus.APPLIED
    response = submit(client, page.text, None, to=path, decision="waitlist")
    assert response.status_code == 302
    assert fresh(seat).status is SeatStatus.WAITLISTED and fresh(item_for(seat)).status is QueueStatus.DEFERRED
    assert "Decided: <strong>waitlisted</strong>" in client.get(path).text
    assert seat.advocate.user.name in client.get(f"/admin/boards/{board.id}").text


def test_attendance_is_recorded_after_the_meeting_and_awards_points(client, db, login_as):
    from portal.models import PointsSource
    from portal.services import points

    board = BoardFactory()
    came, absent = member(board), member(board)
    meeting = past(board)
    login_as(AdminFactory())
    path = f"/admin/boards/meetings/{meeting.id}"
    page = client.get(path)
    response = submit(client, page.text, None, to=path, present=str(came.id))
    assert response.status_code == 302
    assert points.balance(came.advocate.user) == points.points_value(PointsSource.MEETING_ATTENDED)
    assert points.balance(absent.advocate.user) == 0
    assert 'checked' in client.get(path).text


def test_the_team_ends_a_membership_and_the_waitlist_moves_up(client, db, login_as):
    board = BoardFactory(seat_count=1)
    seat = member(board)
    waiting = waitlisted(board)
    login_as(AdminFactory())
    page = client.get(f"/admin/boards/{board.id}").text
    response = submit(client, page, f"/admin/boards/seats/{seat.id}/end")
    assert response.status_code == 302
    assert fresh(seat).status is SeatStatus.ENDED and fresh(waiting).status is SeatStatus.OFFERED


# --- CSRF on every change ---------------------------------------------------------------------


def _world():
    board = BoardFactory(seat_count=2)
    seat = member(board)
    return board, seat


CHANGES = {
    # name: (who, page, action, data, happened)
    "apply": lambda b, s, w: (board_applicant().user, f"/boards/{b.id}", f"/boards/{b.id}/apply", {"motivation": MOTIVATION},
                              lambda: db.session.scalar(select(func.count(BoardSeat.id))) == 3),
    "rsvp": lambda b, s, w: (s.advocate.user, f"/boards/{b.id}", f"/boards/meetings/{upcoming(b).id}/rsvp", {"answer": "yes"},
                             lambda: db.session.scalar(select(func.count(MeetingResponse.id))) == 1),
    "leave": lambda b, s, w: (s.advocate.user, f"/boards/{b.id}", f"/boards/seats/{s.id}/leave", {},
                              lambda: fresh(s).status is SeatStatus.ENDED),
    "end": lambda b, s, w: (AdminFactory(), f"/admin/boards/{b.id}", f"/admin/boards/seats/{s.id}/end", {},
                            lambda: fresh(s).status is SeatStatus.ENDED),
    "new_board": lambda b, s, w: (AdminFactory(), "/admin/boards/new", "/admin/boards/new", board_data(),
                                  lambda: db.session.scalar(select(Board.id).where(Board.name == "Retail Council")) is not None),
    "new_meeting": lambda b, s, w: (AdminFactory(), f"/admin/boards/{b.id}/meetings/new", f"/admin/boards/{b.id}/meetings/new",
                                    meeting_data(), lambda: db.session.scalar(select(func.count(BoardMeeting.id))) == 1),
    "waitlist": lambda b, s, w: (AdminFactory(), f"/admin/queue/{item_for(w).id}", f"/admin/queue/{item_for(w).id}",
                                 {"decision": "waitlist"}, lambda: fresh(w).status is SeatStatus.WAITLISTED),
}


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True, ids=["csrf"])
@pytest.mark.parametrize("name", list(CHANGES))
def test_without_a_csrf_token_nothing_happens_with_it_the_change_is_made(client, db, login_as, name):
    board, seat = _world()
    waiting = applied(board)
    who, page_path, action, data, happened = CHANGES[name](board, seat, waiting)
    commit()
    login_as(who)
    page = client.get(page_path)
    assert page.status_code == 200
    before = snapshot()
    assert client.post(action, data=data).status_code == 400
    assert snapshot() == before and not happened()
    form_action = None if action == page_path else action
    if name == "rsvp":  # the meeting's form is on the page; the htmx header carries the token
        response = client.post(action, data=data, headers={"X-CSRFToken": htmx_csrf_token(page.text), "HX-Request": "true"})
    else:
        assert find_form(page.text, form_action).fields.get("csrf_token")
        response = submit(client, page.text, form_action, to=action, **data)
    assert response.status_code in (200, 302), response.text[:1500]
    assert happened()


# --- bounded queries ----------------------------------------------------------------------------

FEW, MANY = 3, 30


def _scene_my_boards():
    me = board_applicant()
    user_id = me.user_id

    def add(n):
        from portal.models import User

        for _ in range(n):
            member(BoardFactory())
            boards.apply(db.session.get(User, user_id), BoardFactory(), MOTIVATION)

    return me.user, "/boards", add


def _scene_member_board():
    board = BoardFactory(seat_count=100)
    seat = member(board, time_zone="Europe/Berlin")
    board_id, user_id = board.id, seat.advocate.user_id
    days = iter(range(1, 1000))

    def add(n):
        from portal.models import User

        board = db.session.get(Board, board_id)
        for _ in range(n):
            m = upcoming(board, starts_at=utcnow() + timedelta(days=next(days)))
            boards.answer_meeting(db.session.get(User, user_id), m, Rsvp.YES)
            member(board)

    return seat.advocate.user, f"/boards/{board.id}", add


def _scene_admin_boards():
    def add(n):
        for _ in range(n):
            board = BoardFactory(seat_count=1)
            member(board)
            waitlisted(board)
            applied(board)

    return AdminFactory(), "/admin/boards", add


def _scene_admin_board():
    board_id = BoardFactory(seat_count=100).id

    def add(n):
        board = db.session.get(Board, board_id)
        for _ in range(n):
            member(board)
            seat = applied(board)
            approvals.decide(AdminFactory(), item_for(seat), False, extra=boards.WAITLIST.name)
            past(board)

    return AdminFactory(), f"/admin/boards/{board_id}", add


def _scene_attendance():
    board = BoardFactory(seat_count=100)
    meeting = past(board)
    board_id, meeting_id = board.id, meeting.id

    def add(n):
        board, meeting = db.session.get(Board, board_id), db.session.get(BoardMeeting, meeting_id)
        for _ in range(n):
            seat = member(board)
            boards.record_attendance(AdminFactory(), meeting, {seat.id})

    return AdminFactory(), f"/admin/boards/meetings/{meeting_id}", add


def _scene_queue_item():
    board_id = BoardFactory(seat_count=100).id
    seat = applied(db.session.get(Board, board_id))

    def add(n):
        board = db.session.get(Board, board_id)
        for _ in range(n):
            member(board)
            waitlisted(board)

    return AdminFactory(), f"/admin/queue/{item_for(seat).id}", add


SCENES = {
    "queue_item": _scene_queue_item,
    "my_boards": _scene_my_boards,
    "member_board": _scene_member_board,
    "admin_boards": _scene_admin_boards,
    "admin_board": _scene_admin_board,
    "attendance": _scene_attendance,
}


@pytest.mark.parametrize("scene", list(SCENES))
def test_a_board_page_sends_as_many_queries_for_30_rows_as_for_3(client, db, login_as, scene):
    viewer, path, add = SCENES[scene]()
    login_as(viewer)
    add(FEW)
    few = queries_to_render(client, path)
    add(MANY - FEW)
    many = queries_to_render(client, path)
    repeated = {sql: count for sql, count in Counter(many).items() if count > Counter(few)[sql]}
    assert len(many) == len(few), f"{len(few)} queries for {FEW} rows, {len(many)} for {MANY}; growing: {repeated}"
