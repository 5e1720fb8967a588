"""/api/v1: account health in, published advocates out, and the OpenAPI description."""

from __future__ import annotations

import base64
import json

from functools import wraps

from flask import g, jsonify, request, url_for
from sqlalchemy import select

from blueprints.api import bp
from blueprints.api.openapi import spec
from portal import reference
from portal.database import commit, db
from portal.models import TermKind
from portal.models.api_token import READ_ADVOCATES, WRITE_ACCOUNTS
from portal.models.taxonomy import ActivityType, Region, Term
from portal.services import directory, publishing
from portal.services.errors import DomainError

MAX_PER_PAGE = 100
MAX_ID = 2**31 - 1


def _problem(status: int, title: str, detail: str, errors: dict | None = None, headers: dict | None = None):
    body = {"error": {"status": status, "title": title, "detail": detail}}
    if errors:
        body["error"]["fields"] = errors
    return jsonify(body), status, headers or {}


def token_required(scope: str):
    """The view needs a valid token (not revoked, not expired) that was given ``scope``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, plain = header.partition(" ")
            token = publishing.authenticate(plain.strip()) if scheme.lower() == "bearer" else None
            if token is None:
                return _problem(
                    401, "Not signed in", "Send a valid API token: Authorization: Bearer <token>.",
                    headers={"WWW-Authenticate": 'Bearer realm="advocate-portal"'},
                )
            if not token.allows(scope):
                return _problem(
                    403, "Not allowed", f"This token may not do this: it needs the scope {scope}.",
                    headers={"WWW-Authenticate": f'Bearer realm="advocate-portal", error="insufficient_scope", scope="{scope}"'},
                )
            g.api_token = token
            return view(*args, **kwargs)

        return wrapped

    return decorator


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec())


@bp.post("/accounts/<int:account_id>/health")
@token_required(WRITE_ACCOUNTS)
def account_health(account_id: int):
    if account_id > MAX_ID:  # no such row, and more than the database's integer holds
        return _problem(404, "Not found", f"No account {account_id}.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _problem(422, "Invalid body", "Send a JSON object.", {"body": "Send a JSON object like {\"status\": \"at_risk\"}."})
    state, note = data.get("status"), data.get("note", "")
    if not isinstance(note, str) or len(note) > 500:
        return _problem(422, "Invalid body", "note must be text of at most 500 characters.", {"note": "Send at most 500 characters of text."})
    if not isinstance(state, str):
        return _problem(422, "Invalid body", "status is required.", {"status": "One of: healthy, at_risk."})
    try:
        account, affected = publishing.set_account_health(g.api_token, account_id, state, note)
    except LookupError:
        return _problem(404, "Not found", f"No account {account_id}.")
    except DomainError as exc:
        return _problem(422, "Invalid body", exc.message, {exc.field or "body": exc.message})
    commit()
    return jsonify(
        account_id=account.id, status="at_risk" if account.at_risk else "healthy", approved_advocates=affected
    )


_NAMED_FILTERS = {
    # query parameter: (what it names, lookup of a lower-cased name to an id)
    "product": lambda: _term_ids(TermKind.PRODUCT),
    "industry": lambda: _term_ids(TermKind.INDUSTRY),
    "use_case": lambda: _term_ids(TermKind.USE_CASE),
    "region": lambda: {n.lower(): i for i, n in db.session.execute(select(Region.id, Region.name))},
    "activity_type": lambda: {n.lower(): i for i, n in db.session.execute(select(ActivityType.id, ActivityType.name))},
}


def _term_ids(kind: TermKind) -> dict[str, int]:
    return {n.lower(): i for i, n in db.session.execute(select(Term.id, Term.name).where(Term.kind == kind))}


def _int_arg(name: str, default: int, low: int, high: int, errors: dict) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:  # missing or empty: no choice made
        return default
    try:
        value = int(raw)
    except ValueError:
        errors[name] = f"Send a whole number from {low} to {high}."
        return default
    if not low <= value <= high:
        errors[name] = f"Send a whole number from {low} to {high}."
    return value


@bp.get("/advocates")
@token_required(READ_ADVOCATES)
def advocates():
    errors: dict[str, str] = {}
    ids: dict[str, list[int]] = {}
    for name, lookup in _NAMED_FILTERS.items():
        wanted = [w for w in request.args.getlist(name) if w.strip()]  # an empty value is no filter
        if not wanted:
            ids[name] = []
            continue
        known = lookup()
        missing = [w for w in wanted if w.strip().lower() not in known]
        if missing:
            errors[name] = f"Unknown {name.replace('_', ' ')}: {', '.join(missing)}."
        ids[name] = [known[w.strip().lower()] for w in wanted if w.strip().lower() in known]
    available = request.args.get("available_now", "")
    if available not in ("", "true", "false"):
        errors["available_now"] = "Send true or false."
    text = request.args.get("q", "").strip()
    if len(text) > 100:
        errors["q"] = "Use at most 100 characters."
    legacy = "page" in request.args  # v1's numbered pages, kept for existing clients
    page_number = _int_arg("page", 1, 1, 100000, errors)
    per_page = _int_arg("per_page", 25, 1, MAX_PER_PAGE, errors)
    with_total = request.args.get("total") or "true"  # missing or empty: the default
    if with_total not in ("true", "false"):
        errors["total"] = "Send true or false."
    position = _cursor(request.args["cursor"], errors) if request.args.get("cursor") else None
    if position is not None and legacy:
        errors["cursor"] = "Send either cursor or page, not both."
    if errors:
        return _problem(422, "Invalid filter", "Some filters are not valid.", errors)

    filters = directory.Filters(
        product_ids=ids["product"], industry_ids=ids["industry"], region_ids=ids["region"],
        use_case_ids=ids["use_case"], activity_type_ids=ids["activity_type"],
    )
    # Only published columns are searched (the directory's text search also reads emails).
    published = [publishing.published_condition(available={"": None, "true": True, "false": False}[available])]
    if text:
        published.append(publishing.published_text_condition(text))
    if legacy:
        page = directory.paginate(filters, *published, page=page_number, per_page=per_page)
        page_ids, total, number = [a.id for a in page.items], page.total, page.page
        following = {"page": str(page.page + 1)} if page.has_next else None
    else:
        # Keyset pages in id order: the cost of a page does not grow with its depth, and rows
        # that change while a client pages neither repeat nor go missing. The total is counted
        # once, for the first page, and carried in the cursor.
        after, number, total = position or (0, 1, None)
        if position is None and with_total == "true":
            total = directory.count(filters, *published)
        page_ids = directory.ids_after(filters, *published, after=after, limit=per_page + 1)
        following = None
        if len(page_ids) > per_page:
            page_ids = page_ids[:per_page]
            following = {"cursor": encode_cursor(page_ids[-1], number + 1, total)}
    try:
        with reference.engine().connect() as conn:
            table = reference.advocates
            rows = {r.advocate_id: r._asdict() for r in conn.execute(select(table).where(table.c.advocate_id.in_(page_ids or [-1])))}
    except Exception:  # the reference database is down: say so, do not guess
        return _problem(503, "Reference database unavailable", "Try again in a few minutes.")
    items = [publishing.json_row(rows[i]) for i in page_ids if i in rows]
    next_url = None
    if following:
        args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in ("page", "cursor")}
        next_url = url_for("api.advocates", _external=False, **args, **following)
    return jsonify(items=items, page=number, per_page=per_page, total=total, next=next_url,
                   schema_version=reference.SCHEMA_VERSION)


def encode_cursor(after: int, page: int, total: int | None) -> str:
    raw = json.dumps([after, page, total], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(text: str | None, errors: dict) -> tuple[int, int, int | None] | None:
    """(the last id of the previous page, this page's number, the total) from a ``next``
    link's cursor; anything else is a field error, never a 500."""
    try:
        after, page, total = json.loads(base64.urlsafe_b64decode((text or "") + "=" * (-len(text or "") % 4)))
        if all(type(v) is int for v in (after, page)) and (total is None or type(total) is int) \
                and 0 <= after <= MAX_ID and 1 <= page <= 10**7 and (total is None or total >= 0):
            return after, page, total
    except (ValueError, TypeError):
        pass
    errors["cursor"] = "Send the cursor from a next link unchanged."
    return None
