import factory
from factory.alchemy import SQLAlchemyModelFactory

from portal.database import db, utcnow
from portal.models import (
    Account,
    ActivityType,
    Advocate,
    AdvocateStatus,
    Board,
    ConsentPurpose,
    NominationSource,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Role,
    Term,
    TermKind,
    User,
)
from portal.services.auth import hash_password

TEST_PASSWORD = "correct horse battery staple"
# Hashed once: argon2 is deliberately slow.
TEST_PASSWORD_HASH = hash_password(TEST_PASSWORD)


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 (the session changes per test)
        sqlalchemy_session_persistence = "flush"


class AccountFactory(BaseFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    domain = factory.Sequence(lambda n: f"customer{n}.example")
    country = "PA"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@customer.example")
    name = factory.Faker("name")
    role = Role.ADVOCATE


class StaffFactory(UserFactory):
    role = Role.STAFF
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    password_hash = TEST_PASSWORD_HASH


class AdminFactory(StaffFactory):
    role = Role.ADMIN
    email = factory.Sequence(lambda n: f"admin{n}@example.com")


class FailedEmailFactory(BaseFactory):
    """An email the outbox gave up on (what an admin may retry from the mailbox)."""

    class Meta:
        model = OutboxMessage

    kind = OutboxKind.EMAIL
    status = OutboxStatus.FAILED
    recipient = factory.Sequence(lambda n: f"reader{n}@customer.example")
    subject = "Your sign-in link for Advocate Portal"
    payload = factory.LazyAttribute(
        lambda o: {"to": o.recipient, "subject": o.subject, "text": "Hello,\n\nA message.\n", "headers": {}}
    )
    attempts = 8
    last_error = "SMTPServerDisconnected: Connection unexpectedly closed"
class TermFactory(BaseFactory):
    class Meta:
        model = Term

    kind = TermKind.PRODUCT
    name = factory.Sequence(lambda n: f"Product {n}")


class ActivityTypeFactory(BaseFactory):
    class Meta:
        model = ActivityType

    key = factory.Sequence(lambda n: f"activity_{n}")
    name = factory.Sequence(lambda n: f"Activity {n}")


class AdvocateFactory(BaseFactory):
    class Meta:
        model = Advocate

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(AccountFactory)
    status = AdvocateStatus.APPROVED
    source = NominationSource.SELF
    job_title = "Head of Operations"
    country = "PA"
    time_zone = "America/Panama"
    last_confirmed_at = factory.LazyFunction(utcnow)


# --- review campaigns -----------------------------------------------------------------------

from datetime import timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

from portal.models import Campaign, ReviewPlatform  # noqa: E402


class CampaignFactory(BaseFactory):
    """An active G2 campaign inviting everyone (no criteria)."""

    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Review campaign {n}")
    platform = ReviewPlatform.G2
    review_url = "https://www.g2.com/products/example/take_survey"
    starts_on = factory.LazyFunction(lambda: utcnow().date() - timedelta(days=3))
    ends_on = factory.LazyFunction(lambda: utcnow().date() + timedelta(days=30))
    target_count = 10
    points_per_review = 150
    gift_value = Decimal("25.00")
    instructions = "Write about what you use the product for."


# --- advisory boards ---------------------------------------------------------------------------


class BoardFactory(BaseFactory):
    class Meta:
        model = Board

    name = factory.Sequence(lambda n: f"Advisory Board {n}")
    description = "Customers shape the roadmap."
    eligibility = "Anyone in the program."
    seat_count = 3
    term_months = 12


def board_applicant(**values) -> Advocate:
    """An approved advocate who agreed to advisory-board contact (who may apply)."""
    from portal.services import consent

    advocate = AdvocateFactory(**values)
    consent.set_consents(advocate.user, advocate, {ConsentPurpose.ADVISORY_BOARD})
    return advocate


# --- rewards (issue 6) ----------------------------------------------------------------------

from portal.models import Reward  # noqa: E402


class RewardFactory(BaseFactory):
    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"Reward {n}")
    description = "A thank-you from the program."
    points_cost = 100
    monetary_value = Decimal("20.00")
    stock = None
    per_advocate_limit = None
    needs_approval = False
    is_donation = False
    charities = factory.LazyFunction(list)
    active = True
