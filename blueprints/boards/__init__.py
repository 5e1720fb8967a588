"""Advisory boards: the advocate's side at /boards and the team's at /admin/boards."""

from flask import Blueprint

bp = Blueprint("boards", __name__)

from blueprints.boards import admin_views, views  # noqa: E402,F401
