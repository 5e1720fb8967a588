"""/admin/publishing: the reference database feed (status, failures, retry; consistency checks
and rebuilds, run as jobs) and the API tokens other systems use."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import DateField, SelectChoice, StringField
from wtforms.validators import DataRequired, Length, Optional

from blueprints.admin import bp
from portal.database import commit, db
from portal.extensions import htmx
from portal.forms import MultiCheckboxField
from portal.models import ApiToken, CheckSubject
from portal.models.api_token import SCOPES
from portal.services import checks, publishing
from portal.services.errors import DomainError

PAGE_SIZE = 25
SUBJECTS = {subject.value: subject for subject in CheckSubject}


class ApiTokenForm(FlaskForm):
    name = StringField("Used by", validators=[DataRequired("Name the system that will use this token."), Length(max=100)])
    # At least one is needed; the service says so beside the group (a required attribute on
    # each checkbox would tell a browser that every one of them must be ticked).
    scopes = MultiCheckboxField("What it may do", choices=[SelectChoice(key, label) for key, label in SCOPES.items()])
    expires_on = DateField("Works until", validators=[Optional()])


@bp.get("/publishing")
def publishing_status():
    part = request.args.get("part", "reference")
    if htmx and part in SUBJECTS:  # a consistency section asks again while its check runs
        return render_template("admin/_consistency.html", subject=part, checks=checks.check_state(SUBJECTS[part]))
    status = publishing.feed_status()
    page = db.paginate(publishing.failures(), per_page=PAGE_SIZE, error_out=False)
    # The latest recorded checks, not new ones: comparing every advocate takes minutes.
    published = db.paginate(
        publishing.published_advocates(),
        page=request.args.get("published_page", 1, type=int),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return render_template(
        "admin/publishing.html", status=status, page=page, published=published,
        checks=checks.check_state(CheckSubject.REFERENCE), availability_checks=checks.check_state(CheckSubject.AVAILABILITY),
    )


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


def _start_check(subject: str, repair: bool):
    if subject not in SUBJECTS:
        abort(404)
    try:
        checks.request_check(current_user, repair=repair, subject=SUBJECTS[subject])
    except checks.CheckInProgress as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.publishing_status"))
    commit()  # the job starts after this commit
    what = "The rebuild" if repair else "The check"
    flash(f"{what} has started; refresh this page to see the result.", "success")
    return redirect(url_for("admin.publishing_status"))


# /publishing/check and /publishing/rebuild are the reference database's (the first addresses).
@bp.post("/publishing/check", defaults={"subject": "reference"})
@bp.post("/publishing/<subject>/check")
def check_consistency(subject: str):
    return _start_check(subject, repair=False)


@bp.post("/publishing/rebuild", defaults={"subject": "reference"})
@bp.post("/publishing/<subject>/rebuild")
def rebuild_consistency(subject: str):
    return _start_check(subject, repair=True)


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
        _token, plain = publishing.create_token(current_user, form.name.data, form.scopes.data, form.expires_on.data)
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
