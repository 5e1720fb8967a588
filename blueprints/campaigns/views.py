"""/campaigns: the review campaigns an advocate is invited to; joining, the tracking link,
sending proof."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from blueprints.campaigns import bp
from blueprints.campaigns.forms import EmptyForm, ProofForm
from portal.database import commit, db, rollback, utcnow
from portal.models import QueueItem, QueueKind, ReviewProof, Role
from portal.security import role_required
from portal.services import campaigns, uploads
from portal.services.errors import DomainError

PAGE_SIZE = 20


@bp.get("/campaigns")
@role_required(Role.ADVOCATE)
def index():
    page = db.paginate(campaigns.my_participations(current_user), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "campaigns/index.html",
        page=page,
        progress=campaigns.verified_counts([p.campaign_id for p in page.items]),
        today=utcnow().date(),
    )


def _mine(campaign_id: int):
    participation = campaigns.participation_for(current_user, campaign_id)
    if participation is None:
        abort(404)  # a campaign this person was not invited to does not exist for them
    return participation


def _render_detail(participation, proof_form=None, status=200):
    campaign = participation.campaign
    return render_template(
        "campaigns/detail.html",
        participation=participation,
        campaign=campaign,
        verified=campaigns.verified_counts([campaign.id])[campaign.id],
        incentive=campaigns.incentive_for(participation.advocate, campaign),
        proofs=campaigns.proofs_of(participation),
        join_form=EmptyForm(),
        proof_form=proof_form or ProofForm(formdata=None),
        rating_rule=campaigns.RATING_RULE,
        today=utcnow().date(),
    ), status


@bp.get("/campaigns/<int:campaign_id>")
@role_required(Role.ADVOCATE)
def detail(campaign_id: int):
    return _render_detail(_mine(campaign_id))


@bp.post("/campaigns/<int:campaign_id>/join")
@role_required(Role.ADVOCATE)
def join(campaign_id: int):
    participation = _mine(campaign_id)
    if EmptyForm().validate_on_submit():
        try:
            campaigns.join(current_user, participation)
        except DomainError as exc:
            rollback()
            flash(exc.message, "error")
        else:
            commit()
            flash("You have joined: use your personal link below to write your review.", "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id))


@bp.post("/campaigns/<int:campaign_id>/proof")
@role_required(Role.ADVOCATE)
def send_proof(campaign_id: int):
    participation = _mine(campaign_id)
    form = ProofForm()
    if form.validate_on_submit():
        try:
            campaigns.submit_proof(current_user, participation, form.review_url.data or "", form.screenshot.data, form.note.data or "")
        except DomainError as exc:
            rollback()
            if exc.field not in ("review_url", "screenshot"):
                # The state changed (proof already sent from another tab, campaign ended):
                # the page shows the new state, the message says why.
                flash(exc.message, "error")
                return redirect(url_for("campaigns.detail", campaign_id=campaign_id))
            form[exc.field].errors = [*form[exc.field].errors, exc.message]
            db.session.refresh(participation)
        else:
            commit()
            flash("Thank you: your proof is with the advocacy team, who will tell you when it is checked.", "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign_id))
    return _render_detail(participation, form, 422)


@bp.get("/campaigns/go/<token>")
def tracking_link(token: str):
    """The personal tracking link: counts the click, then on to the platform."""
    target = campaigns.record_click(token)
    if target is None:
        abort(404)
    commit()
    return redirect(target)


@bp.get("/campaigns/proofs/<int:proof_id>/screenshot")
@role_required(Role.ADVOCATE, Role.ADMIN)
def screenshot(proof_id: int):
    proof = campaigns.proof_visible_to(current_user, proof_id)
    if proof is None or proof.screenshot is None:
        abort(404)
    return uploads.serve(proof.screenshot)


@bp.app_template_global()
def review_proof_for(item: QueueItem):
    """The proof a review-proof queue item is about (for admin/_queue_review_proof.html)."""
    if item.kind is not QueueKind.REVIEW_PROOF:
        return None
    return db.session.get(ReviewProof, item.subject_id)
