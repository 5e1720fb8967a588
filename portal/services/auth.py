"""Signing in: single-use email links, passwords (argon2) and OpenID Connect claims."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update

from portal.database import db, utcnow
from portal.models import Role, User, normalise_email
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
        email_user(
            user,
            f"Your sign-in link for {config['PROGRAM_NAME']}",
            "sign_in_link",
            url=sign_in_url(user, next_url),
            minutes=config["SIGN_IN_LINK_MAX_AGE"] // 60,
        )
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


def sign_in_with_oidc(claims: dict) -> User:
    """Match the provider's verified email to an existing, active account."""
    email = claims.get("email")
    if not email or claims.get("email_verified") is False:
        raise SignInError("Your single sign-on account did not share a verified email address.")
    user = find_user(email)
    if user is None or not user.active:
        raise SignInError(
            "There is no portal account for this address. Ask the advocacy team to add you."
        )
    record_sign_in(user)
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
