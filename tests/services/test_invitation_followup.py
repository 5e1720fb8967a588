"""Staff nominations the customer has not answered (issue 17): listed for the team with
their age, the customer reminded 3 and 10 days after the invitation (each reminder once,
however often the job runs), and the invitation expired with its link, the nominator told."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.database import commit, db, utcnow
from portal.models import Advocate, AdvocateStatus, AuditEvent, OutboxMessage, User
from portal.services import nominations
from tests.conftest import ON_POSTGRES
from tests.factories import AccountFactory, AdminFactory, StaffFactory
from tests.services.helpers import emails_to
from tests.web.intake import text_of

CUSTOMER = "rosa@customer.example"
REMINDER = "Reminder: your invitation to our customer advocacy program"


def nominate(staff=None, email: str = CUSTOMER, name: str = "Rosa Díaz") -> Advocate:
    staff = staff or StaffFactory(name="Sam Seller")
    return nominations.staff_nominate(staff, name, email, AccountFactory(name="Customer Co"), "Great results").advocate


def reminders_to(address: str = CUSTOMER) -> list[OutboxMessage]:
    return [m for m in emails_to(address) if m.subject == REMINDER]


def test_reminders_after_3_and_10_days_each_once_then_expiry_tells_the_nominator(app, db):
    advocate = nominate(StaffFactory(name="Sam Seller", email="sam@example.com"))
    start = advocate.invited_at
    assert start is not None and advocate.invitation_reminders == 0

    assert nominations.follow_up_invitations(start + timedelta(days=2, hours=23)) == (0, 0)
    assert nominations.follow_up_invitations(start + timedelta(days=3)) == (1, 0)
    assert nominations.follow_up_invitations(start + timedelta(days=3, hours=1)) == (0, 0)  # the next hourly run
    assert nominations.follow_up_invitations(start + timedelta(days=10)) == (1, 0)
    assert nominations.follow_up_invitations(start + timedelta(days=12)) == (0, 0)
    [first, second] = reminders_to()
    expires = (start + timedelta(seconds=app.config["INVITATION_LINK_MAX_AGE"])).strftime("%-d %B %Y")
    assert f"The invitation expires on\n{expires}" in first.payload["text"]
    assert "Sam Seller at" in first.payload["text"] and "/sign-in/link/" in first.payload["text"]

    expiry = start + timedelta(seconds=app.config["INVITATION_LINK_MAX_AGE"])
    assert nominations.follow_up_invitations(expiry - timedelta(minutes=1)) == (0, 0)
    assert nominations.follow_up_invitations(expiry) == (0, 1)
    assert nominations.follow_up_invitations(expiry + timedelta(days=5)) == (0, 0)
    db.session.refresh(advocate)
    assert advocate.invitation_expired_at == expiry and advocate.status is AdvocateStatus.INVITED
    [told] = emails_to("sam@example.com")
    assert told.subject == "Your nomination of Rosa Díaz expired unanswered"
    assert "nominate them again" in told.payload["text"]
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.subject_id == advocate.id,
                                                             AuditEvent.action == "invitation.expired"))
    assert len(reminders_to()) == 2


def test_a_job_that_missed_a_reminder_sends_one_email_not_two(db):
    advocate = nominate()

    assert nominations.follow_up_invitations(advocate.invited_at + timedelta(days=11)) == (1, 0)

    assert advocate.invitation_reminders == 2 and len(reminders_to()) == 1
    assert nominations.follow_up_invitations(advocate.invited_at + timedelta(days=12)) == (0, 0)


def test_answered_invitations_and_other_nominations_are_left_alone(db):
    confirmed = nominate(email="yes@customer.example")
    nominations.confirm_invitation(confirmed.user, confirmed)
    declined = nominate(email="no@customer.example")
    nominations.decline_invitation(declined.user, declined)
    later = utcnow() + timedelta(days=30)

    assert nominations.follow_up_invitations(later) == (0, 0)
    assert confirmed.status is AdvocateStatus.PENDING and confirmed.invitation_expired_at is None
    assert reminders_to("yes@customer.example") == [] and reminders_to("no@customer.example") == []


def test_nominating_again_after_expiry_sends_a_new_invitation(app, db):
    advocate = nominate()
    advocate.invited_at = first = utcnow() - timedelta(days=15)
    nominations.follow_up_invitations()
    assert advocate.invitation_expired_at is not None

    again = nominations.staff_nominate(StaffFactory(name="Casey"), "Rosa Díaz", CUSTOMER, advocate.account, "Still keen")

    assert again.created and again.advocate.id == advocate.id
    assert advocate.invitation_expired_at is None and advocate.invitation_reminders == 0
    assert advocate.invited_at > first + timedelta(days=14)
    assert "Nominated again by Casey: Still keen" in advocate.nomination_reason
    invitations = [m for m in emails_to(CUSTOMER) if "has nominated you" in m.subject]
    assert [m.subject for m in invitations] == [
        "Sam Seller has nominated you for our customer advocacy program",
        "Casey has nominated you for our customer advocacy program",
    ]


def test_the_team_sees_nominations_waiting_for_the_customer_with_their_age(app, client, db, login_as):
    waiting = nominate()
    waiting.invited_at = utcnow() - timedelta(days=5)
    older = nominate(email="old@customer.example", name="Olga Old")
    older.invited_at = utcnow() - timedelta(days=20)
    nominations.follow_up_invitations()
    confirmed = nominate(email="yes@customer.example", name="Yusuf Yes")
    nominations.confirm_invitation(confirmed.user, confirmed)
    commit()
    login_as(AdminFactory())

    queue = client.get("/admin/queue")
    assert 'href="/admin/queue/invitations"' in queue.text
    page = text_of(client.get("/admin/queue/invitations").text)

    assert "2 nominations · oldest first" in page
    assert page.index("Olga Old") < page.index("Rosa Díaz")  # oldest first
    assert "20 days ago" in page and "5 days ago" in page
    assert "Expired on" in page
    expires = (waiting.invited_at + timedelta(seconds=app.config["INVITATION_LINK_MAX_AGE"])).strftime("%-d %b %Y")
    assert f"Waiting · expires {expires}" in page
    assert "1 of 2" in page  # Rosa had her 3-day reminder
    assert "Yusuf Yes" not in page  # confirmed: in the decisions queue instead


def test_the_nominator_sees_the_expiry_on_their_nominations(app, client, db, login_as):
    staff = StaffFactory(name="Sam Seller", email="sam@example.com")
    advocate = nominate(staff)
    nominations.follow_up_invitations(advocate.invited_at + timedelta(seconds=app.config["INVITATION_LINK_MAX_AGE"]))
    commit()
    login_as(staff)

    page = text_of(client.get("/staff/nominations").text)

    assert "Invitation expired" in page and "nominate them again to send a new one" in page


def test_only_admins_see_the_invitations_waiting(client, db, login_as):
    login_as(StaffFactory())
    assert client.get("/admin/queue/invitations").status_code == 403


@pytest.mark.skipif(not ON_POSTGRES, reason="races need PostgreSQL's concurrent transactions")
def test_two_runs_at_once_remind_once(app, committed_db):
    advocate = nominate()
    when = advocate.invited_at + timedelta(days=3)
    commit()
    barrier = threading.Barrier(2)
    results = []

    def run():
        with app.app_context():
            barrier.wait()
            results.append(nominations.follow_up_invitations(when))
            commit()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == [(0, 0), (1, 0)]
    assert len(reminders_to()) == 1
    assert db.session.scalar(select(User.id).where(User.email == CUSTOMER))


def test_the_hourly_job_follows_up(db):
    from portal import jobs

    advocate = nominate()
    advocate.invited_at = utcnow() - timedelta(days=4)
    db.session.flush()

    jobs.follow_up_invitations.call_local()

    assert advocate.invitation_reminders == 1 and len(reminders_to()) == 1


def test_the_waiting_list_sends_as_many_queries_for_12_nominations_as_for_2(client, db, login_as):
    from tests.web.intake import queries_to_render

    login_as(AdminFactory())
    for n in range(2):
        nominate(email=f"few{n}@customer.example")
    few = queries_to_render(client, "/admin/queue/invitations")
    for n in range(10):
        nominate(email=f"many{n}@customer.example")
    many = queries_to_render(client, "/admin/queue/invitations")
    assert len(many) == len(few)
