from flask import jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from blueprints.public import bp
from portal.database import db
from portal.extensions import limiter
from portal.jobs import queue_is_healthy
from portal.security import home_for


@bp.get("/")
def index():
    home = home_for(current_user) if current_user.is_authenticated else None
    return render_template("public/index.html", home=home)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any failure to reach the database is "unhealthy", not a 500
        db.session.rollback()
        database = "unavailable"
    queue = "ok" if queue_is_healthy() else "unavailable"
    healthy = database == "ok" and queue == "ok"
    body = {"status": "ok" if healthy else "unavailable", "database": database, "queue": queue}
    return jsonify(body), 200 if healthy else 503
