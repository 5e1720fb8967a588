"""Bad input on every intake form: the message appears beside the field (marked invalid and
pointing at its error), what was typed is kept, no request answers 500, and nothing at all
is written to the database."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.database import commit, db
from portal.models import ActivityType, AdvocateStatus, QueueStatus, Region, Term
from tests.factories import AdminFactory, AdvocateFactory, StaffFactory, UserFactory
from tests.web.intake import (
    MISSING_ID,
    error_beside,
    flashes,
    join_data,
    named,
    pending,
    profile_data,
    refused,
    snapshot,
)
from tests.web.pages import find_form, parse


@pytest.fixture
def taxonomies(taxonomies):
    commit()  # views roll back refused changes; the lists must not go with them
    return taxonomies


def retired_product() -> str:
    term = named(Term, "Mobile SDK")
    term.active = False
    commit()
    return str(term.id)


# --- /join ----------------------------------------------------------------------------------

FORGED_ID = str(MISSING_ID)

# field, value posted (None: left out), message beside it
PROFILE_ERRORS = [
    ("job_title", "", "Enter your job title."),
    ("job_title", "x" * 151, "Field cannot be longer than 150 characters."),
    ("seniority", "", "Choose your seniority."),
    ("seniority", None, "Choose your seniority."),
    ("seniority", "emperor", "Not a valid choice."),
    ("department", "Astronaut corps", "Not a valid choice."),
    ("industry", "0", "Choose your industry."),
    ("industry", FORGED_ID, "Not a valid choice."),
    ("industry", "finance", "Choose your industry."),
    ("country", "", "Choose a country."),
    ("country", "XX", "Not a valid choice."),
    ("languages", ["es", "xx"], "'xx' is not a valid choice for this field."),
    ("time_zone", "", "Choose your time zone."),
    ("time_zone", "Mars/Olympus_Mons", "Not a valid choice."),
    ("products", [FORGED_ID], f"'{FORGED_ID}' is not a valid choice for this field."),
    ("products", ["payments"], "could not be coerced"),
    ("products", ["{retired}"], "is not a valid choice for this field."),
    ("use_cases", [FORGED_ID], "is not a valid choice for this field."),
    ("activity_types", [FORGED_ID], "is not a valid choice for this field."),
    ("story", "x" * 2001, "Keep it under 2,000 characters."),
]
JOIN_ERRORS = [
    ("name", "", "Enter your name."),
    ("name", "   ", "Enter your name."),
    ("name", "x" * 201, "Field cannot be longer than 200 characters."),
    ("email", "", "Enter an email address."),
    ("email", "ana.ruiz-at-bancoistmeno", "Enter an email address like name@company.com."),
    ("email", "ana@", "Enter an email address like name@company.com."),
    ("company", "", "Enter your company."),
    *PROFILE_ERRORS,
]


def with_retired(value, retired):
    return [v.format(retired=retired) for v in value] if isinstance(value, list) else value


def test_the_join_form_accepts_good_input(client, db, taxonomies):
    response = client.post("/join", data=join_data())
    assert response.status_code == 302
    assert response.headers["Location"] == "/join/check-your-email"


@pytest.mark.parametrize(("name", "value", "message"), JOIN_ERRORS, ids=[f"{n}={str(v)[:20]!r}" for n, v, _ in JOIN_ERRORS])
def test_the_join_form_refuses_bad_input(client, db, taxonomies, name, value, message):
    data = join_data(**{name: with_retired(value, retired_product())})
    before = snapshot()

    response = client.post("/join", data=data)

    refused(response, None, name, message)
    if name != "name":
        assert find_form(response.text).fields["name"] == "Ana Ruiz"  # what was typed stays
    assert snapshot() == before


# --- /staff/nominate ------------------------------------------------------------------------

NOMINATION = {
    "name": "Rosa Díaz",
    "email": "rosa.diaz@customer.example",
    "company": "Customer Co",
    "job_title": "CFO",
    "reason": "Cut her closing time in half and loves to talk about it.",
}
NOMINATE_ERRORS = [
    ("name", "", "Enter the contact's name."),
    ("email", "", "Enter an email address."),
    ("email", "rosa-at-customer", "Enter an email address like name@company.com."),
    ("email", "{staff}", "This address belongs to a team member, not a customer."),
    ("email", "{admin}", "This address belongs to a team member, not a customer."),
    ("company", "", "Enter the customer's company."),
    ("job_title", "x" * 151, "Field cannot be longer than 150 characters."),
    ("reason", "", "Say why: the advocacy team and the customer both read it."),
    ("reason", "  \n ", "Say why: the advocacy team and the customer both read it."),
    ("reason", "x" * 2001, "Field cannot be longer than 2000 characters."),
]


@pytest.mark.parametrize(("name", "value", "message"), NOMINATE_ERRORS, ids=[f"{n}={v[:20]!r}" for n, v, _ in NOMINATE_ERRORS])
def test_the_nomination_form_refuses_bad_input(client, db, login_as, name, value, message):
    staff, admin = StaffFactory(), AdminFactory()
    commit()
    login_as(staff)
    before = snapshot()

    response = client.post("/staff/nominate", data={**NOMINATION, name: value.format(staff=staff.email, admin=admin.email)})

    refused(response, None, name, message)
    if name != "reason":
        assert NOMINATION["reason"] in response.text
    assert snapshot() == before


# --- /profile -------------------------------------------------------------------------------

OWN_PROFILE_ERRORS = [
    ("name", "", "Enter your name."),
    ("name", " \t ", "Enter your name."),
    # What an advocate is open to is set on /preferences, not on /profile.
    *(error for error in PROFILE_ERRORS if error[0] != "activity_types"),
]


@pytest.fixture
def advocate(db, taxonomies, login_as):
    advocate = AdvocateFactory(user=UserFactory(name="Ana Ruiz"))
    commit()
    login_as(advocate.user)
    return advocate


@pytest.mark.parametrize(("name", "value", "message"), OWN_PROFILE_ERRORS, ids=[f"{n}={str(v)[:20]!r}" for n, v, _ in OWN_PROFILE_ERRORS])
def test_the_profile_form_refuses_bad_input(client, advocate, name, value, message):
    data = {"name": "Ana Ruiz", **profile_data(**{name: with_retired(value, retired_product())})}
    before = snapshot()

    response = client.post("/profile", data=data)

    refused(response, "/profile", name, message)
    assert snapshot() == before


# --- /profile/job-change --------------------------------------------------------------------

JOB_CHANGE_ERRORS = [
    ("company", "", "Enter your new company."),
    ("company", "{own company}", "That is the company you are with now."),
    ("email", "", "Enter an email address."),
    ("email", "me-at-newco", "Enter an email address like name@company.com."),
    ("email", "{another person}", "That address already belongs to another account."),
    ("email", "{a team member}", "That address already belongs to another account."),
    ("job_title", "", "Enter your new job title."),
]


@pytest.mark.parametrize(("name", "value", "message"), JOB_CHANGE_ERRORS, ids=[f"{n}={v!r}" for n, v, _ in JOB_CHANGE_ERRORS])
def test_the_job_change_form_refuses_bad_input(client, advocate, name, value, message):
    placeholders = {
        "{own company}": advocate.account.name,
        "{another person}": AdvocateFactory().user.email,
        "{a team member}": StaffFactory().email,
    }
    commit()
    data = {"company": "Brand New Co", "email": advocate.user.email, "job_title": "CTO"}
    data[name] = placeholders.get(value, value)
    before = snapshot()

    response = client.post("/profile/job-change", data=data)

    refused(response, None, name, message)
    assert snapshot() == before
    assert db.session.get(type(advocate), advocate.id).status is AdvocateStatus.APPROVED


def test_a_job_change_link_that_is_not_valid_is_explained(client, advocate):
    for method in ("GET", "POST"):
        response = client.open("/profile/job-change/not-a-real-token", method=method)
        assert response.status_code == 400
        assert "This confirmation link is not valid or has expired." in response.text


# --- /privacy/delete and /preferences -------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type your email address to confirm."),
        ("someone.else@customer.example", "That is not the address of this account."),
        ("{other}", "That is not the address of this account."),
    ],
)
def test_deleting_needs_the_accounts_own_address(client, advocate, typed, message):
    other = AdvocateFactory()
    commit()
    before = snapshot()

    response = client.post("/privacy/delete", data={"confirm_email": typed.format(other=other.user.email)})

    refused(response, "/privacy/delete", "confirm_email", message)
    assert snapshot() == before, "nothing may be erased"
    assert client.get("/profile").status_code == 200  # still signed in


@pytest.mark.parametrize(
    ("value", "message"),
    [("sometimes", "Not a valid choice."), ("OFF", "Not a valid choice."), ("", "Choose how to hear about this.")],
)
def test_email_preferences_refuse_a_forged_value(client, advocate, value, message):
    data = {"decisions": "off", "requests": value, "programs": "digest", "reminders": "immediate"}
    before = snapshot()

    response = client.post("/preferences", data=data)

    refused(response, "/preferences", "requests", message)
    assert snapshot() == before


# --- the approval queue ---------------------------------------------------------------------


@pytest.fixture
def admin(db, login_as):
    admin = AdminFactory()
    commit()
    login_as(admin)
    return admin


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Give a reason: it is sent to the customer."),
        (" \n ", "Give a reason: it is sent to the customer."),
        ("x" * 2001, "Field cannot be longer than 2000 characters."),
    ],
)
def test_rejecting_needs_a_reason(client, admin, reason, message):
    item = pending()
    commit()
    before = snapshot()

    response = client.post(f"/admin/queue/{item.id}", data={"decision": "reject", "reason": reason})

    refused(response, None, "reason", message)
    assert snapshot() == before
    assert "Approve" in response.text  # the decision can be made again at once


def test_an_approval_may_have_no_reason_but_not_an_overlong_one(client, admin):
    item = pending()
    commit()
    before = snapshot()

    response = client.post(f"/admin/queue/{item.id}", data={"decision": "approve", "reason": "x" * 2001})

    refused(response, None, "reason", "Field cannot be longer than 2000 characters.")
    assert snapshot() == before


HTMX = {"HX-Request": "true"}


@pytest.fixture
def two_waiting(admin):
    items = [pending(), pending()]
    commit()
    return items


def fragment(response) -> str:
    assert response.status_code == 200, response.text[:2000]
    text = response.text
    assert text.lstrip().startswith('<div id="queue-region">')
    assert "<html" not in text and "<nav" not in text  # the region only, not the layout
    return text


def alert_texts(html: str) -> list[str]:
    return [" ".join(e.text.split()) for e in parse(html).elements if e.attrs.get("role") == "alert"]


def test_bulk_with_nothing_selected_htmx(client, two_waiting):
    before = snapshot()

    response = client.post("/admin/queue/bulk", data={"decision": "approve", "reason": ""}, headers=HTMX)

    assert "Select at least one item." in alert_texts(fragment(response))
    assert snapshot() == before


def test_bulk_rejection_without_a_reason_htmx_keeps_the_selection(client, two_waiting):
    first, second = two_waiting
    before = snapshot()

    response = client.post(
        "/admin/queue/bulk", data={"decision": "reject", "reason": "", "item_ids": [first.id]}, headers=HTMX
    )

    html = fragment(response)
    assert "Give a reason: it is sent to the customer." in error_beside(html, "/admin/queue/bulk", "reason")
    checked = {e.attrs["value"] for e in parse(html).elements if e.attrs.get("name") == "item_ids" and "checked" in e.attrs}
    assert checked == {str(first.id)}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "approve"}, "Select at least one item."),
        ({"decision": "reject", "reason": "  ", "item_ids": ["{first}"]}, "Give a reason: it is sent to the customer."),
        ({"decision": "approve", "item_ids": ["first"]}, "Invalid choice(s)"),
    ],
    ids=["nothing selected", "reject without reason", "forged id"],
)
def test_bulk_errors_without_htmx_redirect_with_a_message(client, two_waiting, data, message):
    first = two_waiting[0]
    data = {k: [i.format(first=first.id) for i in v] if isinstance(v, list) else v for k, v in data.items()}
    before = snapshot()

    response = client.post("/admin/queue/bulk?kind=nomination", data=data)

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/queue?kind=nomination"  # the filters stay
    assert snapshot() == before
    page = client.get(response.headers["Location"])
    assert any(message in text for text in flashes(page.text)), flashes(page.text)
    assert all(item.status is QueueStatus.OPEN for item in two_waiting)


@pytest.mark.parametrize(
    "query", ["kind=bogus", "age=forever", "age=-3", "sort=sideways", "page=abc", "page=-1", "kind=nomination&age=1"]
)
def test_forged_queue_filters_are_ignored(client, two_waiting, query):
    for response in (
        client.get(f"/admin/queue?{query}"),
        client.post(f"/admin/queue/bulk?{query}", data={"decision": "approve"}, headers=HTMX),
    ):
        assert response.status_code == 200, response.text[:2000]


@pytest.mark.parametrize(
    "query", ["status=bogus", "status=lapsed", "product=abc", "region=987654321", "industry=x&q=" + "y" * 300, "page=abc"]
)
def test_forged_directory_filters_are_ignored(client, admin, taxonomies, query):
    assert client.get(f"/admin/advocates?{query}").status_code == 200


# --- /admin/import --------------------------------------------------------------------------

MB = 1024 * 1024
UPLOADS = [
    (None, "Choose a CSV file."),
    (("advocates.xlsx", b"email,name,company\n"), "Upload a .csv or .txt file."),
    # A workbook renamed .csv: binary, not text in any encoding spreadsheets save CSV in.
    (("advocates.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00email"),
     "The file is not text a spreadsheet saves: save it as CSV (any kind) or as Unicode text and try again."),
    (("advocates.csv", b"email,name,company\n" + b"x" * (2 * MB)), "The file is larger than 2 MB."),
]


def post_file(client, path: str, upload: tuple[str, bytes] | None):
    """A multipart POST built in memory: the test client would spool a large body to a
    temporary file that it never closes."""
    boundary, body = encode_multipart({} if upload is None else {"file": FileStorage(io.BytesIO(upload[1]), upload[0])})
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize(("upload", "message"), UPLOADS, ids=["no file", "not csv", "not text", "over 2 MB"])
def test_the_import_refuses_bad_files(client, admin, upload, message):
    before = snapshot()

    response = post_file(client, "/admin/import", upload)

    refused(response, None, "file", message)
    assert snapshot() == before


def test_an_import_batch_with_errors_imports_nothing(client, admin):
    response = post_file(client, "/admin/import", ("a.csv", b"email,name,company\nok@bank.example,Ok,Bank\nnot-an-email,Bad,Bank\n"))
    preview = client.get(response.headers["Location"])
    assert "“not-an-email” is not an email address." in preview.text
    before = snapshot()

    response = client.post(response.headers["Location"])

    assert response.status_code == 200
    assert "Fix the errors in the file and upload it again; nothing was imported." in flashes(response.text)
    assert snapshot() == before


# --- /admin/taxonomies ----------------------------------------------------------------------

TERM_ERRORS = [
    ("products", "", "Enter a name."),
    ("products", "   ", "Enter a name."),
    ("products", "x" * 121, "Field cannot be longer than 120 characters."),
    ("products", "Analytics Cloud", "“Analytics Cloud” is already in the list."),
    ("products", " analytics CLOUD ", "“Analytics Cloud” is already in the list."),
    ("use-cases", "Fraud prevention", "“Fraud prevention” is already in the list."),
    ("industries", "Retail", "“Retail” is already in the list."),
]


@pytest.mark.parametrize(("slug", "name", "message"), TERM_ERRORS, ids=[f"{s}:{n[:20]!r}" for s, n, _ in TERM_ERRORS])
def test_adding_a_term_refuses_bad_names(client, admin, taxonomies, slug, name, message):
    before = snapshot()

    response = client.post(f"/admin/taxonomies/{slug}", data={f"{slug}-name": name})

    refused(response, f"/admin/taxonomies/{slug}", f"{slug}-name", message)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Not renamed: enter a name"), ("Payments Gateway", "Not renamed: “Payments Gateway” is already in the list."),
     ("payments gateway", "Not renamed: “Payments Gateway” is already in the list.")],
)
def test_renaming_a_term_refuses_bad_names(client, admin, taxonomies, name, message):
    term = named(Term, "Analytics Cloud")
    before = snapshot()

    response = client.post(f"/admin/taxonomies/terms/{term.id}", data={f"term-{term.id}-name": name}, follow_redirects=True)

    assert any(message in text for text in flashes(response.text)), flashes(response.text)
    assert snapshot() == before


def test_a_term_may_be_renamed_to_a_different_case_of_itself(client, admin, taxonomies):
    term = named(Term, "Analytics Cloud")
    response = client.post(f"/admin/taxonomies/terms/{term.id}", data={f"term-{term.id}-name": "Analytics cloud"})
    assert response.status_code == 302
    assert db.session.get(Term, term.id).name == "Analytics cloud"


def test_an_activity_type_needs_a_name(client, admin, taxonomies):
    activity = db.session.scalars(select(ActivityType)).first()
    before = snapshot()

    response = client.post(
        f"/admin/taxonomies/activities/{activity.id}", data={f"activity-{activity.id}-name": ""}, follow_redirects=True
    )

    assert "Not saved: enter a name of at most 120 characters." in flashes(response.text)
    assert snapshot() == before


# --- regions --------------------------------------------------------------------------------

REGION_ERRORS = [
    # (region edited or None for a new one, posted values, field, message)
    (None, {"name": ""}, "name", "Enter a name."),
    (None, {"name": "Americas"}, "name", "A region named “Americas” exists already."),
    (None, {"name": "Americas", "parent_id": "{EMEA}"}, "name", "A region named “Americas” exists already."),
    (None, {"parent_id": str(MISSING_ID)}, "parent_id", "Not a valid choice."),
    (None, {"parent_id": "north"}, "parent_id", "Invalid Choice: could not coerce."),
    (None, {"countries": ["PA", "XX"]}, "countries", "'XX' is not a valid choice for this field."),
    ("Americas", {"parent_id": "{Central America}"}, "parent_id", "A region cannot be inside itself or one of its sub-regions."),
    ("Americas", {"parent_id": "{Latin America}"}, "parent_id", "A region cannot be inside itself or one of its sub-regions."),
    ("Americas", {"parent_id": "{Americas}"}, "parent_id", "Not a valid choice."),
    ("Central America", {"name": "Caribbean"}, "name", "A region named “Caribbean” exists already."),
    ("Central America", {"name": " "}, "name", "Enter a name."),
]


def region_id(name: str) -> str:
    return str(named(Region, name).id)


@pytest.mark.parametrize(("edited", "values", "field", "message"), REGION_ERRORS,
                         ids=[f"{e or 'new'}:{v}" for e, v, _, _ in REGION_ERRORS])
def test_the_region_form_refuses_bad_input(client, admin, taxonomies, edited, values, field, message):
    data = {"name": "Isthmus", "parent_id": "0", "countries": ["PA", "CR"]}
    for key, value in values.items():
        data[key] = value.format_map({n: region_id(n) for n in ("EMEA", "Central America", "Latin America", "Americas")}) \
            if isinstance(value, str) else value
    path = f"/admin/taxonomies/regions/{region_id(edited)}" if edited else "/admin/taxonomies/regions/new"
    before = snapshot()

    response = client.post(path, data=data)

    refused(response, None, field, message)
    assert snapshot() == before
