"""Who a single sign-on is for, without HTTP: the claims as a table, and the schema that
keeps one subject per provider for an account."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.models import UserIdentity
from portal.services import auth
from tests.factories import AdminFactory, StaffFactory, UserFactory

ISSUER = "https://sso.example.com"
OTHER_ISSUER = "https://other-sso.example.com"


def claims(sub="employee-1", email="casey@example.com", **extra) -> dict:
    return {"sub": sub, "email": email, **extra}


@pytest.mark.parametrize(
    ("given", "trust", "signs_in"),
    [
        (claims(email_verified=True), False, True),
        (claims(email_verified=False), False, False),
        (claims(), False, False),  # no email_verified: unverified
        (claims(email_verified="true"), False, False),  # only the JSON true counts
        (claims(), True, True),  # a provider trusted for email
        (claims(email_verified=False), True, False),  # ... still not against its own word
        (claims(email=None, email_verified=True), False, False),
        ({"email": "casey@example.com", "email_verified": True}, False, False),  # no subject
    ],
    ids=["verified", "unverified", "missing", "string", "trusted", "trusted-but-unverified", "no-email", "no-sub"],
)
def test_a_first_sign_in_needs_a_verified_email(app, db, given, trust, signs_in):
    staff = StaffFactory(email="casey@example.com")
    app.config["OIDC_TRUST_EMAIL"] = trust
    if signs_in:
        assert auth.sign_in_with_oidc(ISSUER, given) == staff
    else:
        with pytest.raises(auth.SignInError):
            auth.sign_in_with_oidc(ISSUER, given)
        assert db.session.scalar(select(UserIdentity.id)) is None


ID = {"sub": "employee-1", "iss": ISSUER}


@pytest.mark.parametrize(
    ("id_token", "userinfo", "email", "verified"),
    [
        # node-oidc-provider and others: both claims only from userinfo.
        (ID, {"sub": "employee-1", "email": "casey@example.com", "email_verified": True}, "casey@example.com", True),
        # A verified flag speaks only for the address beside it: never the ID token's address
        # with userinfo's flag about another one.
        ({**ID, "email": "admin@example.com"}, {"sub": "employee-1", "email": "casey@example.com", "email_verified": True},
         "casey@example.com", True),
        ({**ID, "email": "admin@example.com"}, {"sub": "employee-1", "email_verified": True}, "admin@example.com", None),
        ({**ID, "email_verified": True}, {"sub": "employee-1", "email": "admin@example.com"}, "admin@example.com", None),
        # Userinfo without an address: the ID token's pair, as it was.
        ({**ID, "email": "casey@example.com"}, {"sub": "employee-1", "name": "Casey"}, "casey@example.com", None),
    ],
    ids=["userinfo-only", "other-address-in-userinfo", "flag-without-address", "address-without-flag", "no-address-in-userinfo"],
)
def test_userinfo_completes_the_id_token_with_the_address_and_its_flag_together(id_token, userinfo, email, verified):
    merged = auth.with_userinfo(id_token, userinfo)

    assert merged["sub"] == "employee-1" and merged["iss"] == ISSUER
    assert merged.get("email") == email
    assert merged.get("email_verified") == verified


def test_the_link_decides_after_the_first_sign_in(app, db):
    staff = StaffFactory(email="casey@example.com")
    auth.sign_in_with_oidc(ISSUER, claims(email_verified=True))

    # A new address at the provider, not even verified: the subject is what counts now.
    assert auth.sign_in_with_oidc(ISSUER, claims(email="c.jones@example.com")) == staff
    # Another subject with the account's address is not the same person.
    with pytest.raises(auth.SignInError, match="did not find a portal account"):
        auth.sign_in_with_oidc(ISSUER, claims(sub="employee-2", email_verified=True))
    # A new provider (the company moved) links anew, by a verified email.
    assert auth.sign_in_with_oidc(OTHER_ISSUER, claims(sub="u-9", email_verified=True)) == staff
    links = db.session.execute(select(UserIdentity.issuer, UserIdentity.subject).order_by(UserIdentity.id)).all()
    assert links == [(ISSUER, "employee-1"), (OTHER_ISSUER, "u-9")]


@pytest.mark.parametrize(
    ("factory", "roles", "signs_in"),
    [
        (UserFactory, ("staff", "admin"), False),
        (StaffFactory, ("staff", "admin"), True),
        (AdminFactory, ("staff", "admin"), True),
        (StaffFactory, ("admin",), False),
        (UserFactory, ("advocate", "staff", "admin"), True),
    ],
    ids=["advocate", "staff", "admin", "staff-when-admins-only", "advocate-when-allowed"],
)
def test_only_the_configured_roles_may_use_it(app, db, factory, roles, signs_in):
    user = factory(email="casey@example.com")
    app.config["OIDC_ROLES"] = roles
    if signs_in:
        assert auth.sign_in_with_oidc(ISSUER, claims(email_verified=True)) == user
    else:
        with pytest.raises(auth.SignInError, match="did not find a portal account"):
            auth.sign_in_with_oidc(ISSUER, claims(email_verified=True))
        assert db.session.scalar(select(UserIdentity.id)) is None


def test_the_schema_keeps_one_subject_per_provider_for_an_account(db):
    staff = StaffFactory()
    db.session.add(UserIdentity(user_id=staff.id, issuer=ISSUER, subject="employee-1"))
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(UserIdentity(user_id=staff.id, issuer=ISSUER, subject="employee-2"))
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(UserIdentity(user_id=StaffFactory().id, issuer=ISSUER, subject="employee-1"))
