from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import MultiCheckboxField
from portal.models import TermKind
from portal.services import taxonomy
from portal.services.boards import BoardDetails, MeetingDetails, local_to_utc

BOARD_HELP = {
    "description": "What the board works on and what members get out of it. Advocates read this before applying.",
    "eligibility": "Who can apply, in words (for example: directors or above who have used the product for a year).",
    "seat_count": "Members at most. Accepting is refused when every seat is taken; put the rest on the waitlist.",
    "term_months": "How long a membership lasts. Members are offered a renewal a month before it ends.",
    "open": "Closed boards are not listed for advocates; members and the waitlist stay.",
    "products": "Optional: applicants must use all of these products.",
    "industries": "Optional: applicants must work in one of these industries.",
    "regions": "Optional: applicants must work in one of these regions (a region includes the regions inside it).",
}


class BoardForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name the board."), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)], render_kw={"rows": 4})
    eligibility = TextAreaField("Who can apply", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    seat_count = IntegerField("Seats", validators=[InputRequired("Enter the number of seats."),
                                                   NumberRange(1, 500, "Between 1 and 500 seats.")])
    term_months = IntegerField("Term length (months)", default=12,
                               validators=[InputRequired("Enter the term length in months."),
                                           NumberRange(1, 60, "Between 1 and 60 months.")])
    open_for_applications = BooleanField("Open for applications", default=True)
    products = MultiCheckboxField("Products (all of)", coerce=int, validators=[Optional()])
    industries = MultiCheckboxField("Industries (any of)", coerce=int, validators=[Optional()])
    regions = MultiCheckboxField("Regions (any of)", coerce=int, validators=[Optional()])

    def load_choices(self) -> None:
        self.products.choices = [(t.id, t.name) for t in taxonomy.terms(TermKind.PRODUCT)]
        self.industries.choices = [(t.id, t.name) for t in taxonomy.terms(TermKind.INDUSTRY)]
        self.regions.choices = [(r.id, ("– " * depth) + r.name) for r, depth in taxonomy.region_tree()]

    def fill_from(self, board) -> None:
        for name in ("name", "description", "eligibility", "seat_count", "term_months", "open_for_applications"):
            self[name].data = getattr(board, name)
        self.products.data = list(board.product_ids)
        self.industries.data = list(board.industry_ids)
        self.regions.data = list(board.region_ids)

    def details(self) -> BoardDetails:
        return BoardDetails(
            name=self.name.data or "",
            description=self.description.data or "",
            eligibility=self.eligibility.data or "",
            seat_count=self.seat_count.data,
            term_months=self.term_months.data,
            open_for_applications=bool(self.open_for_applications.data),
            product_ids=self.products.data or [],
            industry_ids=self.industries.data or [],
            region_ids=self.regions.data or [],
        )


class MeetingForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Give the meeting a title."), Length(max=200)])
    starts_on = DateField("Date", validators=[InputRequired("Enter the date.")])
    starts_time = TimeField("Start time", validators=[InputRequired("Enter the start time.")])
    time_zone = SelectField("Time zone of that time", default="UTC")
    duration_minutes = IntegerField("Length (minutes)", default=60,
                                    validators=[InputRequired("Enter the length."), NumberRange(15, 1440, "Between 15 and 1440 minutes.")])
    place = StringField("Place", validators=[Optional(), Length(max=300)])
    video_link = StringField("Video link", validators=[Optional(), Length(max=500)], render_kw={"type": "url"})
    agenda = TextAreaField("Agenda", validators=[Optional(), Length(max=4000)], render_kw={"rows": 4})

    def load_choices(self) -> None:
        self.time_zone.choices = sorted(taxonomy.time_zones())

    def details(self) -> MeetingDetails:
        starts = local_to_utc(self.starts_on.data, self.starts_time.data.hour, self.starts_time.data.minute, self.time_zone.data)
        return MeetingDetails(
            title=self.title.data or "",
            starts_at=starts,
            duration_minutes=self.duration_minutes.data,
            place=self.place.data or "",
            video_link=self.video_link.data or "",
            agenda=self.agenda.data or "",
        )


class ApplyForm(FlaskForm):
    motivation = TextAreaField(
        "Why you would like to join",
        validators=[DataRequired("Tell the team why you would like to join and what you would bring."), Length(max=4000)],
        render_kw={"rows": 4},
    )


class EmptyForm(FlaskForm):
    """A button: only the CSRF token matters."""
