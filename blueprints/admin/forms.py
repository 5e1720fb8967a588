from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import CHOOSE, MultiCheckboxField, amount_in_range, optional_int
from portal.models import AdvocateStatus, QueueKind, TermKind
from portal.services import taxonomy


class DecisionForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )


class BulkDecisionForm(DecisionForm):
    item_ids = SelectMultipleField("Items", coerce=int, validate_choice=False)


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "All kinds")] + [SelectChoice(k.value, k.label) for k in QueueKind],
        validators=[Optional()],
    )
    age = SelectField(
        "Waiting",
        choices=[
            SelectChoice("", "Any time"),
            SelectChoice("1", "More than a day"),
            SelectChoice("7", "More than a week"),
            SelectChoice("30", "More than a month"),
        ],
        validators=[Optional()],
    )
    sort = SelectField(
        "Order",
        choices=[SelectChoice("oldest", "Oldest first"), SelectChoice("newest", "Newest first")],
        validators=[Optional()],
    )


class DirectoryFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Name, email or company", validators=[Optional(), Length(max=100)])
    status = SelectMultipleField("Status", validators=[Optional()])
    product = SelectMultipleField("Products (all of)", coerce=int, validators=[Optional()])
    industry = SelectMultipleField("Industry", coerce=int, validators=[Optional()])
    region = SelectMultipleField("Region", coerce=int, validators=[Optional()])
    use_case = SelectMultipleField("Use cases (all of)", coerce=int, validators=[Optional()])
    activity = SelectMultipleField("Open to (all of)", coerce=int, validators=[Optional()])
    available = BooleanField("Available now")
    usage = SelectField(
        "Usage",
        choices=[
            SelectChoice("", "Any"),
            SelectChoice("over", "Over-used (at their limit two periods running)"),
            SelectChoice("under", "Under-used (available, not asked in 90 days)"),
        ],
        validators=[Optional()],
    )
    stale = BooleanField("Only profiles due for confirmation")

    def load_choices(self) -> None:
        self.status.choices = [(s.value, s.label) for s in AdvocateStatus if s.value not in ("lapsed", "erased")]
        self.product.choices = [(t.id, t.name) for t in taxonomy.terms(TermKind.PRODUCT)]
        self.industry.choices = [(t.id, t.name) for t in taxonomy.terms(TermKind.INDUSTRY)]
        self.region.choices = [(r.id, ("– " * depth) + r.name) for r, depth in taxonomy.region_tree()]
        self.use_case.choices = [(t.id, t.name) for t in taxonomy.terms(TermKind.USE_CASE)]
        self.activity.choices = [(a.id, a.name) for a in taxonomy.activity_types()]


class ImportForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired("Choose a CSV file."), FileAllowed(["csv", "txt", "tsv"], "Upload a .csv or .txt file.")],
    )


class TermForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=120)])


class ActivityTypeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=120)])
    description = StringField("Description", validators=[Optional(), Length(max=500)])
    weight = SelectField("Weight", choices=[SelectChoice("light", "Light"), SelectChoice("heavy", "Heavy")], validators=[DataRequired()])


class RegionForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=120)])
    parent_id = SelectField("Inside", coerce=int, validators=[Optional()])
    countries = MultiCheckboxField("Countries directly in this region", validators=[Optional()])

    def load_choices(self, exclude_id: int | None = None) -> None:
        self.parent_id.choices = [(0, "— top level —")] + [
            (r.id, ("– " * depth) + r.name) for r, depth in taxonomy.region_tree() if r.id != exclude_id
        ]
        self.countries.choices = [(code, f"{name} ({code})") for code, name in taxonomy.countries()]


TERM_KIND_SLUGS = {"products": TermKind.PRODUCT, "use-cases": TermKind.USE_CASE, "industries": TermKind.INDUSTRY}


class AskForm(FlaskForm):
    activity_type = SelectField("What you ask for", coerce=optional_int, validators=[DataRequired("Choose what you ask for.")])
    prospect_company = StringField("Prospect", validators=[DataRequired("Name the prospect."), Length(max=200)])
    opportunity_id = StringField("Opportunity id (CRM)", validators=[Optional(), Length(max=100)])
    deal_size = DecimalField("Deal size", places=2, validators=[Optional(), NumberRange(min=0, message="Enter 0 or more."), amount_in_range])
    due_on = DateField("Answer needed by", validators=[DataRequired("Enter the date you need an answer by.")])
    notes = TextAreaField("Notes for the advocate", validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})
    override_reason = TextAreaField(
        "Send anyway, because …", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2}
    )

    def load_choices(self) -> None:
        self.activity_type.choices = [CHOOSE] + [(a.id, a.name) for a in taxonomy.activity_types()]


class CompleteAskForm(FlaskForm):
    outcome = SelectField("Outcome", choices=[SelectChoice("won", "Won"), SelectChoice("lost", "Lost"), SelectChoice("open", "Still open")],
                          validators=[DataRequired("Choose the outcome.")])
    outcome_amount = DecimalField("Amount influenced", places=2,
                                  validators=[Optional(), NumberRange(min=0, message="Enter 0 or more."), amount_in_range])


class ProgramSettingsForm(FlaskForm):
    month_limit = IntegerField("Asks a month, at most", validators=[InputRequired("Enter a number."), NumberRange(min=1, max=31, message="Between 1 and 31.")])
    quarter_limit = IntegerField("Asks a quarter, at most", validators=[InputRequired("Enter a number."), NumberRange(min=1, max=93, message="Between 1 and 93.")])
    light_cooldown_days = IntegerField("Days of rest after a light ask", validators=[InputRequired("Enter a number."), NumberRange(min=0, max=365, message="Between 0 and 365.")])
    heavy_cooldown_days = IntegerField("Days of rest after a heavy ask", validators=[InputRequired("Enter a number."), NumberRange(min=0, max=365, message="Between 0 and 365.")])


class CoverageTargetForm(FlaskForm):
    industry = SelectField("Industry", coerce=int, validators=[Optional()])
    region = SelectField("Region", coerce=int, validators=[Optional()])
    product = SelectField("Product", coerce=int, validators=[Optional()])
    target = IntegerField(
        "Advocates wanted",
        validators=[InputRequired("Enter how many advocates you want."), NumberRange(min=1, max=10000, message="Enter a number from 1 to 10,000.")],
    )

    def load_choices(self) -> None:
        any_ = [(0, "Any")]
        self.industry.choices = any_ + [(t.id, t.name) for t in taxonomy.terms(TermKind.INDUSTRY)]
        self.region.choices = any_ + [(r.id, ("– " * depth) + r.name) for r, depth in taxonomy.region_tree()]
        self.product.choices = any_ + [(t.id, t.name) for t in taxonomy.terms(TermKind.PRODUCT)]


class RecruitingCallForm(FlaskForm):
    message = TextAreaField("Message to staff", validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})


class ReportForm(FlaskForm):
    quarter = SelectField("Quarter", validators=[DataRequired("Choose a quarter.")])
