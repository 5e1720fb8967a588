"""Signing in: single-use email links, passwords (argon2) and OpenID Connect claims."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.database import db, utcnow
from portal.models import Role, User, UserIdentity, normalise_email
from portal.services import audit
from portal.services.errors import DomainError
from portal.services.notify import email_user
from portal.services.outbox import queue_email
from portal.urls import external_url

_hasher = PasswordHasher()
# Verified against when the address is unknown, so a wrong address costs as long as a
# wrong password and response times do not reveal who has an account.
_DUMMY_HASH = _hasher.hash("not a real password")

MIN_PASSWORD_LENGTH = 12
LINK_ROLES = (Role.ADVOCATE,)


class SignInError(DomainError):
    pass


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="sign-in-link")


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


# --- email links ----------------------------------------------------------------------------


class LinkPurpose:
    """What a link is for decides how long it lives and what the confirm page says."""

    SIGN_IN = "sign-in"  # asked for at /sign-in
    VERIFY = "verify"  # sent after a self-nomination, to verify the work email
    INVITE = "invite"  # sent to a customer nominated by staff or imported


def _max_age(purpose: str) -> int:
    config = current_app.config
    return {
        LinkPurpose.SIGN_IN: config["SIGN_IN_LINK_MAX_AGE"],
        LinkPurpose.VERIFY: config["VERIFY_LINK_MAX_AGE"],
        LinkPurpose.INVITE: config["INVITATION_LINK_MAX_AGE"],
    }.get(purpose, config["SIGN_IN_LINK_MAX_AGE"])


def sign_in_token(user: User, purpose: str = LinkPurpose.SIGN_IN) -> str:
    """A signed token that is good for one sign-in within its purpose's lifetime.

    It carries the user's sign-in generation; every sign-in bumps it, which spends this
    link and every other one issued before.
    """
    return _serializer().dumps({"u": user.id, "g": user.sign_in_generation, "p": purpose})


def sign_in_url(user: User, next_url: str | None = None, purpose: str = LinkPurpose.SIGN_IN) -> str:
    return external_url("auth.confirm_link", token=sign_in_token(user, purpose), next=next_url)


def link_purpose(token: str) -> str:
    """The purpose a (syntactically valid) token claims; only for choosing page wording."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return LinkPurpose.SIGN_IN
    return data.get("p", LinkPurpose.SIGN_IN) if isinstance(data, dict) else LinkPurpose.SIGN_IN


def request_sign_in_link(email: str, next_url: str | None = None) -> None:
    """Email a sign-in link to an advocate. The caller shows the same answer whatever
    happens here, so nobody learns from the page which addresses have accounts."""
    user = find_user(email)
    config = current_app.config
    if user is not None and user.active and user.role in LINK_ROLES:
        email_sign_in_link(user, next_url)
    elif user is None:
        # Only the owner of the address reads this, so it reveals nothing to the requester,
        # and it tells a customer who typed the address they were invited with what to do.
        queue_email(
            email,
            f"Signing in to {config['PROGRAM_NAME']}",
            "sign_in_unknown",
            program_url=external_url("public.index"),
        )
    # An inactive user, or a team member (who signs in with SSO or a password), gets nothing.


def email_sign_in_link(user: User, next_url: str | None = None) -> None:
    config = current_app.config
    email_user(
        user,
        f"Your sign-in link for {config['PROGRAM_NAME']}",
        "sign_in_link",
        url=sign_in_url(user, next_url),
        minutes=config["SIGN_IN_LINK_MAX_AGE"] // 60,
    )


def check_sign_in_token(token: str) -> User:
    """The user a link belongs to, if it is still good; nothing is spent."""
    try:
        data, signed_at = _serializer().loads(token, return_timestamp=True)
    except BadSignature as exc:
        raise SignInError("This sign-in link is not valid. Ask for a new one below.") from exc
    if not isinstance(data, dict):
        raise SignInError("This sign-in link is not valid. Ask for a new one below.")
    if (utcnow() - signed_at).total_seconds() > _max_age(data.get("p", LinkPurpose.SIGN_IN)):
        raise SignInError("This sign-in link has expired. Ask for a new one below.")
    user = db.session.get(User, data.get("u"))
    if user is None or not user.active:
        raise SignInError("This sign-in link is not valid. Ask for a new one below.")
    if user.sign_in_generation != data.get("g"):
        raise SignInError("This sign-in link has already been used. Ask for a new one below.")
    return user


def redeem_sign_in_token(token: str) -> User:
    """Spend the link. The generation is compared and bumped in one UPDATE, so when the same
    link is opened twice at once exactly one of them signs in."""
    user = check_sign_in_token(token)
    spent = db.session.execute(
        update(User)
        .where(User.id == user.id, User.sign_in_generation == user.sign_in_generation)
        .values(sign_in_generation=User.sign_in_generation + 1, last_sign_in_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise SignInError("This sign-in link has already been used. Ask for a new one below.")
    db.session.refresh(user)
    return user


def record_sign_in(user: User) -> None:
    user.last_sign_in_at = utcnow()
    user.sign_in_generation += 1  # outstanding email links are spent by any sign-in
    db.session.flush()


# --- sessions -------------------------------------------------------------------------------


def end_sessions(user: User) -> None:
    """Every session of ``user`` made so far stops working (sign-out): sessions carry the
    generation they were made in, and the user loader compares it on every request."""
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user)


def sign_out_everywhere(actor: User | None, user: User, record=None) -> None:
    """End every session of ``user``, at their own request, an admin's, or from the command
    line (``actor`` None), on the record (``record``: what the admin acted from, e.g. the
    advocate record; else the user)."""
    end_sessions(user)
    if actor is None:
        summary = f"{user.name} signed out everywhere from the command line"
    elif actor.id == user.id:
        summary = f"{user.name} signed out everywhere"
    else:
        summary = f"{actor.name} signed {user.name} out everywhere"
    audit.record(actor, "user.signed_out_everywhere", record or user, summary, user_id=user.id)
    db.session.flush()


# --- passwords ------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    return _hasher.hash(password)


def authenticate_password(email: str, password: str) -> User:
    """Staff and admins only; the same message for every failure."""
    failure = SignInError("That email and password do not match an account.", field="password")
    user = find_user(email)
    if user is None or not user.password_hash or not user.is_team or not user.active:
        _verify(_DUMMY_HASH, password)
        raise failure
    if not _verify(user.password_hash, password):
        raise failure
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    record_sign_in(user)
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# --- single sign-on -------------------------------------------------------------------------


# The same words for every refusal that could otherwise tell someone which addresses have
# accounts, or what role an account has (no account enumeration through the provider).
NO_SSO_ACCOUNT = (
    "Single sign-on did not find a portal account you can use with it. If you should have one, "
    "ask the advocacy team; customers sign in with an emailed link instead."
)
UNVERIFIED_EMAIL = (
    "Your single sign-on provider did not confirm that your email address is verified, so the "
    "portal cannot use it. Ask your IT team to verify it, or sign in another way."
)

OIDC_CLAIMS = ("email", "email_verified")


def needs_userinfo(claims: dict) -> bool:
    """True when the ID token lacks claims the sign-in needs: OIDC Core lets a provider send
    them only from its userinfo endpoint (node-oidc-provider does by default)."""
    return any(name not in claims for name in OIDC_CLAIMS)


def with_userinfo(claims: dict, userinfo: dict) -> dict:
    """The ID token's ``claims`` completed from the userinfo response (about the same
    subject: the caller checks). ``email`` and ``email_verified`` come together from one of
    the two, userinfo's when it names an address: a verified flag speaks only for the
    address beside it, never for one from the other response."""
    pair_from = userinfo if "email" in userinfo else claims
    merged = {name: value for name, value in {**userinfo, **claims}.items() if name not in OIDC_CLAIMS}
    merged.update({name: pair_from[name] for name in OIDC_CLAIMS if name in pair_from})
    return merged


def sign_in_with_oidc(issuer: str, claims: dict) -> User:
    """The user an OpenID Connect sign-in is for.

    An identity already linked by (issuer, subject) decides, whatever the email says now.
    Otherwise the provider's email must be verified (``email_verified`` true, or the issuer
    trusted for email by configuration) and belong to an account, which is then linked to
    this subject for good. Only the configured roles may use single sign-on."""
    config = current_app.config
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SignInError(NO_SSO_ACCOUNT)
    identity = db.session.scalar(
        select(UserIdentity).where(UserIdentity.issuer == issuer, UserIdentity.subject == subject)
    )
    if identity is not None:
        user = identity.user
    else:
        user = _account_for_first_sso(issuer, claims)
    if not user.active or user.role.value not in config["OIDC_ROLES"]:
        raise SignInError(NO_SSO_ACCOUNT)
    if identity is None:
        identity = UserIdentity(user_id=user.id, issuer=issuer, subject=subject)
        try:
            with db.session.begin_nested():  # the unique constraints decide, not the read above
                db.session.add(identity)
        except IntegrityError as exc:  # linked to another subject at this very moment
            raise SignInError(NO_SSO_ACCOUNT) from exc
    identity.last_used_at = utcnow()
    record_sign_in(user)
    return user


def _account_for_first_sso(issuer: str, claims: dict) -> User:
    """The account a subject not linked yet may claim: by a verified email, and only if no
    other subject of this provider holds the account already."""
    email = claims.get("email")
    verified = claims.get("email_verified") is True or (
        current_app.config["OIDC_TRUST_EMAIL"] and "email_verified" not in claims
    )
    if not isinstance(email, str) or not email or not verified:
        raise SignInError(UNVERIFIED_EMAIL)
    user = find_user(email)
    if user is None or db.session.scalar(
        select(UserIdentity.id).where(UserIdentity.user_id == user.id, UserIdentity.issuer == issuer)
    ):
        raise SignInError(NO_SSO_ACCOUNT)
    return user


# --- accounts for the command line ----------------------------------------------------------


def create_user(email: str, name: str, role: Role, password: str | None = None) -> User:
    email = normalise_email(email)
    if find_user(email) is not None:
        raise DomainError(f"{email} already has an account.", field="email")
    user = User(email=email, name=name, role=role)
    if password is not None:
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    return user
