from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, logout_user
from sqlalchemy import func, select

from blueprints.advocate import bp
from blueprints.advocate.forms import (
    AnswerAskForm,
    BlackoutForm,
    ConsentForm,
    ContactPreferencesForm,
    DeleteAccountForm,
    EmptyForm,
    JobChangeForm,
    NotificationPreferencesForm,
    ProfileForm,
)
from portal.database import commit, db, rollback
from portal.extensions import htmx
from portal.forms import PROFILE_HELP
from portal.models import Advocate, AdvocateStatus, Ask, AskStatus, ConsentPurpose, QueueItem, QueueStatus, Role
from portal.security import role_required, safe_next
from portal.services import asks, availability, consent, nominations, notify, preferences, privacy, profiles, taxonomy
from portal.services.errors import DomainError
from portal.services.nominations import profile_of


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
        usage=availability.usage(advocate) if advocate is not None and advocate.status is AdvocateStatus.APPROVED else None,
        waiting=db.session.scalar(
            select(func.count(Ask.id)).where(Ask.advocate_id == advocate.id, Ask.status == AskStatus.SENT)
        )
        if advocate is not None
        else 0,
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
            # A page that sent the advocate here to give a consent (a board's application)
            # gets them back once it is saved.
            next_url=safe_next(request.values.get("next")),
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
        profile = form.to_profile()
        profile.activity_type_ids = [a.id for a in advocate.activity_types]  # set on /preferences
        try:
            change = profiles.update_profile(current_user, advocate, form.name.data, profile)
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
        return redirect(safe_next(request.form.get("next")) or url_for("advocate.profile") + "#consent")
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
    answer = request.form.get("answer")
    if answer not in ("accept", "decline"):
        abort(400)
    accept = answer == "accept"
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


def _contact_form(advocate, formdata=None):
    program = availability.settings()
    form = ContactPreferencesForm(formdata=formdata, prefix="contact")
    form.load_choices(taxonomy.activity_types(), program.month_limit, program.quarter_limit)
    if formdata is None:
        form.fill_from(preferences.preferences_of(advocate))
    return form


def _render_preferences(advocate, contact_form=None, email_form=None, blackout_form=None, status=200, saved=False):
    context = dict(
        advocate=advocate,
        contact_form=contact_form or (_contact_form(advocate) if advocate else None),
        email_form=email_form or NotificationPreferencesForm(data=current_user.email_preferences or {}),
        blackout_form=blackout_form or BlackoutForm(formdata=None, prefix="blackout"),
        blackouts=preferences.blackouts(advocate) if advocate else [],
        usage=availability.usage(advocate) if advocate else None,
        program=availability.settings(),
        button=EmptyForm(),
        saved=saved,
    )
    if htmx and contact_form is not None:
        return render_template("advocate/_contact_preferences.html", **context), status
    return render_template("advocate/preferences.html", **context), status


@bp.get("/preferences", endpoint="preferences")
@role_required(Role.ADVOCATE)
def preferences_page():
    return _render_preferences(nominations.current_advocate(current_user))


@bp.post("/preferences/contact")
@role_required(Role.ADVOCATE)
def save_contact_preferences():
    advocate = _advocate()
    form = _contact_form(advocate, request.form)
    if form.validate():
        try:
            preferences.update(current_user, advocate, form.to_preferences())
        except DomainError as exc:
            rollback()
            form[exc.field or "month_limit"].errors.append(exc.message)
        else:
            commit()
            if not htmx:
                flash("Your contact preferences are saved and apply to the next request.", "success")
                return redirect(url_for("advocate.preferences"))
            return _render_preferences(advocate, contact_form=_contact_form(advocate), saved=True)
    return _render_preferences(advocate, contact_form=form, status=422)


@bp.post("/preferences")
@role_required(Role.ADVOCATE)
def save_email_preferences():
    form = NotificationPreferencesForm()
    if form.validate_on_submit():
        notify.set_preferences(current_user, form.choices())
        commit()
        flash("Your email preferences are saved.", "success")
        return redirect(url_for("advocate.preferences") + "#email")
    return _render_preferences(nominations.current_advocate(current_user), email_form=form, status=422)


@bp.post("/preferences/blackouts")
@role_required(Role.ADVOCATE)
def add_blackout():
    advocate = _advocate()
    form = BlackoutForm(prefix="blackout")
    if form.validate_on_submit():
        try:
            preferences.add_blackout(current_user, advocate, form.starts_on.data, form.ends_on.data, form.note.data or "")
        except DomainError as exc:
            rollback()
            form[exc.field or "ends_on"].errors.append(exc.message)
        else:
            commit()
            flash("Blackout added: nobody will ask you anything on those days.", "success")
            return redirect(url_for("advocate.preferences") + "#blackouts")
    return _render_preferences(advocate, blackout_form=form, status=422)


@bp.post("/preferences/blackouts/<int:blackout_id>/delete")
@role_required(Role.ADVOCATE)
def remove_blackout(blackout_id: int):
    try:
        preferences.remove_blackout(current_user, _advocate(), blackout_id)
    except DomainError:
        abort(404)
    commit()
    flash("Blackout removed.", "success")
    return redirect(url_for("advocate.preferences") + "#blackouts")


# --- asks -----------------------------------------------------------------------------------


def _my_ask(ask_id: int) -> Ask:
    ask = db.get_or_404(Ask, ask_id)
    if ask.advocate.user_id != current_user.id:
        abort(404)  # another advocate's ask does not exist for this person
    return ask


@bp.get("/asks", endpoint="asks")
@role_required(Role.ADVOCATE)
def asks_page():
    my_asks = db.session.scalars(
        select(Ask)
        .join(Advocate, Ask.advocate_id == Advocate.id)
        .where(Advocate.user_id == current_user.id)
        .order_by(Ask.created_at.desc())
        .limit(100)
    ).all()
    advocate = nominations.current_advocate(current_user)
    return render_template(
        "advocate/asks.html",
        open_asks=[a for a in my_asks if a.status is AskStatus.SENT],
        other_asks=[a for a in my_asks if a.status is not AskStatus.SENT],
        usage=availability.usage(advocate) if advocate else None,
        form=AnswerAskForm(formdata=None),
    )


@bp.post("/asks/<int:ask_id>/answer")
@role_required(Role.ADVOCATE)
def answer_ask(ask_id: int):
    ask = _my_ask(ask_id)
    form = AnswerAskForm()
    accept = request.form.get("answer") == "accept"
    error = None
    if form.validate_on_submit():
        try:
            asks.respond(current_user, ask, accept, form.reason.data or "")
        except DomainError as exc:
            rollback()
            error = exc.message
        else:
            commit()
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    if htmx:
        return render_template("advocate/_ask.html", ask=ask, form=AnswerAskForm(formdata=None), error=error, answered=error is None)
    if error:
        flash(error, "error")
    else:
        flash("Thank you: your answer is sent to the advocacy team." if accept else "Understood: you have declined this request.", "success")
    return redirect(url_for("advocate.asks"))


@bp.get("/privacy")
@role_required(Role.ADVOCATE)
def privacy_page():
    return render_template("advocate/privacy.html", form=DeleteAccountForm(), kept=privacy.KEPT_AFTER_ERASURE)


@bp.get("/privacy/my-data.json")
@role_required(Role.ADVOCATE)
def export_my_data():
    response = jsonify(privacy.export_data(current_user))
    response.headers["Content-Disposition"] = 'attachment; filename="my-advocate-data.json"'
    response.headers["Cache-Control"] = "no-store"
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
