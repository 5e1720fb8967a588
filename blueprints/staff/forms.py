from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import email_field


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
