from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.staff import bp
from blueprints.staff.forms import NominateForm, ReferenceRequestForm
from portal.database import commit, db, rollback
from portal.models import Account, ReferenceRequest
from portal.services import coverage, nominations, references
from portal.services.errors import DomainError

PAGE_SIZE = 25
ACCOUNT_SUGGESTIONS = 500


@bp.route("/nominate", methods=["GET", "POST"])
def nominate():
    form = NominateForm()
    if form.validate_on_submit():
        try:
            account = nominations.find_or_create_account(form.company.data, form.email.data, None, None)
            result = nominations.staff_nominate(
                current_user, form.name.data, form.email.data, account, form.reason.data, form.job_title.data or ""
            )
        except DomainError as exc:
            rollback()
            form[exc.field or "email"].errors.append(exc.message)
        else:
            commit()
            flash(result.message, "success" if result.created else "info")
            return redirect(url_for("staff.nominations"))
    accounts = db.session.scalars(select(Account.name).order_by(Account.name).limit(ACCOUNT_SUGGESTIONS)).all()
    return render_template(
        "staff/nominate.html", form=form, accounts=accounts, calls=coverage.open_calls()
    ), 422 if form.errors else 200


@bp.get("/nominations", endpoint="nominations")
def my_nominations():
    page = db.paginate(nominations.staff_nominations(current_user), per_page=PAGE_SIZE, error_out=False)
    return render_template("staff/nominations.html", page=page)


@bp.route("/requests", methods=["GET", "POST"])
def requests():
    form = ReferenceRequestForm()
    form.load_choices()
    if form.validate_on_submit():
        details = references.RequestDetails(
            prospect_company=form.prospect_company.data,
            due_on=form.due_on.data,
            activity_type_id=form.activity_type.data,
            how_many=form.how_many.data,
            opportunity_id=form.opportunity_id.data or "",
            deal_size=form.deal_size.data,
            notes=form.notes.data or "",
            product_ids=list(form.products.data or []),
            industry_id=form.industry.data or None,
            region_id=form.region.data or None,
        )
        try:
            references.create_request(current_user, details)
        except DomainError as exc:
            rollback()
            form[exc.field or "prospect_company"].errors.append(exc.message)
        else:
            commit()
            flash("Your request is with the advocacy team. You can follow it below.", "success")
            return redirect(url_for("staff.requests"))
    page = db.paginate(
        references.my_requests(current_user).options(selectinload(ReferenceRequest.asks)),
        per_page=PAGE_SIZE,
        error_out=False,
    )
    return render_template(
        "staff/requests.html", form=form, page=page, criteria=references.criteria_of(page.items)
    ), 422 if form.errors else 200

