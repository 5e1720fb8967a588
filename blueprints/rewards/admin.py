"""The team's side: /admin/rewards (catalog, stock, liability), claims to fulfil, manual
points, the points table, and each account's gift policy."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from blueprints.rewards import bp
from blueprints.rewards.forms import AdjustPointsForm, CancelForm, GiftPolicyForm, PointsSettingsForm, RewardForm
from blueprints.rewards.views import PAGE_SIZE
from portal.database import commit, db, rollback, utcnow
from portal.exports import csv_response, export_filename, rows_of
from portal.models import Account, ClaimStatus, GiftPolicy, Reward, RewardClaim, Role
from portal.models.points import DEFAULT_POINTS
from portal.security import role_required
from portal.services import auth, rewards
from portal.services.errors import DomainError
from portal.services.nominations import current_advocate

admin_only = role_required(Role.ADMIN)


@bp.get("/admin/rewards")
@admin_only
def admin_rewards():
    page = db.paginate(rewards.all_rewards(), per_page=PAGE_SIZE, error_out=False)
    outstanding, value = rewards.liability()
    counts = dict(
        db.session.execute(
            select(RewardClaim.status, func.count(RewardClaim.id))
            .where(RewardClaim.status.in_((ClaimStatus.REQUESTED, ClaimStatus.APPROVED)))
            .group_by(RewardClaim.status)
        ).all()
    )
    counts = {status.value: counts.get(status, 0) for status in (ClaimStatus.REQUESTED, ClaimStatus.APPROVED)}
    return render_template(
        "rewards/admin/catalog.html", page=page, outstanding=outstanding, value=value,
        value_per_point=rewards.settings().value_per_point, counts=counts, today=utcnow().date(),
    )


def _details(form: RewardForm) -> rewards.RewardDetails:
    return rewards.RewardDetails(
        name=form.name.data or "",
        description=form.description.data or "",
        points_cost=form.points_cost.data,
        monetary_value=form.monetary_value.data,
        stock=form.stock.data,
        per_advocate_limit=form.per_advocate_limit.data,
        available_from=form.available_from.data,
        available_until=form.available_until.data,
        needs_approval=form.needs_approval.data,
        is_donation=form.is_donation.data,
        charities=form.charity_list(),
        active=form.active.data,
    )


def _edit(reward: Reward | None):
    form = RewardForm(obj=reward) if request.method == "POST" else RewardForm(formdata=None, obj=reward)
    if request.method == "GET" and reward is not None:
        form.charities.data = "\n".join(reward.charities)
    if form.validate_on_submit():
        try:
            saved = rewards.save_reward(current_user, reward, _details(form), image=form.image.data or None)
        except DomainError as exc:
            rollback()
            form[exc.field if exc.field in form else "name"].errors.append(exc.message)
        else:
            commit()
            flash(f"Saved {saved.name}.", "success")
            return redirect(url_for("rewards.admin_rewards"))
    return render_template("rewards/admin/reward_form.html", form=form, reward=reward), 422 if form.errors else 200


@bp.route("/admin/rewards/new", methods=["GET", "POST"])
@admin_only
def admin_new_reward():
    return _edit(None)


@bp.route("/admin/rewards/<int:reward_id>", methods=["GET", "POST"])
@admin_only
def admin_edit_reward(reward_id: int):
    return _edit(db.get_or_404(Reward, reward_id))


STATUS_FILTERS = {s.value: s for s in ClaimStatus}


@bp.get("/admin/rewards/claims")
@admin_only
def admin_claims():
    status = STATUS_FILTERS.get(request.args.get("status", "approved"), ClaimStatus.APPROVED)
    page = db.paginate(rewards.claims_list(status), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "rewards/admin/claims.html", page=page, status=status, statuses=list(ClaimStatus), form=CancelForm(formdata=None)
    )


@bp.get("/admin/rewards/claims.csv")
@admin_only
def admin_claims_csv():
    status = STATUS_FILTERS.get(request.args.get("status", "approved"), ClaimStatus.APPROVED)
    header = ["id", "claimed", "person", "email", "company", "reward", "points", "value", "charity", "status",
              "delivery note", "fulfilled"]
    return csv_response(export_filename(f"claims-{status.value}"), header, rows_of(rewards.claims_list(status), lambda c: [
        c.id, c.created_at, c.user.name, c.user.email, c.advocate.account.name, c.reward.name, c.points,
        c.monetary_value, c.charity or "", c.status.label, c.delivery_note, c.fulfilled_at,
    ]))


def _claim(claim_id: int) -> RewardClaim:
    return db.get_or_404(RewardClaim, claim_id)


def _act_on_claim(claim_id: int, act, done: str):
    """Fulfil or cancel a claim from the fulfilment list (a plain form post)."""
    claim = _claim(claim_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            act(claim, form)
        except DomainError as exc:
            rollback()
            flash(exc.message, "error")
        else:
            commit()
            flash(done.format(claim=claim), "success")
    return redirect(url_for("rewards.admin_claims", status="approved"))


@bp.post("/admin/rewards/claims/<int:claim_id>/fulfil")
@admin_only
def admin_fulfil_claim(claim_id: int):
    return _act_on_claim(
        claim_id,
        lambda claim, form: rewards.fulfil_claim(current_user, claim),
        "Marked as sent: {claim.reward.name} for {claim.user.name}.",
    )


@bp.post("/admin/rewards/claims/<int:claim_id>/cancel")
@admin_only
def admin_cancel_claim(claim_id: int):
    return _act_on_claim(
        claim_id,
        lambda claim, form: rewards.cancel_claim(current_user, claim, form.reason.data or ""),
        "Cancelled; {claim.points} points returned to {claim.user.name}.",
    )


def _render_points(settings_form, adjust_form, status=200):
    return render_template(
        "rewards/admin/points.html", settings_form=settings_form, adjust_form=adjust_form,
        sources=list(DEFAULT_POINTS), defaults=DEFAULT_POINTS,
    ), status


def _settings_form(formdata=None):
    row = rewards.settings()
    return PointsSettingsForm(formdata=formdata, obj=row) if formdata is None else PointsSettingsForm()


@bp.get("/admin/rewards/points")
@admin_only
def admin_points():
    return _render_points(_settings_form(), AdjustPointsForm(formdata=None))


@bp.post("/admin/rewards/points/settings")
@admin_only
def admin_points_settings():
    form = PointsSettingsForm()
    if form.validate_on_submit():
        values = rewards.SettingsValues(
            points={source: form[source.value].data for source in DEFAULT_POINTS},
            value_per_point=form.value_per_point.data,
            default_annual_gift_cap=form.default_annual_gift_cap.data,
            currency=form.currency.data,
        )
        try:
            rewards.update_settings(current_user, values)
        except DomainError as exc:
            rollback()
            form[exc.field].errors.append(exc.message)
        else:
            commit()
            flash("Saved the points table.", "success")
            return redirect(url_for("rewards.admin_points"))
    return _render_points(form, AdjustPointsForm(formdata=None), 422)


@bp.post("/admin/rewards/points/adjust")
@admin_only
def admin_adjust_points():
    form = AdjustPointsForm()
    if form.validate_on_submit():
        person = auth.find_user(form.email.data)
        advocate = current_advocate(person) if person is not None and person.role is Role.ADVOCATE else None
        if advocate is None:
            form.email.errors.append("No current advocate has this email address.")
        else:
            try:
                entry = rewards.adjust_points(current_user, advocate, form.points.data, form.reason.data)
            except DomainError as exc:
                rollback()
                form[exc.field if exc.field in ("points", "reason") else "points"].errors.append(exc.message)
            else:
                commit()
                flash(f"{entry.points:+d} points for {person.name}; their balance is now {entry.balance_after}.", "success")
                return redirect(url_for("rewards.admin_points"))
    return _render_points(_settings_form(), form, 422)


@bp.get("/admin/rewards/accounts")
@admin_only
def admin_accounts():
    page = db.paginate(select(Account).order_by(Account.name, Account.id), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "rewards/admin/accounts.html", page=page, policies=list(GiftPolicy),
        default_cap=rewards.settings().default_annual_gift_cap, errors={}, form=GiftPolicyForm(formdata=None),
    )


@bp.post("/admin/rewards/accounts/<int:account_id>")
@admin_only
def admin_account_policy(account_id: int):
    account = db.get_or_404(Account, account_id)
    form = GiftPolicyForm()
    error = None
    if form.validate_on_submit():
        try:
            rewards.set_gift_policy(current_user, account, GiftPolicy(form.gift_policy.data), form.annual_gift_cap.data)
        except DomainError as exc:
            rollback()
            error = exc.message
        else:
            commit()
            flash(f"Saved the gift policy of {account.name}.", "success")
            return redirect(url_for("rewards.admin_accounts", page=request.args.get("page", 1, type=int)))
    else:
        error = " ".join(e for errs in form.errors.values() for e in errs)
    page = db.paginate(select(Account).order_by(Account.name, Account.id), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "rewards/admin/accounts.html", page=page, policies=list(GiftPolicy),
        default_cap=rewards.settings().default_annual_gift_cap, errors={account.id: error}, form=form,
    ), 422

