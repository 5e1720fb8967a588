from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.admin import bp
from portal.database import commit, db
from portal.models import Advocate, OutboxKind, OutboxMessage, OutboxStatus
from portal.services import auth, outbox

PAGE_SIZE = 25


def _require_mailbox() -> None:
    if not outbox.development_mailbox(current_app.config):
        abort(404)


@bp.get("/mailbox")
def mailbox():
    _require_mailbox()
    page = db.paginate(
        select(OutboxMessage)
        .where(OutboxMessage.kind == OutboxKind.EMAIL)
        .order_by(OutboxMessage.id.desc()),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return render_template("admin/mailbox.html", page=page)


@bp.get("/mailbox/<int:message_id>")
def mail_message(message_id: int):
    _require_mailbox()
    message = db.get_or_404(OutboxMessage, message_id)
    if message.kind is not OutboxKind.EMAIL:
        abort(404)
    return render_template("admin/mail_message.html", message=message, email=outbox.build_email(message.payload))


@bp.post("/mailbox/<int:message_id>/retry")
def retry_mail(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    if message.status is not OutboxStatus.FAILED:
        flash("Only a failed message can be retried.", "error")
    else:
        outbox.retry(message)
        commit()
        flash("The message is queued again.", "success")
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url) else url_for("admin.dashboard"))


@bp.post("/advocates/<int:advocate_id>/sign-out-everywhere")
def sign_out_advocate_everywhere(advocate_id: int):
    """Ends every session of the person behind an advocate record (a lost laptop, a
    colleague who left), recorded in the record's history."""
    advocate = db.get_or_404(Advocate, advocate_id)
    auth.sign_out_everywhere(current_user, advocate.user, record=advocate)
    commit()
    flash(f"{advocate.user.name} is signed out on every device and browser.", "success")
    return redirect(url_for("admin.advocate_detail", advocate_id=advocate.id))
