"""Advocate Portal: the application factory."""

from __future__ import annotations

from flask import Flask

from portal.config import ROOT, default_instance_path, load_config


def create_app(test_config: dict | None = None) -> Flask:
    instance_path = (test_config or {}).get("INSTANCE_PATH") or default_instance_path()
    app = Flask(
        "portal",
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(instance_path, test_config))
    from portal.urls import BoundedIntegerConverter

    app.url_map.converters["int"] = BoundedIntegerConverter  # before any route is added
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from portal import cli, errors, jobs, security
    from portal.extensions import csrf, db, htmx, limiter, login_manager, migrate
    from portal.services import nominations, profiles, references, rewards  # noqa: F401 (register queue handlers)
    from portal.services import boards  # noqa: F401 (registers the board-application handler)
    from portal.services import campaigns  # noqa: F401 (registers the review-proof handler)
    from portal.services import publishing  # noqa: F401 (publish hooks and outbox senders)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    jobs.huey.immediate = bool(app.config["JOBS_IMMEDIATE"])

    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    _register_blueprints(app)
    _register_oidc(app)

    from portal.models import AdvocateStatus, OutboxStatus, Role
    from portal.services.taxonomy import country_names, language_names
    from portal.services.outbox import development_mailbox
    from portal.urls import nav_current, nav_current_any

    app.jinja_env.globals.update(
        Role=Role,
        OutboxStatus=OutboxStatus,
        AdvocateStatus=AdvocateStatus,
        country_name=lambda code: country_names().get(code, code),
        nav_current=nav_current,
        nav_current_any=nav_current_any,
        development_mailbox=lambda: development_mailbox(app.config),
    )
    from portal.money import format_money, program_currency

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.globals["program_currency"] = program_currency
    from portal.forms import upload_limit

    app.jinja_env.globals["upload_limit"] = upload_limit
    app.jinja_env.filters["language_name"] = lambda code: language_names().get(code, code)
    return app


def _register_blueprints(app: Flask) -> None:
    from blueprints.admin import bp as admin_bp
    from blueprints.api import bp as api_bp
    from blueprints.advocate import bp as advocate_bp
    from blueprints.auth import bp as auth_bp
    from blueprints.boards import bp as boards_bp
    from blueprints.campaigns import bp as campaigns_bp
    from blueprints.public import bp as public_bp
    from blueprints.rewards import bp as rewards_bp
    from blueprints.staff import bp as staff_bp

    for bp in (public_bp, auth_bp, advocate_bp, staff_bp, admin_bp, campaigns_bp, boards_bp, rewards_bp):
        app.register_blueprint(bp)
    app.register_blueprint(api_bp)


def _register_oidc(app: Flask) -> None:
    """Single sign-on: the OpenID Connect client lives on this app (``app.extensions["sso"]``),
    so that apps with different providers never share a cached client or its metadata."""
    if not app.config["OIDC_ENABLED"]:
        return
    from authlib.integrations.flask_client import OAuth

    issuer = app.config["OIDC_ISSUER"].rstrip("/")
    app.extensions["sso"] = OAuth(app).register(
        "sso",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile"},
    )
