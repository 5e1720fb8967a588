from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from blueprints.admin import bp
from portal.database import commit, db
from portal.models import Account, Advocate, OutboxKind, OutboxMessage, OutboxStatus, QueueItem, QueueStatus, User
from portal.services import outbox

PAGE_SIZE = 25


@bp.get("")
def dashboard():
    users_by_role = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    outbox_by_status = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.kind == OutboxKind.EMAIL)  # publish events have their own page
            .group_by(OutboxMessage.status)
        ).all()
    )
    accounts = db.session.scalar(select(func.count()).select_from(Account))
    advocates_by_status = dict(
        db.session.execute(select(Advocate.status, func.count()).group_by(Advocate.status)).all()
    )
    open_items = db.session.scalar(
        select(func.count()).select_from(QueueItem).where(QueueItem.status == QueueStatus.OPEN)
    )
    return render_template(
        "admin/dashboard.html",
        users_by_role=users_by_role,
        outbox_by_status=outbox_by_status,
        accounts=accounts,
        advocates_by_status=advocates_by_status,
        open_items=open_items,
    )


def _require_mailbox() -> None:
    # The development mailbox only exists while no SMTP server is configured.
    if not current_app.config["MAIL_CONSOLE"]:
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
