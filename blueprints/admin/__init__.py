from flask import Blueprint

from portal.models import Role
from portal.security import require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_role(Role.ADMIN))

from blueprints.admin import advocates, asks, exports, publishing, queue, records, reporting, taxonomies, views  # noqa: E402,F401
