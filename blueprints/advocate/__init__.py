from flask import Blueprint

from portal.models import Role
from portal.security import require_role

bp = Blueprint("advocate", __name__)
# Team members can see /home too until their own pages exist (issue: staff pages).
bp.before_request(require_role(Role.ADVOCATE, Role.STAFF, Role.ADMIN))

from blueprints.advocate import views  # noqa: E402,F401
