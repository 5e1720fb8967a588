"""/admin/audit and /admin/import: the record of decisions, and bulk import of advocates."""

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.admin import bp
from blueprints.admin.forms import ImportForm
from portal.database import commit, db, rollback
from portal.models import AuditEvent, ImportBatch, ImportStatus
from portal.services import importer
from portal.services.errors import DomainError

PAGE_SIZE = 50


def audit_query() -> tuple[str, object]:
    """The audit trail's filter from the query string and its query (also for the CSV)."""
    action = request.args.get("action", "").strip()
    query = (
        select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    return action, query


@bp.get("/audit")
def audit_log():
    action, query = audit_query()
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    return render_template("admin/audit.html", page=page, action=action, actions=actions)


@bp.route("/import", methods=["GET", "POST"])
def import_advocates():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            content = importer.decode(upload.read(importer.MAX_BYTES + 1))
        except DomainError as exc:
            form.file.errors.append(exc.message)
        else:
            batch = importer.create_batch(current_user, upload.filename or "import.csv", content)
            commit()
            return redirect(url_for("admin.import_preview", batch_id=batch.id))
    return render_template("admin/import.html", form=form, columns=importer.COLUMNS), 422 if form.errors else 200


@bp.get("/import/template.csv")
def import_template():
    return Response(
        importer.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="advocates-template.csv"'},
    )


@bp.route("/import/<int:batch_id>", methods=["GET", "POST"])
def import_preview(batch_id: int):
    batch = db.get_or_404(ImportBatch, batch_id)
    if request.method == "POST":
        try:
            count = importer.run_import(current_user, batch)
        except DomainError as exc:
            rollback()
            flash(exc.message, "error")
        else:
            commit()
            flash(f"Imported {count} advocates; each has been invited to confirm and give consent.", "success")
            return redirect(url_for("admin.advocates", status="invited"))
    preview = importer.preview(batch.content) if batch.status is ImportStatus.PREVIEWED else None
    return render_template("admin/import_preview.html", batch=batch, preview=preview)
