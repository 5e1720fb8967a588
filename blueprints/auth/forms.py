from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, Length


class EmailLinkForm(FlaskForm):
    email = EmailField(
        "Work email",
        validators=[
            DataRequired("Enter the work email address you joined the program with."),
            Email("Enter an email address like name@company.com."),
            Length(max=254),
        ],
    )
    next = HiddenField()
    submit = SubmitField("Email me a sign-in link")


class PasswordSignInForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter an email address like name@company.com."),
            Length(max=254),
        ],
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    next = HiddenField()
    submit = SubmitField("Sign in")


class ConfirmLinkForm(FlaskForm):
    next = HiddenField()
    submit = SubmitField("Sign me in")


class SignOutEverywhereForm(FlaskForm):
    submit = SubmitField("Sign out everywhere")
