"""Points, leaderboard and rewards: the advocates' pages (/points, /leaderboard, /rewards)
and the team's (/admin/rewards). Each view names the role it is for."""

from flask import Blueprint

bp = Blueprint("rewards", __name__)

from blueprints.rewards import admin, views  # noqa: E402,F401
