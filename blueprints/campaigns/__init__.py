"""Peer-review campaigns: the advocate's side at /campaigns, the team's at /admin/campaigns."""

from flask import Blueprint

bp = Blueprint("campaigns", __name__)

from blueprints.campaigns import admin, views  # noqa: E402,F401
