"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json (and checked by a
schemathesis contract test)."""

from __future__ import annotations

from portal.reference import SCHEMA_VERSION

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "title", "detail"],
            "properties": {
                "status": {"type": "integer"},
                "title": {"type": "string"},
                "detail": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_ADVOCATE = {
    "type": "object",
    "description": "One published advocate. A field whose purpose is not consented is null.",
    "required": ["advocate_id", "name", "job_title", "company", "available_now"],
    "properties": {
        "advocate_id": {"type": "integer"},
        "name": {"type": "string"},
        "job_title": {"type": "string"},
        "company": {"type": "string"},
        "logo_allowed": {"type": "boolean", "description": "Consent to use the company's logo."},
        "industry": {"type": "string", "nullable": True},
        "country": {"type": "string", "nullable": True, "description": "ISO 3166-1 alpha-2"},
        "country_name": {"type": "string", "nullable": True},
        "regions": _STRINGS,
        "products": _STRINGS,
        "use_cases": _STRINGS,
        "activity_types": {**_STRINGS, "description": "Activities open to and consented to."},
        "languages": {**_STRINGS, "description": "ISO 639-1 codes"},
        "story": {"type": "string", "nullable": True, "description": "Only with case-study consent."},
        "consented_purposes": _STRINGS,
        "available_now": {"type": "boolean", "description": "The contact rule allows an ask now (the team's answer)."},
        "unavailable_reason": {
            "type": "string", "nullable": True,
            "enum": ["account_at_risk", "paused", "blackout", "month_limit", "quarter_limit", "cooldown", "unavailable", None],
            "description": "The first reason the rule gives while not available now.",
        },
        "paused_until": {"type": "string", "format": "date", "nullable": True},
        "next_available_at": {
            "type": "string", "format": "date-time", "nullable": True,
            "description": "When the next ask is allowed (UTC); null when available now, or not within a year.",
        },
        "published_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}


def _errors(*codes: int) -> dict:
    text = {400: "Malformed request (for example a NUL byte in a parameter).", 401: "Missing, wrong, revoked or expired token.",
            403: "The token lacks the scope this operation needs (advocates:read or accounts:write).", 404: "No such account.", 422: "Invalid input; see error.fields.",
            503: "The reference database does not answer; try again later."}
    return {str(c): {"description": text[c], "content": {"application/json": {"schema": _ERROR}}} for c in codes}


def _name_filter(name: str, what: str) -> dict:
    return {
        "name": name, "in": "query", "required": False, "style": "form", "explode": True,
        "description": f"{what} by name (case-insensitive); repeat to require several.",
        "schema": {"type": "array", "items": {"type": "string"}},
    }


def spec() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Advocate Portal API",
            "version": f"1.{SCHEMA_VERSION}",
            "description": "Account health in, published (consented) advocates out. Authenticate with an API "
            "token that an admin creates at /admin/publishing/tokens: `Authorization: Bearer <token>`.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR, "Advocate": _ADVOCATE},
        },
        "security": [{"token": []}],
        "paths": {
            "/api/v1/accounts/{account_id}/health": {
                "post": {
                    "operationId": "reportAccountHealth",
                    "summary": "Report a customer account's health",
                    "description": "At risk: no asks reach the account's advocates and they are listed as unavailable "
                    "in the reference database until the account is reported healthy again.",
                    "parameters": [{"name": "account_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["status"],
                            "properties": {
                                "status": {"type": "string", "enum": ["healthy", "at_risk"]},
                                "note": {"type": "string", "maxLength": 500},
                            },
                        }}},
                    },
                    "responses": {
                        "200": {"description": "Recorded.", "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["account_id", "status", "approved_advocates"],
                            "properties": {
                                "account_id": {"type": "integer"},
                                "status": {"type": "string", "enum": ["healthy", "at_risk"]},
                                "approved_advocates": {"type": "integer"},
                            },
                        }}}},
                        **_errors(400, 401, 403, 404, 422),
                    },
                }
            },
            "/api/v1/advocates": {
                "get": {
                    "operationId": "listAdvocates",
                    "summary": "Published advocates, filtered like the team's directory",
                    "parameters": [
                        _name_filter("product", "Products used (all of)"),
                        _name_filter("industry", "Industry (any of)"),
                        _name_filter("region", "Region, including the regions inside it (any of)"),
                        _name_filter("use_case", "Use cases (all of)"),
                        _name_filter("activity_type", "Open to these activities (all of)"),
                        {"name": "available_now", "in": "query", "required": False,
                         "schema": {"type": "string", "enum": ["true", "false"]}},
                        {"name": "q", "in": "query", "required": False,
                         "description": "Published name, company or job title contains (never an email "
                                        "address); % and _ are taken literally",
                         "schema": {"type": "string", "maxLength": 100}},
                        {"name": "cursor", "in": "query", "required": False,
                         "description": "Where the next page starts: follow the `next` link, which carries it. "
                         "Pages are in advocate_id order and cost the same at any depth.",
                         "schema": {"type": "string", "maxLength": 200}},
                        {"name": "total", "in": "query", "required": False,
                         "description": "false: do not count the matches (the first page counts them once; "
                         "later pages repeat that count).",
                         "schema": {"type": "string", "enum": ["true", "false"], "default": "true"}},
                        {"name": "page", "in": "query", "required": False, "deprecated": True,
                         "description": "Numbered pages (v1's first paging; each page counts again and costs more "
                         "the deeper it is). Use the next link's cursor instead.",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}},
                        {"name": "per_page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
                    ],
                    "responses": {
                        "200": {"description": "One page.", "content": {"application/json": {"schema": {
                            "type": "object",
                            "required": ["items", "page", "per_page", "total", "next"],
                            "properties": {
                                "items": {"type": "array", "items": _ADVOCATE},
                                "page": {"type": "integer"},
                                "per_page": {"type": "integer"},
                                "total": {"type": "integer", "nullable": True,
                                          "description": "Matches in all pages; null with total=false."},
                                "next": {"type": "string", "nullable": True},
                                "schema_version": {"type": "integer"},
                            },
                        }}}},
                        **_errors(400, 401, 403, 422, 503),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This description",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3 document",
                                          "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
    }
