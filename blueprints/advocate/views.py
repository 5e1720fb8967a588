from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from blueprints.advocate import bp
from blueprints.advocate.forms import (
    ConsentForm,
    DeleteAccountForm,
    EmptyForm,
    JobChangeForm,
    NotificationPreferencesForm,
    ProfileForm,
)
from portal.database import commit, rollback
from portal.forms import PROFILE_HELP
from portal.models import AdvocateStatus, ConsentPurpose, QueueItem, QueueStatus, Role
from portal.security import role_required
from portal.services import consent, nominations, notify, privacy, profiles
from portal.services.errors import DomainError
from portal.services.nominations import profile_of
from portal.database import db
from sqlalchemy import select
from flask import jsonify


def _advocate():
    """The signed-in person's current membership; advocates without one see /home only."""
    advocate = nominations.current_advocate(current_user)
    if advocate is None:
        flash("You have no current membership of the program.", "info")
        abort(redirect(url_for("advocate.home")))
    return advocate


@bp.get("/home")
def home():
    advocate = nominations.current_advocate(current_user) if current_user.role is Role.ADVOCATE else None
    last_decision = None
    if advocate is not None and advocate.status is AdvocateStatus.REJECTED:
        last_decision = db.session.scalar(
            select(QueueItem)
            .where(QueueItem.advocate_id == advocate.id, QueueItem.status == QueueStatus.REJECTED)
            .order_by(QueueItem.decided_at.desc())
            .limit(1)
        )
    return render_template(
        "advocate/home.html",
        user=current_user,
        advocate=advocate,
        last_decision=last_decision,
        stale=advocate is not None and profiles.is_stale(advocate),
        granted=consent.granted_purposes(advocate) if advocate else set(),
        notifications=notify.unread(current_user),
        mark_read_form=EmptyForm(),
    )


@bp.post("/notifications/read")
def mark_notifications_read():
    notify.mark_read(current_user)
    commit()
    return redirect(url_for("advocate.home"))


# --- profile --------------------------------------------------------------------------------


def _render_profile(advocate, form, consent_form, status=200):
    return (
        render_template(
            "advocate/profile.html",
            advocate=advocate,
            form=form,
            consent_form=consent_form,
            help=PROFILE_HELP,
            pending=profiles.pending_change(advocate),
            describe_change=profiles.describe_change,
            consents=consent.consents_of(advocate),
            wordings={p: consent.current_wording(p) for p in ConsentPurpose},
            history=consent.history(advocate),
            wording_of=consent.wording,
            stale=profiles.is_stale(advocate),
            button=EmptyForm(),
        ),
        status,
    )


def _consent_form(advocate, formdata=None):
    form = ConsentForm(formdata=formdata, prefix="consent")
    form.purposes.choices = [(p.value, consent.current_wording(p).label) for p in ConsentPurpose]
    if formdata is None:
        form.purposes.data = [p.value for p in consent.granted_purposes(advocate)]
    return form


@bp.route("/profile", methods=["GET", "POST"])
@role_required(Role.ADVOCATE)
def profile():
    advocate = _advocate()
    form = ProfileForm(formdata=request.form if request.method == "POST" else None)
    form.load_choices()
    if request.method == "GET":
        form.fill_from(profile_of(advocate))
        form.name.data = current_user.name
    elif form.validate():
        try:
            change = profiles.update_profile(current_user, advocate, form.name.data, form.to_profile())
        except DomainError as exc:
            rollback()
            form[exc.field or "name"].errors.append(exc.message)
        else:
            commit()
            if change is not None:
                flash("Saved. Your new job title or products go to the advocacy team for approval; "
                      "until then your approved details stay in use.", "success")
            else:
                flash("Your profile is saved.", "success")
            return redirect(url_for("advocate.profile"))
    return _render_profile(advocate, form, _consent_form(advocate), 422 if form.errors else 200)


@bp.post("/profile/consent")
@role_required(Role.ADVOCATE)
def save_consent():
    advocate = _advocate()
    form = _consent_form(advocate, request.form)
    if form.validate():
        try:
            consent.set_consents(current_user, advocate, {ConsentPurpose(p) for p in form.purposes.data})
        except DomainError as exc:
            rollback()
            flash(exc.message, "error")
        else:
            commit()
            flash("Your consent choices are saved and in force now.", "success")
        return redirect(url_for("advocate.profile") + "#consent")
    profile_form = ProfileForm(formdata=None)
    profile_form.load_choices()
    profile_form.fill_from(profile_of(advocate))
    profile_form.name.data = current_user.name
    return _render_profile(advocate, profile_form, form, 422)


@bp.post("/profile/confirm")
@role_required(Role.ADVOCATE)
def confirm_profile():
    profiles.confirm_details(current_user, _advocate())
    commit()
    flash("Thank you: your details are confirmed as up to date.", "success")
    return redirect(url_for("advocate.home"))


@bp.post("/profile/invitation")
@role_required(Role.ADVOCATE)
def answer_invitation():
    advocate = _advocate()
    accept = request.form.get("answer") == "accept"
    try:
        if accept:
            nominations.confirm_invitation(current_user, advocate)
        else:
            nominations.decline_invitation(current_user, advocate)
    except DomainError as exc:
        rollback()
        flash(exc.message, "error")
        return redirect(url_for("advocate.profile"))
    commit()
    if accept:
        flash("Thank you for joining! The advocacy team will confirm your membership shortly.", "success")
    else:
        flash("You have declined the invitation. We will not contact you about the program.", "info")
    return redirect(url_for("advocate.home"))


# --- job change -----------------------------------------------------------------------------


@bp.route("/profile/job-change", methods=["GET", "POST"])
@role_required(Role.ADVOCATE)
def job_change():
    advocate = _advocate()
    form = JobChangeForm()
    if request.method == "GET":
        form.email.data = current_user.email
    if form.validate_on_submit():
        try:
            moved = profiles.report_job_change(
                current_user, advocate, form.company.data, form.email.data, form.job_title.data
            )
        except DomainError as exc:
            rollback()
            form[exc.field or "company"].errors.append(exc.message)
        else:
            commit()
            if moved is None:
                flash(f"We have sent a confirmation link to {form.email.data}. Open it while signed in to finish.", "info")
            else:
                flash("Your move is recorded; the advocacy team will confirm your new membership.", "success")
            return redirect(url_for("advocate.home"))
    return render_template("advocate/job_change.html", form=form, advocate=advocate), 422 if form.errors else 200


@bp.route("/profile/job-change/<token>", methods=["GET", "POST"])
@role_required(Role.ADVOCATE)
def confirm_job_change(token: str):
    try:
        data = profiles.read_job_change_token(current_user, token)
    except DomainError as exc:
        return render_template("advocate/job_change_confirm.html", error=exc.message), 400
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            profiles.confirm_job_change(current_user, token)
        except DomainError as exc:
            rollback()
            return render_template("advocate/job_change_confirm.html", error=exc.message), 400
        commit()
        flash("Your move is recorded; the advocacy team will confirm your new membership.", "success")
        return redirect(url_for("advocate.home"))
    return render_template("advocate/job_change_confirm.html", data=data, form=form)


# --- preferences and privacy ----------------------------------------------------------------


@bp.route("/preferences", methods=["GET", "POST"])
@role_required(Role.ADVOCATE)
def preferences():
    current = current_user.email_preferences or {}
    form = NotificationPreferencesForm(data=current) if request.method == "GET" else NotificationPreferencesForm()
    if form.validate_on_submit():
        notify.set_preferences(current_user, form.choices())
        commit()
        flash("Your email preferences are saved.", "success")
        return redirect(url_for("advocate.preferences"))
    return render_template("advocate/preferences.html", form=form), 422 if form.errors else 200


@bp.get("/privacy")
@role_required(Role.ADVOCATE)
def privacy_page():
    return render_template("advocate/privacy.html", form=DeleteAccountForm(), kept=privacy.KEPT_AFTER_ERASURE)


@bp.get("/privacy/my-data.json")
@role_required(Role.ADVOCATE)
def export_my_data():
    response = jsonify(privacy.export_data(current_user))
    response.headers["Content-Disposition"] = 'attachment; filename="my-advocate-data.json"'
    return response


@bp.post("/privacy/delete")
@role_required(Role.ADVOCATE)
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if form.confirm_email.data.strip().lower() != current_user.email:
            form.confirm_email.errors.append("That is not the address of this account.")
        else:
            privacy.erase_account(current_user, current_user)
            commit()
            logout_user()
            flash("Your account and personal data are deleted. Thank you for having been part of the program.", "info")
            return redirect(url_for("public.index"))
    return render_template("advocate/privacy.html", form=form, kept=privacy.KEPT_AFTER_ERASURE), 422
