from flask import current_app, jsonify, redirect, render_template, request, send_from_directory, session, url_for
from flask_login import current_user
from sqlalchemy import text

from blueprints.public import bp
from blueprints.public.forms import JoinForm, UnsubscribeForm
from portal.database import commit, db
from portal.extensions import csrf, limiter, rate_limit_storage, submitted_address
from portal.forms import PROFILE_HELP
from portal.jobs import queue_is_healthy
from portal.models import normalise_email
from portal.security import home_for
from portal.services import nominations, notify
from portal.services.errors import DomainError


def _form_limit() -> str:
    return current_app.config["PUBLIC_FORM_RATE_LIMIT"]


def _join_address_limit() -> str:
    return current_app.config["JOIN_ADDRESS_RATE_LIMIT"]


@bp.get("/")
def index():
    home = home_for(current_user) if current_user.is_authenticated else None
    return render_template("public/index.html", home=home)


@bp.get("/favicon.ico")
def favicon():
    # Browsers ask for /favicon.ico whatever a page links to (feed readers, bookmarks, tabs
    # opened on a PDF), so the icon answers at the root as well as under /static.
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400)


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(_form_limit, methods=["POST"])
@limiter.limit(_join_address_limit, methods=["POST"], key_func=submitted_address)
def join():
    form = JoinForm()
    form.load_choices()
    if request.method == "GET" and not form.time_zone.data:
        form.time_zone.data = "UTC"
    if form.validate_on_submit():
        nominations.self_nominate(form.name.data, form.email.data, form.company.data, form.to_profile())
        commit()
        session["nominated_email"] = normalise_email(form.email.data)
        return redirect(url_for("public.join_sent"))
    status = 422 if form.errors else 200
    return render_template("public/join.html", form=form, help=PROFILE_HELP), status


@bp.get("/join/check-your-email")
def join_sent():
    return render_template("public/join_sent.html", email=session.get("nominated_email"))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail clients post the one-click unsubscribe (RFC 8058) without a form token
@limiter.limit(_form_limit, methods=["POST"])
def unsubscribe(token: str):
    try:
        user, category = notify.read_unsubscribe_token(token)
    except DomainError as exc:
        return render_template("public/unsubscribe.html", error=exc.message, done=False), 400
    if request.method == "POST":
        notify.unsubscribe(user, category)
        commit()
        return render_template("public/unsubscribe.html", category=category, done=True)
    return render_template("public/unsubscribe.html", category=category, done=False, form=UnsubscribeForm())


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
    rate_limits = rate_limit_storage()
    # Without the database nothing works (503: take this server out). Without the job queue
    # or Redis the portal still serves every page and form, and keeps the work in the outbox:
    # "degraded" (200), so that a Redis outage does not take every server out of the pool.
    if database != "ok":
        status = "unavailable"
    elif queue != "ok" or "unreachable" in rate_limits:
        status = "degraded"
    else:
        status = "ok"
    body = {"status": status, "database": database, "queue": queue, "rate_limits": rate_limits}
    return jsonify(body), 503 if status == "unavailable" else 200
