"""Configuration: defaults in code, the instance folder, PORTAL_* variables, test overrides;
production refuses to start without a secret."""

from __future__ import annotations

import os
import stat

import pytest

from portal import create_app, jobs
from portal.config import ConfigError, load_config


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No PORTAL_* setting of the developer's shell or CI leaks into these tests, and every
    app gets an instance folder of its own."""
    for name in list(os.environ):
        if name.startswith("PORTAL_") and name not in ("PORTAL_INSTANCE_PATH", "PORTAL_JOBS_NAME"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "instance"))
    # create_app switches the shared queue's immediate mode from its config: put it back.
    immediate = jobs.huey.immediate
    yield
    jobs.huey.immediate = immediate


def config_for(tmp_path, **overrides) -> dict:
    return {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "JOBS_IMMEDIATE": True,
        **overrides,
    }


# --- secrets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [None, ""])
def test_production_without_a_secret_refuses_to_start(tmp_path, secret):
    with pytest.raises(ConfigError) as error:
        create_app(config_for(tmp_path, ENV="production", SECRET_KEY=secret))
    message = str(error.value)
    assert "PORTAL_SECRET_KEY is not set" in message
    assert "secrets.token_urlsafe" in message  # tells how to make one
    assert not (tmp_path / "instance" / "secret_key").exists()  # never generated in production


def test_production_reads_the_secret_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "s" * 64)
    monkeypatch.setenv("PORTAL_SMTP_HOST", "mail.example.com")
    app = create_app(config_for(tmp_path))
    assert app.config["SECRET_KEY"] == "s" * 64
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_an_unknown_env_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="PORTAL_ENV must be 'development' or 'production'"):
        create_app(config_for(tmp_path, ENV="prod"))


def test_development_generates_a_secret_once_and_reuses_it(tmp_path):
    instance = tmp_path / "instance"
    assert not instance.exists()

    first = create_app(config_for(tmp_path))
    secret_file = instance / "secret_key"
    assert secret_file.exists()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600  # readable by the owner only
    secret = first.config["SECRET_KEY"]
    assert len(secret) >= 48
    assert secret_file.read_text().strip() == secret
    assert first.config["SESSION_COOKIE_SECURE"] is False

    second = create_app(config_for(tmp_path))
    assert second.config["SECRET_KEY"] == secret

    # A different instance folder is a different installation with its own secret.
    other = create_app(config_for(tmp_path, INSTANCE_PATH=str(tmp_path / "other")))
    assert other.config["SECRET_KEY"] != secret


def test_sessions_survive_a_restart_in_development(tmp_path):
    """The point of keeping the generated secret: a signed cookie from before a restart is
    still good after it."""
    first = create_app(config_for(tmp_path))
    cookie = first.session_interface.get_signing_serializer(first).dumps({"n": 1})
    second = create_app(config_for(tmp_path))
    assert second.session_interface.get_signing_serializer(second).loads(cookie) == {"n": 1}


# --- where settings come from -----------------------------------------------------------------


def test_environment_variables_override_the_defaults(tmp_path, monkeypatch):
    defaults = create_app(config_for(tmp_path))
    assert defaults.config["PROGRAM_NAME"] == "Advocate Portal"
    assert defaults.config["SMTP_PORT"] == 25
    assert defaults.config["MAIL_CONSOLE"] is True

    monkeypatch.setenv("PORTAL_PROGRAM_NAME", "Champions Hub")
    monkeypatch.setenv("PORTAL_SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("PORTAL_SMTP_PORT", "2525")  # parsed as JSON: an int
    monkeypatch.setenv("PORTAL_SMTP_STARTTLS", "true")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://advocates.example.com")
    app = create_app(config_for(tmp_path))

    assert app.config["PROGRAM_NAME"] == "Champions Hub"
    assert app.config["SMTP_HOST"] == "mail.example.com"
    assert app.config["SMTP_PORT"] == 2525
    assert app.config["SMTP_STARTTLS"] is True
    assert app.config["BASE_URL"] == "https://advocates.example.com"
    # Derived settings follow the overridden ones.
    assert app.config["MAIL_CONSOLE"] is False


def test_the_instance_config_file_sits_between_defaults_and_environment(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        'PROGRAM_NAME = "From the instance file"\nCOMPANY_NAME = "Instance Co"\n'
    )
    monkeypatch.setenv("PORTAL_COMPANY_NAME", "Environment Co")

    app = create_app(config_for(tmp_path))
    assert app.config["PROGRAM_NAME"] == "From the instance file"
    assert app.config["COMPANY_NAME"] == "Environment Co"

    # The test_config given to create_app wins over everything.
    app = create_app(config_for(tmp_path, COMPANY_NAME="Test Co"))
    assert app.config["COMPANY_NAME"] == "Test Co"


def test_the_redis_url_drives_the_rate_limiter(tmp_path, monkeypatch):
    assert create_app(config_for(tmp_path)).config["RATELIMIT_STORAGE_URI"] == "memory://"
    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/3")
    app = create_app(config_for(tmp_path))
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"


def test_rate_limit_storage_options_given_keep_the_redis_timeouts(tmp_path):
    """A key prefix (each test process has its own, so that one process's reset leaves the
    others' counts alone) is kept next to the timeouts that Redis gets by default."""
    given = {"RATELIMIT_STORAGE_OPTIONS": {"key_prefix": "portal-a-limits"}}
    config = load_config(str(tmp_path / "instance"), config_for(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3", **given))
    assert config["RATELIMIT_STORAGE_OPTIONS"] == {
        "socket_connect_timeout": 2, "socket_timeout": 2, "key_prefix": "portal-a-limits"
    }
    config = load_config(str(tmp_path / "instance"), config_for(tmp_path, **given))
    assert config["RATELIMIT_STORAGE_OPTIONS"] == {"key_prefix": "portal-a-limits"}


def test_sso_is_enabled_only_with_issuer_and_client(tmp_path):
    assert create_app(config_for(tmp_path)).config["OIDC_ENABLED"] is False
    app = create_app(config_for(tmp_path, OIDC_ISSUER="https://sso.example.com", OIDC_CLIENT_ID="portal"))
    assert app.config["OIDC_ENABLED"] is True


# --- database URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://portal:s3cret@db.internal:5432/portal", "postgresql+psycopg://portal:s3cret@db.internal:5432/portal"),
        ("postgresql://portal@db.internal/portal", "postgresql+psycopg://portal@db.internal/portal"),
        ("postgresql+psycopg://portal@db.internal/portal", "postgresql+psycopg://portal@db.internal/portal"),
        ("sqlite:////var/lib/portal/portal.sqlite3", "sqlite:////var/lib/portal/portal.sqlite3"),
    ],
)
def test_database_urls_are_rewritten_for_psycopg_3(tmp_path, given, used):
    app = create_app(config_for(tmp_path, DATABASE_URL=given))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == used
    with app.app_context():
        from portal.database import db

        assert db.engine.dialect.driver == ("psycopg" if used.startswith("postgresql") else "pysqlite")


def test_a_postgres_url_from_the_environment_is_rewritten(tmp_path, monkeypatch):
    # Hosting platforms hand out DATABASE_URLs in the postgres:// form.
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgres://u:p@h:5432/d")
    config = load_config(str(tmp_path / "instance"))
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@h:5432/d"


def test_the_default_database_lives_in_the_instance_folder(tmp_path):
    config = load_config(str(tmp_path / "instance"))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'portal.sqlite3'}"


def test_unknown_single_sign_on_roles_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_OIDC_ROLES", "staff,owner")
    with pytest.raises(ConfigError, match="PORTAL_OIDC_ROLES has unknown roles owner"):
        create_app(config_for(tmp_path))
    monkeypatch.setenv("PORTAL_OIDC_ROLES", " Admin , staff ")
    assert create_app(config_for(tmp_path)).config["OIDC_ROLES"] == ("admin", "staff")
