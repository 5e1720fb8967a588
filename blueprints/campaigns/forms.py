from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import MultiCheckboxField
from portal.models import ReviewPlatform, TermKind
from portal.services import taxonomy

MONEY = NumberRange(min=0, max=99_999_999, message="Enter an amount of 0 or more.")


class EmptyForm(FlaskForm):
    pass


class CampaignForm(FlaskForm):
    name = StringField("Campaign name", validators=[DataRequired("Name the campaign."), Length(max=200)])
    platform = SelectField("Review platform", choices=[SelectChoice(p.value, p.label) for p in ReviewPlatform],
                           validators=[DataRequired("Choose the platform.")])
    review_url = StringField("Review page on the platform", validators=[DataRequired("Enter the review page's address."), Length(max=500)],
                             render_kw={"type": "url", "inputmode": "url"})
    starts_on = DateField("Starts on", validators=[DataRequired("Enter the first day of the campaign.")])
    ends_on = DateField("Ends on", validators=[DataRequired("Enter the last day of the campaign.")])
    target_count = IntegerField("Target: verified reviews", validators=[
        InputRequired("Enter how many reviews you aim for."), NumberRange(min=1, max=100_000, message="Aim for 1 to 100,000 reviews.")])
    points_per_review = IntegerField("Points per verified review", validators=[
        InputRequired("Enter the points a verified review earns (0 for none)."),
        NumberRange(min=0, max=100_000, message="Enter 0 to 100,000 points.")])
    gift_value = DecimalField("Incentive per verified review", places=2, default=0,
                              validators=[Optional(), MONEY], render_kw={"inputmode": "decimal"})
    instructions = TextAreaField("Instructions for advocates", validators=[Optional(), Length(max=5000)], render_kw={"rows": 5})
    products = MultiCheckboxField("Invite users of these products (all of them)", coerce=int, validators=[Optional()])
    industries = MultiCheckboxField("Invite advocates in these industries", coerce=int, validators=[Optional()])
    regions = MultiCheckboxField("Invite advocates in these regions", coerce=int, validators=[Optional()])

    def load_choices(self) -> None:
        self.products.choices = [(t.id, t.name) for t in taxonomy.terms(TermKind.PRODUCT)]
        self.industries.choices = [(t.id, t.name) for t in taxonomy.terms(TermKind.INDUSTRY)]
        self.regions.choices = [(r.id, ("– " * depth) + r.name) for r, depth in taxonomy.region_tree()]


class CapsForm(FlaskForm):
    """One amount per platform; fields are named after the platforms' values."""


for _platform in ReviewPlatform:
    setattr(CapsForm, _platform.value, DecimalField(
        _platform.label, places=2,
        validators=[InputRequired(f"Enter the most a {_platform.label} review may earn (0 for no incentives)."), MONEY],
        render_kw={"inputmode": "decimal"}))


class ProofForm(FlaskForm):
    review_url = StringField("Link to your published review", validators=[Optional(), Length(max=500)],
                             render_kw={"type": "url", "inputmode": "url"})
    screenshot = FileField("Screenshot of your review", render_kw={"accept": "image/png,image/jpeg,image/webp"})
    note = TextAreaField("Note for the team (optional)", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
