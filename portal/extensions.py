"""Extension objects, created unbound and initialised in ``create_app``."""

from flask import request
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from portal.database import db

__all__ = ["csrf", "db", "htmx", "limiter", "login_manager", "migrate"]

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def submitted_address() -> str:
    """Rate-limit key per email address typed into a form, so one inbox cannot be flooded
    from many clients."""
    from portal.models import normalise_email

    return "address:" + normalise_email(request.form.get("email", ""))[:254]


def submitted_address_and_client() -> str:
    """Rate-limit key per (address, client): a stranger's attempts from elsewhere count
    against the stranger, never against the address's owner."""
    return f"{submitted_address()}|client:{get_remote_address()}"


def rate_limit_storage() -> str:
    """Where rate limits are counted now: "redis", or "memory" (configured so, or because
    Redis does not answer: then every process counts on its own); "off" when they are
    switched off (RATELIMIT_ENABLED)."""
    if not limiter.enabled:
        return "off"
    if not limiter.initialized or limiter.storage.__class__.__name__ == "MemoryStorage":
        return "memory"
    return "redis" if limiter.storage.check() else "memory (Redis unreachable)"
