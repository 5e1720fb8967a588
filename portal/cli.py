"""Command line: ``flask --app wsgi <command>``."""

from __future__ import annotations

import click
from flask import Flask, current_app

from portal.database import commit
from portal.models import CheckSubject, Role
from portal.services import auth
from portal.services.errors import DomainError


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(login_link)
    app.cli.add_command(sign_out_everywhere)
    app.cli.add_command(seed_demo)
    app.cli.add_command(reference_group)
    app.cli.add_command(points_group)
    app.cli.add_command(availability_group)


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default=None, help="Display name (defaults to the part before @).")
@click.option("--sso-only", is_flag=True, help="No password: the admin signs in with single sign-on.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    prompt_required=False,
    default=None,
    help="Asked for interactively unless --sso-only.",
)
def create_admin(email: str, name: str | None, sso_only: bool, password: str | None) -> None:
    """Create an admin account."""
    if not sso_only and password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = auth.create_user(email, name or email.split("@")[0], Role.ADMIN, None if sso_only else password)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    commit()
    how = "single sign-on" if sso_only else "their password"
    click.echo(f"Created admin {user.email}; they sign in with {how}.")


@click.command("login-link")
@click.argument("email")
def login_link(email: str) -> None:
    """Print a one-time sign-in URL for EMAIL (for support); in production, email it to them.

    Production never prints it: a command's output ends up in logs (CI, container
    platforms, shell history tools), and a link there signs anyone in."""
    user = auth.find_user(email)
    if user is None or not user.active:
        raise click.ClickException(f"No active account for {email}.")
    if current_app.config["ENV"] == "production":
        auth.email_sign_in_link(user)
        commit()
        click.echo(f"Emailed a one-time sign-in link to {user.email}.")
        return
    click.echo(auth.sign_in_url(user))


@click.command("sign-out-everywhere")
@click.argument("email")
def sign_out_everywhere(email: str) -> None:
    """End every session of EMAIL's account, on the audit trail.

    An admin does this for an advocate from the advocate's record; team members have no
    record page, so a lost laptop or a colleague who left is signed out from here."""
    user = auth.find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    auth.sign_out_everywhere(None, user)
    commit()
    click.echo(f"Signed {user.name} ({user.email}) out on every device and browser.")


@click.command("seed-demo")
def seed_demo() -> None:
    """Fill the database with a believable demo program (safe to run again)."""
    from portal import demo

    summary = demo.seed()
    commit()
    click.echo(summary)


@click.group("reference")
def reference_group() -> None:
    """The internal reference database (schema and published set)."""


@reference_group.command("upgrade")
def reference_upgrade() -> None:
    """Create or migrate the reference database's schema."""
    from portal import reference

    reference.upgrade()
    click.echo(f"Reference database schema is at version {reference.SCHEMA_VERSION}.")


@reference_group.command("rebuild")
@click.option("--dry-run", is_flag=True, help="Only report the differences.")
def reference_rebuild(dry_run: bool) -> None:
    """Recompute the whole published set from the portal and report the differences.

    Runs here, not in a job, and is recorded like a check or rebuild started on
    /admin/publishing (so it is refused while one of those runs)."""
    _run_check(CheckSubject.REFERENCE, dry_run)


def _run_check(subject, dry_run: bool) -> None:
    """A check (``dry_run``) or rebuild of ``subject`` run here, recorded like one started on
    /admin/publishing (so it is refused while one of those runs)."""
    from portal.models import CheckStatus, CheckTrigger
    from portal.services import checks

    try:
        check = checks.start_check(None, repair=not dry_run, trigger=CheckTrigger.COMMAND, subject=subject)
    except checks.CheckInProgress as exc:
        raise click.ClickException(exc.message) from exc
    commit()
    check, found = checks.run_check(check.id)
    if check is None:  # ended as lost meanwhile (it showed no sign of life): nothing to report
        raise click.ClickException(f"The {'check' if dry_run else 'rebuild'} was given up before it finished.")
    if check.status is CheckStatus.FAILED:  # the reference database does not answer: say so plainly
        raise click.ClickException(check.error)
    for difference in found:
        fields = f" ({', '.join(difference.fields)})" if difference.fields else ""
        click.echo(f"advocate {difference.advocate_id}: {difference.change}{fields}")
    verb = "would change" if dry_run else "changed"
    click.echo(f"{len(found)} differences; the rebuild {verb} {len(found)} rows." if found else "No differences.")


@click.group("points")
def points_group() -> None:
    """The points ledger."""


@points_group.command("backfill")
def points_backfill() -> None:
    """Award the points of events recorded before the ledger (safe to run again)."""
    from portal.services import rewards

    awarded = rewards.backfill()
    commit()
    click.echo(f"Awarded {awarded} event(s) not yet in the ledger.")


@click.group("availability")
def availability_group() -> None:
    """Each advocate's maintained availability (who can be asked, and from when)."""


@availability_group.command("rebuild")
@click.option("--dry-run", is_flag=True, help="Only report the differences (a consistency check).")
def availability_rebuild(dry_run: bool) -> None:
    """Compare every advocate's availability state with the rule and repair what differs.

    Recorded like a check or rebuild started on /admin/publishing (so it is refused while one
    of those runs)."""
    _run_check(CheckSubject.AVAILABILITY, dry_run)
