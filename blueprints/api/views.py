"""/api/v1: account health in, published advocates out, and the OpenAPI description."""

from __future__ import annotations

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
    page_number = _int_arg("page", 1, 1, 100000, errors)
    per_page = _int_arg("per_page", 25, 1, MAX_PER_PAGE, errors)
    if errors:
        return _problem(422, "Invalid filter", "Some filters are not valid.", errors)

    filters = directory.Filters(
        product_ids=ids["product"], industry_ids=ids["industry"], region_ids=ids["region"],
        use_case_ids=ids["use_case"], activity_type_ids=ids["activity_type"],
    )
    published = publishing.published_condition(available={"": None, "true": True, "false": False}[available])
    # Only published columns are searched (the directory's text search also reads emails).
    searched = [publishing.published_text_condition(text)] if text else []
    page = directory.paginate(filters, published, *searched, page=page_number, per_page=per_page)
    page_ids = [a.id for a in page.items]
    try:
        with reference.engine().connect() as conn:
            table = reference.advocates
            rows = {r.advocate_id: r._asdict() for r in conn.execute(select(table).where(table.c.advocate_id.in_(page_ids or [-1])))}
    except Exception:  # the reference database is down: say so, do not guess
        return _problem(503, "Reference database unavailable", "Try again in a few minutes.")
    items = [publishing.json_row(rows[i]) for i in page_ids if i in rows]
    next_url = None
    if page.has_next:
        args = request.args.to_dict(flat=False)
        args["page"] = [str(page.page + 1)]
        next_url = url_for("api.advocates", _external=False, **args)
    return jsonify(items=items, page=page.page, per_page=page.per_page, total=page.total, next=next_url,
                   schema_version=reference.SCHEMA_VERSION)
