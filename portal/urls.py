from flask import current_app, has_request_context, request, url_for
from werkzeug.routing import IntegerConverter

# The largest id any table can hold on either database (a signed 64-bit integer).
MAX_ID = 2**63 - 1


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` for the whole app: a number no database column can hold is not an id,
    so the URL does not match (404) instead of reaching the database and overflowing it."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID, signed: bool = False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def external_url(endpoint: str, **values) -> str:
    """An absolute URL for emails, CLI output and jobs.

    Built from ``BASE_URL``, never from the request's Host header, so that a forged Host
    cannot send someone a sign-in link pointing at another site.
    """
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def nav_current(endpoint: str, prefix: str | None = None) -> bool:
    """Whether the page being shown is ``endpoint`` (or, with ``prefix``, any page whose
    endpoint starts with it): the navigation marks that entry as the current page."""
    current = request.endpoint or ""
    return current == endpoint or bool(prefix and current.startswith(prefix))


def nav_current_any(items) -> bool:
    """Whether any of a menu's (endpoint, label, prefix) entries is the current page."""
    return any(nav_current(endpoint, prefix) for endpoint, _label, prefix in items)
