from flask import current_app, has_request_context, url_for


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
