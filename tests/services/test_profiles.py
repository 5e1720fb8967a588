"""Profile edits and re-approval, consent, freshness, job changes and privacy."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.database import db, utcnow
from portal.models import (
    Advocate,
    AdvocateStatus,
    ChangeStatus,
    Consent,
    ConsentChange,
    ConsentEvent,
    ConsentPurpose,
    Notification,
    OutboxMessage,
    QueueItem,
    QueueKind,
    QueueStatus,
    TermKind,
    User,
)
from portal.services import approvals, consent, privacy, profiles
from portal.services.errors import DomainError
from portal.services.nominations import profile_of
from tests.factories import AccountFactory, AdminFactory, AdvocateFactory, StaffFactory, TermFactory, UserFactory
from tests.services.helpers import count, emails_to


def edit(advocate, **changes):
    profile = profile_of(advocate)
    for key, value in changes.items():
        setattr(profile, key, value)
    return profiles.update_profile(advocate.user, advocate, advocate.user.name, profile)


class TestProfileEdits:
    def test_ordinary_fields_apply_at_once(self, db):
        advocate = AdvocateFactory()
        assert edit(advocate, story="New story", time_zone="Europe/Oslo") is None
        assert advocate.story == "New story" and advocate.time_zone == "Europe/Oslo"
        assert count(QueueItem) == 0

    def test_key_fields_wait_for_approval_while_the_approved_values_stay(self, db):
        advocate = AdvocateFactory(job_title="Manager")
        product = TermFactory()
        change = edit(advocate, job_title="Director", product_ids=[product.id], story="Also this")
        assert advocate.job_title == "Manager" and advocate.products == []
        assert advocate.story == "Also this"
        assert change.changes == {"job_title": "Director", "product_ids": [product.id]}
        item = db.session.scalar(select(QueueItem).where(QueueItem.kind == QueueKind.PROFILE_CHANGE))
        approvals.decide(AdminFactory(), item, True)
        assert advocate.job_title == "Director" and advocate.products == [product]
        assert change.status is ChangeStatus.APPROVED

    def test_a_rejected_change_leaves_the_profile(self, db):
        advocate = AdvocateFactory(job_title="Manager")
        change = edit(advocate, job_title="Emperor")
        item = db.session.scalar(select(QueueItem).where(QueueItem.subject_id == change.id))
        approvals.decide(AdminFactory(), item, False, "Please use your real title")
        assert advocate.job_title == "Manager"
        assert change.status is ChangeStatus.REJECTED

    def test_a_newer_proposal_supersedes_an_undecided_one(self, db):
        advocate = AdvocateFactory(job_title="Manager")
        first = edit(advocate, job_title="Director")
        second = edit(advocate, job_title="VP")
        assert first.status is ChangeStatus.SUPERSEDED
        items = db.session.scalars(select(QueueItem).order_by(QueueItem.id)).all()
        assert [i.status for i in items] == [QueueStatus.WITHDRAWN, QueueStatus.OPEN]
        assert items[1].subject_id == second.id

    def test_before_approval_every_field_applies_at_once(self, db):
        advocate = AdvocateFactory(status=AdvocateStatus.PENDING, job_title="Manager")
        assert edit(advocate, job_title="Director") is None
        assert advocate.job_title == "Director"

    def test_nobody_else_can_edit(self, db):
        advocate = AdvocateFactory()
        for other in (UserFactory(), StaffFactory(), AdminFactory()):
            with pytest.raises(DomainError):
                profiles.update_profile(other, advocate, "X", profile_of(advocate))


class TestConsent:
    def test_grant_and_withdraw_are_dated_versioned_records(self, db):
        advocate = AdvocateFactory()
        consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS, ConsentPurpose.QUOTE})
        assert consent.has_consent(advocate, ConsentPurpose.REFERENCE_CALLS)
        consent.set_consents(advocate.user, advocate, {ConsentPurpose.QUOTE})
        assert not consent.has_consent(advocate, ConsentPurpose.REFERENCE_CALLS)  # in force at once
        assert consent.granted_purposes(advocate) == {ConsentPurpose.QUOTE}
        events = consent.history(advocate)
        assert [(e.purpose, e.change) for e in events][0] == (ConsentPurpose.REFERENCE_CALLS, ConsentChange.WITHDRAWN)
        assert all(e.wording_version == 1 and e.actor_id == advocate.user_id and e.created_at for e in events)
        assert len(events) == 3

    def test_saving_the_same_choices_records_nothing(self, db):
        advocate = AdvocateFactory()
        consent.set_consents(advocate.user, advocate, {ConsentPurpose.LOGO})
        assert consent.set_consents(advocate.user, advocate, {ConsentPurpose.LOGO}) == []

    def test_team_members_cannot_consent_for_a_customer(self, db):
        advocate = AdvocateFactory()
        for other in (StaffFactory(), AdminFactory(), UserFactory()):
            with pytest.raises(DomainError):
                consent.set_consents(other, advocate, {ConsentPurpose.REFERENCE_CALLS})
        assert count(Consent) == 0

    def test_every_wording_version_is_kept(self):
        for purpose in ConsentPurpose:
            versions = [w.version for w in consent.WORDINGS[purpose]]
            assert versions == sorted(set(versions)) and consent.current_wording(purpose).version == versions[-1]


class TestFreshness:
    def test_stale_profiles_are_reminded_once_per_interval(self, db, app):
        interval = timedelta(days=app.config["PROFILE_CONFIRM_DAYS"])
        stale = AdvocateFactory(last_confirmed_at=utcnow() - interval - timedelta(days=1))
        AdvocateFactory(last_confirmed_at=utcnow() - timedelta(days=10))
        AdvocateFactory(status=AdvocateStatus.PENDING, last_confirmed_at=utcnow() - interval * 2)
        assert profiles.is_stale(stale)
        assert profiles.remind_stale() == 1
        assert emails_to(stale.user.email)[-1].subject == "Are your details still right?"
        assert profiles.remind_stale() == 0
        profiles.confirm_details(stale.user, stale)
        assert not profiles.is_stale(stale)


class TestJobChange:
    def test_moving_keeps_the_person_and_lapses_the_old_membership(self, db):
        advocate = AdvocateFactory(job_title="Manager")
        consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})
        new = profiles.report_job_change(advocate.user, advocate, "Brand New Co", advocate.user.email, "Director")
        assert advocate.status is AdvocateStatus.LAPSED
        assert not consent.has_consent(advocate, ConsentPurpose.REFERENCE_CALLS)
        assert consent.history(advocate)[0].change is ConsentChange.LAPSED
        assert new.user_id == advocate.user_id and new.previous_id == advocate.id
        assert new.account.name == "Brand New Co" and new.job_title == "Director"
        assert new.status is AdvocateStatus.PENDING
        assert consent.granted_purposes(new) == set()
        assert db.session.scalar(select(QueueItem).where(QueueItem.advocate_id == new.id)).kind is QueueKind.NOMINATION

    def test_a_new_work_address_is_verified_first(self, db):
        advocate = AdvocateFactory()
        assert profiles.report_job_change(advocate.user, advocate, "Brand New Co", "me@brandnew.example", "CTO") is None
        assert advocate.status is AdvocateStatus.APPROVED  # nothing happens before confirmation
        [email] = emails_to("me@brandnew.example")
        token = email.payload["text"].split("/profile/job-change/")[1].split()[0]
        with pytest.raises(DomainError):
            profiles.confirm_job_change(UserFactory(), token)  # another person's link
        new = profiles.confirm_job_change(advocate.user, token)
        assert advocate.user.email == "me@brandnew.example"
        assert new.account.domain == "brandnew.example"
        with pytest.raises(DomainError):
            profiles.confirm_job_change(advocate.user, token)  # once only

    def test_an_address_of_another_person_is_refused(self, db):
        advocate = AdvocateFactory()
        other = UserFactory()
        with pytest.raises(DomainError) as error:
            profiles.report_job_change(advocate.user, advocate, "X", other.email, "CTO")
        assert error.value.field == "email"

    def test_moving_to_the_same_company_is_refused(self, db):
        advocate = AdvocateFactory()
        with pytest.raises(DomainError):
            profiles.report_job_change(advocate.user, advocate, advocate.account.name, advocate.user.email, "CTO")


class TestPrivacy:
    def test_export_holds_profile_consents_and_decisions(self, db):
        advocate = AdvocateFactory(story="My story")
        consent.set_consents(advocate.user, advocate, {ConsentPurpose.CASE_STUDY})
        data = privacy.export_data(advocate.user)
        assert data["person"]["email"] == advocate.user.email
        [membership] = data["memberships"]
        assert membership["story"] == "My story"
        assert membership["consents"][0]["purpose"] == "case_study"
        assert "case study" in membership["consents"][0]["wording"]

    def test_erasure_removes_personal_data_and_keeps_the_counts(self, db):
        advocate = AdvocateFactory(story="Secret story", job_title="CTO")
        consent.set_consents(advocate.user, advocate, {ConsentPurpose.REFERENCE_CALLS})
        edit(advocate, job_title="CEO")
        user = advocate.user
        email = user.email
        before = count(Advocate)
        privacy.erase_account(user, user)
        assert count(Advocate) == before
        assert advocate.status is AdvocateStatus.ERASED
        assert advocate.story == "" and advocate.job_title == ""
        assert advocate.account_id is not None and advocate.country == "PA"  # aggregates stay right
        assert user.email != email and user.name == "Deleted advocate" and not user.active
        assert not consent.has_consent(advocate, ConsentPurpose.REFERENCE_CALLS)
        assert count(ConsentEvent, ConsentEvent.change == ConsentChange.ERASED) == 1
        assert count(OutboxMessage, OutboxMessage.recipient == email) == 0
        assert count(QueueItem, QueueItem.status == QueueStatus.OPEN) == 0
        assert count(Notification, Notification.user_id == user.id) == 0

    def test_only_the_person_can_erase(self, db):
        advocate = AdvocateFactory()
        with pytest.raises(DomainError):
            privacy.erase_account(AdminFactory(), advocate.user)
        assert advocate.user.active
