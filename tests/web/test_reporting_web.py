"""Reporting on the web: who may open what, the dashboard and its quarter, growth targets
and recruiting calls (bad input beside the field, nothing half-written), CSV exports equal
to the filtered lists and safe for spreadsheets, the PDF report (drawn at once or by the
job, with progress), unmet searches recorded from the directory, and the dashboard's
query count the same with 10 and with 5,000 advocates."""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from portal.database import commit, utcnow
from portal.models import (
    Account,
    Advocate,
    AdvocateStatus,
    AskOutcome,
    AskStatus,
    CoverageTarget,
    NominationSource,
    PointsSource,
    ProgramReport,
    QueueKind,
    Region,
    ReportStatus,
    Role,
    Term,
    UnmetDemand,
    User,
)
from portal.services import audit, coverage, demand, directory, points, program_report, reporting
from tests.factories import AccountFactory, AdminFactory, AdvocateFactory, StaffFactory, UserFactory
from tests.test_documents import pdf_text
from tests.web.asks import askable, make_ask
from tests.web.intake import named, pending, queries_to_render, region, snapshot
from tests.web.pages import field_error, redirect_target

ROLES = {"advocate": UserFactory, "staff": StaffFactory}
ADMIN_PAGES = ["/admin", "/admin/coverage", "/admin/reports", "/admin/advocates.csv", "/admin/asks.csv",
               "/admin/queue.csv", "/admin/audit.csv", "/admin/points.csv"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_reporting_pages_are_for_admins(client, db, login_as, path):
    bounced = client.get(path)
    assert redirect_target(bounced) == ("/sign-in", {"next": [path]})
    for factory in ROLES.values():
        login_as(factory())
        assert client.get(path).status_code == 403
    login_as(AdminFactory())
    assert client.get(path).status_code == 200


def test_posts_and_reports_of_others_roles(client, db, login_as):
    target = coverage.set_target(AdminFactory(), named_or_new_industry(db).id, None, None, 2)
    report = ProgramReport(year=2025, quarter=2)
    db.session.add(report)
    db.session.flush()
    login_as(StaffFactory())
    for path in (f"/admin/coverage/{target.id}/call", f"/admin/coverage/{target.id}/remove", "/admin/reports"):
        assert client.post(path, data={"quarter": "2025-Q2"}).status_code == 403
    assert client.get(f"/admin/reports/{report.id}/download").status_code == 403
    login_as(AdminFactory())
    assert client.get("/admin/reports/987654/download").status_code == 404
    assert client.get("/admin/reports/987654").status_code == 404
    assert client.get(f"/admin/reports/{report.id}/download").status_code == 404  # not drawn yet
    assert client.post("/admin/coverage/987654/remove").status_code == 404


def named_or_new_industry(db):
    from portal.models import TermKind

    term = Term(kind=TermKind.INDUSTRY, name=f"Industry {utcnow().timestamp()}")
    db.session.add(term)
    db.session.flush()
    return term


def test_the_dashboard_shows_the_chosen_quarter(client, db, login_as, taxonomies):
    login_as(AdminFactory())
    advocate = AdvocateFactory(created_at=reporting.Quarter(2025, 2).start + timedelta(days=3))
    make_ask(advocate, status=AskStatus.COMPLETED, ago=utcnow() - reporting.Quarter(2025, 2).start - timedelta(days=-5),
             outcome=AskOutcome.WON, outcome_amount=Decimal("4242"), opportunity_id="OPP-9",
             completed_at=reporting.Quarter(2025, 2).start + timedelta(days=6))
    page = client.get("/admin?quarter=2025-Q2")
    assert page.status_code == 200
    assert "4,242" in page.text and "Q2 2025" in page.text
    assert 'role="img"' in page.text and "Nomination funnel, Q2 2025: Nominated 1 (100%)" in page.text
    assert "No growth targets yet" in page.text and "Nothing unmet in Q2 2025" in page.text
    other = client.get("/admin?quarter=nonsense")
    assert other.status_code == 200 and reporting.Quarter.of(utcnow()).label in other.text
    assert "4,242" not in client.get("/admin?quarter=2025-Q3").text


# --- growth targets and recruiting calls -----------------------------------------------------


def test_setting_a_target_and_a_recruiting_call(client, db, login_as, taxonomies):
    login_as(AdminFactory())
    healthcare, apac = named(Term, "Healthcare"), named(Region, "APAC")
    response = client.post("/admin/coverage", data={"industry": healthcare.id, "region": apac.id, "product": 0, "target": 3})
    assert response.status_code == 302
    target = db.session.scalar(select(CoverageTarget))
    assert (target.industry_id, target.region_id, target.product_id, target.target) == (healthcare.id, apac.id, None, 3)
    page = client.get("/admin/coverage").text
    assert "Healthcare · APAC · any product" in page and "3 to recruit" in page

    client.post(f"/admin/coverage/{target.id}/call", data={"action": "open", "message": "Hospital groups."})
    # The message's own full stop ends the sentence: none is added after its closing quote.
    assert "“Hospital groups.” It disappears" in " ".join(client.get("/admin/coverage").text.split())
    login_as(StaffFactory())
    nominate = client.get("/staff/nominate").text
    assert "Customers the program is looking for" in nominate
    assert "Healthcare · APAC · any product" in nominate and "3 more wanted" in nominate and "Hospital groups" in nominate

    login_as(AdminFactory())
    client.post(f"/admin/coverage/{target.id}/call", data={"action": "close"})
    login_as(StaffFactory())
    assert "Customers the program is looking for" not in client.get("/staff/nominate").text
    login_as(AdminFactory())
    assert client.post(f"/admin/coverage/{target.id}/remove").status_code == 302
    assert db.session.scalar(select(func.count(CoverageTarget.id))) == 0


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"industry": 0, "region": 0, "product": 0, "target": 3}, "industry", "Choose at least one"),
        ({"industry": 987654, "target": 3}, "industry", "Not a valid choice"),
        ({"industry": "HEALTH", "target": "many"}, "target", "Enter a number from 1 to 10,000"),
        ({"industry": "HEALTH", "target": ""}, "target", "Enter how many"),
        ({"industry": "HEALTH", "target": 0}, "target", "from 1 to 10,000"),
        ({"industry": "HEALTH", "region": 987654, "target": 2}, "region", "Not a valid choice"),
    ],
)
def test_a_bad_target_is_explained_beside_its_field(client, db, login_as, taxonomies, values, field, message):
    login_as(AdminFactory())
    values = {k: (named(Term, "Healthcare").id if v == "HEALTH" else v) for k, v in values.items()}
    commit()  # a refusal rolls the request back, not what the test set up
    before = snapshot()
    response = client.post("/admin/coverage", data=values)
    assert response.status_code == 422
    assert message in (field_error(response.text, None, field) or "")
    assert snapshot() == before


# --- CSV exports -----------------------------------------------------------------------------


def _csv(response) -> list[dict]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _linked_ids(html: str, prefix: str) -> list[int]:
    ids = re.findall(rf'href="{re.escape(prefix)}(\d+)"', html)
    return list(dict.fromkeys(int(i) for i in ids))


def test_advocates_export_equals_the_filtered_directory(client, db, login_as, taxonomies):
    login_as(AdminFactory())
    finance, analytics = named(Term, "Financial services"), named(Term, "Analytics Cloud")
    central = named(Region, "Central America")
    fits = [AdvocateFactory(country=c, industry=finance, products=[analytics]) for c in ("PA", "CR", "GT")]
    AdvocateFactory(country="BR", industry=finance, products=[analytics])
    AdvocateFactory(country="PA", products=[analytics])
    AdvocateFactory(country="PA", industry=finance, products=[analytics], status=AdvocateStatus.PENDING)
    query = f"?industry={finance.id}&product={analytics.id}&region={central.id}&status=approved"

    page = client.get("/admin/advocates" + query).text
    rows = _csv(client.get("/admin/advocates.csv" + query))
    assert [int(r["id"]) for r in rows] == _linked_ids(page, "/admin/advocates/")
    assert {int(r["id"]) for r in rows} == {a.id for a in fits}
    assert rows[0]["industry"] == "Financial services" and rows[0]["products"] == "Analytics Cloud"
    assert len(_csv(client.get("/admin/advocates.csv"))) == 6


def test_formula_cells_are_neutralised(client, db, login_as, taxonomies):
    login_as(AdminFactory())
    dangerous = {
        "=HYPERLINK(\"http://evil.example\",\"x\")": "name",
        "+1-2": "job title",
        "@SUM(A1:A9)": "company",
        "-3+cmd@x.example": "email",
    }
    user = UserFactory(name="=HYPERLINK(\"http://evil.example\",\"x\")", email="-3+cmd@x.example")
    AdvocateFactory(user=user, job_title="+1-2", account=AccountFactory(name="@SUM(A1:A9)"))
    AdvocateFactory(job_title="\tTabbed", account=AccountFactory(name="\rReturn"))
    rows = _csv(client.get("/admin/advocates.csv"))
    by_column = {column: [r[column] for r in rows] for column in ("name", "job title", "company", "email")}
    for value, column in dangerous.items():
        assert "'" + value in [v for v in by_column[column] if v.startswith("'")], column
        assert value not in by_column[column]
    assert "'\tTabbed" in by_column["job title"] and "'\rReturn" in by_column["company"]
    # Numbers stay numbers: a deduction of points is -10, not text.
    admin = AdminFactory()
    advocate = AdvocateFactory()
    points.award(advocate, PointsSource.NOMINATION_APPROVED, advocate.id)
    points.adjust(admin, advocate, -10, "-minus looks like a formula")
    ledger = _csv(client.get("/admin/points.csv"))
    assert [(r["points"], r["balance after"], r["reason"]) for r in ledger] == [
        ("-10", "90", "'-minus looks like a formula"), ("100", "100", "")]


def test_asks_queue_and_audit_exports_equal_their_filtered_lists(client, db, login_as, taxonomies):
    login_as(AdminFactory())
    for status in (AskStatus.COMPLETED, AskStatus.COMPLETED, AskStatus.SENT, AskStatus.DECLINED):
        make_ask(askable(AdvocateFactory()), status=status, prospect="=1+1")
    page = client.get("/admin/asks?status=completed").text
    rows = _csv(client.get("/admin/asks.csv?status=completed"))
    assert [int(r["id"]) for r in rows] == _linked_ids(page, "/admin/asks/")
    assert len(rows) == 2 and {r["prospect"] for r in rows} == {"'=1+1"}
    assert len(_csv(client.get("/admin/asks.csv"))) == 4

    for _ in range(3):
        pending(AdvocateFactory(status=AdvocateStatus.PENDING))
    pending(AdvocateFactory(status=AdvocateStatus.PENDING), QueueKind.INVITATION)
    page = client.get("/admin/queue?kind=nomination").text
    rows = _csv(client.get("/admin/queue.csv?kind=nomination"))
    assert [int(r["id"]) for r in rows] == _linked_ids(page, "/admin/queue/")
    assert len(rows) == 3 and {r["kind"] for r in rows} == {"Self-nomination"}

    actor = AdminFactory()
    for action, summary in [("coverage.target_set", "Target one"), ("taxonomy.defaults", "Other"),
                            ("coverage.target_set", "Target two"), ("coverage.call_opened", "@done")]:
        audit.record(actor, action, None, summary)
    rows = _csv(client.get("/admin/audit.csv?action=coverage."))
    page = client.get("/admin/audit?action=coverage.").text
    listed = [html.unescape(s).strip() for s in re.findall(r'data-label="What">([^<\n]*)', page)]
    assert [r["summary"] for r in rows] == ["'@done", "Target two", "Target one"]
    assert [r["summary"].lstrip("'") for r in rows] == listed
    assert 'href="/admin/audit.csv?action=coverage."' in page


def test_every_list_links_to_its_export_with_its_filters(client, db, login_as, taxonomies):
    login_as(AdminFactory())
    assert 'href="/admin/asks.csv?status=completed"' in client.get("/admin/asks?status=completed").text
    assert 'href="/admin/queue.csv?kind=nomination&amp;sort=oldest"' in client.get("/admin/queue?kind=nomination&sort=oldest").text
    finance = named(Term, "Financial services")
    assert f'href="/admin/advocates.csv?industry={finance.id}&amp;available=y"' in client.get(
        f"/admin/advocates?industry={finance.id}&available=y").text


def test_a_large_export_streams_every_row(client, db, login_as, taxonomies):
    login_as(AdminFactory())
    _bulk_advocates(db, 1200)
    response = client.get("/admin/advocates.csv")
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) > 10  # written as read, not built in memory first
    rows = list(csv.DictReader(io.StringIO("".join(c.decode() if isinstance(c, bytes) else c for c in chunks).lstrip("\ufeff"))))
    assert len(rows) == 1200


# --- the PDF program report ------------------------------------------------------------------


@pytest.fixture
def quarter_data(db, taxonomies):
    q = reporting.Quarter(2025, 2)
    admin = AdminFactory()
    advocate = AdvocateFactory(created_at=q.start + timedelta(days=2), submitted_at=q.start + timedelta(days=2))
    make_ask(advocate, status=AskStatus.COMPLETED, ago=utcnow() - q.start - timedelta(days=3),
             outcome=AskOutcome.WON, outcome_amount=Decimal("4242"), completed_at=q.start + timedelta(days=4))
    coverage.set_target(admin, named(Term, "Healthcare").id, named(Region, "APAC").id, None, 4)
    key, criteria = demand.normalise(industries=[named(Term, "Public sector").id], regions=[named(Region, "Europe").id])
    for days in (1, 2, 3):
        db.session.add(UnmetDemand(source="search", criteria_key=key, criteria=criteria,
                                   created_at=q.start + timedelta(days=days)))
    db.session.flush()
    return q


def test_the_program_report_pdf_has_the_quarters_figures(client, db, login_as, quarter_data):
    login_as(AdminFactory())
    form = client.get("/admin/reports?quarter=2025-Q2").text
    assert re.search(r'<option selected value="2025-Q2">', form)
    response = client.post("/admin/reports", data={"quarter": "2025-Q2"})
    report = db.session.scalar(select(ProgramReport))
    assert response.headers["Location"] == f"/admin/reports/{report.id}"
    assert (report.status, report.progress) == (ReportStatus.READY, 100)
    assert "Download the Q2 2025 report" in client.get(f"/admin/reports/{report.id}").text

    download = client.get(f"/admin/reports/{report.id}/download")
    assert download.mimetype == "application/pdf"
    assert 'filename=program-report-2025-q2.pdf' in download.headers["Content-Disposition"]
    text = pdf_text(download.data)
    for expected in ("Program report Q2 2025", "Nominated 1", "4,242", "Healthcare · APAC · any product",
                     "Public sector, Europe", "Unmet demand", "Coverage against growth targets"):
        assert expected in text, expected
    assert "Search" not in text  # the links of the dashboard are not in the PDF
    assert "Reports made" in client.get("/admin/reports").text


def test_a_large_report_is_drawn_by_the_job_with_progress(client, db, login_as, quarter_data, monkeypatch):
    monkeypatch.setattr(program_report, "INLINE_MAX_ROWS", 1)  # 1 target + 1 combination: "large"
    drawn_in_job = []
    original = program_report.render_job
    monkeypatch.setattr(program_report, "render_job", lambda report_id: drawn_in_job.append(report_id) or original(report_id))
    login_as(AdminFactory())
    client.post("/admin/reports", data={"quarter": "2025-Q2"})
    report = db.session.scalar(select(ProgramReport))
    assert drawn_in_job == [report.id]  # the job drew it (immediately, in tests) after the commit
    assert report.status is ReportStatus.READY and "4,242" in pdf_text(report.pdf)


def test_the_report_page_shows_progress_and_polls_until_ready(client, db, login_as):
    login_as(AdminFactory())
    report = ProgramReport(year=2025, quarter=2, status=ReportStatus.RENDERING, progress=40)
    db.session.add(report)
    db.session.flush()
    partial = client.get(f"/admin/reports/{report.id}", headers={"HX-Request": "true"}).text
    assert "Being drawn… 40%" in partial and 'hx-trigger="every 2s"' in partial and "<html" not in partial
    report.status, report.progress, report.pdf, report.pdf_size = ReportStatus.READY, 100, b"%PDF-1.7", 8
    db.session.flush()
    partial = client.get(f"/admin/reports/{report.id}", headers={"HX-Request": "true"}).text
    assert "hx-trigger" not in partial and "Download the Q2 2025 report" in partial


def test_a_quarter_not_offered_is_refused(client, db, login_as):
    login_as(AdminFactory())
    response = client.post("/admin/reports", data={"quarter": "1999-Q1"})
    assert response.status_code == 422 and field_error(response.text, None, "quarter")
    assert db.session.scalar(select(func.count(ProgramReport.id))) == 0


# --- unmet demand from the directory ---------------------------------------------------------


def test_a_directory_search_finding_nobody_available_is_recorded_once(client, db, login_as, taxonomies):
    login_as(AdminFactory())
    healthcare, apac = named(Term, "Healthcare"), named(Region, "APAC")
    path = f"/admin/advocates?available=y&industry={healthcare.id}&region={apac.id}"
    assert "No advocate matches" in client.get(path).text
    client.get(path + "&page=2")
    client.get(f"/admin/advocates?industry={healthcare.id}")  # not "available now": not demand
    [row] = db.session.scalars(select(UnmetDemand)).all()
    assert row.criteria == {"products": [], "use_cases": [], "industries": [healthcare.id], "regions": [apac.id], "activities": []}
    assert "Healthcare, APAC" in client.get("/admin").text


# --- query counts ------------------------------------------------------------------------------


def _bulk_advocates(db, n: int) -> None:
    """``n`` approved advocates, each with a user and an account, in three bulk inserts."""
    start = db.session.scalar(select(func.coalesce(func.max(User.id), 0))) + 1
    tag = f"{start}x"
    db.session.execute(insert(User), [{"email": f"bulk{tag}{i}@bulk.example", "name": f"Bulk {i}", "role": Role.ADVOCATE} for i in range(n)])
    db.session.execute(insert(Account), [{"name": f"Bulk {tag} {i}", "domain": f"b{tag}{i}.example"} for i in range(n)])
    users = db.session.scalars(select(User.id).where(User.email.like(f"bulk{tag}%")).order_by(User.id)).all()
    accounts = db.session.scalars(select(Account.id).where(Account.domain.like(f"b{tag}%")).order_by(Account.id)).all()
    now = utcnow()
    db.session.execute(insert(Advocate), [
        {"user_id": u, "account_id": a, "status": AdvocateStatus.APPROVED if i % 3 else AdvocateStatus.PENDING,
         "source": NominationSource.SELF, "country": "PA", "created_at": now - timedelta(days=i % 90),
         "submitted_at": now - timedelta(days=i % 90)}
        for i, (u, a) in enumerate(zip(users, accounts, strict=True))
    ])


def test_the_dashboard_sends_as_many_queries_for_5000_advocates_as_for_10(client, db, login_as, taxonomies):
    login_as(AdminFactory())
    admin = AdminFactory()
    coverage.set_target(admin, named(Term, "Healthcare").id, named(Region, "APAC").id, named(Term, "Analytics Cloud").id, 3)
    coverage.set_target(admin, None, named(Region, "Europe").id, None, 3)
    demand.record_search(admin, directory.Filters(available_now=True, product_ids=[named(Term, "Analytics Cloud").id],
                                                             region_ids=[named(Region, "APAC").id]), 0)
    for advocate in [askable(AdvocateFactory()) for _ in range(10)]:
        make_ask(advocate, status=AskStatus.COMPLETED, ago=timedelta(hours=2), outcome=AskOutcome.WON,
                 outcome_amount=Decimal(10), completed_at=utcnow() - timedelta(hours=1))
        points.award(advocate, PointsSource.NOMINATION_APPROVED, advocate.id)

    few = queries_to_render(client, "/admin")
    _bulk_advocates(db, 4990)
    assert db.session.scalar(select(func.count(Advocate.id))) == 5000
    many = queries_to_render(client, "/admin")

    grown = {sql: n for sql, n in Counter(many).items() if n > Counter(few)[sql]}
    assert len(many) == len(few), f"{len(few)} queries for 10 advocates, {len(many)} for 5,000; growing: {grown}"


def test_the_dashboard_reuses_its_figures_for_a_minute_and_says_when_they_were_computed(app, client, db, login_as, taxonomies):
    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    login_as(AdminFactory())
    first = client.get("/admin")
    assert "(recomputed after every change the team makes, and at least every 60 seconds)" in first.text
    as_of = re.search(r'<time datetime="([^"]+)">', first.text)[1]
    assert abs(datetime.fromisoformat(as_of) - utcnow()) < timedelta(minutes=1)
    cached = queries_to_render(client, "/admin")
    _bulk_advocates(db, 500)
    again = queries_to_render(client, "/admin")
    # Signed-in user, open approvals, failed mail: the figures come from the first request.
    assert len(cached) == len(again) <= 4
    page = client.get("/admin")
    assert f'<time datetime="{as_of}">' in page.text
    assert client.get("/admin?quarter=2025-Q2").status_code == 200  # another quarter, computed for itself
    assert len(queries_to_render(client, "/admin?quarter=2025-Q2")) == len(cached)


@pytest.mark.parametrize("page", ["coverage", "reports", "nominate"])
def test_reporting_lists_send_as_many_queries_for_30_rows_as_for_3(client, db, login_as, taxonomies, page):
    admin = AdminFactory()
    terms = iter(db.session.scalars(select(Term.id).where(Term.kind == "product")).all() * 10)
    numbers = iter(range(100))

    def add(n):
        for _ in range(n):
            if page == "reports":
                db.session.add(ProgramReport(year=2025, quarter=2, status=ReportStatus.READY, progress=100, pdf=b"%PDF", pdf_size=4))
            else:
                target = coverage.set_target(db.session.get(User, admin_id), None, region(f"Region {next(numbers)}", None, ("PA",)).id, next(terms) if page == "coverage" else None, 5)
                coverage.open_call(db.session.get(User, admin_id), target, "Anyone who fits")
        db.session.flush()

    admin_id = admin.id
    viewer = StaffFactory() if page == "nominate" else admin
    login_as(viewer)
    path = {"coverage": "/admin/coverage", "reports": "/admin/reports", "nominate": "/staff/nominate"}[page]
    add(3)
    few = queries_to_render(client, path)
    add(27)
    many = queries_to_render(client, path)
    assert len(many) == len(few)
