"""Fill a database with a program of N advocates, through the portal's own models and
migrations, in realistic proportions (see README.md beside this file).

    .venv/bin/python bench/generate.py --advocates 10000 --database-url sqlite:////tmp/bench.sqlite3
    .venv/bin/python bench/generate.py --advocates 100000 --database-url postgresql://postgres@127.0.0.1:5432/bench

The database must be empty (a new SQLite file, or a new PostgreSQL database: --create makes
it). Rows go in with bulk INSERTs of the models' tables, in id order, so 100k advocates take
minutes, not hours. The same --seed gives the same program.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHUNK = 5000
# The demo people the load run signs in as (ids are fixed: the first of each kind).
BENCH_ADMIN = "bench-admin@example.com"
BENCH_ADVOCATE = "bench-advocate@example.com"
# The API token the load run sends to /api/v1 (only its hash is stored, as for a real one).
BENCH_API_TOKEN = "ap_bench-token-for-the-load-run-only"


def chunks(rows, size=CHUNK):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class Generator:
    def __init__(self, n: int, seed: int):
        self.n = n
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.counts: dict[str, int] = {}

    # -- helpers -----------------------------------------------------------------------------

    def insert(self, model_or_table, rows: list[dict]) -> None:
        from sqlalchemy import insert

        from portal.database import db

        table = getattr(model_or_table, "__table__", model_or_table)
        for part in chunks(rows):
            db.session.execute(insert(table), part)
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)

    def ago(self, max_days: int, min_days: int = 0) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(min_days, max_days))

    # -- the program -------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        from sqlalchemy import select

        from portal.database import commit, db
        from portal.models import ActivityType, Region, RegionCountry, Term, TermKind
        from portal.services import taxonomy

        taxonomy.load_defaults()
        commit()
        self.products = db.session.scalars(select(Term.id).where(Term.kind == TermKind.PRODUCT)).all()
        self.use_cases = db.session.scalars(select(Term.id).where(Term.kind == TermKind.USE_CASE)).all()
        self.industries = db.session.scalars(select(Term.id).where(Term.kind == TermKind.INDUSTRY)).all()
        self.activities = db.session.execute(select(ActivityType.id, ActivityType.purpose)).all()
        self.countries = sorted(set(db.session.scalars(select(RegionCountry.country))))
        self.regions = db.session.scalars(select(Region.id)).all()
        self.team()
        self.accounts()
        self.advocates()
        self.asks()
        self.rewards()
        self.points()
        self.boards()
        self.campaigns()
        self.api_token()
        commit()
        self.advance_sequences()
        return self.counts

    def advance_sequences(self) -> None:
        """Rows went in with explicit ids; PostgreSQL's id sequences must start after them,
        or the portal's own inserts would collide (SQLite takes max(id) + 1 by itself)."""
        from sqlalchemy import text

        from portal.database import commit, db

        if db.engine.dialect.name != "postgresql":
            return
        for table in db.metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement is not False:
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false) "
                    f"WHERE pg_get_serial_sequence('{table.name}', 'id') IS NOT NULL"
                ))
        commit()

    def team(self) -> None:
        from portal.models import Role, User

        self.admin_id, self.staff_id = 1, 2
        self.insert(
            User,
            [
                dict(id=1, email=BENCH_ADMIN, name="Bench Admin", role=Role.ADMIN.value, active=True,
                     sign_in_generation=0, created_at=self.now, email_preferences={}),
                dict(id=2, email="bench-staff@example.com", name="Bench Seller", role=Role.STAFF.value, active=True,
                     sign_in_generation=0, created_at=self.now, email_preferences={}),
            ],
        )

    def accounts(self) -> None:
        from portal.models import Account

        self.account_ids = list(range(1, max(self.n // 20, 5) + 1))
        self.insert(
            Account,
            [
                dict(id=i, name=f"Customer {i} Ltd", domain=f"customer{i}.example",
                     industry_id=self.rng.choice(self.industries), country=self.rng.choice(self.countries),
                     created_at=self.ago(900, 400), at_risk=self.rng.random() < 0.03, gift_policy="allowed")
                for i in self.account_ids
            ],
        )

    def advocates(self) -> None:
        from portal.models import (
            Advocate,
            Consent,
            ConsentEvent,
            ConsentPurpose,
            QueueItem,
            User,
            advocate_activity_types,
            advocate_products,
            advocate_use_cases,
        )

        # Proportions of a program two years in: most approved, a live intake, some history.
        statuses = (
            ["approved"] * 78 + ["pending"] * 5 + ["unverified"] * 3 + ["invited"] * 5
            + ["rejected"] * 3 + ["declined"] * 2 + ["lapsed"] * 2 + ["erased"] * 2
        )
        users, advocates, products, use_cases, activities, consents, events, queue = [], [], [], [], [], [], [], []
        self.approved: list[tuple[int, int]] = []  # (advocate id, user id)
        purposes = list(ConsentPurpose)
        for i in range(1, self.n + 1):
            user_id = i + 2
            status = "approved" if i == 1 else self.rng.choice(statuses)
            email = BENCH_ADVOCATE if i == 1 else f"advocate{i}@customer{(i % len(self.account_ids)) + 1}.example"
            created = self.ago(730, 5)
            users.append(dict(id=user_id, email=email, name=f"Advocate {i}", role="advocate", active=status != "erased",
                              sign_in_generation=0, created_at=created, email_preferences={}))
            advocates.append(dict(
                id=i, user_id=user_id, account_id=(i % len(self.account_ids)) + 1, status=status,
                source=self.rng.choice(["self", "self", "staff", "import"]), nomination_reason="",
                job_title=self.rng.choice(["CFO", "Head of Operations", "IT Director", "Payments Lead", "CTO"]),
                seniority=self.rng.choice(["manager", "director", "vp", "executive", "individual"]),
                department="Operations", industry_id=self.rng.choice(self.industries),
                country=self.rng.choice(self.countries), languages=["en"] + (["es"] if self.rng.random() < 0.3 else []),
                time_zone=self.rng.choice(["UTC", "America/Panama", "Europe/Berlin", "Asia/Tokyo", "America/New_York"]),
                story="We cut our close from ten days to four.", preferred_channel="email", phone="",
                contact_days=[1, 2, 3, 4, 5], contact_hours_start=9, contact_hours_end=17,
                paused_until=(self.now + timedelta(days=20)).date() if self.rng.random() < 0.04 else None,
                created_at=created, submitted_at=created, decided_at=created + timedelta(days=3) if status in ("approved", "rejected") else None,
                last_confirmed_at=self.ago(300) if status == "approved" else None,
            ))
            for term in self.rng.sample(self.products, self.rng.randint(1, 3)):
                products.append(dict(advocate_id=i, term_id=term))
            for term in self.rng.sample(self.use_cases, self.rng.randint(1, 2)):
                use_cases.append(dict(advocate_id=i, term_id=term))
            for activity, _purpose in self.rng.sample(self.activities, self.rng.randint(2, 6)):
                activities.append(dict(advocate_id=i, activity_type_id=activity))
            if status == "approved":
                self.approved.append((i, user_id))
                for purpose in self.rng.sample(purposes, self.rng.randint(3, len(purposes))):
                    when = created + timedelta(days=1)
                    consents.append(dict(advocate_id=i, purpose=purpose.value, granted=True, wording_version=1, updated_at=when))
                    events.append(dict(advocate_id=i, purpose=purpose.value, change="granted", wording_version=1,
                                       actor_id=user_id, created_at=when, context="profile"))
            if status == "pending":
                queue.append(dict(kind="nomination", subject_id=i, advocate_id=i, status="open",
                                  summary=f"Advocate {i} joined", created_at=created, reason=""))
        for model, rows in (
            (User, users), (Advocate, advocates), (advocate_products, products), (advocate_use_cases, use_cases),
            (advocate_activity_types, activities), (Consent, consents), (ConsentEvent, events), (QueueItem, queue),
        ):
            self.insert(model, rows)

    def asks(self) -> None:
        from portal.models import Ask

        # A seller needs 2-3 references about three times a month; an advocate is asked a
        # few times a quarter at most: about one ask per approved advocate per year.
        rows = []
        outcomes = ["won", "lost", "open"]
        for advocate_id, _user in self.approved:
            for _ in range(self.rng.choice([0, 1, 1, 2, 2, 3])):
                created = self.ago(730, 1)
                status = self.rng.choice(["completed", "completed", "accepted", "declined", "expired", "withdrawn"])
                rows.append(dict(
                    advocate_id=advocate_id, activity_type_id=self.rng.choice(self.activities)[0],
                    created_by_id=self.admin_id, status=status, prospect_company=f"Prospect {self.rng.randint(1, 5000)}",
                    opportunity_id=f"OPP-{self.rng.randint(1, 99999)}", deal_size=self.rng.choice([None, 25000, 120000, 480000]),
                    due_on=(created + timedelta(days=14)).date(), notes="", created_at=created,
                    responded_at=created + timedelta(days=2) if status != "expired" else None, decline_reason="",
                    completed_at=created + timedelta(days=10) if status == "completed" else None,
                    outcome=self.rng.choice(outcomes) if status == "completed" else None,
                    outcome_amount=self.rng.choice([None, 50000, 250000]) if status == "completed" else None,
                ))
        rows.sort(key=lambda r: r["created_at"])
        self.insert(Ask, rows)

    def rewards(self) -> None:
        from decimal import Decimal

        from portal.models import Reward

        # name, points, value, stock (None = unlimited), donation
        catalog = [
            ("Thank-you e-card", 10, "0", None, False),
            ("Branded hoodie", 300, "35", max(self.n // 50, 20), False),
            ("Conference pass", 1500, "250", max(self.n // 500, 5), False),
            ("Coffee voucher", 100, "10", None, False),
            ("Donation to a charity", 200, "20", None, True),
            ("Early access to the roadmap", 50, "0", None, False),
        ]
        self.catalog = [
            dict(id=i, name=name, description="A thank-you from the program.", points_cost=cost,
                 monetary_value=Decimal(value), stock=stock, needs_approval=cost >= 1500, is_donation=donation,
                 charities=["Red Cross", "Doctors Without Borders"] if donation else [], active=True)
            for i, (name, cost, value, stock, donation) in enumerate(catalog, 1)
        ]
        self.insert(Reward, self.catalog)

    def points(self) -> None:
        """Awards for every approved advocate, and for about one in six a claim that spent
        some of them: the running balance is kept exact, as the ledger keeps it."""
        from portal.models import PointsEntry, RewardClaim

        entries, claims = [], []
        spendable = [r for r in self.catalog if r["points_cost"] <= 300]
        for advocate_id, user_id in self.approved:
            balance = 0
            awards = [("nomination_approved", advocate_id, 100)]
            awards += [("profile_confirmed", None, 20)] * self.rng.randint(0, 3)
            awards += [("manual", None, self.rng.choice([10, 25, 50]))] * self.rng.randint(0, 2)
            for source, source_id, value in awards:
                balance += value
                entries.append(dict(user_id=user_id, advocate_id=advocate_id, points=value, balance_after=balance,
                                    source=source, source_id=source_id, reason="" if source != "manual" else "Spoke at a webinar",
                                    created_at=self.ago(700, 30)))
            if self.rng.random() < 0.17:
                reward = self.rng.choice([r for r in spendable if r["points_cost"] <= balance])
                claim_id = len(claims) + 1
                status = self.rng.choice(["fulfilled", "fulfilled", "fulfilled", "approved", "requested", "cancelled"])
                created = self.ago(25, 1)
                claims.append(dict(id=claim_id, reward_id=reward["id"], user_id=user_id, advocate_id=advocate_id,
                                   status=status, points=reward["points_cost"], monetary_value=reward["monetary_value"],
                                   charity="Red Cross" if reward["is_donation"] else None, created_at=created,
                                   fulfilled_at=created + timedelta(days=1) if status == "fulfilled" else None,
                                   closed_at=created + timedelta(days=1) if status == "cancelled" else None))
                balance -= reward["points_cost"]
                entries.append(dict(user_id=user_id, advocate_id=advocate_id, points=-reward["points_cost"],
                                    balance_after=balance, source="reward_claim", source_id=claim_id, reason="",
                                    created_at=created))
                if status == "cancelled":
                    balance += reward["points_cost"]
                    entries.append(dict(user_id=user_id, advocate_id=advocate_id, points=reward["points_cost"],
                                        balance_after=balance, source="reward_refund", source_id=claim_id, reason="",
                                        created_at=created + timedelta(days=1)))
        self.insert(RewardClaim, claims)
        self.insert(PointsEntry, entries)

    def boards(self) -> None:
        from portal.models import Board, BoardMeeting, BoardSeat

        boards = [dict(id=i, name=f"Advisory board {i}", description="Customers shape the roadmap.", seat_count=seats,
                       term_months=12, open_for_applications=True)
                  for i, seats in enumerate([12, 12, 20, 8, 30], 1)]
        self.insert(Board, boards)
        seats, meetings = [], []
        pool = self.rng.sample(self.approved, min(len(self.approved), sum(b["seat_count"] + 10 for b in boards)))
        for board in boards:
            for n in range(board["seat_count"] + 10):  # full, with a waitlist of ten
                advocate_id, _user = pool.pop()
                member = n < board["seat_count"]
                start = (self.now - timedelta(days=self.rng.randint(10, 300))).date()
                seats.append(dict(board_id=board["id"], advocate_id=advocate_id, status="member" if member else "waitlisted",
                                  motivation="I want to help shape the roadmap.", term_starts_on=start if member else None,
                                  term_ends_on=start.replace(year=start.year + 1) if member else None,
                                  waitlisted_at=None if member else self.ago(60)))
            for days in (-60, -20, 14, 45):
                meetings.append(dict(board_id=board["id"], title="Quarterly meeting", starts_at=self.now + timedelta(days=days),
                                     duration_minutes=90, video_link="https://meet.example.com/board"))
        self.insert(BoardSeat, seats)
        self.insert(BoardMeeting, meetings)

    def campaigns(self) -> None:
        from decimal import Decimal

        from portal.models import Campaign, CampaignParticipation

        today = self.now.date()
        campaigns = [dict(id=i, name=f"{platform.replace('_', ' ').title()} reviews {i}", platform=platform, review_url="https://reviews.example.com/write",
                          starts_on=today - timedelta(days=start), ends_on=today - timedelta(days=start) + timedelta(days=60),
                          target_count=max(self.n // 200, 10), points_per_review=150, gift_value=Decimal("25.00"))
                     for i, (platform, start) in enumerate([("g2", 20), ("gartner_peer_insights", 40), ("trustradius", 200),
                                                            ("capterra", 10), ("g2", 400), ("gartner_peer_insights", 90)], 1)]
        self.insert(Campaign, campaigns)
        participations = []
        for campaign in campaigns:
            for advocate_id, _user in self.rng.sample(self.approved, min(len(self.approved), max(self.n // 40, 10))):
                status = self.rng.choice(["invited", "invited", "joined", "submitted", "verified", "rejected"])
                participations.append(dict(campaign_id=campaign["id"], advocate_id=advocate_id, status=status,
                                           incentive="gift" if status != "invited" else "none",
                                           incentive_value=Decimal("25.00") if status != "invited" else Decimal("0"),
                                           invited_at=self.ago(30, 1)))
        self.insert(CampaignParticipation, participations)

    def api_token(self) -> None:
        from portal.models import ApiToken
        from portal.models.api_token import SCOPES
        from portal.services.publishing import hash_token

        self.insert(ApiToken, [dict(name="Load run", token_hash=hash_token(BENCH_API_TOKEN), prefix=BENCH_API_TOKEN[:10],
                                    created_by_id=self.admin_id, scopes=list(SCOPES))])


def fill_availability(app) -> tuple[int, float]:
    """Each advocate's availability state, computed by the rule as a rebuild does, and
    bulk-inserted like the rest (the rows went in without the ORM, so no session hook saw
    them; the reference database is built by its own rebuild next). Returns rows and seconds."""
    from sqlalchemy import insert, select

    from portal.database import commit, db, utcnow
    from portal.models import Advocate, AdvocateAvailability
    from portal.services import availability

    with app.app_context():
        started, now = time.monotonic(), utcnow()
        ids = db.session.scalars(select(Advocate.id).order_by(Advocate.id)).all()
        for batch in chunks(ids, availability.BATCH):
            values = availability.computed(list(batch), now, lock=False)
            rows = [{"advocate_id": i, "refreshed_at": now, **v} for i, v in values.items()]
            db.session.execute(insert(AdvocateAvailability), rows)
            commit()
            db.session.expunge_all()
        analyze()
        return len(ids), time.monotonic() - started


def publish(app) -> tuple[int, float]:
    """Build the reference database from scratch: its migrations, then a full rebuild of the
    published set (what `flask --app wsgi reference rebuild` does). Returns rows and seconds."""
    from portal import reference
    from portal.services import publishing

    with app.app_context():
        reference.upgrade()
        started = time.monotonic()
        found = publishing.rebuild()
        return len(found), time.monotonic() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--advocates", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reference-url", help="the reference database to publish to (default: beside the database)")
    parser.add_argument("--create", action="store_true", help="create the PostgreSQL databases (dropping them first)")
    args = parser.parse_args(argv)

    reference_url = args.reference_url or reference_url_for(args.database_url)
    if args.create:
        for url in (args.database_url, reference_url):
            if url.startswith("postgres"):
                create_postgres_database(url)
    os.environ["PORTAL_DATABASE_URL"] = args.database_url
    os.environ["PORTAL_REFERENCE_DATABASE_URL"] = reference_url
    os.environ.setdefault("PORTAL_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))
    import flask_migrate

    from portal import create_app

    app = create_app({"JOBS_IMMEDIATE": True, "SMTP_HOST": ""})
    started = time.monotonic()
    with app.app_context():
        flask_migrate.upgrade()
        counts = Generator(args.advocates, args.seed).run()
        analyze()
    elapsed = time.monotonic() - started
    state_rows, state_seconds = fill_availability(app)
    total = sum(counts.values())
    print(f"generated {args.advocates} advocates, {total} rows in {elapsed:.0f} s")
    for table, count in sorted(counts.items()):
        print(f"  {table:28} {count:>10}")
    print(f"built {state_rows} availability states in {state_seconds:.1f} s")
    published, seconds = publish(app)
    print(f"published {published} advocates to the reference database ({reference_url}) in {seconds:.1f} s")
    return 0


def analyze() -> None:
    """Give the planner statistics for what was just bulk-loaded, as autovacuum would in a
    program that grew over two years (some servers, this machine's among them, run with
    autovacuum off; without statistics the planner guesses 99 rows where there are 78,000)."""
    from sqlalchemy import text

    from portal.database import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"))


def reference_url_for(url: str) -> str:
    """``.../bench.sqlite3`` → ``.../bench-reference.sqlite3``; ``.../bench`` → ``.../bench_reference``."""
    if url.startswith("sqlite"):
        return url.rsplit(".", 1)[0] + "-reference.sqlite3"
    return url + "_reference"


def create_postgres_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
