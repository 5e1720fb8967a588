"""/admin/advocates: the directory, with filters that combine, and each advocate's record."""

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from blueprints.admin import bp
from blueprints.admin.forms import DirectoryFilterForm
from portal.database import commit, db
from portal.models import Advocate, AdvocateStatus, Ask, AuditEvent, QueueItem
from portal.services import availability, consent, demand, directory, points, profiles

PAGE_SIZE = 25
POINTS_PAGE_SIZE = 20


def directory_filters() -> tuple[DirectoryFilterForm, directory.Filters]:
    """The directory's filters from the query string (also used by its CSV export)."""
    form = DirectoryFilterForm(request.args)
    form.load_choices()
    if not form.validate():
        for name in form.errors:  # a forged or outdated filter in the URL filters nothing
            form[name].data = None
    filters = directory.Filters(
        statuses=[AdvocateStatus(s) for s in form.status.data or []],
        product_ids=form.product.data or [],
        industry_ids=form.industry.data or [],
        region_ids=form.region.data or [],
        use_case_ids=form.use_case.data or [],
        activity_type_ids=form.activity.data or [],
        available_now=bool(form.available.data),
        usage=form.usage.data or "",
        stale=bool(form.stale.data),
        text=form.q.data or "",
    )
    return form, filters


@bp.get("/advocates")
def advocates():
    form, filters = directory_filters()
    page = directory.paginate(filters, per_page=PAGE_SIZE, options=[selectinload(Advocate.products)])
    if demand.record_search(current_user, filters, page.total):
        commit()  # a search that found nobody available is what recruiting should follow
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    return render_template(
        "admin/advocates.html",
        form=form,
        page=page,
        filters=filters,
        args=args,
        is_stale=profiles.is_stale,
        request_id=request.args.get("request_id", type=int),
    )


@bp.get("/advocates/<int:advocate_id>")
def advocate_detail(advocate_id: int):
    advocate = db.get_or_404(Advocate, advocate_id)
    related = db.session.scalars(
        select(Advocate).where(Advocate.user_id == advocate.user_id, Advocate.id != advocate.id).order_by(Advocate.id)
    ).all()
    queue_items = db.session.scalars(
        select(QueueItem)
        .options(selectinload(QueueItem.decided_by))
        .where(QueueItem.advocate_id == advocate.id)
        .order_by(QueueItem.created_at.desc())
        .limit(50)
    ).all()
    events = db.session.scalars(
        select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .where(
            or_(
                (AuditEvent.subject_type == "advocates") & (AuditEvent.subject_id == advocate.id),
                (AuditEvent.subject_type == "queue_items") & AuditEvent.subject_id.in_([i.id for i in queue_items] or [0]),
            )
        )
        .order_by(AuditEvent.created_at.desc())
        .limit(50)
    ).all()
    return render_template(
        "admin/advocate_detail.html",
        a=advocate,
        related=related,
        queue_items=queue_items,
        consents=consent.consents_of(advocate),
        wording=consent.current_wording,
        history=consent.history(advocate),
        events=events,
        stale=profiles.is_stale(advocate),
        asks=db.session.scalars(
            select(Ask).where(Ask.advocate_id == advocate.id).order_by(Ask.created_at.desc()).limit(50)
        ).all(),
        usage=availability.usage(advocate),
        # Points belong to the person (they follow a job change), as on their /points page.
        balance=points.balance(advocate.user),
        points_page=db.paginate(points.history(advocate.user), per_page=POINTS_PAGE_SIZE, error_out=False),
    )
