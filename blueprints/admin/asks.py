"""/admin/asks: sending asks to advocates (the rules decide), following them, and the
program's contact rules."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.admin import bp
from blueprints.admin.forms import AskForm, CompleteAskForm, ProgramSettingsForm
from portal.database import commit, db, rollback
from portal.models import ActivityType, Advocate, Ask, AskOutcome, AskStatus, ReferenceRequest
from portal.services import asks, availability, consent
from portal.services.errors import DomainError

PAGE_SIZE = 25


def asks_query() -> tuple[str, object]:
    """The asks list's filter from the query string and its query (also for the CSV)."""
    status = request.args.get("status", "")
    query = select(Ask).order_by(Ask.created_at.desc(), Ask.id.desc())
    if status in {s.value for s in AskStatus}:
        query = query.where(Ask.status == AskStatus(status))
    return status, query


@bp.get("/asks")
def asks_list():
    status, query = asks_query()
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("admin/asks.html", page=page, status=status, statuses=list(AskStatus), program=availability.settings())


def _record_or_404(model, name: str):
    """The record an id in the URL or form names: one that names nothing, is not a number or
    is out of the database's integer range is a 404, not a blank form or a crash."""
    record_id = request.values.get(name, type=int)
    if record_id is None or not 0 < record_id < 2**31:
        abort(404)
    return db.get_or_404(model, record_id)


@bp.route("/asks/new", methods=["GET", "POST"])
def new_ask():
    if not request.values.get("advocate_id"):
        return render_template("admin/ask_new.html", advocate=None, form=None), 200 if request.method == "GET" else 422
    advocate = _record_or_404(Advocate, "advocate_id")
    form = AskForm()
    form.load_choices()
    reference_request = _record_or_404(ReferenceRequest, "request_id") if request.values.get("request_id") else None
    if reference_request is not None and request.method == "GET":
        form.activity_type.data = reference_request.activity_type_id
        form.prospect_company.data = reference_request.prospect_company
        form.opportunity_id.data = reference_request.opportunity_id
        form.deal_size.data = reference_request.deal_size
        form.due_on.data = reference_request.due_on
        form.notes.data = reference_request.notes
    verdict = None
    if form.validate_on_submit():
        activity_type = db.session.get(ActivityType, form.activity_type.data)
        context = asks.AskContext(
            prospect_company=form.prospect_company.data,
            due_on=form.due_on.data,
            opportunity_id=form.opportunity_id.data or "",
            deal_size=form.deal_size.data,
            notes=form.notes.data or "",
            reference_request_id=reference_request.id if reference_request else None,
        )
        try:
            ask = asks.create_ask(current_user, advocate.id, activity_type, context, form.override_reason.data)
        except asks.AskRefused as refused:
            rollback()
            verdict = refused.verdict
            if request.form.get("send_anyway"):
                # "Send anyway" was pressed on the refusal without a reason: say so beside
                # the reason, not only by showing the same refusal again.
                form.override_reason.errors.append("Write why you send it despite the rules: it goes into the audit trail.")
        except DomainError as exc:
            rollback()
            form[exc.field if exc.field in form else "prospect_company"].errors.append(exc.message)
        else:
            commit()
            flash(
                f"Asked {advocate.user.name} for {activity_type.name}."
                + (" Sent despite the rules; your reason is in the audit trail." if ask.override_reason else ""),
                "success",
            )
            return redirect(url_for("admin.ask_detail", ask_id=ask.id))
    return (
        render_template(
            "admin/ask_new.html",
            advocate=advocate,
            form=form,
            verdict=verdict,
            reference_request=reference_request,
            usage=availability.usage(advocate),
            granted=consent.granted_purposes(advocate),
            wording=consent.current_wording,
        ),
        422 if (form.errors or verdict) else 200,
    )


@bp.route("/asks/<int:ask_id>", methods=["GET", "POST"])
def ask_detail(ask_id: int):
    ask = db.get_or_404(Ask, ask_id)
    form = CompleteAskForm()
    action = request.form.get("action")
    # An invalid outcome form shows its own errors beside its fields (validate_on_submit is
    # False on GET too).
    if request.method == "POST" and (action == "withdraw" or form.validate_on_submit()):
        try:
            if action == "withdraw":
                asks.withdraw(current_user, ask)
            else:
                asks.complete(current_user, ask, AskOutcome(form.outcome.data), form.outcome_amount.data)
        except DomainError as exc:
            rollback()
            # Not validated on withdraw: a field's errors are still the empty tuple then.
            field = form[exc.field] if exc.field in form else form.outcome
            field.errors = [*field.errors, exc.message]
        else:
            commit()
            flash("Ask withdrawn; the advocate has been told." if action == "withdraw" else "Outcome recorded.", "success")
            return redirect(url_for("admin.ask_detail", ask_id=ask.id))
    return render_template("admin/ask_detail.html", ask=ask, form=form), 422 if form.errors else 200


@bp.route("/settings", methods=["GET", "POST"])
def program_settings():
    program = availability.settings()
    form = ProgramSettingsForm(obj=program)
    if form.validate_on_submit():
        try:
            availability.update_settings(
                current_user,
                form.month_limit.data,
                form.quarter_limit.data,
                form.light_cooldown_days.data,
                form.heavy_cooldown_days.data,
            )
        except DomainError as exc:
            rollback()
            form[exc.field or "month_limit"].errors.append(exc.message)
        else:
            commit()
            flash("The contact rules are saved; they apply to the next ask.", "success")
            return redirect(url_for("admin.program_settings"))
    return render_template("admin/settings.html", form=form, activities=db.session.scalars(
        select(ActivityType).order_by(ActivityType.sort_order)).all()), 422 if form.errors else 200
