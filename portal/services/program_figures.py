"""Dashboard figures for the programs advocates take part in: review campaigns, advisory
boards and rewards. Each is one or two aggregate queries, whatever the program's size."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, case, func, select

from portal.database import db
from portal.models import (
    SEAT_TAKING_STATUSES,
    Board,
    BoardMeeting,
    BoardSeat,
    Campaign,
    CampaignParticipation,
    ClaimStatus,
    MeetingResponse,
    ParticipationStatus,
    ProofStatus,
    ReviewProof,
    RewardClaim,
    SeatStatus,
)
from portal.services.reporting import Quarter, _count_if, _percent, figure

SHOWN = 8  # campaigns and boards listed on the dashboard; the rest are on their own pages


@figure("campaigns")
def campaign_progress(quarter: Quarter, now: datetime) -> dict:
    """Campaigns running at some time in the quarter: verified reviews against the target."""
    verified = (
        select(CampaignParticipation.campaign_id, func.count(ReviewProof.id).label("verified"))
        .join(ReviewProof, ReviewProof.participation_id == CampaignParticipation.id)
        .where(ReviewProof.status == ProofStatus.VERIFIED)
        .group_by(CampaignParticipation.campaign_id)
        .subquery()
    )
    joined = (
        select(CampaignParticipation.campaign_id, func.count().label("joined"))
        .where(CampaignParticipation.status != ParticipationStatus.INVITED)
        .group_by(CampaignParticipation.campaign_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Campaign.id,
            Campaign.name,
            Campaign.platform,
            Campaign.target_count,
            Campaign.ends_on,
            func.coalesce(verified.c.verified, 0),
            func.coalesce(joined.c.joined, 0),
        )
        .outerjoin(verified, verified.c.campaign_id == Campaign.id)
        .outerjoin(joined, joined.c.campaign_id == Campaign.id)
        .where(Campaign.starts_on < quarter.end.date(), Campaign.ends_on >= quarter.start.date())
        .order_by(Campaign.ends_on.desc(), Campaign.id.desc())
        .limit(SHOWN)
    ).all()
    campaigns = [
        {
            "id": id_,
            "name": name,
            "platform": platform.label,
            "target": target,
            "verified": int(verified_count),
            "joined": int(joined_count),
            "percent": _percent(int(verified_count), target),
            "ended": ends_on < now.date(),
        }
        for id_, name, platform, target, ends_on, verified_count, joined_count in rows
    ]
    return {"campaigns": campaigns}


@figure("boards")
def board_seat_fill(quarter: Quarter, now: datetime) -> dict:
    """Seats filled and waiting lists of every board (now), and meeting attendance in the
    quarter (of the members invited to its meetings, how many came)."""
    rows = db.session.execute(
        select(
            Board.id,
            Board.name,
            Board.seat_count,
            _count_if(BoardSeat.status.in_(SEAT_TAKING_STATUSES)),
            _count_if(BoardSeat.status == SeatStatus.WAITLISTED),
        )
        .outerjoin(BoardSeat, BoardSeat.board_id == Board.id)
        .group_by(Board.id, Board.name, Board.seat_count)
        .order_by(Board.name)
        .limit(SHOWN)
    ).all()
    invited, attended = db.session.execute(
        select(func.count(MeetingResponse.id), _count_if(MeetingResponse.attended.is_(True)))
        .join(BoardMeeting, BoardMeeting.id == MeetingResponse.meeting_id)
        .where(quarter.contains(BoardMeeting.starts_at), BoardMeeting.starts_at < now)
    ).one()
    boards = [
        {"id": id_, "name": name, "seats": seats, "filled": int(filled), "waitlist": int(waiting),
         "percent": _percent(int(filled), seats)}
        for id_, name, seats, filled, waiting in rows
    ]
    return {
        "boards": boards,
        "seats": sum(b["seats"] for b in boards),
        "filled": sum(b["filled"] for b in boards),
        "invited": int(invited),
        "attended": int(attended),
        "attendance_percent": _percent(int(attended), int(invited)),
    }


@figure("rewards")
def rewards_redeemed(quarter: Quarter, now: datetime) -> dict:
    """Claims made in the quarter by outcome, and what was sent (fulfilled) in it."""
    in_quarter = quarter.contains(RewardClaim.created_at)
    requested, approved, rejected, cancelled, fulfilled, fulfilled_value, fulfilled_points, donations = db.session.execute(
        select(
            _count_if(and_(in_quarter, RewardClaim.status == ClaimStatus.REQUESTED)),
            _count_if(and_(in_quarter, RewardClaim.status == ClaimStatus.APPROVED)),
            _count_if(and_(in_quarter, RewardClaim.status == ClaimStatus.REJECTED)),
            _count_if(and_(in_quarter, RewardClaim.status == ClaimStatus.CANCELLED)),
            _count_if(quarter.contains(RewardClaim.fulfilled_at)),
            func.coalesce(func.sum(case((quarter.contains(RewardClaim.fulfilled_at), RewardClaim.monetary_value), else_=0)), 0),
            func.coalesce(func.sum(case((quarter.contains(RewardClaim.fulfilled_at), RewardClaim.points), else_=0)), 0),
            _count_if(and_(quarter.contains(RewardClaim.fulfilled_at), RewardClaim.charity.is_not(None))),
        )
    ).one()
    return {
        "waiting": int(requested),
        "to_send": int(approved),
        "rejected": int(rejected),
        "cancelled": int(cancelled),
        "fulfilled": int(fulfilled),
        "fulfilled_value": Decimal(fulfilled_value).quantize(Decimal("0.01")),
        "fulfilled_points": int(fulfilled_points),
        "donations": int(donations),
    }
