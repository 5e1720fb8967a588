"""Form pieces shared by several blueprints: the advocate profile fields and their choices."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.models import Seniority, TermKind
from portal.services import taxonomy
from portal.services.nominations import Profile
from portal.services.uploads import MAX_IMAGE_BYTES, too_large_message


# Money columns are Numeric(14, 2): a larger amount cannot be stored (PostgreSQL refuses it).
MAX_AMOUNT = Decimal("999999999999.99")
amount_in_range = NumberRange(max=MAX_AMOUNT, message="Enter an amount below 1,000,000,000,000.")

DEPARTMENTS = [
    "IT", "Engineering", "Finance", "Operations", "Sales", "Marketing", "Customer service",
    "Human resources", "Legal and compliance", "Procurement", "Executive management", "Other",
]


def upload_limit(max_bytes: int = MAX_IMAGE_BYTES) -> dict[str, str]:
    """Attributes for an image upload field: static/js/portal.js refuses a file over the limit
    beside the field, with the words the server would use, before the form (and all that
    was typed in it) is sent."""
    return {"data-max-bytes": str(max_bytes), "data-too-large": too_large_message(max_bytes)}


def optional_int(value) -> int | None:
    """``coerce`` for a required select of ids whose first option is an empty "Choose …":
    HTML wants that placeholder's value empty, and DataRequired then names the field."""
    return None if value in ("", None) else int(value)


CHOOSE = ("", "Choose …")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def email_field(label: str = "Work email", **kwargs) -> StringField:
    return StringField(
        label,
        validators=[
            DataRequired("Enter an email address."),
            Email("Enter an email address like name@company.com.", check_deliverability=False),
            Length(max=254),
        ],
        render_kw={"type": "email", "autocomplete": "email", "inputmode": "email"},
        **kwargs,
    )


class ProfileFieldsForm(FlaskForm):
    """The descriptive fields of a profile; ``load_choices`` fills the lists from the
    taxonomies before validation or rendering."""

    job_title = StringField("Job title", validators=[DataRequired("Enter your job title."), Length(max=150)],
                            render_kw={"autocomplete": "organization-title"})
    seniority = SelectField("Seniority", validators=[DataRequired("Choose your seniority.")])
    department = SelectField("Department", validators=[Optional()])
    industry = SelectField("Industry", coerce=optional_int, validators=[DataRequired("Choose your industry.")])
    country = SelectField("Country you work in", validators=[DataRequired("Choose a country.")])
    languages = SelectMultipleField("Languages you can take calls in", validators=[Optional()])
    time_zone = SelectField("Time zone", validators=[DataRequired("Choose your time zone.")])
    products = MultiCheckboxField("Products you use", coerce=int, validators=[Optional()])
    use_cases = MultiCheckboxField("What you use them for", coerce=int, validators=[Optional()])
    activity_types = MultiCheckboxField("What you are open to", coerce=int, validators=[Optional()])
    story = TextAreaField("Your story", validators=[Optional(), Length(max=2000, message="Keep it under 2,000 characters.")],
                          render_kw={"rows": 4})

    def load_choices(self) -> None:
        self.seniority.choices = [("", "Choose …")] + [(s.value, s.label) for s in Seniority]
        self.department.choices = [("", "Choose …")] + [(d, d) for d in DEPARTMENTS]
        self.industry.choices = [CHOOSE] + [(t.id, t.name) for t in taxonomy.terms(TermKind.INDUSTRY)]
        self.country.choices = [("", "Choose …")] + taxonomy.countries()
        self.languages.choices = taxonomy.languages()
        self.time_zone.choices = [(tz, tz.replace("_", " ")) for tz in sorted(taxonomy.time_zones())]
        self.products.choices = [(t.id, t.name) for t in taxonomy.terms(TermKind.PRODUCT)]
        self.use_cases.choices = [(t.id, t.name) for t in taxonomy.terms(TermKind.USE_CASE)]
        if "activity_types" in self:
            self.activity_types.choices = [(a.id, a.name) for a in taxonomy.activity_types()]

    def to_profile(self) -> Profile:
        return Profile(
            job_title=self.job_title.data.strip(),
            seniority=Seniority(self.seniority.data) if self.seniority.data else None,
            department=self.department.data or "",
            industry_id=self.industry.data or None,
            country=self.country.data or None,
            languages=list(self.languages.data or []),
            time_zone=self.time_zone.data or "UTC",
            story=(self.story.data or "").strip(),
            product_ids=list(self.products.data or []),
            use_case_ids=list(self.use_cases.data or []),
            activity_type_ids=list(self.activity_types.data or []) if "activity_types" in self else [],
        )

    def fill_from(self, profile: Profile) -> None:
        self.job_title.data = profile.job_title
        self.seniority.data = profile.seniority.value if profile.seniority else ""
        self.department.data = profile.department
        self.industry.data = profile.industry_id
        self.country.data = profile.country or ""
        self.languages.data = profile.languages
        self.time_zone.data = profile.time_zone
        self.story.data = profile.story
        self.products.data = profile.product_ids
        self.use_cases.data = profile.use_case_ids
        if "activity_types" in self:
            self.activity_types.data = profile.activity_type_ids


# What each profile field is for, shown beside it (help in line with the task).
PROFILE_HELP = {
    "job_title": "As it appears on your email signature.",
    "seniority": "Prospects often want to talk to someone at their own level.",
    "industry": "Your company's industry.",
    "country": "Used to match you with prospects nearby; your address is never shared.",
    # A phone's list picker has its own ticks: the Ctrl hint is for mouse and keyboard only.
    "languages": Markup('Choose each one.<span class="fine-pointer-only"> Hold Ctrl (Cmd on a Mac) to choose several.</span>'),
    "time_zone": "We only suggest call times in your working hours.",
    "products": "Choose every product you work with.",
    "use_cases": "The problems the products solve for you.",
    "activity_types": "You will only be asked for what you tick here, and you can change it at any time.",
    "story": "A few sentences on what changed for you. It is only shared where you consent.",
}
