"""The spreadsheet import reads the files spreadsheets save (issue 17): every encoding
(UTF-8 with or without a byte-order mark, UTF-16 little- or big-endian with one,
Windows-1252) times every delimiter (comma, semicolon, tab) times with or without columns
the portal does not know, through the service and through an upload, with accented names
intact; unknown columns are ignored with a warning; a bad value is shown beside its error."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.database import commit, db
from portal.models import Advocate, AdvocateStatus, User
from portal.services import importer
from tests.factories import AdminFactory
from tests.web.intake import text_of
from tests.web.pages import parse

ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16-le with BOM": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be with BOM": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "windows-1252": lambda text: text.encode("cp1252"),
}
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t"}
PEOPLE = [
    # email, name, company, products (a list inside one field: semicolon-separated)
    ("jose.muller@bancoistmeno.example", "José Müller", "Banco Istmeño", "Payments Gateway;Analytics Cloud"),
    ("zoe@aeroskobing.example", "Zoë Ærøskøbing", "Ærøskøbing Energí", "Data Platform"),
]


def spreadsheet(encoding: str, delimiter: str, extra_columns: bool, people=PEOPLE) -> bytes:
    """A file as a spreadsheet saves it: Excel's line ends, quoting where needed."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    header = ["Email", "Name", "Company", "Products"] + (["Notes", "Owner"] if extra_columns else [])
    writer.writerow(header)
    for email, name, company, products in people:
        writer.writerow([email, name, company, products] + (["Met at the summit; keen", "Sofía Peña"] if extra_columns else []))
    return ENCODINGS[encoding](out.getvalue())


MATRIX = [
    pytest.param(encoding, delimiter, extra, id=f"{encoding}-{name}-{'extra columns' if extra else 'template columns'}")
    for encoding in ENCODINGS
    for name, delimiter in DELIMITERS.items()
    for extra in (False, True)
]
WARNING = "Ignored column(s) the portal does not know: Notes, Owner. Their values are not imported."


@pytest.mark.parametrize(("encoding", "delimiter", "extra"), MATRIX)
def test_every_common_file_imports_through_the_service(taxonomies, encoding, delimiter, extra):
    admin = AdminFactory()
    content = importer.decode(spreadsheet(encoding, delimiter, extra))
    batch = importer.create_batch(admin, "advocates.csv", content)

    preview = importer.preview(batch.content)

    assert preview.file_errors == [] and [r.errors for r in preview.rows] == [[], []]
    assert [(r.email, r.name, r.company) for r in preview.rows] == [(p[0], p[1], p[2]) for p in PEOPLE]
    assert preview.warnings == ([WARNING] if extra else [])
    assert importer.run_import(admin, batch) == 2
    jose = db.session.scalar(select(Advocate).join(User, User.id == Advocate.user_id).where(User.email == PEOPLE[0][0]))
    assert jose.user.name == "José Müller" and jose.account.name == "Banco Istmeño"
    assert jose.status is AdvocateStatus.INVITED
    assert sorted(t.name for t in jose.products) == ["Analytics Cloud", "Payments Gateway"]


def upload(client, filename: str, data: bytes):
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename)})
    return client.post("/admin/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def admin(db, login_as, taxonomies):
    admin = AdminFactory()
    commit()
    login_as(admin)
    return admin


@pytest.mark.parametrize(("encoding", "delimiter", "extra"), MATRIX)
def test_every_common_file_imports_through_an_upload(client, admin, encoding, delimiter, extra):
    filename = "advocates.txt" if encoding.startswith("utf-16") else "advocates.csv"  # Excel's "Unicode text" is .txt

    uploaded = upload(client, filename, spreadsheet(encoding, delimiter, extra))

    assert uploaded.status_code == 302, text_of(uploaded.text)
    preview = client.get(uploaded.headers["Location"])
    page = text_of(preview.text)
    assert "2 new · 0 already in the program (left as they are) · 0 with errors." in page
    assert "José Müller" in page and "Zoë Ærøskøbing" in page and "Ærøskøbing Energí" in page
    assert (WARNING in page) is extra
    imported = client.post(uploaded.headers["Location"])
    assert imported.status_code == 302
    names = set(db.session.scalars(select(User.name).where(User.email.in_([p[0] for p in PEOPLE]))))
    assert names == {"José Müller", "Zoë Ærøskøbing"}


def test_the_preview_shows_the_bad_value_beside_its_error(client, admin):
    people = [PEOPLE[0], ("josé at bank", "José Bad", "Banco Istmeño", "")]
    uploaded = upload(client, "advocates.csv", spreadsheet("windows-1252", ";", False, people))

    preview = client.get(uploaded.headers["Location"]).text

    cells = [(e.attrs["data-label"], " ".join(e.text.split())) for e in parse(preview).elements if e.tag == "td"]
    assert cells[5:] == [
        ("Row", "3"), ("Email", "josé at bank"), ("Name", "José Bad"), ("Company", "Banco Istmeño"),
        ("Result", "email: “josé at bank” is not an email address."),
    ]
    assert "Fix the rows with errors in your spreadsheet and upload it again" in text_of(preview)
