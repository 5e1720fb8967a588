"""The PDF program report for a quarter (SPEC §10): the dashboard's figures, its charts
and the coverage matrix, drawn by WeasyPrint through ``portal.documents``. A small report
is drawn at once; a large one (long tables are slow to lay out) by a job, which records
its progress on the report so the page can show it and offer the download when ready."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import func, select

from portal import documents
from portal.database import after_commit, commit, db, rollback, utcnow
from portal.models import CoverageTarget, ProgramReport, ReportStatus, UnmetDemand, User
from portal.services import audit, reporting

log = logging.getLogger(__name__)

# Table rows (coverage targets and unmet combinations) above which the PDF is drawn by a job.
INLINE_MAX_ROWS = 40


def size(quarter: reporting.Quarter) -> int:
    targets = select(func.count(CoverageTarget.id)).scalar_subquery()
    combinations = (
        select(func.count(func.distinct(UnmetDemand.criteria_key)))
        .where(quarter.contains(UnmetDemand.created_at))
        .scalar_subquery()
    )
    return sum(int(n or 0) for n in db.session.execute(select(targets, combinations)).one())


def request_report(actor: User, quarter: reporting.Quarter) -> ProgramReport:
    report = ProgramReport(year=quarter.year, quarter=quarter.number, requested_by_id=actor.id)
    db.session.add(report)
    db.session.flush()
    audit.record(actor, "report.requested", report, f"Program report for {quarter.label} requested")
    if size(quarter) <= INLINE_MAX_ROWS:
        _draw(report)
    else:
        from portal.jobs import render_program_report

        after_commit(render_program_report, report.id)
    return report


def _progress(report: ProgramReport, status: ReportStatus, percent: int, *, durable: bool) -> None:
    report.status, report.progress = status, percent
    db.session.flush()
    if durable:  # in a job, so that the page polling the report sees it move
        commit()


def _draw(report: ProgramReport, *, durable: bool = False) -> None:
    quarter = reporting.Quarter(report.year, report.quarter)
    _progress(report, ReportStatus.RENDERING, 10, durable=durable)
    figures = reporting.figures(quarter)
    _progress(report, ReportStatus.RENDERING, 40, durable=durable)
    pdf = documents.render_pdf(
        "program_report.html",
        program_name=current_app.config["PROGRAM_NAME"],
        company_name=current_app.config["COMPANY_NAME"],
        quarter_label=quarter.label,
        generated_at=utcnow(),
        figures=figures,
        pdf=True,
    )
    report.pdf, report.pdf_size, report.finished_at = pdf, len(pdf), utcnow()
    _progress(report, ReportStatus.READY, 100, durable=durable)


def render_job(report_id: int) -> None:
    """The job's work: draw the report, committing each step; a failure is recorded on the
    report (and logged) instead of leaving it "being drawn" for ever."""
    report = db.session.get(ProgramReport, report_id)
    if report is None or report.status is ReportStatus.READY:
        return
    try:
        _draw(report, durable=True)
    except Exception as exc:  # anything WeasyPrint or the figures raise
        log.exception("program report %s failed", report_id)
        rollback()
        report = db.session.get(ProgramReport, report_id)
        report.status, report.error = ReportStatus.FAILED, f"{type(exc).__name__}: {exc}"[:500]
        commit()
