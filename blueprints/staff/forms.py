from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import CHOOSE, MultiCheckboxField, amount_in_range, email_field, optional_int
from portal.models import TermKind
from portal.services import taxonomy


class NominateForm(FlaskForm):
    name = StringField("Customer contact's name", validators=[DataRequired("Enter the contact's name."), Length(max=200)])
    email = email_field("Their work email")
    company = StringField("Their company", validators=[DataRequired("Enter the customer's company."), Length(max=200)],
                          render_kw={"list": "accounts"})
    job_title = StringField("Their job title", validators=[Optional(), Length(max=150)])
    reason = TextAreaField("Why would they be a good advocate?",
                           validators=[DataRequired("Say why: the advocacy team and the customer both read it."),
                                       Length(max=2000)], render_kw={"rows": 4})
    submit = SubmitField("Nominate")


class ReferenceRequestForm(FlaskForm):
    prospect_company = StringField("Prospect", validators=[DataRequired("Name the prospect."), Length(max=200)])
    opportunity_id = StringField("Opportunity id (CRM)", validators=[Optional(), Length(max=100)])
    deal_size = DecimalField("Deal size", places=2, validators=[Optional(), NumberRange(min=0, message="Enter 0 or more."), amount_in_range])
    due_on = DateField("Needed by", validators=[DataRequired("Enter the date you need the references by.")])
    activity_type = SelectField("What the advocate should do", coerce=optional_int, validators=[DataRequired("Choose an activity.")])
    how_many = IntegerField("How many advocates", default=1,
                            validators=[InputRequired("Enter a number."), NumberRange(min=1, max=10, message="Between 1 and 10.")])
    products = MultiCheckboxField("Products the advocate should use (all of)", coerce=int, validators=[])
    industry = SelectField("Industry", coerce=int, validators=[Optional()])
    region = SelectField("Region", coerce=int, validators=[Optional()])
    notes = TextAreaField("What the prospect wants to hear about", validators=[Optional(), Length(max=2000)],
                          render_kw={"rows": 3})
    submit = SubmitField("Request references")

    def load_choices(self) -> None:
        self.activity_type.choices = [CHOOSE] + [(a.id, a.name) for a in taxonomy.activity_types()]
        self.products.choices = [(t.id, t.name) for t in taxonomy.terms(TermKind.PRODUCT)]
        self.industry.choices = [(0, "Any industry")] + [(t.id, t.name) for t in taxonomy.terms(TermKind.INDUSTRY)]
        self.region.choices = [(0, "Anywhere")] + [(r.id, ("– " * d) + r.name) for r, d in taxonomy.region_tree()]
