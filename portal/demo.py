"""Demo data for ``flask --app wsgi seed-demo``: idempotent, believable, every page populated.

People are added only when missing, so running it again changes nothing but the printed
admin password."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from portal.database import db, utcnow
from portal.models import (
    Account,
    ActivityType,
    Ask,
    AskOutcome,
    AskStatus,
    Blackout,
    Advocate,
    AdvocateStatus,
    ConsentPurpose,
    NominationSource,
    QueueItem,
    QueueKind,
    ReferenceRequest,
    Region,
    Role,
    Seniority,
    Term,
    TermKind,
    UnmetDemand,
    DemandSource,
    User,
)
from portal.services import approvals, auth, consent, nominations, profiles, references, taxonomy

ACCOUNTS = [
    # name, domain, industry, country
    ("Banco Istmeño", "bancoistmeno.example", "Financial services", "PA"),
    ("Cafetalera del Pacífico", "cafepacifico.example", "Food and beverage", "CR"),
    ("Northwind Health", "northwindhealth.example", "Healthcare", "US"),
    ("Fjordline Logistics", "fjordline.example", "Transport and logistics", "NO"),
    ("Rheinwerk Maschinenbau", "rheinwerk.example", "Manufacturing", "DE"),
    ("Sakura Retail Group", "sakuraretail.example", "Retail", "JP"),
    ("Southern Cross Insurance", "southerncross.example", "Financial services", "AU"),
    ("Lumière Énergie", "lumiere-energie.example", "Energy and utilities", "FR"),
    ("Maple Public Services", "maplegov.example", "Public sector", "CA"),
    ("Andes Mining Corp", "andesmining.example", "Mining", "CL"),
    ("Nile Telecom", "niletelecom.example", "Telecommunications", "EG"),
    ("Bangalore Software Labs", "blrsoftware.example", "Software", "IN"),
    ("Guatemala Agro Exports", "agroexports-gt.example", "Agriculture", "GT"),
    ("Example Customer", "example.com", "Software", "GB"),
]

TEAM = [
    ("admin@example.com", "Ada Advocacy", Role.ADMIN),
    ("staff@example.com", "Sam Seller", Role.STAFF),
    ("csm@example.com", "Casey Success", Role.STAFF),
]

# email, name, company domain, status, title, seniority, country, tz, languages, products, use cases,
# activities, consents, extra
ADVOCATES = [
    ("advocate@example.com", "Alex Advocate", "example.com", "approved", "Head of Data", Seniority.DIRECTOR,
     "GB", "Europe/London", ["en"], ["Analytics Cloud", "Data Platform"], ["Reporting and BI"],
     ["reference_call", "quote", "peer_review", "product_feedback"],
     [ConsentPurpose.REFERENCE_CALLS, ConsentPurpose.QUOTE, ConsentPurpose.PEER_REVIEW, ConsentPurpose.PROGRAM_EMAILS],
     {"withdrew": ConsentPurpose.LOGO}),
    ("maria.lopez@bancoistmeno.example", "María López", "bancoistmeno.example", "approved", "VP Digital Channels",
     Seniority.VP, "PA", "America/Panama", ["es", "en"], ["Analytics Cloud", "Payments Gateway"],
     ["Fraud prevention", "Customer experience"], ["reference_call", "case_study", "speaking", "advisory_board"],
     [ConsentPurpose.REFERENCE_CALLS, ConsentPurpose.CASE_STUDY, ConsentPurpose.SPEAKING, ConsentPurpose.ADVISORY_BOARD],
     {}),
    ("diego.mora@cafepacifico.example", "Diego Mora", "cafepacifico.example", "approved", "CFO", Seniority.EXECUTIVE,
     "CR", "America/Costa_Rica", ["es"], ["Payments Gateway"], ["Cost reduction"], ["reference_call", "quote"],
     [ConsentPurpose.REFERENCE_CALLS, ConsentPurpose.QUOTE], {}),
    ("kenji.sato@sakuraretail.example", "Kenji Sato", "sakuraretail.example", "approved", "IT Director",
     Seniority.DIRECTOR, "JP", "Asia/Tokyo", ["ja", "en"], ["Identity Suite"], ["Security and access"],
     ["reference_call", "site_visit"], [ConsentPurpose.REFERENCE_CALLS], {"stale_days": 240}),
    ("carlos.mendez@agroexports-gt.example", "Carlos Méndez", "agroexports-gt.example", "approved",
     "Operations Manager", Seniority.MANAGER, "GT", "America/Guatemala", ["es"], ["Mobile SDK"],
     ["Process automation"], ["product_feedback", "peer_review"], [ConsentPurpose.PEER_REVIEW],
     {"proposed_title": "Chief Operating Officer"}),
    ("priya.nair@blrsoftware.example", "Priya Nair", "blrsoftware.example", "pending", "Engineering Lead",
     Seniority.MANAGER, "IN", "Asia/Kolkata", ["en", "hi"], ["Data Platform", "Mobile SDK"], ["Cloud migration"],
     ["webinar", "speaking", "product_feedback"], [], {"waiting_days": 9}),
    ("ingrid.berg@fjordline.example", "Ingrid Berg", "fjordline.example", "pending-invitation", "Logistics Director",
     Seniority.DIRECTOR, "NO", "Europe/Oslo", ["no", "en"], ["Analytics Cloud"], ["Reporting and BI"],
     ["reference_call", "case_study"], [ConsentPurpose.REFERENCE_CALLS, ConsentPurpose.CASE_STUDY], {"waiting_days": 2}),
    ("sophie.martin@lumiere-energie.example", "Sophie Martin", "lumiere-energie.example", "invited", "Head of IT",
     Seniority.DIRECTOR, "FR", "Europe/Paris", ["fr", "en"], [], [], [], [], {}),
    ("ahmed.hassan@niletelecom.example", "Ahmed Hassan", "niletelecom.example", "unverified", "Network Architect",
     Seniority.INDIVIDUAL, "EG", "Africa/Cairo", ["ar", "en"], ["Identity Suite"], ["Security and access"],
     ["reference_call"], [], {}),
    ("tom.becker@rheinwerk.example", "Tom Becker", "rheinwerk.example", "rejected", "Intern", Seniority.INDIVIDUAL,
     "DE", "Europe/Berlin", ["de"], [], [], ["quote"], [], {"reason": "We need customers with at least six months on the product; please nominate yourself again next year."}),
    ("liam.obrien@maplegov.example", "Liam O'Brien", "maplegov.example", "declined", "Program Manager",
     Seniority.MANAGER, "CA", "America/Toronto", ["en", "fr"], [], [], [], [], {}),
    ("emma.wilson@northwindhealth.example", "Emma Wilson", "southerncross.example", "moved", "Chief Digital Officer",
     Seniority.EXECUTIVE, "AU", "Australia/Sydney", ["en"], ["Analytics Cloud", "Identity Suite"],
     ["Customer experience"], ["reference_call", "media", "speaking"],
     [ConsentPurpose.REFERENCE_CALLS, ConsentPurpose.MEDIA], {"new_company": "Northwind Health"}),
]


def seed() -> str:
    taxonomy.load_defaults()
    industries = {t.name: t.id for t in taxonomy.terms(TermKind.INDUSTRY, include_retired=True)}
    for name, domain, industry, country in ACCOUNTS:
        if db.session.scalar(select(Account.id).where(Account.domain == domain)) is None:
            db.session.add(Account(name=name, domain=domain, industry_id=industries.get(industry), country=country))
    for email, name, role in TEAM:
        if auth.find_user(email) is None:
            db.session.add(User(email=email, name=name, role=role))
    db.session.flush()
    admin = auth.find_user("admin@example.com")
    staff = auth.find_user("staff@example.com")
    for row in ADVOCATES:
        if auth.find_user(row[0]) is None:
            _add_advocate(admin, staff, industries, *row)
    first_run = db.session.scalar(select(Ask.id).limit(1)) is None
    if first_run:
        _add_asks(admin)
    if db.session.scalar(select(ReferenceRequest.id).limit(1)) is None:
        _add_reference_requests(admin, staff)
    _add_open_ask(admin)
    seed_campaigns()
    if first_run:
        _add_pause_and_blackout()
    seed_boards(admin)
    seed_reporting(admin, staff)
    seed_rewards(admin)

    # A fresh password each run, printed once: the demo never ships a known password.
    password = secrets.token_urlsafe(12)
    admin.password_hash = auth.hash_password(password)
    db.session.flush()
    return "\n".join(
        [
            f"Demo program ready: {len(ACCOUNTS)} customer accounts, {len(ADVOCATES)} advocates in every state.",
            f"  admin@example.com    (admin)    password: {password}",
            "  staff@example.com    (staff)    sign in with:  flask --app wsgi login-link staff@example.com",
            "  advocate@example.com (advocate) sign in with an email link at /sign-in",
        ]
    )


def _add_advocate(admin, staff, industries, email, name, domain, state, title, seniority, country, tz, languages,
                  products, use_cases, activities, consents, extra):
    now = utcnow()
    account = db.session.scalar(select(Account).where(Account.domain == domain))
    user = User(email=email, name=name, role=Role.ADVOCATE)
    db.session.add(user)
    staff_nominated = state in ("invited", "pending-invitation", "declined")
    advocate = Advocate(
        user=user,
        account=account,
        status=AdvocateStatus.UNVERIFIED if not staff_nominated else AdvocateStatus.INVITED,
        source=NominationSource.STAFF if staff_nominated else NominationSource.SELF,
        nominated_by_id=staff.id if staff_nominated else None,
        nomination_reason="Ran a flawless rollout and presents well." if staff_nominated else "",
        created_at=now - timedelta(days=400 if state in ("approved", "moved") else 20),
    )
    db.session.add(advocate)
    profile = nominations.Profile(
        job_title=title,
        seniority=seniority,
        industry_id=account.industry_id,
        country=country,
        languages=languages,
        time_zone=tz,
        story=f"{account.name} uses our products every day." if products else "",
        product_ids=_ids(Term, products),
        use_case_ids=_ids(Term, use_cases),
        activity_type_ids=list(db.session.scalars(select(ActivityType.id).where(ActivityType.key.in_(activities)))),
    )
    nominations.apply_profile(advocate, profile)
    db.session.flush()
    if consents or extra.get("withdrew"):
        consent.set_consents(user, advocate, set(consents) | {extra["withdrew"]} if extra.get("withdrew") else set(consents), "join")
    if extra.get("withdrew"):
        consent.set_consents(user, advocate, set(consents), "profile")

    if state == "unverified" or state == "invited":
        return
    if state == "declined":
        nominations.decline_invitation(user, advocate)
        return
    kind = QueueKind.INVITATION if state == "pending-invitation" else QueueKind.NOMINATION
    nominations.submit_for_approval(advocate, kind)
    item = db.session.scalar(approvals.queue_query(kind=kind).where(QueueItem.advocate_id == advocate.id))
    item.created_at = advocate.submitted_at = now - timedelta(days=extra.get("waiting_days", 30))
    if state.startswith("pending"):
        return
    if state == "rejected":
        approvals.decide(admin, item, False, extra["reason"])
        return
    approvals.decide(admin, item, True)
    if extra.get("stale_days"):
        advocate.last_confirmed_at = now - timedelta(days=extra["stale_days"])
    if extra.get("proposed_title"):
        profile.job_title = extra["proposed_title"]
        profiles.update_profile(user, advocate, name, profile)
    if state == "moved":
        user.email = email
        profiles.move_to_company(user, advocate, extra["new_company"], title)
    db.session.flush()


def _ids(model, names):
    return list(db.session.scalars(select(model.id).where(model.name.in_(names)))) if names else []


# email, activity key, prospect, days ago, status, extra
ASKS = [
    ("advocate@example.com", "reference_call", "Gulf Coast Bank", 3, AskStatus.ACCEPTED, {}),
    ("advocate@example.com", "quote", "Nordic Payments", 70, AskStatus.COMPLETED, {"outcome": AskOutcome.WON, "amount": 120000}),
    ("maria.lopez@bancoistmeno.example", "reference_call", "Banco del Sur", 40, AskStatus.DECLINED, {"reason": "Travelling that week"}),
    ("diego.mora@cafepacifico.example", "quote", "Tico Foods", 20, AskStatus.WITHDRAWN, {}),
    ("carlos.mendez@agroexports-gt.example", "peer_review", "G2 spring campaign", 45, AskStatus.EXPIRED, {}),
    ("carlos.mendez@agroexports-gt.example", "product_feedback", "Mobile SDK beta", 1, AskStatus.SENT, {}),
    ("kenji.sato@sakuraretail.example", "site_visit", "Osaka Department Stores", 100, AskStatus.COMPLETED, {"outcome": AskOutcome.LOST}),
]


def _add_asks(admin) -> None:
    """Asks in every state, and advocates at, near and below their limits, paused or away."""
    now = utcnow()
    for email, key, prospect, days_ago, status, extra in ASKS:
        advocate = _current(email)
        if advocate is None:  # someone replaced this demo person: leave them alone
            continue
        activity = db.session.scalar(select(ActivityType).where(ActivityType.key == key))
        db.session.add(
            Ask(
                advocate=advocate,
                activity_type=activity,
                created_by_id=admin.id,
                status=status,
                prospect_company=prospect,
                opportunity_id=f"OPP-{1000 + days_ago}",
                deal_size=250000,
                due_on=(now + timedelta(days=7 - days_ago)).date(),
                notes="A 30-minute call about rollout and results.",
                created_at=now - timedelta(days=days_ago),
                decline_reason=extra.get("reason", ""),
                outcome=extra.get("outcome"),
                outcome_amount=extra.get("amount"),
                completed_at=now - timedelta(days=days_ago - 5) if status is AskStatus.COMPLETED else None,
            )
        )
    maria = _current("maria.lopez@bancoistmeno.example")
    if maria:
        maria.quarter_limit = 2  # she chose fewer than the program's three
    db.session.flush()


def _add_pause_and_blackout() -> None:
    """Diego paused, Kenji away: set after the campaigns, whose invitations went out before."""
    now = utcnow()
    diego, kenji = (_current(email) for email in ("diego.mora@cafepacifico.example", "kenji.sato@sakuraretail.example"))
    if diego:
        diego.paused_until = (now + timedelta(days=30)).date()
    if kenji:
        db.session.add(Blackout(advocate_id=kenji.id, starts_on=now.date(), ends_on=(now + timedelta(days=10)).date(), note="Golden Week"))
    db.session.flush()


# The demo advocate's request waiting for an answer, so that a newcomer can try accepting or
# declining one. Sent over a month ago (and due within days): with the Gulf Coast Bank call
# of this month, Alex stays within the program's limits of 1 a month and 3 a quarter, and
# past the cool-down, so the portal's own usage line agrees with what is waiting.
OPEN_ASK = {"key": "quote", "prospect": "Harbour Logistics", "days_ago": 36, "due_in": 5,
            "notes": "Two sentences on how the rollout went, for a proposal to their board."}


def _add_open_ask(admin) -> None:
    """Once, and again after Alex declined it (a declined ask no longer counts against the
    limits), so that running seed-demo again brings it back to try accepting too."""
    alex = _current("advocate@example.com")
    if alex is None or alex.status is not AdvocateStatus.APPROVED:
        return
    counted = (AskStatus.SENT, AskStatus.ACCEPTED, AskStatus.COMPLETED, AskStatus.EXPIRED)
    if db.session.scalar(select(Ask.id).where(
        Ask.advocate_id == alex.id, Ask.prospect_company == OPEN_ASK["prospect"], Ask.status.in_(counted)
    ).limit(1)):
        return
    now = utcnow()
    db.session.add(Ask(
        advocate=alex, activity_type=db.session.scalar(select(ActivityType).where(ActivityType.key == OPEN_ASK["key"])),
        created_by_id=admin.id, status=AskStatus.SENT, prospect_company=OPEN_ASK["prospect"], opportunity_id="OPP-2036",
        deal_size=180000, due_on=(now + timedelta(days=OPEN_ASK["due_in"])).date(), notes=OPEN_ASK["notes"],
        created_at=now - timedelta(days=OPEN_ASK["days_ago"]),
    ))
    db.session.flush()


def _current(email: str):
    person = auth.find_user(email)
    return nominations.current_advocate(person) if person else None


def _add_reference_requests(admin, staff) -> None:
    """A seller's open request that fits María López, and one the team could not fill."""
    call = db.session.scalar(select(ActivityType).where(ActivityType.key == "reference_call"))
    products = _ids(Term, ["Analytics Cloud", "Payments Gateway"])
    finance = db.session.scalar(select(Term.id).where(Term.name == "Financial services"))
    central = db.session.scalar(select(Region.id).where(Region.name == "Central America"))
    healthcare = db.session.scalar(select(Term.id).where(Term.name == "Healthcare"))
    apac = db.session.scalar(select(Region.id).where(Region.name == "APAC"))
    today = utcnow().date()
    references.create_request(
        staff,
        references.RequestDetails(
            prospect_company="Banco Centroamericano", due_on=today + timedelta(days=10), activity_type_id=call.id,
            how_many=2, opportunity_id="OPP-7781", deal_size=480000, product_ids=products, industry_id=finance,
            region_id=central, notes="Their CIO wants to hear how fraud losses changed after go-live.",
        ),
    )
    unfilled = references.create_request(
        staff,
        references.RequestDetails(
            prospect_company="Pacific Care Hospitals", due_on=today + timedelta(days=5), activity_type_id=call.id,
            how_many=1, product_ids=_ids(Term, ["Identity Suite"]), industry_id=healthcare, region_id=apac,
        ),
    )
    item = db.session.scalar(
        select(QueueItem).where(QueueItem.kind == QueueKind.REFERENCE_REQUEST, QueueItem.subject_id == unfilled.id)
    )
    approvals.decide(admin, item, False, "No healthcare advocates in APAC yet; we are recruiting.")


def seed_campaigns() -> None:
    """Three review campaigns: one active (Alex Advocate invited, not joined yet), one nearly
    at its target (Alex's proof waiting in the queue), one ended; proofs in every state."""
    import io
    from decimal import Decimal

    from PIL import Image, ImageDraw
    from werkzeug.datastructures import FileStorage

    from portal.models import (
        Campaign, CampaignParticipation, Incentive, ParticipationStatus, PointsSource, ProofStatus, ReviewPlatform, ReviewProof,
    )
    from portal.services import campaigns, points

    if db.session.scalar(select(Campaign.id).limit(1)) is not None:
        return
    admin = auth.find_user("admin@example.com")
    today = utcnow().date()
    # Only people the demo made approved advocates (someone already there may be otherwise).
    people = {email: advocate for email in (
        "advocate@example.com", "maria.lopez@bancoistmeno.example", "diego.mora@cafepacifico.example",
        "kenji.sato@sakuraretail.example", "carlos.mendez@agroexports-gt.example")
        if (advocate := _current(email)) is not None and advocate.status is AdvocateStatus.APPROVED}

    def screenshot(text: str) -> FileStorage:
        image = Image.new("RGB", (640, 360), (245, 247, 250))
        ImageDraw.Draw(image).text((24, 24), text, fill=(20, 40, 80))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return FileStorage(io.BytesIO(buffer.getvalue()), filename="review-screenshot.png", content_type="image/png")

    def proof(email: str, campaign: Campaign, verify: bool | None, reason: str = "") -> None:
        participation = campaigns.participation_for(people[email].user, campaign.id) if email in people else None
        if participation is None:
            return
        if participation.status is ParticipationStatus.INVITED:
            campaigns.join(people[email].user, participation)
        sent = campaigns.submit_proof(
            people[email].user, participation, f"https://www.example-reviews.test/{campaign.platform.value}/{participation.id}",
            screenshot(f"My review of {campaign.name}"),
        )
        if verify is not None:
            item = db.session.scalar(select(QueueItem).where(QueueItem.kind == QueueKind.REVIEW_PROOF, QueueItem.subject_id == sent.id))
            approvals.decide(admin, item, verify, reason)

    analytics = _ids(Term, ["Analytics Cloud"])
    active = campaigns.save_campaign(admin, None, campaigns.CampaignDetails(
        name="G2 winter reviews: Analytics Cloud", platform=ReviewPlatform.G2,
        review_url="https://www.g2.com/products/analytics-cloud/take_survey", starts_on=today - timedelta(days=7),
        ends_on=today + timedelta(days=45), target_count=12, points_per_review=150, gift_value=Decimal("25.00"),
        instructions="Tell other buyers what you use Analytics Cloud for, what works and what does not.\n"
                     "It takes about 15 minutes. Use your work email so G2 can validate you.",
        product_ids=analytics))
    campaigns.invite(admin, active)
    proof("maria.lopez@bancoistmeno.example", active, False, "The screenshot shows the review form, not the published review: please send it again once G2 publishes it.")

    nearly = campaigns.save_campaign(admin, None, campaigns.CampaignDetails(
        name="Gartner Peer Insights: share your experience", platform=ReviewPlatform.GARTNER,
        review_url="https://www.gartner.com/reviews/market/analytics/vendor/example", starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=10), target_count=5, points_per_review=200, gift_value=Decimal("25.00"),
        instructions="Gartner verifies every reviewer; the review stays anonymous to us."))
    campaigns.invite(admin, nearly)
    for email in ("maria.lopez@bancoistmeno.example", "diego.mora@cafepacifico.example",
                  "kenji.sato@sakuraretail.example", "carlos.mendez@agroexports-gt.example"):
        proof(email, nearly, True)
    proof("advocate@example.com", nearly, None)  # waiting in the queue

    ended = campaigns.save_campaign(admin, None, campaigns.CampaignDetails(
        name="TrustRadius autumn reviews", platform=ReviewPlatform.TRUSTRADIUS,
        review_url="https://www.trustradius.com/products/example/reviews", starts_on=today - timedelta(days=80),
        ends_on=today - timedelta(days=20), target_count=8, points_per_review=100))
    # An ended campaign takes no invitations or proof any more: its history is written directly.
    states = {
        "maria.lopez@bancoistmeno.example": ProofStatus.VERIFIED,
        "diego.mora@cafepacifico.example": ProofStatus.REJECTED,
        "kenji.sato@sakuraretail.example": None,
        "carlos.mendez@agroexports-gt.example": "invited",
    }
    for email, state in states.items():
        if email not in people:
            continue
        joined_at = utcnow() - timedelta(days=70)
        participation = CampaignParticipation(
            campaign=ended, advocate=people[email], invited_at=joined_at - timedelta(days=2),
            joined_at=None if state == "invited" else joined_at, incentive=Incentive.NONE,
            status={ProofStatus.VERIFIED: ParticipationStatus.VERIFIED, ProofStatus.REJECTED: ParticipationStatus.REJECTED,
                    None: ParticipationStatus.JOINED, "invited": ParticipationStatus.INVITED}[state],
        )
        db.session.add(participation)
        if isinstance(state, ProofStatus):
            history = ReviewProof(
                participation=participation, review_url="https://www.trustradius.com/reviews/example-2026",
                status=state, submitted_at=joined_at + timedelta(days=3), decided_at=joined_at + timedelta(days=5),
                reason="" if state is ProofStatus.VERIFIED else "This review is about another product.",
            )
            db.session.add(history)
            db.session.flush()
            if state is ProofStatus.VERIFIED:
                points.award(people[email], PointsSource.REVIEW_VERIFIED, history.id, points=ended.points_per_review,
                             actor=admin, reason=f"Verified TrustRadius review: {ended.name}")
    db.session.flush()
# --- advisory boards ------------------------------------------------------------------------

BOARDS = [
    # name, seats, description, eligibility, products, members, waitlist, upcoming meeting
    ("Executive Customer Council", 2,
     "Senior leaders from our largest customers meet our executive team each quarter to set the direction of the "
     "platform and of our partnership.",
     "Directors, vice presidents and C-level leaders at a customer account.", [],
     ["diego.mora@cafepacifico.example", "kenji.sato@sakuraretail.example"], ["carlos.mendez@agroexports-gt.example"],
     {"title": "Quarterly council", "days": 12, "duration_minutes": 120, "place": "Customer Center, 5th floor, Panama City",
      "agenda": "Welcome and introductions\nThe year ahead\nYour priorities for the platform"}),
    # María López, who uses Analytics Cloud and agreed to advisory-board contact, can apply.
    ("Analytics Product Advisory Board", 6,
     "Hands-on users of Analytics Cloud review the roadmap, try early designs and tell the product team what to build next.",
     "People who use Analytics Cloud in their daily work.", ["Analytics Cloud"], [], [],
     {"title": "Design preview: dashboards", "days": 5, "duration_minutes": 60,
      "video_link": "https://meet.example.com/dashboards", "agenda": "New dashboard designs\nYour feedback"}),
]


def seed_boards(admin) -> None:
    """Two boards, one full with a waitlist; meetings past (attendance recorded) and
    upcoming. Applications go through the queue as they would for real."""
    from portal.models import Board
    from portal.services import boards

    if db.session.scalar(select(Board.id).limit(1)) is not None:
        return
    now = utcnow()
    for name, seats, description, eligibility, products, member_emails, waitlist_emails, upcoming in BOARDS:
        board = boards.save_board(admin, None, boards.BoardDetails(
            name=name, seat_count=seats, term_months=12, description=description, eligibility=eligibility,
            product_ids=_ids(Term, products)))
        for email in member_emails + waitlist_emails:
            advocate = _current(email)
            if advocate is None or advocate.status is not AdvocateStatus.APPROVED:
                continue
            granted = consent.granted_purposes(advocate)
            if ConsentPurpose.ADVISORY_BOARD not in granted:
                consent.set_consents(advocate.user, advocate, granted | {ConsentPurpose.ADVISORY_BOARD}, "profile")
            seat = boards.apply(advocate.user, board, "I would like to help shape the roadmap with peers from other industries.")
            item = db.session.scalar(
                select(QueueItem).where(QueueItem.kind == QueueKind.BOARD_APPLICATION, QueueItem.subject_id == seat.id)
            )
            if email in member_emails:
                approvals.decide(admin, item, True)
                seat.term_starts_on = (now - timedelta(days=120)).date()
                seat.term_ends_on = boards.add_months(seat.term_starts_on, board.term_months)
            else:
                approvals.decide(admin, item, False, extra=boards.WAITLIST.name)
        db.session.flush()
        if member_emails:
            _add_past_meeting(admin, board, now)
        upcoming = dict(upcoming)
        starts_at = (now + timedelta(days=upcoming.pop("days"))).replace(hour=15, minute=0, second=0, microsecond=0)
        boards.schedule_meeting(admin, board, boards.MeetingDetails(starts_at=starts_at, **upcoming), now)
    db.session.flush()


def _add_past_meeting(admin, board, now) -> None:
    """A meeting a month ago that the first member attended (and earned points for)."""
    from portal.models import BoardMeeting
    from portal.services import boards

    past = BoardMeeting(
        board=board, title="Roadmap review", starts_at=(now - timedelta(days=30)).replace(hour=15, minute=0, second=0, microsecond=0),
        duration_minutes=90, video_link="https://meet.example.com/roadmap",
        agenda="Results of the last quarter\nWhat we build next\nOpen questions",
    )
    db.session.add(past)
    db.session.flush()
    boards.record_attendance(admin, past, {s.id for s in boards.members(board)[:1]}, now)
# Advocates who joined this quarter (the share of the quarter that had passed when they did).
RECENT_ADVOCATES = [
    ("lena.vogel@rheinwerk.example", "Lena Vogel", "rheinwerk.example", "approved", "Head of Production IT",
     Seniority.DIRECTOR, "DE", "Europe/Berlin", ["de", "en"], ["Data Platform"], ["Process automation"],
     ["reference_call", "quote"], [ConsentPurpose.REFERENCE_CALLS, ConsentPurpose.QUOTE], {"joined": 0.2}),
    ("claire.dubois@lumiere-energie.example", "Claire Dubois", "lumiere-energie.example", "approved", "CIO",
     Seniority.EXECUTIVE, "FR", "Europe/Paris", ["fr", "en"], ["Analytics Cloud"], ["Reporting and BI"],
     ["reference_call", "speaking"], [ConsentPurpose.REFERENCE_CALLS, ConsentPurpose.SPEAKING], {"joined": 0.45}),
    ("jack.wilson@southerncross.example", "Jack Wilson", "southerncross.example", "approved", "Claims Director",
     Seniority.DIRECTOR, "AU", "Australia/Sydney", ["en"], ["Payments Gateway"], ["Fraud prevention"],
     ["reference_call"], [ConsentPurpose.REFERENCE_CALLS], {"joined": 0.7}),
]


def seed_reporting(admin, staff) -> None:
    """Growth targets with gaps (one with a recruiting call), unmet searches this quarter,
    won deals and points, so that every figure of the dashboard and the report says
    something. Only once: nothing is added when a target exists."""
    from portal.models import CoverageTarget, PointsSource
    from portal.services import coverage, demand, points

    if db.session.scalar(select(CoverageTarget.id).limit(1)) is not None:
        return
    now = utcnow()
    quarter_start = now.replace(month=(now.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    industries = {t.name: t.id for t in taxonomy.terms(TermKind.INDUSTRY, include_retired=True)}
    for row in RECENT_ADVOCATES:  # joined this quarter, so the funnel shows a quarter's intake
        if auth.find_user(row[0]) is None:
            _add_advocate(admin, staff, industries, *row)
            advocate = _current(row[0])
            joined = quarter_start + (now - quarter_start) * row[-1]["joined"]
            advocate.created_at, advocate.submitted_at, advocate.decided_at = joined, joined, joined + timedelta(hours=20)
    lena = _current("lena.vogel@rheinwerk.example")
    if lena is not None:
        db.session.add(Ask(advocate=lena, activity_type_id=db.session.scalar(select(ActivityType.id).where(ActivityType.key == "reference_call")),
                           created_by_id=admin.id, status=AskStatus.ACCEPTED, prospect_company="Bavaria Werkzeuge",
                           due_on=(now + timedelta(days=10)).date(), created_at=lena.decided_at + timedelta(hours=1),
                           responded_at=lena.decided_at + timedelta(hours=5)))
    term = lambda name: db.session.scalar(select(Term.id).where(Term.name == name))  # noqa: E731
    region = lambda name: db.session.scalar(select(Region.id).where(Region.name == name))  # noqa: E731
    targets = [
        ("Financial services", "Central America", "Analytics Cloud", 3),
        ("Healthcare", "APAC", "Identity Suite", 4),
        ("Financial services", None, "Payments Gateway", 4),
        ("Software", None, None, 2),
        (None, "Europe", None, 5),
        ("Manufacturing", "DACH", None, 2),
    ]
    for industry, where, product, count in targets:
        coverage.set_target(admin, industry and term(industry), where and region(where), product and term(product), count)
    healthcare = db.session.scalar(
        select(CoverageTarget).where(CoverageTarget.industry_id == term("Healthcare"), CoverageTarget.region_id == region("APAC"))
    )
    coverage.open_call(admin, healthcare, "Hospital groups in Australia, Japan or Singapore using Identity Suite.")
    call = db.session.scalar(select(ActivityType.id).where(ActivityType.key == "reference_call"))
    searches = [
        ({"products": ["Analytics Cloud", "Payments Gateway"], "industries": ["Financial services"], "regions": ["Central America"]}, 7),
        ({"products": ["Identity Suite"], "industries": ["Healthcare"], "regions": ["APAC"]}, 5),
        ({"industries": ["Public sector"], "regions": ["Europe"]}, 3),
        ({"products": ["Mobile SDK"], "regions": ["Nordics"]}, 2),
    ]
    for index, (criteria, times) in enumerate(searches):
        key, ids = demand.normalise(
            products=_ids(Term, criteria.get("products", [])),
            industries=_ids(Term, criteria.get("industries", [])),
            regions=_ids(Region, criteria.get("regions", [])),
            activities=[call],
        )
        for n in range(times):
            db.session.add(UnmetDemand(source=DemandSource.SEARCH, criteria_key=key, criteria=ids, actor_id=staff.id,
                                       created_at=now - timedelta(days=n + index)))
    # Won deals this quarter, and points earned, for the revenue and points figures.
    for email, prospect, amount, opportunity in [
        ("maria.lopez@bancoistmeno.example", "Pacific Savings Bank", 340000, "OPP-8120"),
        ("advocate@example.com", "Harbour Insurance", 95000, "OPP-8133"),
    ]:
        advocate = _current(email)
        if advocate is None:
            continue
        # Asked long ago (outside every limit and cool-down, so the demo's other flows are
        # untouched), the deal won this quarter.
        ask = Ask(advocate=advocate, activity_type_id=call, created_by_id=admin.id, status=AskStatus.COMPLETED,
                  prospect_company=prospect, opportunity_id=opportunity, deal_size=amount, due_on=(now - timedelta(days=110)).date(),
                  created_at=now - timedelta(days=120), completed_at=quarter_start + (now - quarter_start) / 2,
                  outcome=AskOutcome.WON, outcome_amount=amount)
        db.session.add(ask)
        db.session.flush()
        points.award(advocate, PointsSource.ASK_COMPLETED, ask.id)
    for advocate in db.session.scalars(select(Advocate).where(Advocate.status == AdvocateStatus.APPROVED)):
        points.award(advocate, PointsSource.NOMINATION_APPROVED, advocate.id)
    # No spends: those come from reward claims (the rewards area seeds its own).
# --- rewards (issue 6) ----------------------------------------------------------------------

DEMO_REWARDS = [
    # name, description, points, value, stock, per person, needs approval, charities
    ("Coffee gift card", "A $10 card for the coffee chain of your choice, by email.", 60, "10", None, None, False, []),
    ("Donation to a charity", "We give $25 in your name to the charity you choose.", 100, "25", None, None, False,
     ["Doctors Without Borders", "Code.org", "Room to Read"]),
    ("Branded hoodie", "Our soft grey hoodie, posted to you. Tell us your size.", 150, "45", 12, 1, False, []),
    ("Roadmap session with product leaders", "An hour with the product team on what comes next.", 200, "0", None, 1, True, []),
    ("Conference pass", "A full pass to our annual user conference.", 400, "200", 3, 1, True, []),
    ("Limited edition notebook", "Hand-bound, numbered. Gone for now; more next quarter.", 80, "15", 0, 1, False, []),
]


def seed_rewards(admin) -> None:
    """A catalog with limited and unlimited items and a donation, gift policies, claims in
    every state, and a leaderboard worth looking at. Runs once; the backfill always."""
    from decimal import Decimal

    from portal.models import GiftPolicy, Reward
    from portal.services import points, rewards

    rewards.backfill()
    if db.session.scalar(select(Reward.id).limit(1)) is not None:
        return
    catalog = {}
    for name, description, cost, value, stock, limit, approval, charities in DEMO_REWARDS:
        catalog[name] = rewards.save_reward(
            admin, None,
            rewards.RewardDetails(name=name, description=description, points_cost=cost, monetary_value=Decimal(value),
                                  stock=stock, per_advocate_limit=limit, available_from=None, available_until=None,
                                  needs_approval=approval, is_donation=bool(charities), charities=charities, active=True),
        )
    accounts = {a.domain: a for a in db.session.scalars(select(Account))}
    rewards.set_gift_policy(admin, accounts["sakuraretail.example"], GiftPolicy.CHARITY_ONLY, None)
    rewards.set_gift_policy(admin, accounts["maplegov.example"], GiftPolicy.NONE, None)
    rewards.set_gift_policy(admin, accounts["bancoistmeno.example"], GiftPolicy.ALLOWED, Decimal("150"))

    people = {email: _current(email) for email in (
        "advocate@example.com", "maria.lopez@bancoistmeno.example", "diego.mora@cafepacifico.example",
        "kenji.sato@sakuraretail.example", "carlos.mendez@agroexports-gt.example")}
    if not all(a is not None and a.status is AdvocateStatus.APPROVED for a in people.values()):
        return  # a database with people of its own: the catalog alone
    earlier = utcnow() - timedelta(days=200)
    for email, amount, reason, shown in (
        ("advocate@example.com", 400, "Hosted the launch webinar", None),
        ("maria.lopez@bancoistmeno.example", 450, "Keynote at the Panama user group", "María L."),
        ("diego.mora@cafepacifico.example", 500, "Case study published", "Diego"),
        ("kenji.sato@sakuraretail.example", 250, "Translated the onboarding guide", "Kenji S."),
        ("carlos.mendez@agroexports-gt.example", 220, "Beta feedback sessions", "Carlos"),
    ):
        entry = points.adjust(admin, people[email], amount, reason)
        if email in ("diego.mora@cafepacifico.example", "kenji.sato@sakuraretail.example"):
            entry.created_at = earlier  # earned last year: all time differs from this quarter
        if shown:
            people[email].user.leaderboard_opt_in = True
            people[email].user.display_name = shown
    db.session.flush()

    def claim(email, name, **kwargs):
        return rewards.claim_reward(people[email].user, catalog[name].id, **kwargs)

    def decide(c, approve, reason=""):
        item = db.session.scalar(select(QueueItem).where(QueueItem.kind == QueueKind.REWARD_CLAIM, QueueItem.subject_id == c.id))
        approvals.decide(admin, item, approve, reason)

    rewards.fulfil_claim(admin, claim("maria.lopez@bancoistmeno.example", "Branded hoodie",
                                      delivery_note="Size M · Calle 50, Torre Global, Piso 12, Panamá"))
    claim("maria.lopez@bancoistmeno.example", "Coffee gift card")  # approved, to send
    claim("diego.mora@cafepacifico.example", "Conference pass")  # waiting in the queue
    rewards.cancel_claim(people["diego.mora@cafepacifico.example"].user,
                         claim("diego.mora@cafepacifico.example", "Roadmap session with product leaders"))
    rewards.fulfil_claim(admin, claim("kenji.sato@sakuraretail.example", "Donation to a charity", charity="Room to Read"))
    decide(claim("carlos.mendez@agroexports-gt.example", "Roadmap session with product leaders"), False,
           "This quarter's sessions are full; we will invite you to the next one.")
    db.session.flush()
