"""CSV exports of the program lists: reward claims (with the list's status filter), a
campaign's participants and a board's members and waitlist. Each equals its page's list,
is for admins only, and answers 404 for an id that does not exist."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.database import utcnow
from portal.models import CampaignParticipation, ClaimStatus, ParticipationStatus, RewardClaim, SeatStatus
from portal.models.board import BoardSeat
from tests.factories import AdminFactory, AdvocateFactory, BoardFactory, CampaignFactory, RewardFactory, StaffFactory, UserFactory
from tests.web.test_reporting_web import _csv


@pytest.fixture
def lists(db):
    reward = RewardFactory(name="Conference pass")
    claims = {}
    for status in (ClaimStatus.APPROVED, ClaimStatus.APPROVED, ClaimStatus.FULFILLED, ClaimStatus.REJECTED):
        advocate = AdvocateFactory()
        claim = RewardClaim(reward=reward, user_id=advocate.user_id, advocate_id=advocate.id, status=status,
                            points=100, monetary_value=Decimal("20.00"))
        db.session.add(claim)
        claims.setdefault(status, []).append(claim)
    campaign, other_campaign = CampaignFactory(), CampaignFactory()
    joined = [CampaignParticipation(campaign=campaign, advocate=AdvocateFactory(), status=s)
              for s in (ParticipationStatus.INVITED, ParticipationStatus.JOINED, ParticipationStatus.VERIFIED)]
    db.session.add_all(joined + [CampaignParticipation(campaign=other_campaign, advocate=AdvocateFactory())])
    board = BoardFactory(seat_count=2)
    seats = [BoardSeat(board=board, advocate=AdvocateFactory(user=UserFactory(name=f"Seat {s.value}")), status=s, motivation="x")
             for s in (SeatStatus.MEMBER, SeatStatus.WAITLISTED, SeatStatus.APPLIED, SeatStatus.DECLINED)]
    seats[0].term_starts_on, seats[0].term_ends_on = date(2026, 1, 1), date(2027, 1, 1)
    seats[1].waitlisted_at = utcnow()
    db.session.add_all(seats)
    db.session.flush()
    return {"claims": claims, "campaign": campaign, "joined": joined, "board": board, "seats": seats}


def paths(lists) -> list[str]:
    return [
        "/admin/rewards/claims.csv?status=approved",
        f"/admin/campaigns/{lists['campaign'].id}/participants.csv",
        f"/admin/boards/{lists['board'].id}/members.csv",
    ]


def test_only_admins_download_them(client, login_as, lists):
    for path in paths(lists):
        assert client.get(path).status_code == 302  # to /sign-in
    for person in (UserFactory(), StaffFactory()):
        login_as(person)
        for path in paths(lists):
            assert client.get(path).status_code == 403
    login_as(AdminFactory())
    assert client.get("/admin/campaigns/987654/participants.csv").status_code == 404
    assert client.get("/admin/boards/987654/members.csv").status_code == 404


def test_claims_export_follows_the_status_filter(client, login_as, lists):
    login_as(AdminFactory())
    approved = _csv(client.get("/admin/rewards/claims.csv?status=approved"))
    assert [int(r["id"]) for r in approved] == [c.id for c in lists["claims"][ClaimStatus.APPROVED]]
    assert approved[0]["reward"] == "Conference pass" and approved[0]["value"] == "20.00"
    assert [int(r["id"]) for r in _csv(client.get("/admin/rewards/claims.csv?status=fulfilled"))] == [
        lists["claims"][ClaimStatus.FULFILLED][0].id
    ]
    assert 'href="/admin/rewards/claims.csv?status=approved"' in client.get("/admin/rewards/claims").text


def test_participants_export_lists_this_campaign_only(client, login_as, lists):
    login_as(AdminFactory())
    rows = _csv(client.get(f"/admin/campaigns/{lists['campaign'].id}/participants.csv"))
    assert sorted(int(r["id"]) for r in rows) == sorted(p.id for p in lists["joined"])
    assert {r["status"] for r in rows} == {p.status.label for p in lists["joined"]}


def test_members_export_has_members_offers_and_the_waitlist(client, login_as, lists):
    login_as(AdminFactory())
    rows = _csv(client.get(f"/admin/boards/{lists['board'].id}/members.csv"))
    assert [r["advocate"] for r in rows] == ["Seat member", "Seat waitlisted"]
    assert f'href="/admin/boards/{lists["board"].id}/members.csv"' in client.get(f"/admin/boards/{lists['board'].id}").text
