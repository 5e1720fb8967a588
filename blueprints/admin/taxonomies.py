"""/admin/taxonomies: the lists advocates are described and searched by."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from blueprints.admin import bp
from blueprints.admin.forms import TERM_KIND_SLUGS, ActivityTypeForm, RegionForm, TermForm
from portal.database import commit, db, rollback
from portal.models import ActivityType, ActivityWeight, Region, Term, TermKind
from portal.services import audit, taxonomy
from portal.services.errors import DomainError


def _render(add_forms=None, status=200):
    add_forms = add_forms or {}
    return (
        render_template(
            "admin/taxonomies.html",
            kinds=[(slug, kind, taxonomy.terms(kind, include_retired=True)) for slug, kind in TERM_KIND_SLUGS.items()],
            add_forms={slug: add_forms.get(slug) or TermForm(formdata=None, prefix=slug) for slug in TERM_KIND_SLUGS},
            activities=taxonomy.activity_types(include_retired=True),
            regions=taxonomy.region_tree(with_countries=True),
            empty=not any(taxonomy.terms(k, include_retired=True) for k in TermKind),
        ),
        status,
    )


@bp.get("/taxonomies")
def taxonomies():
    return _render()


@bp.post("/taxonomies/defaults")
def load_taxonomy_defaults():
    if taxonomy.load_defaults():
        audit.record(current_user, "taxonomy.defaults", None, "Loaded the default taxonomies")
        flash("The default lists are loaded. Edit them to match your products and markets.", "success")
    commit()
    return redirect(url_for("admin.taxonomies"))


@bp.post("/taxonomies/<slug>")
def add_term(slug: str):
    kind = TERM_KIND_SLUGS.get(slug) or abort(404)
    form = TermForm(prefix=slug)
    if form.validate_on_submit():
        try:
            term = taxonomy.add_term(kind, form.name.data)
        except DomainError as exc:
            rollback()
            form.name.errors.append(exc.message)
        else:
            audit.record(current_user, "taxonomy.added", term, f"Added {kind.value} “{term.name}”")
            commit()
            flash(f"“{term.name}” added.", "success")
            return redirect(url_for("admin.taxonomies") + f"#{slug}")
    return _render({slug: form}, 422)


@bp.post("/taxonomies/terms/<int:term_id>")
def rename_term(term_id: int):
    term = db.get_or_404(Term, term_id)
    form = TermForm(prefix=f"term-{term.id}", meta={"csrf": False})  # CSRFProtect checks the page token
    if form.validate_on_submit():
        try:
            old = term.name
            taxonomy.rename_term(term, form.name.data)
        except DomainError as exc:
            rollback()
            flash(f"Not renamed: {exc.message}", "error")
        else:
            audit.record(current_user, "taxonomy.renamed", term, f"Renamed {term.kind.value} “{old}” to “{term.name}”")
            commit()
            flash(f"Renamed to “{term.name}”.", "success")
    else:
        flash("Not renamed: enter a name of at most 120 characters.", "error")
    return redirect(url_for("admin.taxonomies") + f"#term-{term.id}")


@bp.post("/taxonomies/terms/<int:term_id>/active")
def toggle_term(term_id: int):
    term = db.get_or_404(Term, term_id)
    taxonomy.set_term_active(term, not term.active)
    audit.record(current_user, "taxonomy.retired" if not term.active else "taxonomy.restored", term,
                 f"{'Retired' if not term.active else 'Restored'} {term.kind.value} “{term.name}”")
    commit()
    return redirect(url_for("admin.taxonomies") + f"#term-{term.id}")


@bp.post("/taxonomies/activities/<int:activity_id>")
def edit_activity(activity_id: int):
    activity = db.get_or_404(ActivityType, activity_id)
    form = ActivityTypeForm(prefix=f"activity-{activity.id}", meta={"csrf": False})
    if form.validate_on_submit():
        activity.name = form.name.data.strip()
        activity.description = (form.description.data or "").strip()
        activity.weight = ActivityWeight(form.weight.data)
        audit.record(current_user, "taxonomy.activity_edited", activity, f"Edited activity type “{activity.key}”")
        commit()
        flash(f"“{activity.name}” saved.", "success")
    else:
        flash("Not saved: enter a name of at most 120 characters.", "error")
    return redirect(url_for("admin.taxonomies") + "#activities")


@bp.post("/taxonomies/activities/<int:activity_id>/active")
def toggle_activity(activity_id: int):
    activity = db.get_or_404(ActivityType, activity_id)
    activity.active = not activity.active
    audit.record(current_user, "taxonomy.activity_toggled", activity,
                 f"{'Restored' if activity.active else 'Retired'} activity type “{activity.key}”")
    commit()
    return redirect(url_for("admin.taxonomies") + "#activities")


@bp.route("/taxonomies/regions/new", methods=["GET", "POST"], defaults={"region_id": None})
@bp.route("/taxonomies/regions/<int:region_id>", methods=["GET", "POST"])
def edit_region(region_id: int | None):
    region = db.get_or_404(Region, region_id) if region_id else None
    form = RegionForm(obj=None)
    form.load_choices(exclude_id=region_id)
    if region is not None and not form.is_submitted():
        form.name.data = region.name
        form.parent_id.data = region.parent_id or 0
        form.countries.data = region.country_codes
    if form.validate_on_submit():
        try:
            saved = taxonomy.save_region(region, form.name.data, form.parent_id.data or None, form.countries.data or [])
        except DomainError as exc:
            rollback()
            form[exc.field or "name"].errors.append(exc.message)
        else:
            audit.record(current_user, "taxonomy.region_saved", saved, f"Saved region “{saved.name}”")
            commit()
            flash(f"Region “{saved.name}” saved.", "success")
            return redirect(url_for("admin.taxonomies") + "#regions")
    return render_template("admin/region.html", form=form, region=region), 422 if form.errors else 200
