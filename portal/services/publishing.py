"""Publishing consented profiles to the reference database (SPEC §9), and pushing the same
changes to an external reference/CRM system.

How a change flows:

1. Any flush that changes what a published row shows (an advocate's status or profile
   fields, products, use cases, activity types, pause; a consent; the person's name; the
   account's name or health) is noticed by the session hooks below, which write one
   ``REFERENCE_PUBLISH`` outbox event per advocate (and one ``HTTP_PUSH`` when a push URL
   is configured) in the same transaction, just before it commits. One hook instead of a
   call in every service: nothing that changes an advocate can forget to publish.
2. After the commit a job delivers the event: it recomputes the advocate's row from the
   CURRENT state (so replays and reorderings converge) and upserts or deletes it in the
   reference database, recording the event id there, so a replay changes nothing and an
   older event never overwrites a newer one.
3. If the reference database is down the event stays pending and is retried with backoff
   by the periodic re-drain; it never gives up.
4. ``rebuild()`` recomputes the whole published set and reports (and repairs) differences;
   ``differences()`` only reports them. Both take minutes in a large program, so the page
   and the nightly task run them as a job (``checks.start_check``, ``checks.run_check``) and the page
   shows the latest recorded result.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from itertools import chain

from flask import current_app
from sqlalchemy import and_, event, func, insert, inspect, or_, select, true, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from portal import reference
from portal.database import after_commit, contains_text, db, utcnow
from portal.models import (
    Account,
    Advocate,
    AdvocateAvailability,
    AdvocateStatus,
    ApiToken,
    Consent,
    ConsentPurpose,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Region,
    RegionCountry,
    User,
)
from portal.models.api_token import SCOPES
from portal.services import audit, availability, outbox
from portal.services.consistency import Difference, Progress, describe
from portal.services.contact_rules import local_date
from portal.services.errors import DomainError
from portal.services.taxonomy import country_names

log = logging.getLogger(__name__)

PUBLISH_KINDS = (OutboxKind.REFERENCE_PUBLISH, OutboxKind.HTTP_PUSH)
# What a published row needs before the advocate is listed at all.
LISTING_PURPOSE = ConsentPurpose.REFERENCE_CALLS
# Columns that are filled only when their own purpose is consented, too.
STORY_PURPOSE = ConsentPurpose.CASE_STUDY
LOGO_PURPOSE = ConsentPurpose.LOGO
COMPARED = tuple(c.name for c in reference.advocates.columns if c.name not in ("published_at", "updated_at"))

# --- 1. noticing changes --------------------------------------------------------------------

ADVOCATE_FIELDS = (
    "status", "account_id", "user_id", "job_title", "industry_id", "country", "languages", "story",
    "paused_until", "products", "use_cases", "activity_types",
)
# A published row's availability changes with these (``askable`` flips when the periodic job
# moves the state past an edge of its window).
AVAILABILITY_FIELDS = ("askable", "askable_from", "askable_until", "reasons")
_ADVOCATES, _USERS, _ACCOUNTS = "publish_advocates", "publish_users", "publish_accounts"


def _changed(obj, fields) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


@event.listens_for(Session, "after_flush")
def _notice_changes(session: Session, _context) -> None:
    advocates = session.info.setdefault(_ADVOCATES, set())
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Advocate):
            if obj in session.new or obj in session.deleted or _changed(obj, ADVOCATE_FIELDS):
                advocates.add(obj.id)
        elif isinstance(obj, Consent):
            advocates.add(obj.advocate_id)
        elif isinstance(obj, User) and obj not in session.new and _changed(obj, ("name",)):
            session.info.setdefault(_USERS, set()).add(obj.id)
        elif isinstance(obj, Account) and obj not in session.new and _changed(obj, ("name", "at_risk")):
            session.info.setdefault(_ACCOUNTS, set()).add(obj.id)
        elif isinstance(obj, AdvocateAvailability) and (obj in session.new or _changed(obj, AVAILABILITY_FIELDS)):
            advocates.add(obj.advocate_id)


@event.listens_for(Session, "before_commit")
def _write_events(session: Session) -> None:
    session.flush()  # what the commit would flush now is noticed too
    if not any(session.info.get(key) for key in (_ADVOCATES, _USERS, _ACCOUNTS)):
        return
    ids = set(session.info.pop(_ADVOCATES, set()))
    users, accounts = session.info.pop(_USERS, set()), session.info.pop(_ACCOUNTS, set())
    if users or accounts:
        current = select(Advocate.id).where(Advocate.status.not_in([AdvocateStatus.LAPSED, AdvocateStatus.ERASED]))
        if users:
            ids |= set(session.scalars(current.where(Advocate.user_id.in_(users))))
        if accounts:
            ids |= set(session.scalars(current.where(Advocate.account_id.in_(accounts))))
    ids.discard(None)
    if ids:
        queue_events(session, sorted(ids))


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        for key in (_ADVOCATES, _USERS, _ACCOUNTS):
            session.info.pop(key, None)


def queue_events(session: Session, advocate_ids: list[int]) -> list[OutboxMessage]:
    kinds = [OutboxKind.REFERENCE_PUBLISH] + ([OutboxKind.HTTP_PUSH] if current_app.config["PUSH_URL"] else [])
    messages = [
        OutboxMessage(kind=kind, advocate_id=advocate_id, payload={"advocate_id": advocate_id})
        for advocate_id in advocate_ids
        for kind in kinds
    ]
    session.add_all(messages)
    session.flush()
    from portal.jobs import deliver_outbox_message

    for message in messages:
        after_commit(deliver_outbox_message, message.id)
    return messages


# --- 2. what a published row holds ----------------------------------------------------------


class _Regions:
    """Every region (and the regions it sits in) per country, loaded once."""

    def __init__(self):
        regions = {r.id: r for r in db.session.scalars(select(Region))}
        self.by_country: dict[str, list[str]] = {}
        for region_id, country in db.session.execute(select(RegionCountry.region_id, RegionCountry.country)):
            names = self.by_country.setdefault(country, [])
            region = regions.get(region_id)
            while region is not None:
                if region.name not in names:
                    names.append(region.name)
                region = regions.get(region.parent_id)

    def of(self, country: str | None) -> list[str]:
        return sorted(self.by_country.get(country, [])) if country else []


def _granted(advocate_ids: list[int]) -> dict[int, set[ConsentPurpose]]:
    granted: dict[int, set[ConsentPurpose]] = {i: set() for i in advocate_ids}
    if advocate_ids:
        for advocate_id, purpose in db.session.execute(
            select(Consent.advocate_id, Consent.purpose).where(
                Consent.advocate_id.in_(advocate_ids), Consent.granted == true()
            )
        ):
            granted[advocate_id].add(purpose)
    return granted


def compute_row(
    advocate: Advocate | None, purposes: set[ConsentPurpose], regions: _Regions, state: AdvocateAvailability | None, now
) -> dict | None:
    """The row sales may see, or None when the advocate must not be listed at all. Its
    availability is the team's: ``availability``'s state (the rule itself), as of ``now``."""
    if advocate is None or advocate.status is not AdvocateStatus.APPROVED or LISTING_PURPOSE not in purposes:
        return None
    next_at = availability.next_allowed_at(state, now)
    available = next_at is not None and next_at <= now
    reasons = list(state.reasons) if state is not None and not available else []
    today = local_date(now, advocate.time_zone or "UTC")
    paused = advocate.paused_until is not None and advocate.paused_until > today
    return {
        "advocate_id": advocate.id,
        "name": advocate.user.name,
        "job_title": advocate.job_title,
        "company": advocate.account.name,
        "logo_allowed": LOGO_PURPOSE in purposes,
        "industry": advocate.industry.name if advocate.industry else None,
        "country": advocate.country,
        "country_name": country_names().get(advocate.country) if advocate.country else None,
        "regions": regions.of(advocate.country),
        "products": [t.name for t in advocate.products],
        "use_cases": [t.name for t in advocate.use_cases],
        # only the activities whose own purpose is consented (reference calls, case study ...)
        "activity_types": [
            a.name for a in advocate.activity_types if a.active and (a.purpose is None or a.purpose in purposes)
        ],
        "languages": list(advocate.languages or []),
        "story": (advocate.story or None) if STORY_PURPOSE in purposes else None,
        "consented_purposes": sorted(p.value for p in purposes if p is not ConsentPurpose.PROGRAM_EMAILS),
        "available_now": available,
        "unavailable_reason": None if available else (reasons[0] if reasons else "unavailable"),
        "paused_until": advocate.paused_until if paused else None,
        "next_available_at": None if available else next_at,
    }


def _load(advocate_ids: list[int]) -> dict[int, Advocate]:
    query = (
        select(Advocate)
        .where(Advocate.id.in_(advocate_ids))
        .options(
            selectinload(Advocate.products),
            selectinload(Advocate.use_cases),
            selectinload(Advocate.activity_types),
            selectinload(Advocate.industry),
        )
        .execution_options(populate_existing=True)
    )
    return {a.id: a for a in db.session.scalars(query)}


def rows_for(advocate_ids: list[int]) -> dict[int, dict | None]:
    availability.sync()
    now = utcnow()
    advocates = _load(advocate_ids)
    granted = _granted(advocate_ids)
    states = {
        s.advocate_id: s
        for s in db.session.scalars(select(AdvocateAvailability).where(AdvocateAvailability.advocate_id.in_(advocate_ids)))
    }
    regions = _Regions()
    return {i: compute_row(advocates.get(i), granted.get(i, set()), regions, states.get(i), now) for i in advocate_ids}


# --- delivering an event to the reference database --------------------------------------------


def _write_row(conn, advocate_id: int, row: dict | None, now) -> str:
    exists = conn.scalar(select(reference.advocates.c.advocate_id).where(reference.advocates.c.advocate_id == advocate_id))
    if row is None:
        if exists is None:
            return "absent"
        conn.execute(sql_delete(reference.advocates).where(reference.advocates.c.advocate_id == advocate_id))
        return "removed"
    if exists is None:
        conn.execute(insert(reference.advocates).values(**row, published_at=now, updated_at=now))
        return "inserted"
    conn.execute(
        update(reference.advocates).where(reference.advocates.c.advocate_id == advocate_id).values(**row, updated_at=now)
    )
    return "updated"


def apply_event(message: OutboxMessage) -> str:
    """Apply one publish event (the outbox holds its row locked). Returns what happened."""
    advocate_id = message.advocate_id
    row = rows_for([advocate_id])[advocate_id]
    now = utcnow()
    with reference.engine().begin() as conn:
        if conn.scalar(select(reference.applied_events.c.event_id).where(reference.applied_events.c.event_id == message.id)):
            return "replay"
        state = reference.sync_state
        last = conn.execute(
            select(state.c.last_event_id).where(state.c.advocate_id == advocate_id).with_for_update()
        ).scalar_one_or_none()
        if last is not None and last > message.id:
            action = "superseded"  # a newer event already wrote newer data
        else:
            action = _write_row(conn, advocate_id, row, now)
            if last is None:
                conn.execute(insert(state).values(advocate_id=advocate_id, last_event_id=message.id, updated_at=now))
            else:
                conn.execute(
                    update(state).where(state.c.advocate_id == advocate_id).values(last_event_id=message.id, updated_at=now)
                )
        conn.execute(
            insert(reference.applied_events).values(event_id=message.id, advocate_id=advocate_id, action=action, applied_at=now)
        )
    return action


# --- pushing an event to the external system ---------------------------------------------------


def _push_token() -> str:
    """An access token from the receiver's token endpoint (OAuth 2.0 client credentials),
    reused until shortly before it expires."""
    from authlib.integrations.requests_client import OAuth2Session

    config = current_app.config
    cached = current_app.extensions.get("push_token")
    if cached and cached["expires_at"] > time.time() + 30:
        return cached["access_token"]
    with OAuth2Session(config["PUSH_CLIENT_ID"], config["PUSH_CLIENT_SECRET"], scope=config["PUSH_SCOPE"] or None) as client:
        token = client.fetch_token(
            config["PUSH_TOKEN_URL"], grant_type="client_credentials", timeout=config["PUSH_TIMEOUT"]
        )
    token.setdefault("expires_at", time.time() + int(token.get("expires_in", 300)))
    current_app.extensions["push_token"] = token
    return token["access_token"]


def push_body(message: OutboxMessage, row: dict | None) -> dict:
    data = None if row is None else json_row(row)
    return {
        "event_id": message.id,
        "advocate_id": message.advocate_id,
        "action": "remove" if row is None else "upsert",
        "advocate": data,
        "schema_version": reference.SCHEMA_VERSION,
        "sent_at": utcnow().isoformat(),
    }


def push_event(message: OutboxMessage) -> None:
    import requests

    config = current_app.config
    row = rows_for([message.advocate_id])[message.advocate_id]
    headers = {"Authorization": f"Bearer {_push_token()}", "Idempotency-Key": f"advocate-portal-{message.id}"}
    response = requests.post(config["PUSH_URL"], json=push_body(message, row), headers=headers, timeout=config["PUSH_TIMEOUT"])
    if response.status_code == 401:
        current_app.extensions.pop("push_token", None)  # the next attempt signs in again
    response.raise_for_status()


outbox.register_sender(OutboxKind.REFERENCE_PUBLISH, apply_event)
outbox.register_sender(OutboxKind.HTTP_PUSH, push_event)


# --- 4. rebuild and differences ----------------------------------------------------------------


def published_condition(available: bool | None = None):
    """Whether an advocate belongs in the reference database (optionally only those listed
    as available now, or only those listed as unavailable), as a condition on Advocate."""
    condition = and_(
        Advocate.status == AdvocateStatus.APPROVED,
        select(Consent.id).where(
            Consent.advocate_id == Advocate.id, Consent.purpose == LISTING_PURPOSE, Consent.granted == true()
        ).exists(),
    )
    if available is not None:
        # Listing already needs the consent to reference calls: askable is the whole rule.
        free = availability.askable_condition(utcnow())
        condition = and_(condition, free if available else ~free)
    return condition


def published_text_condition(text: str):
    """Advocates whose published name, company or job title contains ``text``: a search by
    another system reads only what the reference database shows, never an email address.
    Asked of the advocate alone (subqueries), so a count needs no join."""
    return or_(
        Advocate.user_id.in_(select(User.id).where(contains_text(User.name, text))),
        Advocate.account_id.in_(select(Account.id).where(contains_text(Account.name, text))),
        contains_text(Advocate.job_title, text),
    )


def _published_ids() -> list[int]:
    return list(db.session.scalars(select(Advocate.id).where(published_condition()).order_by(Advocate.id)))


def json_row(row: dict) -> dict:
    """A reference row as JSON-ready values (dates as ISO 8601)."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


# A rebuild reads and writes this many advocates at a time: memory stays flat and every
# statement stays far below SQLite's limit on bound parameters, at any program size.
REBUILD_BATCH = 1000




def _compared(there_ids: set[int], progress: Progress | None = None) -> Iterator[tuple[Difference, dict | None]]:
    """Each difference between the portal and the reference database, with the row the
    reference database should hold (None: no row), batch by batch."""
    ids = sorted(set(_published_ids()) | there_ids)
    table = reference.advocates
    for start in range(0, len(ids), REBUILD_BATCH):
        if progress is not None:
            progress(start, len(ids))
        batch = ids[start : start + REBUILD_BATCH]
        with reference.engine().connect() as conn:
            there = {
                r.advocate_id: r._asdict()
                for r in conn.execute(select(*[table.c[n] for n in COMPARED]).where(table.c.advocate_id.in_(batch)))
            }
        rows = rows_for(batch)
        for advocate_id in batch:
            row, current = rows[advocate_id], there.get(advocate_id)
            if row is None and current is not None:
                yield Difference(advocate_id, "remove"), None
            elif row is not None and current is None:
                yield Difference(advocate_id, "add"), row
            elif row is not None:
                changed = tuple(k for k in COMPARED if row[k] != current[k])
                if changed:
                    yield Difference(advocate_id, "update", changed), row
    if progress is not None:
        progress(len(ids), len(ids))


def _reference_ids() -> set[int]:
    with reference.engine().connect() as conn:
        return set(conn.scalars(select(reference.advocates.c.advocate_id)))


def differences(progress: Progress | None = None) -> list[Difference]:
    """What a rebuild would change: the reference database against the portal's state.
    Minutes in a large program: the page runs it as a job (``checks.start_check``)."""
    return [difference for difference, _row in _compared(_reference_ids(), progress)]


def _upsert(conn, table, rows: list[dict], columns: tuple[str, ...], where=None) -> None:
    """Insert ``rows``; where the primary key is there already (and ``where`` holds), set
    ``columns`` from the row instead. One batched statement, and a publish event writing the
    same row at the same moment cannot make it fail."""
    statement = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[conn.dialect.name](table)
    statement = statement.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key],
        set_={name: statement.excluded[name] for name in columns},
        where=where,
    )
    conn.execute(statement, rows)


def _write_batch(conn, batch: list[tuple[Difference, dict | None]], now, watermark: int) -> None:
    table, state = reference.advocates, reference.sync_state
    removed = [difference.advocate_id for difference, row in batch if row is None]
    if removed:
        conn.execute(sql_delete(table).where(table.c.advocate_id.in_(removed)))
    rows = [dict(row, published_at=now, updated_at=now) for _difference, row in batch if row is not None]
    if rows:
        _upsert(conn, table, rows, (*(name for name in COMPARED if name != "advocate_id"), "updated_at"))
    # Events up to the watermark are older than what was just written: they are skipped.
    states = [{"advocate_id": difference.advocate_id, "last_event_id": watermark, "updated_at": now} for difference, _ in batch]
    _upsert(conn, state, states, ("last_event_id", "updated_at"), where=state.c.last_event_id < watermark)


def rebuild(progress: Progress | None = None) -> list[Difference]:
    """Recompute the whole published set and write it; returns the differences repaired.
    Events newer than the rebuild still apply afterwards; older ones in flight are skipped.
    Minutes in a large program: the page and the nightly task run it as a job (``checks.start_check``)."""
    # Read before the rows: every event up to it is committed, so its change is in what is read.
    watermark = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    now = utcnow()
    found: list[Difference] = []
    batch: list[tuple[Difference, dict | None]] = []
    with reference.engine().begin() as conn:
        for difference, row in _compared(_reference_ids(), progress):
            found.append(difference)
            batch.append((difference, row))
            if len(batch) == REBUILD_BATCH:
                _write_batch(conn, batch, now, watermark)
                batch = []
        if batch:
            _write_batch(conn, batch, now, watermark)
    return found


# --- feed status for the team --------------------------------------------------------------------


@dataclass
class FeedStatus:
    published: int | None  # None: the reference database does not answer
    reference_error: str | None
    pending: int
    failing: int
    last_success_at: object
    push_enabled: bool


def feed_status() -> FeedStatus:
    published, error = None, None
    try:
        with reference.engine().connect() as conn:
            published = conn.scalar(select(func.count()).select_from(reference.advocates))
    except Exception as exc:  # any failure to reach it is shown to the team, not raised
        error = describe(exc)
    pending_kinds = (OutboxMessage.kind.in_(PUBLISH_KINDS), OutboxMessage.status == OutboxStatus.PENDING)
    pending = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(*pending_kinds))
    failing = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(*pending_kinds, OutboxMessage.last_error.is_not(None))
    )
    last = db.session.scalar(
        select(func.max(OutboxMessage.sent_at)).where(
            OutboxMessage.kind == OutboxKind.REFERENCE_PUBLISH, OutboxMessage.status == OutboxStatus.SENT
        )
    )
    return FeedStatus(published, error, pending, failing, last, bool(current_app.config["PUSH_URL"]))


def published_advocates():
    """Who is in the reference database: the advocates the published condition selects, by
    name (a select to paginate; read from the portal, so it answers while the reference
    database is down)."""
    return (
        select(Advocate)
        .join(User, User.id == Advocate.user_id)
        .where(published_condition())
        .order_by(User.name, Advocate.id)
    )


def failures():
    """Pending publish events whose last attempt failed, oldest first (a select to paginate)."""
    return (
        select(OutboxMessage)
        .where(
            OutboxMessage.kind.in_(PUBLISH_KINDS),
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.last_error.is_not(None),
        )
        .order_by(OutboxMessage.id)
    )


def retry_event(actor: User, message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.kind not in PUBLISH_KINDS:
        raise DomainError("No such publish event.")
    if message.status is not OutboxStatus.PENDING:
        raise DomainError("This event has already been delivered.")
    outbox.retry(message)
    audit.record(actor, "publishing.retry", message, f"Retried publish event #{message.id}")
    return message


def retry_all_now() -> int:
    """Every waiting publish event becomes due now (the reference database is back): the
    oldest are delivered right after the commit, the rest by the next minute's re-drain."""
    waiting = (OutboxMessage.kind.in_(PUBLISH_KINDS), OutboxMessage.status == OutboxStatus.PENDING)
    result = db.session.execute(update(OutboxMessage).where(*waiting).values(next_attempt_at=utcnow()))
    db.session.flush()
    from portal.jobs import deliver_outbox_message

    for message_id in db.session.scalars(
        select(OutboxMessage.id).where(*waiting).order_by(OutboxMessage.id).limit(outbox.REDRAIN_BATCH)
    ):
        after_commit(deliver_outbox_message, message_id)
    return result.rowcount


def drain() -> int:
    """Deliver every due event until none is left (the re-drain works in batches)."""
    total = 0
    while (tried := outbox.deliver_due()) > 0:
        total += tried
        if not db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow()
            )
        ):
            break
    return total


# --- API tokens and account health ----------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    actor: User, name: str, scopes: list[str] | None = None, expires_on: date | None = None
) -> tuple[ApiToken, str]:
    """A new token that may do ``scopes`` (all of them unless given) until the end of
    ``expires_on`` (UTC), or until revoked; the plain token is returned once, never stored."""
    name = name.strip()
    if not name:
        raise DomainError("Name the system that will use this token.", field="name")
    if len(name) > 100:
        raise DomainError("Use at most 100 characters.", field="name")
    scopes = list(SCOPES) if scopes is None else [s for s in SCOPES if s in scopes]
    if not scopes:
        raise DomainError("Choose what the token may do.", field="scopes")
    expires_at = None
    if expires_on is not None:
        if expires_on <= utcnow().date():
            raise DomainError("Choose a day after today, or leave it empty for no expiry.", field="expires_on")
        expires_at = datetime.combine(expires_on + timedelta(days=1), time_of_day.min, tzinfo=UTC)
    plain = "ap_" + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=hash_token(plain), prefix=plain[:10], created_by_id=actor.id,
                     scopes=scopes, expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "api_token.created", token, f"API token “{name}” created")
    return token, plain


def revoke_token(actor: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise DomainError("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        audit.record(actor, "api_token.revoked", token, f"API token “{token.name}” revoked")
    return token


def authenticate(plain: str | None) -> ApiToken | None:
    """The token, if it exists and is neither revoked nor expired (its scopes are the
    caller's to check, with ``ApiToken.allows``)."""
    if not plain:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or not token.active:
        return None
    return token


def tokens():
    return select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())


HEALTH_STATES = ("healthy", "at_risk")


def set_account_health(token: ApiToken, account_id: int, state: str, note: str = "") -> tuple[Account, int]:
    """The customer-success system reports an account's health. At risk: no asks reach its
    advocates (the contact rules refuse them) and they are listed as unavailable."""
    account = db.session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise LookupError(account_id)
    if state not in HEALTH_STATES:
        raise DomainError("status must be one of: healthy, at_risk.", field="status")
    at_risk = state == "at_risk"
    affected = db.session.scalar(
        select(func.count()).select_from(Advocate).where(
            Advocate.account_id == account.id, Advocate.status == AdvocateStatus.APPROVED
        )
    )
    if account.at_risk != at_risk:
        account.at_risk = at_risk
        db.session.flush()
        audit.record(None, "account.health", account, f"{account.name} reported {state.replace('_', ' ')} by “{token.name}”",
                     note=note, token_id=token.id)
    return account, affected
