import time

from authlib.integrations.base_client import OAuthError
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from requests import RequestException

from blueprints.auth import bp
from blueprints.auth.forms import ConfirmLinkForm, EmailLinkForm, PasswordSignInForm, SignOutEverywhereForm
from portal.database import commit
from portal.extensions import limiter, submitted_address, submitted_address_and_client
from portal.models import AdvocateStatus, normalise_email
from portal.security import home_for, safe_next, session_limits, start_session
from portal.services import auth, nominations
from portal.urls import external_url


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


def _client_limit() -> str:
    return current_app.config["SIGN_IN_CLIENT_RATE_LIMIT"]


def _password_failure_limit() -> str:
    return current_app.config["PASSWORD_FAILURE_LIMIT"]


def _password_refused(response) -> bool:
    return response.status_code == 422


def _render_sign_in(link_form=None, password_form=None, status=200):
    next_url = safe_next(request.values.get("next")) or ""
    link_form = link_form or EmailLinkForm(next=next_url, formdata=None)
    password_form = password_form or PasswordSignInForm(next=next_url, formdata=None)
    return (
        render_template("auth/sign_in.html", link_form=link_form, password_form=password_form),
        status,
    )


def _finish_sign_in(user, next_url: str | None):
    session.clear()  # nothing from before sign-in carries over into the signed-in session
    login_user(user)
    start_session(user, session, time.time())
    commit()
    return redirect(safe_next(next_url) or home_for(user))


@bp.get("/sign-in")
def sign_in():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or home_for(current_user))
    return _render_sign_in()


@bp.post("/sign-in/link")
@limiter.limit(_client_limit)
@limiter.limit(_sign_in_limit, key_func=submitted_address)
def send_link():
    form = EmailLinkForm()
    if not form.validate_on_submit():
        return _render_sign_in(link_form=form, status=422)
    auth.request_sign_in_link(form.email.data, next_url=safe_next(form.next.data))
    commit()
    session["link_sent_to"] = normalise_email(form.email.data)
    return redirect(url_for("auth.link_sent"))


@bp.get("/sign-in/link-sent")
def link_sent():
    return render_template(
        "auth/link_sent.html",
        email=session.get("link_sent_to"),
        minutes=current_app.config["SIGN_IN_LINK_MAX_AGE"] // 60,
    )


@bp.get("/sign-in/link/<token>")
def confirm_link(token: str):
    # Opening the link only shows a button: mail scanners that prefetch links do not spend it.
    try:
        user = auth.check_sign_in_token(token)
    except auth.SignInError as exc:
        return render_template("auth/link_invalid.html", error=exc.message, form=EmailLinkForm(formdata=None)), 400
    form = ConfirmLinkForm(next=safe_next(request.args.get("next")) or "", formdata=None)
    return render_template("auth/confirm_link.html", user=user, form=form, purpose=auth.link_purpose(token))


@bp.post("/sign-in/link/<token>")
@limiter.limit(_client_limit)
def redeem_link(token: str):
    form = ConfirmLinkForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        user = auth.redeem_sign_in_token(token)
    except auth.SignInError as exc:
        return render_template("auth/link_invalid.html", error=exc.message, form=EmailLinkForm(formdata=None)), 400
    # Opening an emailed link proves the address: a nomination waiting for that goes on.
    advocate = nominations.on_email_verified(user)
    next_url = form.next.data
    if advocate is not None and advocate.status is AdvocateStatus.INVITED:
        next_url = url_for("advocate.profile")
    return _finish_sign_in(user, next_url)


@bp.post("/sign-in/password")
@limiter.limit(_client_limit)
# Only refusals count, per address and client, with a longer wait at each step: there is no
# per-address count here, which anyone could fill to lock the owner out.
@limiter.limit(_password_failure_limit, key_func=submitted_address_and_client, deduct_when=_password_refused)
def password_sign_in():
    form = PasswordSignInForm()
    if not form.validate_on_submit():
        return _render_sign_in(password_form=form, status=422)
    try:
        user = auth.authenticate_password(form.email.data, form.password.data)
    except auth.SignInError as exc:
        commit()  # nothing to save, but keep the one-commit-per-request rhythm
        form.password.errors.append(exc.message)
        return _render_sign_in(password_form=form, status=422)
    return _finish_sign_in(user, form.next.data)


def _sso_unavailable(exc: RequestException):
    # The provider is another system: its outage is not a 500 of ours, and the person
    # still has the password form.
    current_app.logger.warning("single sign-on provider unreachable: %s", exc)
    flash("Single sign-on is not available right now. Try again in a moment, or sign in with your password.", "error")
    return redirect(url_for("auth.sign_in"))


@bp.get("/sign-in/sso")
@limiter.limit(_client_limit)
def sso_start():
    if not current_app.config["OIDC_ENABLED"]:
        abort(404)
    session["sso_next"] = safe_next(request.args.get("next"))
    try:
        return current_app.extensions["sso"].authorize_redirect(external_url("auth.sso_callback"))
    except RequestException as exc:
        return _sso_unavailable(exc)


@bp.get("/sign-in/sso/callback")
def sso_callback():
    if not current_app.config["OIDC_ENABLED"]:
        abort(404)
    next_url = session.pop("sso_next", None)
    try:
        sso = current_app.extensions["sso"]
        token = sso.authorize_access_token()
        if not token.get("userinfo"):  # the ID token's claims, checked by Authlib
            raise OAuthError("missing_id_token", "the provider sent no ID token")
        claims = dict(token["userinfo"])
        if auth.needs_userinfo(claims):
            userinfo = sso.userinfo(token=token)
            # OIDC Core 5.3.2: userinfo about another subject must not be used.
            if userinfo.get("sub") != claims.get("sub"):
                raise OAuthError("userinfo_mismatch", "the userinfo response is about another subject")
            claims = auth.with_userinfo(claims, userinfo)
        user = auth.sign_in_with_oidc(claims["iss"], claims)
    except OAuthError as exc:
        current_app.logger.info("single sign-on refused: %s", exc)
        flash("Single sign-on did not complete. Please try again.", "error")
        return redirect(url_for("auth.sign_in"))
    except RequestException as exc:
        return _sso_unavailable(exc)
    except auth.SignInError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.sign_in"))
    return _finish_sign_in(user, next_url)


@bp.post("/sign-out")
def sign_out():
    # CSRFProtect has checked the token of the empty form by now. Ending the user's session
    # generation makes every copy of this session's cookie worthless too.
    if current_user.is_authenticated:
        auth.end_sessions(current_user)
        commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("public.index"))


@bp.get("/sign-out/everywhere")
@login_required
def sign_out_everywhere_page():
    idle, absolute = session_limits(current_user)
    return render_template(
        "auth/sign_out_everywhere.html",
        form=SignOutEverywhereForm(formdata=None),
        idle_minutes=idle // 60,
        max_hours=absolute // 3600,
    )


@bp.post("/sign-out/everywhere")
@login_required
def sign_out_everywhere():
    form = SignOutEverywhereForm()
    if not form.validate_on_submit():
        abort(400)
    auth.sign_out_everywhere(current_user, current_user)
    commit()
    logout_user()
    session.clear()
    flash("You are signed out on every device and browser.", "info")
    return redirect(url_for("auth.sign_in"))
