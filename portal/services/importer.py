"""Bulk import of an existing advocate spreadsheet (CSV): a dry run that checks every row,
then an import of all rows or none. Existing people are matched by email and left as they
are; imported people are invited to confirm and consent, like staff nominations."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from portal.database import db, utcnow
from portal.models import (
    CURRENT_STATUSES,
    ActivityType,
    Advocate,
    ImportBatch,
    ImportStatus,
    Seniority,
    Term,
    TermKind,
    User,
)
from portal.services import audit, nominations, taxonomy
from portal.services.auth import LinkPurpose, sign_in_url
from portal.services.errors import DomainError
from portal.services.nominations import Profile
from portal.services.notify import email_user

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

# column, required, what it holds (shown on the page and in the template's second row)
COLUMNS = [
    ("email", True, "Work email; people are matched by it"),
    ("name", True, "Full name"),
    ("company", True, "Company name; matched to an existing account by email domain or name"),
    ("job_title", False, "Job title"),
    ("seniority", False, "individual, manager, director, vp or executive"),
    ("department", False, "Department"),
    ("industry", False, "An industry from the list under Taxonomies"),
    ("country", False, "Two-letter ISO code (PA) or English name (Panama)"),
    ("languages", False, "Two-letter codes separated by ; (en;es)"),
    ("time_zone", False, "IANA name, e.g. America/Panama"),
    ("products", False, "Product names separated by ;"),
    ("use_cases", False, "Use-case names separated by ;"),
    ("activity_types", False, "Activity types separated by ; (names or keys like reference_call)"),
    ("story", False, "A short story, in the advocate's words"),
    ("reason", False, "Why they are nominated"),
]
COLUMN_NAMES = [c[0] for c in COLUMNS]


@dataclass
class Row:
    number: int  # the line in the file (the header is line 1)
    email: str = ""
    given_email: str = ""  # as the file has it, shown when it is not an address
    name: str = ""
    company: str = ""
    reason: str = ""
    profile: Profile = field(default_factory=Profile)
    errors: list[str] = field(default_factory=list)
    existing: str | None = None  # why the row will be skipped, when the person is known


@dataclass
class Preview:
    rows: list[Row]
    file_errors: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Row]:
        return [r for r in self.rows if r.errors]

    @property
    def new(self) -> list[Row]:
        return [r for r in self.rows if not r.errors and not r.existing]

    @property
    def skipped(self) -> list[Row]:
        return [r for r in self.rows if not r.errors and r.existing]

    @property
    def can_import(self) -> bool:
        return not self.file_errors and not self.errors and bool(self.new)


def template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMN_NAMES)
    writer.writerow(
        ["ana.ruiz@bancoistmeno.example", "Ana Ruiz", "Banco Istmeño", "Head of Payments", "director",
         "Operations", "Financial services", "PA", "es;en", "America/Panama", "Payments Gateway;Analytics Cloud",
         "Fraud prevention", "reference_call;quote", "Cut fraud losses by 40% in a year.", "Great results, happy to talk"]
    )
    return out.getvalue()


# What spreadsheets save as "CSV" or "text": UTF-8 (Excel's "CSV UTF-8" with a byte-order
# mark, most other tools without), UTF-16 with a byte-order mark (Excel's "Unicode text"),
# and Windows-1252 (Excel's plain "CSV" on Windows in Western Europe and the Americas).
BYTE_ORDER_MARKS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Comma, semicolon (Excel where the comma is the decimal separator) and tab ("Unicode text").
DELIMITERS = ",;\t"


def decode(data: bytes) -> str:
    """The file's text, whichever of the encodings spreadsheets save in it is in."""
    if len(data) > MAX_BYTES:
        raise DomainError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", field="file")
    encodings = [name for mark, name in BYTE_ORDER_MARKS if data.startswith(mark)][:1] or ["utf-8", "cp1252"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # a binary file (a workbook) decodes as Windows-1252 too
            return text
    raise DomainError(
        "The file is not text a spreadsheet saves: save it as CSV (any kind) or as Unicode text and try again.",
        field="file",
    )


def _delimiter(content: str) -> str:
    """Comma, semicolon or tab, as the header row uses it. Only the header is sniffed: the
    rows hold lists separated by semicolons, which would read as a delimiter."""
    header = content.lstrip("\r\n").partition("\n")[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:  # a single column, or nothing to tell by
        return ","


def create_batch(actor: User, filename: str, content: str) -> ImportBatch:
    batch = ImportBatch(created_by_id=actor.id, filename=filename[:255] or "import.csv", content=content)
    db.session.add(batch)
    db.session.flush()
    return batch


def _column_name(header: str) -> str:
    """"Job title", " JOB_TITLE " and "job-title" all name the ``job_title`` column."""
    return "_".join(header.strip().lower().replace("-", " ").split())


def preview(content: str) -> Preview:
    reader = csv.DictReader(io.StringIO(content), delimiter=_delimiter(content))
    given = [h.strip() for h in (reader.fieldnames or [])]
    headers = [_column_name(h) for h in given]
    missing = [name for name, required, _ in COLUMNS if required and name not in headers]
    if missing:
        return Preview([], [f"Missing column(s): {', '.join(missing)}. Download the template for the expected header row."])
    unknown = [h for h, name in zip(given, headers, strict=True) if h and name not in COLUMN_NAMES]
    warnings = [f"Ignored column(s) the portal does not know: {', '.join(unknown)}. Their values are not imported."] if unknown else []
    reader.fieldnames = [name if name in COLUMN_NAMES else "" for name in headers]
    lookups = _Lookups()
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(reader, start=2):
        if index - 1 > MAX_ROWS:
            return Preview(rows, [f"The file has more than {MAX_ROWS} rows; split it into smaller files."], warnings)
        values = {k: (v or "").strip() for k, v in raw.items() if k and isinstance(v, str)}
        if not any(values.values()):
            continue
        row = _parse(index, values, lookups)
        if row.email:
            if row.email in seen:
                row.errors.append(f"The same email as row {seen[row.email]}.")
            else:
                seen[row.email] = index
        rows.append(row)
    if not rows:
        return Preview([], ["The file has no rows below the header."], warnings)
    _mark_existing(rows)
    return Preview(rows, [], warnings)


class _Lookups:
    def __init__(self):
        self.terms = {
            kind: {t.name.lower(): t.id for t in taxonomy.terms(kind, include_retired=True)} for kind in TermKind
        }
        self.activities: dict[str, int] = {}
        for activity in db.session.scalars(select(ActivityType)):
            self.activities[activity.key.lower()] = activity.id
            self.activities[activity.name.lower()] = activity.id
        self.countries = {code: code for code, _ in taxonomy.countries()}
        self.countries.update({name.lower(): code for code, name in taxonomy.countries()})
        self.languages = dict(taxonomy.languages())


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _parse(number: int, v: dict[str, str], lookups: _Lookups) -> Row:
    row = Row(number=number, given_email=v.get("email", ""), name=v.get("name", ""), company=v.get("company", ""),
              reason=v.get("reason", ""))
    errors = row.errors
    try:
        row.email = validate_email(v.get("email", ""), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        errors.append(f"email: “{v.get('email', '')}” is not an email address.")
    if not row.name:
        errors.append("name: required.")
    if not row.company:
        errors.append("company: required.")
    profile = row.profile
    profile.job_title = v.get("job_title", "")[:150]
    profile.department = v.get("department", "")[:100]
    profile.story = v.get("story", "")
    if v.get("seniority"):
        try:
            profile.seniority = Seniority(v["seniority"].lower())
        except ValueError:
            errors.append(f"seniority: “{v['seniority']}” is not one of {', '.join(s.value for s in Seniority)}.")
    if v.get("industry"):
        profile.industry_id = lookups.terms[TermKind.INDUSTRY].get(v["industry"].lower())
        if profile.industry_id is None:
            errors.append(f"industry: “{v['industry']}” is not in the industry list.")
    if v.get("country"):
        code = v["country"].upper() if len(v["country"]) == 2 else lookups.countries.get(v["country"].lower())
        if code not in lookups.countries:
            errors.append(f"country: “{v['country']}” is not a country.")
        profile.country = code
    for code in _split(v.get("languages", "")):
        if code.lower() in lookups.languages:
            profile.languages.append(code.lower())
        else:
            errors.append(f"languages: “{code}” is not a two-letter language code.")
    if v.get("time_zone"):
        if v["time_zone"] not in taxonomy.time_zones():
            errors.append(f"time_zone: “{v['time_zone']}” is not a time zone name.")
        profile.time_zone = v["time_zone"]
    for column, kind, target in (
        ("products", TermKind.PRODUCT, profile.product_ids),
        ("use_cases", TermKind.USE_CASE, profile.use_case_ids),
    ):
        for name in _split(v.get(column, "")):
            term_id = lookups.terms[kind].get(name.lower())
            if term_id is None:
                errors.append(f"{column}: “{name}” is not in the list.")
            else:
                target.append(term_id)
    for name in _split(v.get("activity_types", "")):
        activity_id = lookups.activities.get(name.lower())
        if activity_id is None:
            errors.append(f"activity_types: “{name}” is not an activity type.")
        else:
            profile.activity_type_ids.append(activity_id)
    return row


def _mark_existing(rows: list[Row]) -> None:
    emails = [r.email for r in rows if r.email and not r.errors]
    if not emails:
        return
    users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    # One query for everyone's current membership, not one per row.
    current = {
        a.user_id: a
        for a in db.session.scalars(
            select(Advocate).where(
                Advocate.user_id.in_([u.id for u in users.values()]), Advocate.status.in_(CURRENT_STATUSES)
            )
        )
    }
    for row in rows:
        user = users.get(row.email)
        if user is None:
            continue
        if user.is_team:
            row.errors.append("email: belongs to a team member.")
            continue
        advocate = current.get(user.id)
        if advocate is not None:
            row.existing = f"Already in the program ({advocate.status.label})."


def run_import(actor: User, batch: ImportBatch) -> int:
    """Import every new row of the batch, or none: any problem raises before the commit."""
    if batch.status is not ImportStatus.PREVIEWED:
        raise DomainError("This file has already been imported.")
    result = preview(batch.content)
    if not result.can_import:
        raise DomainError("Fix the errors in the file and upload it again; nothing was imported.")
    count = 0
    for row in result.new:
        user = nominations.get_or_create_user(row.email, row.name)
        if nominations.current_advocate(user, lock=True) is not None:
            raise DomainError(f"Row {row.number}: {row.email} joined the program meanwhile; upload the file again.")
        account = nominations.find_or_create_account(row.company, row.email, row.profile.industry_id, row.profile.country)
        advocate = Advocate(
            user=user,
            account=account,
            status=nominations.AdvocateStatus.INVITED,
            source=nominations.NominationSource.IMPORT,
            nominated_by_id=actor.id,
            nomination_reason=row.reason or f"Imported from {batch.filename}",
        )
        db.session.add(advocate)
        nominations.apply_profile(advocate, row.profile)
        db.session.flush()
        email_user(
            user,
            "You are invited to our customer advocacy program",
            "invitation",
            advocate=advocate,
            nominator=actor,
            reason=row.reason,
            url=sign_in_url(user, purpose=LinkPurpose.INVITE),
        )
        count += 1
    batch.status = ImportStatus.IMPORTED
    batch.imported_at = utcnow()
    batch.imported_count = count
    db.session.flush()
    audit.record(actor, "import.committed", batch, f"Imported {count} advocates from {batch.filename}")
    return count

