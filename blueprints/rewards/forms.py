from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, DateField, DecimalField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal import money
from portal.models import GiftPolicy, PointsSource
from portal.models.points import DEFAULT_POINTS

MONEY = [Optional(), NumberRange(min=0, max=99_999_999, message="Enter an amount from 0 to 99,999,999.")]


class ClaimForm(FlaskForm):
    charity = SelectField("Donate to", choices=[], validate_choice=False, validators=[Optional()])
    delivery_note = TextAreaField("Where to send it", validators=[Optional(), Length(max=2000)])


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000)])


class LeaderboardForm(FlaskForm):
    leaderboard_opt_in = BooleanField("Show me on the leaderboard")
    display_name = StringField("Name shown on the leaderboard", validators=[Optional(), Length(max=60)])


class RewardForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name the reward."), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)])
    image = FileField("Image", validators=[FileAllowed(["png", "jpg", "jpeg", "webp"], "Upload a PNG, JPEG or WebP image.")])
    points_cost = IntegerField("Points it costs", validators=[InputRequired("Enter the points it costs."),
                                                              NumberRange(min=1, max=1_000_000, message="Between 1 and 1,000,000.")])
    monetary_value = DecimalField("Monetary value", places=2, validators=[InputRequired("Enter its value (0 for none)."), *MONEY[1:]])
    stock = IntegerField("Stock", validators=[Optional(), NumberRange(min=0, max=1_000_000, message="Enter 0 or more, or leave it empty.")])
    per_advocate_limit = IntegerField("Per advocate, at most", validators=[Optional(), NumberRange(min=1, max=1000, message="Enter 1 or more, or leave it empty.")])
    available_from = DateField("Available from", validators=[Optional()])
    available_until = DateField("Available until", validators=[Optional()])
    needs_approval = BooleanField("Needs the team's approval")
    is_donation = BooleanField("A charity donation")
    charities = TextAreaField("Charities to choose from", validators=[Optional(), Length(max=4000)])
    active = BooleanField("In the catalog", default=True)

    def charity_list(self) -> list[str]:
        return [line.strip() for line in (self.charities.data or "").splitlines() if line.strip()]


def _points_field(source: PointsSource) -> IntegerField:
    return IntegerField(source.label, default=DEFAULT_POINTS[source],
                        validators=[InputRequired("Enter a number of points."), NumberRange(min=0, max=100_000, message="Between 0 and 100,000.")])


class PointsSettingsForm(FlaskForm):
    nomination_approved = _points_field(PointsSource.NOMINATION_APPROVED)
    profile_confirmed = _points_field(PointsSource.PROFILE_CONFIRMED)
    ask_accepted = _points_field(PointsSource.ASK_ACCEPTED)
    ask_completed = _points_field(PointsSource.ASK_COMPLETED)
    review_verified = _points_field(PointsSource.REVIEW_VERIFIED)
    meeting_attended = _points_field(PointsSource.MEETING_ATTENDED)
    value_per_point = DecimalField("Value of one point", places=4,
                                   validators=[InputRequired("Enter the value of a point."), NumberRange(min=0, max=1000, message="Between 0 and 1,000.")])
    default_annual_gift_cap = DecimalField("Annual gift limit per advocate", places=2,
                                           validators=[InputRequired("Enter the default limit."), *MONEY[1:]])
    currency = SelectField("Program currency", choices=[SelectChoice(code, f"{code} — {name}") for code, name in money.currencies()],
                           validators=[DataRequired("Choose the program's currency.")])


def _not_zero(form, field):
    if field.data == 0:
        raise ValidationError("Enter a number of points other than zero.")


class AdjustPointsForm(FlaskForm):
    email = StringField("Advocate's email", validators=[DataRequired("Enter the advocate's email."), Length(max=254)],
                        render_kw={"type": "email", "autocomplete": "off"})
    points = IntegerField("Points", validators=[InputRequired("Enter a number of points."),
                                                NumberRange(min=-100_000, max=100_000, message="Between -100,000 and 100,000."), _not_zero])
    reason = TextAreaField("Reason", validators=[DataRequired("Give a reason: the advocate sees it in their points history."), Length(max=2000)])


class GiftPolicyForm(FlaskForm):
    gift_policy = SelectField("Gift policy", choices=[SelectChoice(p.value, p.label) for p in GiftPolicy],
                              validators=[DataRequired("Choose a policy.")])
    annual_gift_cap = DecimalField("Annual limit", places=2, validators=MONEY)
