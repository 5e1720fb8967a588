"""The advocate's side: /points, /leaderboard, /rewards and their claims."""

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from blueprints.rewards import bp
from blueprints.rewards.forms import CancelForm, ClaimForm, LeaderboardForm
from portal import documents
from portal.database import commit, db, rollback, utcnow
from portal.models import ClaimStatus, Reward, RewardClaim, Role
from portal.security import role_required
from portal.services import points, rewards, uploads
from portal.services.errors import DomainError
from portal.services.nominations import current_advocate

PAGE_SIZE = 20


@bp.get("/points")
@role_required(Role.ADVOCATE)
def points_page():
    page = db.paginate(points.history(current_user), per_page=PAGE_SIZE, error_out=False)
    return render_template("rewards/points.html", balance=points.balance(current_user), page=page)


def _render_leaderboard(form, status=200, saved=False):
    today = utcnow().date()
    quarter, mine_quarter = rewards.leaderboard(current_user, rewards.quarter_start(today))
    all_time, mine_all = rewards.leaderboard(current_user, None)
    return render_template(
        "rewards/leaderboard.html",
        quarter=quarter,
        mine_quarter=mine_quarter,
        all_time=all_time,
        mine_all=mine_all,
        quarter_name=f"Q{(today.month - 1) // 3 + 1} {today.year}",
        form=form,
        saved=saved,
    ), status


@bp.get("/leaderboard")
@role_required(Role.ADVOCATE)
def leaderboard():
    form = LeaderboardForm(formdata=None, obj=current_user)
    return _render_leaderboard(form)


@bp.post("/leaderboard")
@role_required(Role.ADVOCATE)
def save_leaderboard_choice():
    form = LeaderboardForm()
    if form.validate_on_submit():
        try:
            rewards.set_leaderboard_choice(current_user, form.leaderboard_opt_in.data, form.display_name.data or "")
        except DomainError as exc:
            rollback()
            form[exc.field or "display_name"].errors.append(exc.message)
        else:
            commit()
            flash("Saved: " + ("you are on the leaderboard." if current_user.leaderboard_opt_in else "you are not on the leaderboard."), "success")
            return redirect(url_for("rewards.leaderboard"))
    return _render_leaderboard(form, 422)


def _render_catalog(errors=None, status=200):
    page = db.paginate(rewards.catalog(), per_page=PAGE_SIZE, error_out=False)
    advocate = current_advocate(current_user)
    return render_template(
        "rewards/catalog.html",
        page=page,
        balance=points.balance(current_user),
        account=advocate.account if advocate else None,
        cap=rewards.annual_cap(advocate.account) if advocate else None,
        given=rewards.gifts_this_year(current_user),
        errors=errors or {},
        form=ClaimForm(formdata=None),
    ), status


@bp.get("/rewards")
@role_required(Role.ADVOCATE)
def catalog():
    return _render_catalog()


@bp.post("/rewards/<int:reward_id>/claim")
@role_required(Role.ADVOCATE)
def claim(reward_id: int):
    reward = db.get_or_404(Reward, reward_id)
    if not rewards.is_visible(reward, current_user):
        abort(404)
    form = ClaimForm()
    if form.validate_on_submit():
        try:
            claim = rewards.claim_reward(
                current_user, reward.id, charity=form.charity.data or None, delivery_note=form.delivery_note.data or ""
            )
        except DomainError as exc:
            rollback()
            return _render_catalog({reward_id: exc.message}, 422)
        commit()
        if claim.status is ClaimStatus.REQUESTED:
            flash(f"Claimed: {claim.reward.name}. {claim.points} points are set aside while the team approves it.", "success")
        else:
            flash(f"Claimed: {claim.reward.name}. The team will send it and tell you.", "success")
        return redirect(url_for("rewards.my_claims"))
    return _render_catalog({reward_id: " ".join(e for errs in form.errors.values() for e in errs)}, 422)


@bp.get("/rewards/<int:reward_id>/image")
@role_required(Role.ADVOCATE, Role.STAFF, Role.ADMIN)
def reward_image(reward_id: int):
    reward = db.get_or_404(Reward, reward_id)
    if reward.image is None or not rewards.is_visible(reward, current_user):
        abort(404)
    return uploads.serve(reward.image, personal=False)


@bp.get("/rewards/mine")
@role_required(Role.ADVOCATE)
def my_claims():
    page = db.paginate(rewards.my_claims(current_user), per_page=PAGE_SIZE, error_out=False)
    return render_template("rewards/my_claims.html", page=page, form=CancelForm(formdata=None))


def _claim_for_viewer(claim_id: int) -> RewardClaim:
    claim = db.get_or_404(RewardClaim, claim_id)
    if current_user.role is not Role.ADMIN and claim.user_id != current_user.id:
        abort(404)  # another advocate's claim does not exist for this person
    return claim


@bp.post("/rewards/mine/<int:claim_id>/cancel")
@role_required(Role.ADVOCATE)
def cancel_my_claim(claim_id: int):
    claim = _claim_for_viewer(claim_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            rewards.cancel_claim(current_user, claim)
        except DomainError as exc:
            rollback()
            flash(exc.message, "error")
        else:
            commit()
            flash(f"Cancelled: {claim.points} points are back in your balance.", "success")
    return redirect(url_for("rewards.my_claims"))


@bp.get("/rewards/claims/<int:claim_id>/certificate.pdf")
@role_required(Role.ADVOCATE, Role.ADMIN)
def certificate(claim_id: int):
    claim = _claim_for_viewer(claim_id)
    if claim.status is not ClaimStatus.FULFILLED:
        abort(404)
    values = rewards.certificate_values(claim, current_app.config["PROGRAM_NAME"], current_app.config["COMPANY_NAME"])
    pdf = documents.render_pdf("reward_certificate.html", **values)
    return documents.pdf_response(pdf, f"reward-certificate-{claim.id}.pdf")


@bp.app_template_global()
def reward_claim_for(item):
    """The claim a REWARD_CLAIM queue item is about (for admin/_queue_reward_claim.html)."""
    return db.session.get(RewardClaim, item.subject_id)

