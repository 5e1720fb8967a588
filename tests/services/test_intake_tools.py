"""Bulk import, the directory search, taxonomies and notifications."""

import threading

import pytest
from sqlalchemy import func, select

from portal.database import db
from portal.models import (
    Advocate,
    AdvocateStatus,
    Delivery,
    ImportStatus,
    Notification,
    NotificationCategory,
    Region,
    Term,
    TermKind,
    User,
)
from portal.services import directory, importer, nominations, notify, taxonomy
from portal.services.errors import DomainError
from portal.services.nominations import Profile
from tests.conftest import ON_POSTGRES
from tests.factories import AdminFactory, AdvocateFactory, UserFactory
from tests.services.helpers import count, emails_to
from tests.web.intake import statements

HEADER = "email,name,company,job_title,seniority,industry,country,languages,time_zone,products,activity_types\n"


def csv_of(*rows: str) -> str:
    return HEADER + "".join(row + "\n" for row in rows)


class TestImport:
    def test_preview_reports_every_row_problem(self, db, taxonomies):
        existing = AdvocateFactory()
        content = csv_of(
            "ana@bank.example,Ana,Bank,Head,director,Financial services,PA,es;en,America/Panama,Payments Gateway,reference_call",
            "not-an-email,Bo,Bank,,,,,,,,",
            "cy@bank.example,Cy,Bank,,boss,Space,Narnia,xx,Mars/Base,Teleporter,juggling",
            "ANA@bank.example,Ana again,Bank,,,,,,,,",
            f"{existing.user.email},Known,Bank,,,,,,,,",
        )
        result = importer.preview(content)
        rows = {r.number: r for r in result.rows}
        assert rows[2].errors == [] and rows[2].profile.languages == ["es", "en"]
        assert "email" in rows[3].errors[0]
        assert len(rows[4].errors) == 7  # seniority, industry, country, language, time zone, product, activity
        assert rows[5].errors == ["The same email as row 2."]
        assert rows[6].existing.startswith("Already in the program")
        assert not result.can_import

    def test_missing_columns_are_a_file_error(self, db):
        result = importer.preview("email,name\nx@y.example,X\n")
        assert result.file_errors and "company" in result.file_errors[0]

    def test_all_or_nothing(self, db, taxonomies):
        admin = AdminFactory()
        bad = importer.create_batch(admin, "bad.csv", csv_of("ok@bank.example,Ok,Bank,,,,,,,,", "bad,Bad,Bank,,,,,,,,"))
        with pytest.raises(DomainError):
            importer.run_import(admin, bad)
        assert count(User) == 1  # only the admin

    def test_import_invites_new_people_and_skips_known_ones(self, db, taxonomies):
        admin = AdminFactory()
        known = AdvocateFactory()
        batch = importer.create_batch(
            admin,
            "advocates.csv",
            csv_of(
                "ana@bank.example,Ana,Bank,Head,director,Financial services,PA,es,America/Panama,Payments Gateway,quote",
                "bo@bank.example,Bo,Bank,,,,,,,,",
                f"{known.user.email},Known,Bank,,,,,,,,",
            ),
        )
        assert importer.run_import(admin, batch) == 2
        assert batch.status is ImportStatus.IMPORTED
        ana = nominations.current_advocate(db.session.scalar(select(User).where(User.email == "ana@bank.example")))
        assert ana.status is AdvocateStatus.INVITED and ana.products[0].name == "Payments Gateway"
        assert ana.account.name == "Bank" and ana.account_id == nominations.current_advocate(
            db.session.scalar(select(User).where(User.email == "bo@bank.example"))).account_id
        assert emails_to("ana@bank.example")[0].subject == "You are invited to our customer advocacy program"
        with pytest.raises(DomainError):
            importer.run_import(admin, batch)

    def test_template_passes_its_own_preview(self, db, taxonomies):
        result = importer.preview(importer.template_csv())
        assert result.can_import, [r.errors for r in result.rows]

    def test_decode_refuses_binary_and_large_files(self):
        with pytest.raises(DomainError):
            importer.decode(b"PK\x03\x04\x00\x00email")
        with pytest.raises(DomainError):
            importer.decode(b"x" * (importer.MAX_BYTES + 1))


class TestDirectory:
    def ids(self, **filters):
        ids = {a.id for a in db.session.scalars(directory.search(directory.Filters(**filters)))}
        page = directory.paginate(directory.Filters(**filters), per_page=100)
        assert page.total == len(ids)  # the page's total counts what it lists
        return ids

    def test_products_a_and_b_financial_services_central_america(self, db, taxonomies):
        products = {t.name: t for t in taxonomy.terms(TermKind.PRODUCT)}
        a, b = products["Analytics Cloud"], products["Payments Gateway"]
        finance = db.session.scalar(select(Term).where(Term.name == "Financial services"))
        retail = db.session.scalar(select(Term).where(Term.name == "Retail"))
        match = AdvocateFactory(country="PA", industry=finance, products=[a, b])
        AdvocateFactory(country="PA", industry=finance, products=[a])  # only product A
        AdvocateFactory(country="PA", industry=retail, products=[a, b])  # other industry
        AdvocateFactory(country="BR", industry=finance, products=[a, b])  # South America
        central = db.session.scalar(select(Region).where(Region.name == "Central America"))
        assert self.ids(product_ids=[a.id, b.id], industry_ids=[finance.id], region_ids=[central.id]) == {match.id}

    def test_a_region_includes_its_sub_regions(self, db, taxonomies):
        americas = db.session.scalar(select(Region).where(Region.name == "Americas"))
        countries = taxonomy.region_countries([americas.id])
        assert {"PA", "GT", "BR", "US", "JM"} <= countries and "DE" not in countries
        panama = AdvocateFactory(country="PA")
        AdvocateFactory(country="DE")
        assert self.ids(region_ids=[americas.id]) == {panama.id}

    def test_status_text_and_history_filters(self, db):
        approved = AdvocateFactory(user=UserFactory(name="Zoë Quinn"))
        pending = AdvocateFactory(status=AdvocateStatus.PENDING)
        AdvocateFactory(status=AdvocateStatus.LAPSED)
        assert self.ids() == {approved.id, pending.id}  # lapsed records are history
        assert self.ids(statuses=[AdvocateStatus.PENDING]) == {pending.id}
        assert self.ids(text="zoë") == {approved.id}

    def test_a_page_works_out_its_filters_once_for_the_rows_and_the_total(self, db, taxonomies):
        americas = db.session.scalar(select(Region).where(Region.name == "Americas"))
        listed = [AdvocateFactory(country="PA") for _ in range(3)]
        AdvocateFactory(country="DE")
        db.session.flush()
        with statements() as sent:
            page = directory.paginate(directory.Filters(region_ids=[americas.id]), per_page=2)
        assert page.total == 3 and len(page.items) == 2 and {a.id for a in page.items} < {a.id for a in listed}
        assert len(sent) == 4, sent  # the region tree and its countries, once; the rows; the total


class TestTaxonomy:
    def test_duplicate_terms_are_refused(self, db, taxonomies):
        with pytest.raises(DomainError):
            taxonomy.add_term(TermKind.PRODUCT, "Analytics Cloud")

    def test_a_region_cannot_contain_itself(self, db, taxonomies):
        americas = db.session.scalar(select(Region).where(Region.name == "Americas"))
        central = db.session.scalar(select(Region).where(Region.name == "Central America"))
        with pytest.raises(DomainError):
            taxonomy.save_region(americas, "Americas", central.id, [])

    def test_unknown_countries_are_refused(self, db):
        with pytest.raises(DomainError) as error:
            taxonomy.save_region(None, "Atlantis", None, ["XX"])
        assert error.value.field == "countries"

    def test_defaults_load_once(self, db):
        assert taxonomy.load_defaults()
        assert not taxonomy.load_defaults()
        assert len(taxonomy.activity_types()) == 12


class TestNotifications:
    def test_immediate_digest_and_off(self, db):
        user = UserFactory()
        notify.notify(user, NotificationCategory.DECISIONS, "Approved")
        assert [m.subject for m in emails_to(user.email)] == ["Approved"]
        notify.set_preferences(user, {NotificationCategory.DECISIONS: Delivery.DIGEST})
        notify.notify(user, NotificationCategory.DECISIONS, "Second")
        notify.notify(user, NotificationCategory.REMINDERS, "Reminder")  # still immediate
        assert len(emails_to(user.email)) == 2
        assert notify.send_digests() == 1
        digest = emails_to(user.email)[-1]
        assert "Second" in digest.payload["text"] and "Reminder" not in digest.payload["text"]
        assert notify.send_digests() == 0
        assert count(Notification, Notification.user_id == user.id) == 3

    def test_one_click_unsubscribe(self, db):
        user = UserFactory()
        url = notify.unsubscribe_url(user, NotificationCategory.REQUESTS)
        token = url.rsplit("/", 1)[1]
        found, category = notify.read_unsubscribe_token(token)
        assert found.id == user.id and category is NotificationCategory.REQUESTS
        notify.unsubscribe(found, category)
        assert notify.delivery_for(user, NotificationCategory.REQUESTS) is Delivery.OFF
        notify.notify(user, NotificationCategory.REQUESTS, "Ask")
        assert emails_to(user.email) == []
        with pytest.raises(DomainError):
            notify.read_unsubscribe_token(token + "x")


@pytest.mark.skipif(not ON_POSTGRES, reason="races need PostgreSQL's concurrent transactions")
def test_simultaneous_duplicate_nominations_end_as_one_record(app, committed_db):
    """Eight people submit /join for the same new address at the same moment."""
    barrier = threading.Barrier(8)
    errors = []

    def submit(n):
        with app.app_context():
            try:
                barrier.wait()
                nominations.self_nominate(f"Ana {n}", "ANA@race.example", "Race Co", Profile(job_title="Head"))
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert db.session.scalar(select(func.count()).select_from(Advocate)) == 1
    assert db.session.scalar(select(func.count()).where(Advocate.status == AdvocateStatus.UNVERIFIED)) == 1
