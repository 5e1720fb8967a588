"""Every model, imported here so that Alembic and the app see the whole schema."""

from portal.models.account import Account, GiftPolicy
from portal.models.api_token import ApiToken
from portal.models.advocate import (
    CURRENT_STATUSES,
    Advocate,
    AdvocateStatus,
    ChangeStatus,
    Channel,
    NominationSource,
    ProfileChange,
    Seniority,
    advocate_activity_types,
    advocate_products,
    advocate_use_cases,
)
from portal.models.availability import AdvocateAvailability
from portal.models.asks import (
    COUNTING_STATUSES,
    Ask,
    AskOutcome,
    AskStatus,
    Blackout,
    ProgramSettings,
    ReferenceRequest,
    RequestStatus,
)
from portal.models.audit import AuditEvent
from portal.models.campaigns import (
    Campaign,
    CampaignParticipation,
    Incentive,
    ParticipationStatus,
    PlatformIncentiveCap,
    ProofStatus,
    ReviewPlatform,
    ReviewProof,
)
from portal.models.board import (
    ACTIVE_SEAT_STATUSES,
    SEAT_TAKING_STATUSES,
    Board,
    BoardMeeting,
    BoardSeat,
    MeetingResponse,
    Rsvp,
    SeatStatus,
)
from portal.models.consent import Consent, ConsentChange, ConsentEvent, ConsentPurpose
from portal.models.imports import ImportBatch, ImportStatus
from portal.models.notification import Delivery, Notification, NotificationCategory
from portal.models.outbox import OutboxKind, OutboxMessage, OutboxStatus
from portal.models.points import PointsEntry, PointsSource
from portal.models.queue import QueueItem, QueueKind, QueueStatus
from portal.models.reference_check import CheckStatus, CheckSubject, CheckTrigger, ReferenceCheck
from portal.models.reporting import CoverageTarget, DemandSource, ProgramReport, ReportStatus, UnmetDemand
from portal.models.rewards import (
    HOLDING_STATUSES,
    ClaimStatus,
    Reward,
    RewardClaim,
    RewardSettings,
)
from portal.models.taxonomy import ActivityType, ActivityWeight, Region, RegionCountry, Term, TermKind
from portal.models.upload import Upload
from portal.models.user import Role, User, UserIdentity, normalise_email

__all__ = [
    "ACTIVE_SEAT_STATUSES",
    "SEAT_TAKING_STATUSES",
    "Board",
    "BoardMeeting",
    "BoardSeat",
    "MeetingResponse",
    "Rsvp",
    "SeatStatus",
    "COUNTING_STATUSES",
    "CURRENT_STATUSES",
    "ActivityWeight",
    "Ask",
    "AskOutcome",
    "AskStatus",
    "Blackout",
    "Channel",
    "ProgramSettings",
    "ReferenceRequest",
    "RequestStatus",
    "Account",
    "ApiToken",
    "ActivityType",
    "Advocate",
    "AdvocateStatus",
    "AuditEvent",
    "ChangeStatus",
    "Consent",
    "ConsentChange",
    "ConsentEvent",
    "ConsentPurpose",
    "Delivery",
    "GiftPolicy",
    "ImportBatch",
    "ImportStatus",
    "NominationSource",
    "Notification",
    "NotificationCategory",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "PointsEntry",
    "PointsSource",
    "ProfileChange",
    "QueueItem",
    "QueueKind",
    "QueueStatus",
    "CheckStatus",
    "CheckSubject",
    "CheckTrigger",
    "ReferenceCheck",
    "Region",
    "RegionCountry",
    "Role",
    "Seniority",
    "Term",
    "TermKind",
    "Upload",
    "User",
    "UserIdentity",
    "advocate_activity_types",
    "advocate_products",
    "advocate_use_cases",
    "normalise_email",
    "Campaign",
    "CampaignParticipation",
    "Incentive",
    "ParticipationStatus",
    "PlatformIncentiveCap",
    "ProofStatus",
    "ReviewPlatform",
    "ReviewProof",
    "CoverageTarget",
    "DemandSource",
    "ProgramReport",
    "ReportStatus",
    "UnmetDemand",
    "AdvocateAvailability",
    "HOLDING_STATUSES",
    "ClaimStatus",
    "Reward",
    "RewardClaim",
    "RewardSettings",
]
