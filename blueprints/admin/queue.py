"""/admin/queue: every decision the advocacy team has to make, in one place."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.admin import bp
from blueprints.admin.forms import BulkDecisionForm, DecisionForm, QueueFilterForm
from portal.database import commit, db, rollback, utcnow
from portal.extensions import htmx
from portal.models import ProfileChange, QueueItem, QueueKind, QueueStatus, ReferenceRequest
from portal.services import approvals, consent, nominations, profiles, references
from portal.services.errors import DomainError

PAGE_SIZE = 25


def queue_filters() -> QueueFilterForm:
    form = QueueFilterForm(request.args)
    if not form.validate():
        for name in form.errors:  # a forged or outdated filter in the URL filters nothing
            form[name].data = None
    return form


def filtered_queue(form: QueueFilterForm):
    """The queue's query with the form's filters (the page and its CSV)."""
    return approvals.queue_query(
        kind=QueueKind(form.kind.data) if form.kind.data else None,
        older_than_days=int(form.age.data) if form.age.data else None,
        sort=form.sort.data or "oldest",
    )


def _page(form: QueueFilterForm):
    return db.paginate(filtered_queue(form), per_page=PAGE_SIZE, error_out=False)


def _filter_args(form: QueueFilterForm) -> dict:
    return {k: v for k, v in {"kind": form.kind.data, "age": form.age.data, "sort": form.sort.data}.items() if v}


@bp.get("/queue")
def queue():
    form = queue_filters()
    return render_template(
        "admin/queue.html",
        filters=form,
        page=_page(form),
        args=_filter_args(form),
        bulk=BulkDecisionForm(formdata=None),
        is_overdue=approvals.is_overdue,
        result=None,
    )


@bp.get("/queue/invitations")
def queue_invitations():
    """Staff nominations the customer has not answered yet (or let expire), with their age."""
    page = db.paginate(nominations.awaiting_customer(), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "admin/queue_invitations.html",
        page=page,
        now=utcnow(),
        expires_at=nominations.invitation_expires_at,
        reminder_days=nominations.REMINDER_DAYS,
    )


@bp.route("/queue/<int:item_id>", methods=["GET", "POST"])
def queue_item(item_id: int):
    item = db.get_or_404(QueueItem, item_id)
    form = DecisionForm()
    extra = approvals.extra_outcome(item.kind)
    if form.validate_on_submit():
        approve = request.form.get("decision") == "approve"
        chosen = extra if extra is not None and request.form.get("decision") == extra.name else None
        try:
            approvals.decide(current_user, item, approve, form.reason.data or "", extra=chosen.name if chosen else None)
        except DomainError as exc:
            rollback()
            form.reason.errors.append(exc.message)
        else:
            commit()
            verb = chosen.past if chosen else "approved" if approve else "rejected"
            flash(f"{item.kind.label} {verb}; the customer has been told.", "success")
            return redirect(url_for("admin.queue"))
    change = db.session.get(ProfileChange, item.subject_id) if item.kind is QueueKind.PROFILE_CHANGE else None
    request_ = db.session.get(ReferenceRequest, item.subject_id) if item.kind is QueueKind.REFERENCE_REQUEST else None
    return render_template(
        "admin/queue_item.html",
        item=item,
        form=form,
        change_rows=profiles.describe_change(change) if change else None,
        reference_request=request_,
        search_args=_search_args(request_) if request_ else None,
        criteria=references.criteria_of([request_])[request_.id] if request_ else None,
        granted=consent.granted_purposes(item.advocate) if item.advocate else set(),
        wording=consent.current_wording,
        is_overdue=approvals.is_overdue,
        open=item.status is QueueStatus.OPEN,
        extra=extra,
    ), 422 if form.errors else 200


def _search_args(request_: ReferenceRequest) -> dict:
    """The directory search that finds advocates for a seller's request."""
    args = {
        "product": request_.product_ids,
        "activity": [request_.activity_type_id],
        "available": "y",
        "request_id": request_.id,  # carried to "Ask", which ties the ask to the request
    }
    if request_.industry_id:
        args["industry"] = [request_.industry_id]
    if request_.region_id:
        args["region"] = [request_.region_id]
    return args


@bp.post("/queue/bulk")
def queue_bulk():
    form = BulkDecisionForm()
    filters = queue_filters()
    approve = request.form.get("decision") == "approve"
    result = None
    if form.validate_on_submit():
        try:
            result = approvals.decide_many(current_user, form.item_ids.data or [], approve, form.reason.data or "")
        except DomainError as exc:
            rollback()
            form[exc.field if exc.field in ("reason", "item_ids") else "reason"].errors.append(exc.message)
        else:
            commit()
    if not htmx:
        if result is not None:
            _flash_result(result, approve)
        else:
            for errors in form.errors.values():
                for error in errors:
                    flash(error, "error")
        return redirect(url_for("admin.queue", **_filter_args(filters)))
    return render_template(
        "admin/_queue_region.html",
        filters=filters,
        page=_page(filters),
        args=_filter_args(filters),
        bulk=form if result is None else BulkDecisionForm(formdata=None),
        is_overdue=approvals.is_overdue,
        result=result,
        approve=approve,
    )


def _flash_result(result, approve: bool) -> None:
    verb = "approved" if approve else "rejected"
    flash(f"{result.decided} item(s) {verb}.", "success")
    for line in result.skipped:
        flash(f"Skipped {line}", "warning")
