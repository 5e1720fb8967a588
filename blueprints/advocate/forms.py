from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import MultiCheckboxField, ProfileFieldsForm, email_field
from portal.models import Channel, Delivery, NotificationCategory
from portal.services.preferences import ContactPreferences


class ProfileForm(ProfileFieldsForm):
    # What an advocate is open to is a contact preference, set on /preferences.
    activity_types = None
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


WEEKDAYS = [SelectChoice(n, name) for n, name in enumerate(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], start=1)]
HOURS = [SelectChoice(h, f"{h:02d}:00") for h in range(0, 25)]


class ContactPreferencesForm(FlaskForm):
    activity_types = MultiCheckboxField("I am open to", coerce=int, validators=[])
    # The service explains a value above the program's limit better than "Not a valid choice".
    month_limit = SelectField("At most this many asks a month", validators=[Optional()], validate_choice=False)
    quarter_limit = SelectField("At most this many asks a quarter", validators=[Optional()], validate_choice=False)
    channel = RadioField("Contact me by", choices=[SelectChoice(c.value, c.value.capitalize()) for c in Channel],
                         validators=[DataRequired("Choose email or phone.")])
    phone = StringField("Phone number", validators=[Optional(), Length(max=40)], render_kw={"autocomplete": "tel", "type": "tel"})
    contact_days = MultiCheckboxField("Days that suit calls", coerce=int, choices=WEEKDAYS, validators=[])
    hours_start = SelectField("From", coerce=int, choices=HOURS[:-1])
    hours_end = SelectField("Until", coerce=int, choices=HOURS[1:])
    paused_until = DateField("Pause all contact until", validators=[Optional()])
    submit = SubmitField("Save contact preferences")

    def load_choices(self, activity_types, month_max: int, quarter_max: int) -> None:
        self.activity_types.choices = [(a.id, a.name) for a in activity_types]
        self.month_limit.choices = [("", f"Program default ({month_max})")] + [(str(n), str(n)) for n in range(0, month_max + 1)]
        self.quarter_limit.choices = [("", f"Program default ({quarter_max})")] + [(str(n), str(n)) for n in range(0, quarter_max + 1)]

    def to_preferences(self) -> ContactPreferences:
        return ContactPreferences(
            activity_type_ids=list(self.activity_types.data or []),
            month_limit=_limit(self.month_limit.data),
            quarter_limit=_limit(self.quarter_limit.data),
            channel=Channel(self.channel.data),
            phone=self.phone.data or "",
            contact_days=list(self.contact_days.data or []),
            hours_start=self.hours_start.data,
            hours_end=self.hours_end.data,
            paused_until=self.paused_until.data,
        )

    def fill_from(self, prefs: ContactPreferences) -> None:
        self.activity_types.data = prefs.activity_type_ids
        self.month_limit.data = "" if prefs.month_limit is None else str(prefs.month_limit)
        self.quarter_limit.data = "" if prefs.quarter_limit is None else str(prefs.quarter_limit)
        self.channel.data = prefs.channel.value
        self.phone.data = prefs.phone
        self.contact_days.data = prefs.contact_days
        self.hours_start.data = prefs.hours_start
        self.hours_end.data = prefs.hours_end
        self.paused_until.data = prefs.paused_until


def _limit(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    return int(value) if value.isdigit() else -1  # the service refuses it beside the field


class BlackoutForm(FlaskForm):
    starts_on = DateField("First day", validators=[DataRequired("Enter the first day.")])
    ends_on = DateField("Last day", validators=[DataRequired("Enter the last day.")])
    note = StringField("Note (only you and the team see it)", validators=[Optional(), Length(max=200)])
    submit = SubmitField("Add blackout")


class AnswerAskForm(FlaskForm):
    reason = StringField("Reason (optional)", validators=[Optional(), Length(max=2000)])
