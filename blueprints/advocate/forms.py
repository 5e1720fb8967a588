from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from portal.forms import MultiCheckboxField, ProfileFieldsForm, email_field
from portal.models import Delivery, NotificationCategory


class ProfileForm(ProfileFieldsForm):
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    submit = SubmitField("Save my profile")


class ConsentForm(FlaskForm):
    purposes = MultiCheckboxField("I agree that", validators=[])
    submit = SubmitField("Save my consent choices")


class EmptyForm(FlaskForm):
    """A button: only the CSRF token matters."""


class JobChangeForm(FlaskForm):
    company = StringField("New company", validators=[DataRequired("Enter your new company."), Length(max=200)],
                          render_kw={"autocomplete": "organization"})
    email = email_field("Your new work email")
    job_title = StringField("New job title", validators=[DataRequired("Enter your new job title."), Length(max=150)],
                            render_kw={"autocomplete": "organization-title"})
    submit = SubmitField("Record my move")


DELIVERY_CHOICES = [
    SelectChoice(Delivery.IMMEDIATE.value, "Right away"),
    SelectChoice(Delivery.DIGEST.value, "In a weekly summary"),
    SelectChoice(Delivery.OFF.value, "Never"),
]


def _delivery(category: NotificationCategory) -> RadioField:
    return RadioField(category.label, choices=DELIVERY_CHOICES, default=Delivery.IMMEDIATE.value,
                      validators=[DataRequired("Choose how to hear about this.")])


class NotificationPreferencesForm(FlaskForm):
    decisions = _delivery(NotificationCategory.DECISIONS)
    requests = _delivery(NotificationCategory.REQUESTS)
    programs = _delivery(NotificationCategory.PROGRAMS)
    reminders = _delivery(NotificationCategory.REMINDERS)
    submit = SubmitField("Save email preferences")

    def choices(self) -> dict[NotificationCategory, Delivery]:
        return {category: Delivery(self[category.value].data) for category in NotificationCategory}


class DeleteAccountForm(FlaskForm):
    confirm_email = StringField("Type your email address to confirm",
                                validators=[DataRequired("Type your email address to confirm.")],
                                render_kw={"autocomplete": "off"})
    submit = SubmitField("Delete my account")
