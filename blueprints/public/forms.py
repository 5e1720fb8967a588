from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from portal.forms import ProfileFieldsForm, email_field


class JoinForm(ProfileFieldsForm):
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    email = email_field()
    company = StringField("Company", validators=[DataRequired("Enter your company."), Length(max=200)],
                          render_kw={"autocomplete": "organization"})
    submit = SubmitField("Send my nomination")


class UnsubscribeForm(FlaskForm):
    submit = SubmitField("Unsubscribe")
