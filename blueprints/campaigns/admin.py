"""/admin/campaigns: the team creates campaigns, invites by criteria and follows progress.
Proof is verified in /admin/queue."""

from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.campaigns import bp
from blueprints.campaigns.forms import CampaignForm, CapsForm, EmptyForm
from portal.database import commit, db, rollback, utcnow
from portal.exports import csv_response, export_filename, rows_of
from portal.money import format_money
from portal.models import Campaign, ReviewPlatform, Role
from portal.security import role_required
from portal.services import campaigns
from portal.services.errors import DomainError

PAGE_SIZE = 25


@bp.get("/admin/campaigns")
@role_required(Role.ADMIN)
def admin_list():
    page = db.paginate(campaigns.campaigns_query(), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "campaigns/admin_list.html",
        page=page,
        progress=campaigns.verified_counts([c.id for c in page.items]),
        today=utcnow().date(),
    )


def _details(form: CampaignForm) -> campaigns.CampaignDetails:
    return campaigns.CampaignDetails(
        name=form.name.data or "",
        platform=ReviewPlatform(form.platform.data),
        review_url=form.review_url.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        target_count=form.target_count.data,
        points_per_review=form.points_per_review.data,
        gift_value=form.gift_value.data or Decimal("0"),
        instructions=form.instructions.data or "",
        product_ids=form.products.data or [],
        industry_ids=form.industries.data or [],
        region_ids=form.regions.data or [],
    )


def _edit(campaign: Campaign | None):
    form = CampaignForm(obj=None if campaign is None else _form_values(campaign)) if request.method == "GET" else CampaignForm()
    form.load_choices()
    if form.validate_on_submit():
        try:
            saved = campaigns.save_campaign(current_user, campaign, _details(form))
        except DomainError as exc:
            rollback()
            (form[exc.field].errors if exc.field in form else form.form_errors).append(exc.message)
        else:
            commit()
            flash(f"Campaign “{saved.name}” saved.", "success")
            return redirect(url_for("campaigns.admin_detail", campaign_id=saved.id))
    return render_template(
        "campaigns/admin_form.html",
        form=form,
        campaign=campaign,
        caps_text=", ".join(f"{p.label} {format_money(cap)}" for p, cap in campaigns.caps().items()),
        rating_rule=campaigns.RATING_RULE,
    ), 422 if form.errors or form.form_errors else 200


class _form_values:
    """A campaign's values under the form's field names."""

    def __init__(self, c: Campaign):
        self.name, self.platform, self.review_url = c.name, c.platform.value, c.review_url
        self.starts_on, self.ends_on, self.target_count = c.starts_on, c.ends_on, c.target_count
        self.points_per_review, self.gift_value, self.instructions = c.points_per_review, c.gift_value, c.instructions
        self.products, self.industries, self.regions = c.product_ids, c.industry_ids, c.region_ids


@bp.route("/admin/campaigns/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_new():
    return _edit(None)


@bp.route("/admin/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_edit(campaign_id: int):
    return _edit(db.get_or_404(Campaign, campaign_id))


@bp.get("/admin/campaigns/<int:campaign_id>")
@role_required(Role.ADMIN)
def admin_detail(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    page = db.paginate(campaigns.participants_query(campaign), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "campaigns/admin_detail.html",
        campaign=campaign,
        page=page,
        verified=campaigns.verified_counts([campaign.id])[campaign.id],
        to_invite=campaigns.count_to_invite(campaign),
        invite_form=EmptyForm(),
        today=utcnow().date(),
        rating_rule=campaigns.RATING_RULE,
    )


@bp.get("/admin/campaigns/<int:campaign_id>/participants.csv")
@role_required(Role.ADMIN)
def admin_participants_csv(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    header = ["id", "advocate", "email", "company", "status", "incentive", "incentive value", "link clicks",
              "invited", "joined", "verified"]
    return csv_response(export_filename(f"campaign-{campaign.id}-participants"), header, rows_of(
        campaigns.participants_query(campaign), lambda p: [
            p.id, p.advocate.user.name, p.advocate.user.email, p.advocate.account.name, p.status.label,
            p.incentive.value, p.incentive_value, p.clicks, p.invited_at, p.joined_at, p.verified_at,
        ]))


@bp.post("/admin/campaigns/<int:campaign_id>/invite")
@role_required(Role.ADMIN)
def admin_invite(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    if EmptyForm().validate_on_submit():
        try:
            invited = campaigns.invite(current_user, campaign)
        except DomainError as exc:
            rollback()
            flash(exc.message, "error")
        else:
            commit()
            flash(f"Invited {invited} advocate(s); they are emailed as their preferences allow.", "success")
    return redirect(url_for("campaigns.admin_detail", campaign_id=campaign_id))


@bp.route("/admin/campaigns/caps", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_caps():
    current = campaigns.caps()
    form = CapsForm(data={p.value: v for p, v in current.items()}) if request.method == "GET" else CapsForm()
    if form.validate_on_submit():
        try:
            campaigns.save_caps(current_user, {p: form[p.value].data for p in ReviewPlatform})
        except DomainError as exc:
            rollback()
            if exc.field in form:
                form[exc.field].errors.append(exc.message)
            else:
                flash(exc.message, "error")
        else:
            commit()
            flash("Incentive caps saved: new and edited campaigns must stay within them.", "success")
            return redirect(url_for("campaigns.admin_caps"))
    return render_template("campaigns/admin_caps.html", form=form, platforms=list(ReviewPlatform),
                           rating_rule=campaigns.RATING_RULE), 422 if form.errors else 200
