"""/admin/publishing: the reference database feed (status, failures, retry; consistency checks
and rebuilds, run as jobs) and the API tokens other systems use."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from blueprints.admin import bp
from portal.database import commit, db
from portal.extensions import htmx
from portal.models import ApiToken
from portal.services import publishing
from portal.services.errors import DomainError

PAGE_SIZE = 25


class ApiTokenForm(FlaskForm):
    name = StringField("Used by", validators=[DataRequired("Name the system that will use this token."), Length(max=100)])


@bp.get("/publishing")
def publishing_status():
    if htmx:  # the consistency section asks again while a check runs
        return render_template("admin/_consistency.html", checks=publishing.check_state())
    status = publishing.feed_status()
    page = db.paginate(publishing.failures(), per_page=PAGE_SIZE, error_out=False)
    # The latest recorded check, not a new one: comparing every advocate takes minutes.
    checks = publishing.check_state()
    published = db.paginate(
        publishing.published_advocates(),
        page=request.args.get("published_page", 1, type=int),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return render_template("admin/publishing.html", status=status, page=page, checks=checks, published=published)


@bp.post("/publishing/events/<int:message_id>/retry")
def retry_publish_event(message_id: int):
    try:
        publishing.retry_event(current_user, message_id)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.publishing_status"))
    commit()
    flash("The event is being delivered again.", "success")
    return redirect(url_for("admin.publishing_status"))


@bp.post("/publishing/retry-all")
def retry_all_publish_events():
    count = publishing.retry_all_now()
    commit()
    flash(f"{count} waiting changes are being delivered again." if count else "Nothing was waiting.", "success")
    return redirect(url_for("admin.publishing_status"))


def _start_check(repair: bool):
    try:
        publishing.request_check(current_user, repair=repair)
    except publishing.CheckInProgress as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.publishing_status"))
    commit()  # the job starts after this commit
    what = "The rebuild" if repair else "The check"
    flash(f"{what} has started; refresh this page to see the result.", "success")
    return redirect(url_for("admin.publishing_status"))


@bp.post("/publishing/check")
def check_reference():
    return _start_check(repair=False)


@bp.post("/publishing/rebuild")
def rebuild_reference():
    return _start_check(repair=True)


def _tokens_page(form: ApiTokenForm, new_token: str | None = None, status: int = 200):
    page = db.paginate(
        publishing.tokens().options(selectinload(ApiToken.created_by)), per_page=PAGE_SIZE, error_out=False
    )
    return render_template("admin/api_tokens.html", form=form, page=page, new_token=new_token), status


@bp.get("/publishing/tokens")
def api_tokens():
    return _tokens_page(ApiTokenForm())


@bp.post("/publishing/tokens")
def create_api_token():
    form = ApiTokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form, status=422)
    try:
        _token, plain = publishing.create_token(current_user, form.name.data)
    except DomainError as exc:
        form[exc.field or "name"].errors.append(exc.message)
        return _tokens_page(form, status=422)
    commit()
    # Shown once, on this response only: only its hash is stored.
    return _tokens_page(ApiTokenForm(formdata=None), new_token=plain)


@bp.post("/publishing/tokens/<int:token_id>/revoke")
def revoke_api_token(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    publishing.revoke_token(current_user, token.id)
    commit()
    flash(f"The token for “{token.name}” no longer works.", "success")
    return redirect(url_for("admin.api_tokens"))
