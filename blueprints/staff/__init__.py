from flask import Blueprint

from portal.models import Role
from portal.security import require_role

bp = Blueprint("staff", __name__, url_prefix="/staff")
# Admins may use the staff pages too (SPEC: addresses).
bp.before_request(require_role(Role.STAFF, Role.ADMIN))

from blueprints.staff import views  # noqa: E402,F401
