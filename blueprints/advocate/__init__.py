from flask import Blueprint

from portal.models import Role
from portal.security import require_role

bp = Blueprint("advocate", __name__)
# /home greets team members too; every other page here is for advocates only (see views).
bp.before_request(require_role(Role.ADVOCATE, Role.STAFF, Role.ADMIN))

from blueprints.advocate import views  # noqa: E402,F401
