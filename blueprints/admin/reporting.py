"""/admin (the dashboard), /admin/coverage (growth targets and recruiting calls) and
/admin/reports (the PDF program report)."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from blueprints.admin import bp
from blueprints.admin.forms import CoverageTargetForm, RecruitingCallForm, ReportForm
from portal.database import commit, db, rollback, utcnow
from portal.documents import pdf_response
from portal.extensions import htmx
from portal.models import CoverageTarget, OutboxKind, OutboxMessage, OutboxStatus, ProgramReport, QueueItem, QueueStatus, ReportStatus
from portal.services import coverage, program_report, reporting
from portal.services.errors import DomainError

PAGE_SIZE = 25


def _quarter_choices():
    return [(q.key, q.label) for q in reporting.Quarter.recent()]


def _recent_figures() -> reporting.RecentFigures:
    return current_app.extensions.setdefault("dashboard_figures", reporting.RecentFigures())


@bp.get("")
def dashboard():
    quarter = reporting.Quarter.parse(request.args.get("quarter")) or reporting.Quarter.of(utcnow())
    snapshot = _recent_figures().get(quarter, current_app.config["DASHBOARD_CACHE_SECONDS"])
    # The figures' HTML depends on the snapshot alone: rendered once, shared until the next.
    figures_html = snapshot.memo.get("dashboard_html")
    if figures_html is None:
        figures_html = snapshot.memo["dashboard_html"] = Markup(
            render_template("reporting/_figures.html", figures=snapshot.figures, quarter=quarter, pdf=False)
        )
    open_items = db.session.scalar(
        select(func.count()).select_from(QueueItem).where(QueueItem.status == QueueStatus.OPEN)
    )
    failed_mail = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        # Publish events have their own page (/admin/publishing) and never give up.
        .where(OutboxMessage.kind == OutboxKind.EMAIL, OutboxMessage.status == OutboxStatus.FAILED)
    )
    return render_template(
        "admin/dashboard.html",
        quarter=quarter,
        quarters=_quarter_choices(),
        figures_html=figures_html,
        as_of=snapshot.as_of,
        open_items=open_items,
        failed_mail=failed_mail,
        pdf=False,
    )


@bp.route("/coverage", methods=["GET", "POST"])
def coverage_targets():
    form = CoverageTargetForm()
    form.load_choices()
    if form.validate_on_submit():
        try:
            coverage.set_target(current_user, form.industry.data or None, form.region.data or None,
                                form.product.data or None, form.target.data)
        except DomainError as exc:
            rollback()
            form[exc.field if exc.field in form else "target"].errors.append(exc.message)
        else:
            commit()
            flash("Target saved.", "success")
            return redirect(url_for("admin.coverage_targets"))
    page = db.paginate(select(CoverageTarget).order_by(CoverageTarget.id), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "admin/coverage.html",
        form=form,
        page=page,
        rows=coverage.matrix(targets=page.items),
        call_form=RecruitingCallForm(formdata=None),
    ), 422 if form.errors else 200


@bp.post("/coverage/<int:target_id>/remove")
def remove_coverage_target(target_id: int):
    target = db.get_or_404(CoverageTarget, target_id)  # CSRF is checked for every POST (CSRFProtect)
    coverage.remove_target(current_user, target)
    commit()
    flash("Target removed.", "success")
    return redirect(url_for("admin.coverage_targets"))


@bp.post("/coverage/<int:target_id>/call")
def recruiting_call(target_id: int):
    target = db.get_or_404(CoverageTarget, target_id)
    form = RecruitingCallForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("admin.coverage_targets"))
    if request.form.get("action") == "close":
        coverage.close_call(current_user, target)
        flash("The recruiting call is withdrawn.", "success")
    else:
        coverage.open_call(current_user, target, form.message.data or "")
        flash("Staff now see this recruiting call when they nominate, until the gap closes.", "success")
    commit()
    return redirect(url_for("admin.coverage_targets"))


@bp.route("/reports", methods=["GET", "POST"])
def reports():
    form = ReportForm()
    form.quarter.choices = _quarter_choices()
    if request.method == "GET":
        form.quarter.data = request.args.get("quarter") or form.quarter.choices[0][0]
    if form.validate_on_submit():
        quarter = reporting.Quarter.parse(form.quarter.data)
        report = program_report.request_report(current_user, quarter)
        commit()
        return redirect(url_for("admin.report", report_id=report.id))
    page = db.paginate(
        select(ProgramReport).order_by(ProgramReport.created_at.desc(), ProgramReport.id.desc()),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return render_template("admin/reports.html", form=form, page=page), 422 if form.errors else 200


@bp.get("/reports/<int:report_id>")
def report(report_id: int):
    report = db.get_or_404(ProgramReport, report_id)
    if htmx:
        return render_template("admin/_report_status.html", report=report)
    return render_template("admin/report.html", report=report)


@bp.get("/reports/<int:report_id>/download")
def report_download(report_id: int):
    report = db.get_or_404(ProgramReport, report_id)
    if report.status is not ReportStatus.READY:
        abort(404)
    return pdf_response(report.pdf, report.filename)
