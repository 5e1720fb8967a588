"""JSON API for other systems (/api/v1): token-authenticated, so CSRF-exempt."""

from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

from blueprints.api import views  # noqa: E402,F401
