"""Configuration: defaults in code, then the instance folder's ``config.py``, then
``PORTAL_*`` environment variables, then (in tests) the dict given to ``create_app``."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Config

ENV_PREFIX = "PORTAL"
ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The configuration cannot run the portal safely."""


def default_instance_path() -> str:
    return os.environ.get(f"{ENV_PREFIX}_INSTANCE_PATH") or str(ROOT / "instance")


def defaults(instance_path: str) -> dict:
    port = os.environ.get("PORT", "5000")
    return {
        # "development" or "production"; production refuses to start without a secret.
        "ENV": "development",
        "SECRET_KEY": None,
        "DATABASE_URL": f"sqlite:///{Path(instance_path) / 'portal.sqlite3'}",
        # Redis for the job queue and the rate limiter; empty = SQLite queue, memory limiter.
        "REDIS_URL": "",
        # Where people reach the portal; every link in an email is built from this, never
        # from the Host header of a request (which an attacker controls).
        "BASE_URL": f"http://127.0.0.1:{port}",
        "PROGRAM_NAME": "Advocate Portal",
        "COMPANY_NAME": "Example Co",
        # Outgoing email. Without SMTP_HOST, development prints messages and keeps them for
        # the development mailbox at /admin/mailbox; production refuses to start unless
        # MAIL_LOG_ONLY chooses to log each message's recipient and subject (never its body,
        # which holds sign-in links).
        "SMTP_HOST": "",
        "MAIL_LOG_ONLY": False,
        "SMTP_PORT": 25,
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT": 10,
        "MAIL_FROM": "Advocate Portal <advocacy@example.com>",
        "MAIL_MAX_ATTEMPTS": 8,
        # Single sign-on for staff and admins (any OpenID Connect provider).
        "OIDC_ISSUER": "",
        "OIDC_CLIENT_ID": "",
        "OIDC_CLIENT_SECRET": "",
        "OIDC_LABEL": "company single sign-on",
        # The provider's email is believed only with email_verified=true, unless the
        # provider is trusted to verify every address it hands out (e.g. the company's own
        # directory): then a missing email_verified is accepted.
        "OIDC_TRUST_EMAIL": False,
        # Roles that may sign in with single sign-on (comma-separated).
        "OIDC_ROLES": "staff,admin",
        # Sessions end after this long without a request, and this long after sign-in
        # whatever happens; admins' sooner.
        "SESSION_IDLE_MINUTES": 120,
        "SESSION_MAX_HOURS": 24,
        "ADMIN_SESSION_IDLE_MINUTES": 30,
        "ADMIN_SESSION_MAX_HOURS": 12,
        "SIGN_IN_LINK_MAX_AGE": 15 * 60,
        # Links that verify a self-nomination's email, and invitations from staff, may sit
        # in an inbox longer; both are still single-use.
        "VERIFY_LINK_MAX_AGE": 24 * 3600,
        "INVITATION_LINK_MAX_AGE": 14 * 24 * 3600,
        # Approval-queue items older than this are flagged.
        "QUEUE_FLAG_DAYS": 7,
        # Advocates are asked to confirm their profile this often.
        "PROFILE_CONFIRM_DAYS": 182,
        # The dashboard's figures are recomputed at most this often (seconds) by each
        # process, and show when they were computed; 0 computes them on every request.
        "DASHBOARD_CACHE_SECONDS": 60,
        # Abuse limits (README: "Rate limits"). Per email address, strict: one inbox cannot be
        # flooded with sign-in links, from however many clients.
        "SIGN_IN_RATE_LIMIT": "5 per minute;20 per hour",
        # Per client (an IP address), sized for an office whose people all sign in through
        # one address on a Monday morning.
        "SIGN_IN_CLIENT_RATE_LIMIT": "60 per minute;600 per hour",
        # Wrong passwords per (address, client), each window a longer back-off; a stranger's
        # failures elsewhere never lock out the real user's correct password.
        "PASSWORD_FAILURE_LIMIT": "5 per 5 minutes;10 per hour;20 per day",
        # Public forms (/join, one-click unsubscribe), per client (sized for an office).
        "PUBLIC_FORM_RATE_LIMIT": "30 per minute;300 per hour",
        # /join per address: each submission emails that address, so it is strict.
        "JOIN_ADDRESS_RATE_LIMIT": "3 per hour;10 per day",
        # Reverse proxies in front of the app that set X-Forwarded-For (and -Proto): the
        # client of a per-client limit is then the address they report, not the proxy's.
        "TRUSTED_PROXIES": 0,
        # Queue name (a Redis key prefix / table name): separate portals sharing one Redis
        # need different names.
        "JOBS_NAME": "advocate-portal",
        "JOBS_IMMEDIATE": False,
        "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
        # The internal reference database that sales tools read (SPEC §9): a separate
        # database with its own versioned schema (reference_migrations/).
        "REFERENCE_DATABASE_URL": f"sqlite:///{Path(instance_path) / 'reference.sqlite3'}",
        # Optional push of the same publish events to an external reference or CRM system,
        # as JSON, signed in with OAuth 2.0 client credentials. Empty URL = no push.
        "PUSH_URL": "",
        "PUSH_TOKEN_URL": "",
        "PUSH_CLIENT_ID": "",
        "PUSH_CLIENT_SECRET": "",
        "PUSH_SCOPE": "",
        "PUSH_TIMEOUT": 10,
    }


def load_config(instance_path: str, test_config: dict | None = None) -> Config:
    config = Config(instance_path)
    config.update(defaults(instance_path))
    config.from_pyfile("config.py", silent=True)
    config.from_prefixed_env(ENV_PREFIX)
    if test_config:
        config.update(test_config)
    if config["ENV"] not in ("development", "production"):
        raise ConfigError(f"{ENV_PREFIX}_ENV must be 'development' or 'production'")
    if not config["SECRET_KEY"]:
        if config["ENV"] == "production":
            raise ConfigError(
                f"{ENV_PREFIX}_SECRET_KEY is not set. Production needs a long random secret, "
                f'e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        config["SECRET_KEY"] = _development_secret(instance_path)
    if config["ENV"] == "production" and not config["SMTP_HOST"] and not config["MAIL_LOG_ONLY"]:
        raise ConfigError(
            f"{ENV_PREFIX}_SMTP_HOST is not set. Production sends email (sign-in links among it) "
            f"through SMTP; set {ENV_PREFIX}_SMTP_HOST, or set {ENV_PREFIX}_MAIL_LOG_ONLY=true to "
            "send nothing and log only each message's recipient and subject."
        )
    config["OIDC_ROLES"] = _roles(config["OIDC_ROLES"])
    config.update(_derived(config))
    return config


def _roles(value) -> tuple[str, ...]:
    from portal.models.user import Role

    names = value.split(",") if isinstance(value, str) else list(value)
    roles = tuple(name.strip().lower() for name in names if name.strip())
    unknown = sorted(set(roles) - {role.value for role in Role})
    if unknown:
        raise ConfigError(
            f"{ENV_PREFIX}_OIDC_ROLES has unknown roles {', '.join(unknown)}; "
            f"use some of {', '.join(role.value for role in Role)}"
        )
    return roles


def _development_secret(instance_path: str) -> str:
    """Generated once into the instance folder so sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _derived(config: Config) -> dict:
    production = config["ENV"] == "production"
    return {
        "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(config["DATABASE_URL"]),
        "RATELIMIT_STORAGE_URI": config["REDIS_URL"] or "memory://",
        # Redis away: each process counts in its own memory (Flask-Limiter logs the switch
        # and checks for Redis again, backing off); no request fails because of it.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Options set in the configuration (a key_prefix, say) go on top of these timeouts.
        "RATELIMIT_STORAGE_OPTIONS": {
            **({"socket_connect_timeout": 2, "socket_timeout": 2} if config["REDIS_URL"] else {}),
            **config.get("RATELIMIT_STORAGE_OPTIONS", {}),
        },
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAIL_CONSOLE": not config["SMTP_HOST"],
        "OIDC_ENABLED": bool(config["OIDC_ISSUER"] and config["OIDC_CLIENT_ID"]),
    }


def sqlalchemy_url(url: str) -> str:
    # Accept the common postgres:// and postgresql:// forms; the driver is psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
