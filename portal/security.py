"""Who may see what, and the headers every response carries."""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user

from portal.database import db
from portal.extensions import login_manager
from portal.models import Role, User

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)

# Nothing runs, nothing loads; only the viewer's own inline styles (an image cannot carry any).
IMAGE_SECURITY_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not session_is_current(user, session, time.time()):
            session.clear()  # ended: the cookie is answered with an empty one
            return None
        return user

    @app.before_request
    def refuse_nul_bytes():
        # No browser sends a NUL byte in a URL or a form field, and PostgreSQL cannot store
        # one in text: such a request is forged and is refused before a view tries to save it.
        values = [*request.args.items(multi=True), *request.form.items(multi=True)]
        if any("\x00" in key or "\x00" in value for key, value in values):
            abort(400)

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        if response.mimetype.startswith("image/"):
            # An image opened on its own is shown by the browser's image viewer, which styles
            # it inline: the page's policy would refuse that (a console error on every view).
            headers.setdefault("Content-Security-Policy", IMAGE_SECURITY_POLICY)
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if current_user and current_user.is_authenticated:
            headers.setdefault("Cache-Control", "no-store")
        return response


# --- sessions -------------------------------------------------------------------------------

# Session keys next to Flask-Login's own: the user's session generation at sign-in, and when
# the session began and was last used (seconds since the epoch).
SESSION_GENERATION = "_generation"
SIGNED_IN_AT = "_signed_in_at"
SEEN_AT = "_seen_at"
# The last-used time is rewritten at most this often, not with every response.
SEEN_AT_RESOLUTION = 60


def start_session(user: User, store: MutableMapping, now: float) -> None:
    """Stamp a new session for ``user`` (after Flask-Login's ``login_user``)."""
    store[SESSION_GENERATION] = user.session_generation
    store[SIGNED_IN_AT] = now
    store[SEEN_AT] = now


def session_limits(user: User) -> tuple[int, int]:
    """(idle, absolute) lifetime in seconds; admins' are shorter."""
    config = current_app.config
    if user.role is Role.ADMIN:
        return config["ADMIN_SESSION_IDLE_MINUTES"] * 60, config["ADMIN_SESSION_MAX_HOURS"] * 3600
    return config["SESSION_IDLE_MINUTES"] * 60, config["SESSION_MAX_HOURS"] * 3600


def session_is_current(user: User, store: MutableMapping, now: float) -> bool:
    """Whether the session in ``store`` still signs ``user`` in: made since their last
    sign-out (generation), used recently enough (idle) and not too long ago (absolute).
    Marks it used."""
    signed_in_at, seen_at = store.get(SIGNED_IN_AT), store.get(SEEN_AT)
    if store.get(SESSION_GENERATION) != user.session_generation:
        return False
    if not isinstance(signed_in_at, int | float) or not isinstance(seen_at, int | float):
        return False
    idle, absolute = session_limits(user)
    if now - seen_at > idle or now - signed_in_at > absolute:
        return False
    if now - seen_at >= SEEN_AT_RESOLUTION:
        store[SEEN_AT] = now
    return True


def _send_to_sign_in():
    """Signed out: to the sign-in page and, after it, back. A form posted from a page whose
    session had ended goes back to that page (the Referer), not to its POST-only address."""
    if request.method in ("GET", "HEAD"):
        return login_manager.unauthorized()
    flash(login_manager.login_message, login_manager.login_message_category)
    referrer = urlsplit(request.referrer or "")
    back = safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else "")) if referrer.netloc == request.host else None
    return redirect(url_for(login_manager.login_view, next=back))


def require_role(*roles: Role) -> Callable[[], None]:
    """A ``before_request`` hook: signed-out visitors go to sign-in (and come back), the
    signed-in with another role get 403."""

    def check() -> None:
        if not current_user.is_authenticated:
            return _send_to_sign_in()
        if current_user.role not in roles:
            abort(403)
        return None

    return check


def role_required(*roles: Role):
    """The same check for a single view."""

    def decorator(view):
        check = require_role(*roles)

        @wraps(view)
        def wrapped(*args, **kwargs):
            return check() or view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_for(user: User) -> str:
    return url_for("admin.dashboard") if user.role is Role.ADMIN else url_for("advocate.home")


def is_api_request() -> bool:
    return request.path.startswith("/api/")
