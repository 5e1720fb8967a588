from flask import current_app, has_request_context, request, url_for


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
