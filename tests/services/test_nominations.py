"""Self-nomination, staff nomination, invitations and the decisions on them."""

import pytest
from sqlalchemy import select

from portal.database import db, utcnow
from portal.models import (
    Account,
    Advocate,
    AdvocateStatus,
    AuditEvent,
    NominationSource,
    Notification,
    QueueItem,
    QueueKind,
    QueueStatus,
    User,
)
from portal.services import approvals, nominations
from portal.services.errors import DomainError
from portal.services.nominations import Profile
from tests.factories import AccountFactory, AdminFactory, AdvocateFactory, StaffFactory, UserFactory
from tests.services.helpers import count, emails_to


def nominate(email="Ana.Ruiz@BancoIstmeno.example", name="Ana Ruiz", company="Banco Istmeño", **profile):
    return nominations.self_nominate(name, email, company, Profile(job_title="Head of Payments", **profile))


def open_item(advocate, kind=QueueKind.NOMINATION):
    return db.session.scalar(
        select(QueueItem).where(QueueItem.advocate_id == advocate.id, QueueItem.kind == kind, QueueItem.status == QueueStatus.OPEN)
    )


class TestSelfNomination:
    def test_creates_an_unverified_advocate_and_asks_to_verify_the_email(self, db):
        advocate = nominate()
        assert advocate.status is AdvocateStatus.UNVERIFIED
        assert advocate.source is NominationSource.SELF
        assert advocate.user.email == "ana.ruiz@bancoistmeno.example"
        assert advocate.account.name == "Banco Istmeño"
        assert advocate.account.domain == "bancoistmeno.example"
        [email] = emails_to("ana.ruiz@bancoistmeno.example")
        assert email.subject == "Confirm your email to complete your nomination"
        assert "/sign-in/link/" in email.payload["text"]
        assert email.payload["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert count(QueueItem) == 0  # the team sees it only after verification

    def test_a_second_nomination_for_the_same_email_in_any_case_merges(self, db):
        first = nominate(email="ana.ruiz@bancoistmeno.example")
        second = nominate(email="ANA.RUIZ@bancoistmeno.example", name="Ana M. Ruiz", company="Banco Istmeño S.A.")
        assert second.id == first.id
        assert count(User) == 1
        assert count(Advocate) == 1
        assert second.user.name == "Ana M. Ruiz"  # unverified details are replaced
        assert len(emails_to("ana.ruiz@bancoistmeno.example")) == 2

    def test_matches_an_existing_account_by_email_domain(self, db):
        account = AccountFactory(name="Banco Istmeño", domain="bancoistmeno.example")
        advocate = nominate(company="Some other spelling")
        assert advocate.account_id == account.id

    def test_public_email_domains_do_not_become_company_domains(self, db):
        advocate = nominate(email="someone@gmail.com", company="Tiny Co")
        assert advocate.account.domain is None

    def test_never_changes_a_verified_record_from_the_public_form(self, db):
        advocate = AdvocateFactory(job_title="Approved title")
        result = nominate(email=advocate.user.email, name="Impostor")
        assert result.id == advocate.id
        assert advocate.status is AdvocateStatus.APPROVED
        assert advocate.job_title == "Approved title"
        assert advocate.user.name != "Impostor"
        [email] = emails_to(advocate.user.email)
        assert email.subject == "You are already part of the advocacy program"

    def test_a_team_address_is_ignored(self, db):
        staff = StaffFactory()
        assert nominate(email=staff.email) is None
        assert count(Advocate) == 0

    def test_verifying_the_email_sends_the_nomination_to_the_queue_once(self, db):
        advocate = nominate()
        nominations.on_email_verified(advocate.user)
        assert advocate.status is AdvocateStatus.PENDING
        assert advocate.submitted_at is not None
        assert open_item(advocate) is not None
        nominations.on_email_verified(advocate.user)  # a later sign-in changes nothing
        assert count(QueueItem) == 1


class TestStaffNomination:
    def test_invites_the_customer(self, db):
        staff = StaffFactory(name="Sam Seller")
        account = AccountFactory()
        result = nominations.staff_nominate(staff, "Rosa Díaz", "rosa@customer.example", account, "Great results")
        assert result.created
        advocate = result.advocate
        assert advocate.status is AdvocateStatus.INVITED
        assert advocate.source is NominationSource.STAFF
        assert advocate.nominated_by_id == staff.id
        [email] = emails_to("rosa@customer.example")
        assert "Sam Seller" in email.subject
        assert "Great results" in email.payload["text"]
        assert count(AuditEvent, AuditEvent.action == "nomination.staff") == 1

    def test_the_same_person_again_adds_the_reason_to_the_one_record(self, db):
        account = AccountFactory()
        first = nominations.staff_nominate(StaffFactory(), "Rosa", "rosa@customer.example", account, "First reason")
        second = nominations.staff_nominate(StaffFactory(name="Casey"), "Rosa", "ROSA@customer.example", account, "Second reason")
        assert not second.created
        assert second.advocate.id == first.advocate.id
        assert "Also nominated by Casey: Second reason" in second.advocate.nomination_reason
        assert count(Advocate) == 1
        assert len(emails_to("rosa@customer.example")) == 1  # no second invitation

    def test_merges_into_a_self_nomination(self, db):
        advocate = nominate()
        result = nominations.staff_nominate(StaffFactory(), "Ana", advocate.user.email, advocate.account, "Seen her talk")
        assert result.advocate.id == advocate.id
        assert count(Advocate) == 1

    @pytest.mark.parametrize(
        ("email", "reason", "field"),
        [("rosa@customer.example", "  ", "reason"), ("{staff}", "why", "email")],
    )
    def test_refusals(self, db, email, reason, field):
        staff = StaffFactory()
        with pytest.raises(DomainError) as error:
            nominations.staff_nominate(staff, "X", email.format(staff=staff.email), AccountFactory(), reason)
        assert error.value.field == field
        assert count(Advocate) == 0

    def test_an_advocate_cannot_nominate(self, db):
        with pytest.raises(DomainError):
            nominations.staff_nominate(UserFactory(), "X", "x@customer.example", AccountFactory(), "why")


class TestInvitation:
    def invited(self):
        return nominations.staff_nominate(StaffFactory(), "Rosa", "rosa@customer.example", AccountFactory(), "why").advocate

    def test_the_customer_confirms_and_the_team_decides(self, db):
        advocate = self.invited()
        nominations.confirm_invitation(advocate.user, advocate)
        assert advocate.status is AdvocateStatus.PENDING
        assert open_item(advocate, QueueKind.INVITATION) is not None

    def test_only_the_customer_can_answer(self, db):
        advocate = self.invited()
        for other in (UserFactory(), StaffFactory(), AdminFactory()):
            with pytest.raises(DomainError):
                nominations.confirm_invitation(other, advocate)
        assert advocate.status is AdvocateStatus.INVITED

    def test_decline_then_no_second_answer(self, db):
        advocate = self.invited()
        nominations.decline_invitation(advocate.user, advocate)
        assert advocate.status is AdvocateStatus.DECLINED
        with pytest.raises(DomainError):
            nominations.decline_invitation(advocate.user, advocate)


class TestDecisions:
    def pending(self):
        advocate = nominate()
        nominations.on_email_verified(advocate.user)
        return advocate, open_item(advocate)

    def test_approve(self, db):
        admin = AdminFactory()
        advocate, item = self.pending()
        approvals.decide(admin, item, True)
        assert advocate.status is AdvocateStatus.APPROVED
        assert advocate.last_confirmed_at is not None
        assert item.status is QueueStatus.APPROVED
        assert item.decided_by_id == admin.id
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "queue.nomination.approved"))
        assert event.actor_id == admin.id and event.subject_id == item.id
        note = db.session.scalar(select(Notification).where(Notification.user_id == advocate.user_id))
        assert "approved" in note.title
        assert emails_to(advocate.user.email)[-1].subject == note.title

    def test_reject_needs_a_reason_that_reaches_the_customer(self, db):
        admin = AdminFactory()
        advocate, item = self.pending()
        with pytest.raises(DomainError) as error:
            approvals.decide(admin, item, False, "   ")
        assert error.value.field == "reason"
        assert item.status is QueueStatus.OPEN
        approvals.decide(admin, item, False, "Not yet using the product")
        assert advocate.status is AdvocateStatus.REJECTED
        assert "Not yet using the product" in emails_to(advocate.user.email)[-1].payload["text"]

    def test_a_decided_item_cannot_be_decided_again(self, db):
        admin = AdminFactory()
        advocate, item = self.pending()
        approvals.decide(admin, item, False, "No")
        with pytest.raises(DomainError, match="already been decided"):
            approvals.decide(admin, item, True)
        assert advocate.status is AdvocateStatus.REJECTED
        assert count(AuditEvent, AuditEvent.action.like("queue.%")) == 1

    def test_bulk_decisions_skip_what_cannot_be_decided(self, db):
        admin = AdminFactory()
        items = []
        for n in range(3):
            advocate = nominate(email=f"person{n}@customer.example")
            nominations.on_email_verified(advocate.user)
            items.append(open_item(advocate))
        approvals.decide(admin, items[0], True)
        result = approvals.decide_many(admin, [i.id for i in items], True)
        assert result.decided == 2
        assert len(result.skipped) == 1 and f"#{items[0].id}" in result.skipped[0]
        assert all(i.status is QueueStatus.APPROVED for i in items)

    def test_a_rejected_nominee_can_nominate_again_and_reaches_the_queue_anew(self, db):
        admin = AdminFactory()
        advocate, item = self.pending()
        approvals.decide(admin, item, False, "Too early")
        again = nominate()
        assert again.id == advocate.id and again.status is AdvocateStatus.UNVERIFIED
        nominations.on_email_verified(again.user)
        assert open_item(again).id != item.id


def test_the_queue_flags_items_older_than_the_configured_age(db, app):
    advocate = nominate()
    nominations.on_email_verified(advocate.user)
    item = open_item(advocate)
    assert not approvals.is_overdue(item)
    from datetime import timedelta

    item.created_at = utcnow() - timedelta(days=app.config["QUEUE_FLAG_DAYS"] + 1)
    assert approvals.is_overdue(item)
    older = db.session.scalars(approvals.queue_query(older_than_days=7)).all()
    assert older == [item]


def test_one_account_per_new_company(db):
    nominate(email="a@newco.example", company="NewCo")
    nominate(email="b@newco.example", company="NewCo")
    assert count(Account, Account.domain == "newco.example") == 1
