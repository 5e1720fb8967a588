"""Error pages in the portal's layout, JSON under /api/."""

from __future__ import annotations

import logging

from urllib.parse import urlsplit

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from portal.database import rollback
from portal.security import is_api_request, safe_next

log = logging.getLogger(__name__)

EXPLANATIONS = {
    400: (
        "We could not process that request",
        "Something in the request was missing or malformed. If you were submitting a form, "
        "go back, reload the page and try again.",
    ),
    403: (
        "You do not have access to this page",
        "Your account does not have permission to see this. If you think it should, "
        "contact the advocacy team.",
    ),
    404: ("Page not found", "The address may be mistyped, or the page has moved."),
    405: ("That action is not allowed here", "This address does not accept that kind of request."),
    413: (
        "That upload is too large",
        "The file you sent is larger than the portal accepts. Choose a smaller file.",
    ),
    429: (
        "Too many attempts",
        "You have tried this too often in a short time. Wait a few minutes and try again.",
    ),
    500: (
        "Something went wrong on our side",
        "The problem has been logged. Nothing you entered was saved half-way; please try "
        "again in a moment.",
    ),
}


def _respond(code: int, detail: str | None = None):
    title, explanation = EXPLANATIONS.get(code, (f"Error {code}", ""))
    if is_api_request():
        return jsonify(error={"status": code, "title": title, "detail": detail or explanation}), code
    return (
        render_template("errors/error.html", code=code, title=title, explanation=explanation, detail=detail),
        code,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.code >= 500:
            rollback()
        detail = None
        # CSRF failures carry a useful, non-sensitive description.
        if error.code == 400 and error.description and "CSRF" in error.description:
            detail = "Your form expired or was sent from another page. Reload the page and try again."
        response = make_response(_respond(error.code, detail))
        # What the exception says in its headers stays said: Allow on a 405 (RFC 9110),
        # Retry-After on a 429, WWW-Authenticate on a 401.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unhandled error", exc_info=error)
        rollback()
        return _respond(InternalServerError.code)

    @app.errorhandler(RequestEntityTooLarge)
    def handle_too_large(error: RequestEntityTooLarge):
        # The body was refused unread, so the form cannot be shown again with its values:
        # the page leads back to it (history.back() in static/js/portal.js, which brings the
        # typed values back), and the upload fields check sizes before sending anyway.
        if is_api_request():
            return _respond(RequestEntityTooLarge.code)
        referrer = urlsplit(request.referrer or "")
        back = safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else "")) if referrer.netloc == request.host else None
        limit_mb = (app.config["MAX_CONTENT_LENGTH"] or 0) // (1024 * 1024)
        return render_template("errors/too_large.html", back=back, limit_mb=limit_mb), RequestEntityTooLarge.code
