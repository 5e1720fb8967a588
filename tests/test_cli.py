"""The command line: ``flask --app wsgi create-admin | login-link | sign-out-everywhere | seed-demo``."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.database import db as database
from portal.models import Account, AuditEvent, Role, User
from portal.services import auth
from tests.factories import TEST_PASSWORD, StaffFactory, UserFactory

PASSWORD = "a long enough admin password"


@pytest.fixture
def cli(app, db):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input)

    return invoke


def password_sign_in(client, email: str, password: str):
    return client.post("/sign-in/password", data={"email": email, "password": password})


def count(model) -> int:
    return database.session.scalar(select(func.count()).select_from(model))


# --- create-admin -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [[], ["--password"]],
    ids=["prompted", "--password-prompted"],
)
def test_create_admin_asks_for_the_password_and_the_admin_can_sign_in(cli, client, args):
    result = cli("create-admin", "Ada@Example.com", *args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Created admin ada@example.com; they sign in with their password." in result.output
    assert PASSWORD not in result.output  # hidden input is not echoed

    admin = auth.find_user("ada@example.com")
    assert admin.role is Role.ADMIN
    assert admin.name == "Ada"
    assert admin.password_hash and PASSWORD not in admin.password_hash

    response = password_sign_in(client, "ada@example.com", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin"
    assert client.get("/admin").status_code == 200


def test_create_admin_with_the_password_as_an_option(cli, client):
    result = cli("create-admin", "ops@example.com", "--name", "Olga Ops", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert auth.find_user("ops@example.com").name == "Olga Ops"
    assert password_sign_in(client, "ops@example.com", PASSWORD).status_code == 302
    assert password_sign_in(client, "ops@example.com", "a wrong password!!").status_code == 422


def test_create_admin_repeats_the_prompt_until_the_passwords_match(cli):
    result = cli(
        "create-admin",
        "ada@example.com",
        input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert auth.find_user("ada@example.com") is not None


def test_create_admin_sso_only_has_no_password(cli, client):
    result = cli("create-admin", "sso.admin@example.com", "--sso-only")
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output  # not asked
    assert "they sign in with single sign-on" in result.output

    admin = auth.find_user("sso.admin@example.com")
    assert admin.role is Role.ADMIN
    assert admin.password_hash is None
    # No password works for an SSO-only account.
    assert password_sign_in(client, "sso.admin@example.com", PASSWORD).status_code == 422


@pytest.mark.parametrize("email", ["ada@example.com", "  ADA@example.COM "])
def test_create_admin_refuses_a_duplicate_email(cli, email):
    assert cli("create-admin", "ada@example.com", "--sso-only").exit_code == 0

    result = cli("create-admin", email, "--password", PASSWORD)
    assert result.exit_code != 0
    assert "Error: ada@example.com already has an account." in result.output
    assert "Traceback" not in result.output
    assert count(User) == 1
    assert auth.find_user("ada@example.com").password_hash is None  # untouched


def test_create_admin_refuses_a_short_password(cli):
    result = cli("create-admin", "ada@example.com", "--password", "short")
    assert result.exit_code != 0
    assert "Error: Use at least 12 characters." in result.output
    assert auth.find_user("ada@example.com") is None


# --- login-link -------------------------------------------------------------------------------


def test_login_link_prints_a_working_sign_in_url(app, cli, client):
    advocate = UserFactory(email="rosa.diaz@customer.example", name="Rosa Díaz")

    result = cli("login-link", "Rosa.Diaz@Customer.example")
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith(app.config["BASE_URL"] + "/sign-in/link/")
    assert "\n" not in url

    response = client.get(url.removeprefix(app.config["BASE_URL"]))
    assert response.status_code == 200
    assert "Sign in as Rosa Díaz?" in response.text
    assert advocate.email in response.text

    # And the button on that page signs them in.
    response = client.post(url.removeprefix(app.config["BASE_URL"]), data={})
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"


@pytest.mark.parametrize(("port", "prefix"), [("5000", ""), ("8000", "PORT=8000 ")])
def test_make_run_prints_login_link_commands_for_the_port_it_serves_on(port, prefix):
    """`PORT=8000 make run` serves on 8000; the command it prints must make links to 8000,
    not to the default port nobody listens on (the walk of issue 17 followed one there)."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PORT": port}
    printed = subprocess.run(["make", "--dry-run", "run"], cwd=root, env=env, capture_output=True, text=True,
                             check=True).stdout
    commands = re.findall(r"(\S*PORT=\d+ )?(\S+/flask --app wsgi login-link) (\S+@example\.com)", printed)
    assert [(p, email) for p, _, email in commands] == [(prefix, "admin@example.com"), (prefix, "staff@example.com")]


def test_links_are_built_for_the_port_in_the_environment(monkeypatch, tmp_path):
    from portal.config import defaults

    monkeypatch.setenv("PORT", "8000")
    assert defaults(str(tmp_path))["BASE_URL"] == "http://127.0.0.1:8000"


@pytest.mark.parametrize("who", ["unknown", "inactive"])
def test_login_link_for_an_unknown_or_inactive_email_fails_cleanly(cli, who):
    if who == "inactive":
        UserFactory(email="gone@customer.example", active=False)
    result = cli("login-link", "gone@customer.example")
    assert result.exit_code != 0
    assert result.output.strip() == "Error: No active account for gone@customer.example."
    assert "Traceback" not in result.output


# --- sign-out-everywhere ----------------------------------------------------------------------


def test_sign_out_everywhere_ends_a_team_member_s_sessions(app, cli, client):
    """Team members have no record page for an admin to act from (advocates do): a lost
    laptop or a colleague who left is signed out from the command line, on the record."""
    staff = StaffFactory(email="sam@example.com", name="Sam Seller")
    assert client.post("/sign-in/password", data={"email": staff.email, "password": TEST_PASSWORD}).status_code == 302
    assert client.get("/staff/nominations").status_code == 200
    other = app.test_client()
    assert other.get("/staff/nominations").status_code == 302

    result = cli("sign-out-everywhere", "Sam@Example.com")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Signed Sam Seller (sam@example.com) out on every device and browser."
    response = client.get("/staff/nominations")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    event = database.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.signed_out_everywhere"))
    assert (event.actor_id, event.subject_type, event.subject_id) == (None, "users", staff.id)
    assert event.summary == "Sam Seller signed out everywhere from the command line"


def test_sign_out_everywhere_for_an_unknown_email_fails_cleanly(cli):
    result = cli("sign-out-everywhere", "nobody@example.com")
    assert result.exit_code != 0
    assert result.output.strip() == "Error: No account for nobody@example.com."


# --- seed-demo --------------------------------------------------------------------------------

DEMO_PEOPLE = {
    "admin@example.com": Role.ADMIN,
    "staff@example.com": Role.STAFF,
    "advocate@example.com": Role.ADVOCATE,
}


def seed(cli) -> str:
    result = cli("seed-demo")
    assert result.exit_code == 0, result.output
    match = re.search(r"admin@example\.com\s+\(admin\)\s+password: (\S+)", result.output)
    assert match, result.output
    return match.group(1)


def test_seed_demo_is_idempotent_and_its_admin_can_sign_in(cli, client):
    first_password = seed(cli)
    users, accounts = count(User), count(Account)
    assert users >= 3 and accounts >= 1

    second_password = seed(cli)
    assert (count(User), count(Account)) == (users, accounts)
    assert second_password != first_password  # never a known password

    for email, role in DEMO_PEOPLE.items():
        person = auth.find_user(email)
        assert person is not None and person.active
        assert person.role is role

    assert password_sign_in(client, "admin@example.com", first_password).status_code == 422
    response = password_sign_in(client, "admin@example.com", second_password)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin"


def test_seed_demo_keeps_existing_people(cli):
    UserFactory(email="advocate@example.com", name="Already Here")
    seed(cli)
    assert auth.find_user("advocate@example.com").name == "Already Here"
    assert count(User) == len({*DEMO_PEOPLE, *_seeded_emails()})


def _seeded_emails() -> list[str]:
    from portal.demo import ADVOCATES, RECENT_ADVOCATES, TEAM

    return [row[0] for row in TEAM] + [row[0] for row in ADVOCATES + RECENT_ADVOCATES]


def test_seed_demo_gives_the_demo_advocate_a_request_to_answer(cli):
    from portal.models import Ask, AskStatus
    from portal.services import nominations

    seed(cli)
    alex = nominations.current_advocate(auth.find_user("advocate@example.com"))
    waiting = database.session.scalars(select(Ask).where(Ask.advocate_id == alex.id, Ask.status == AskStatus.SENT)).all()
    assert [a.prospect_company for a in waiting] == ["Harbour Logistics"]
    assert waiting[0].due_on > waiting[0].created_at.date()

    asks = count(Ask)
    seed(cli)  # safe to run again: nothing doubled while it waits
    assert count(Ask) == asks

    # Declined, it no longer counts against Alex's limits: the next run brings it back.
    waiting[0].status = AskStatus.DECLINED
    database.session.commit()
    seed(cli)
    assert count(Ask) == asks + 1
    assert database.session.scalar(
        select(func.count()).select_from(Ask).where(Ask.advocate_id == alex.id, Ask.status == AskStatus.SENT)
    ) == 1
