"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

The ordinary tests build their database with ``create_all()``; these tests prove that a real
deployment (``flask --app wsgi db upgrade``) ends up with the same schema, and that the
migrations can be walked down and up again.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from contextlib import contextmanager

import flask_migrate
import pytest
from flask import current_app
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from portal import create_app
from portal.config import ROOT
from portal.database import db
from tests.conftest import _test_config

PORTAL_TABLES = {table.name for table in db.metadata.sorted_tables}


@contextmanager
def migrating_app(url: str):
    """An app on ``url`` with its context pushed; every connection is closed afterwards.

    migrations/env.py runs ``logging.config.fileConfig``, which replaces the root logger's
    handlers (pytest's log capture among them): they are put back for the tests after.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    app = create_app(_test_config(url))
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
            root.handlers[:] = handlers
            root.setLevel(level)


def schema_differences() -> list:
    """What ``flask db migrate`` would generate now: nothing, if the migrations are complete."""
    configure_args = dict(current_app.extensions["migrate"].configure_args)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                **configure_args,
                "compare_type": True,
                "target_metadata": db.metadata,
            },
        )
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    with db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def test_migrations_build_the_models_schema_and_walk_down_and_up(databases):
    with migrating_app(databases.new("migrations")):
        flask_migrate.upgrade()

        assert PORTAL_TABLES <= table_names()
        assert current_revision() == head_revision()
        assert schema_differences() == []

        flask_migrate.downgrade(revision="base")
        assert table_names() & PORTAL_TABLES == set()
        # Only Alembic's own bookkeeping table may remain, and it records no revision.
        assert table_names() <= {"alembic_version"}
        assert current_revision() is None

        flask_migrate.upgrade()
        assert PORTAL_TABLES <= table_names()
        assert schema_differences() == []


def test_migrated_schema_accepts_the_models_data(databases):
    """Not only the shape: constraints created by the migration behave like the models'."""
    from sqlalchemy.exc import IntegrityError

    from portal.models import Role, User

    with migrating_app(databases.new("migrations_data")):
        flask_migrate.upgrade()
        db.session.add(User(email="Rosa@Customer.example", name="Rosa", role=Role.ADVOCATE))
        db.session.commit()
        assert db.session.scalar(select(User.email)) == "rosa@customer.example"

        db.session.add(User(email="rosa@customer.example", name="Rosa again"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()

        # The CHECK constraint from the migration refuses a mixed-case email written
        # around the ORM's normalisation.
        with pytest.raises(IntegrityError):
            db.session.execute(
                text(
                    "INSERT INTO users (email, name, role, active, sign_in_generation, created_at)"
                    " VALUES ('Mixed@Case.example', 'M', 'advocate', true, 0, CURRENT_TIMESTAMP)"
                )
            )
            db.session.commit()
        db.session.rollback()

        # And the enum CHECK refuses a role that does not exist.
        with pytest.raises(IntegrityError):
            db.session.execute(
                text(
                    "INSERT INTO users (email, name, role, active, sign_in_generation, created_at)"
                    " VALUES ('x@customer.example', 'X', 'boss', true, 0, CURRENT_TIMESTAMP)"
                )
            )
            db.session.commit()
        db.session.rollback()


def test_db_upgrade_command_through_the_cli_runner(databases):
    with migrating_app(databases.new("migrations_cli")) as app:
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert PORTAL_TABLES <= table_names()
        assert current_revision() == head_revision()
        assert schema_differences() == []

        # Running it again on an up-to-date database is a no-op, not an error.
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert current_revision() == head_revision()


def test_flask_db_upgrade_as_deployed(databases, tmp_path):
    """``flask --app wsgi db upgrade`` in a real process, configured only by PORTAL_*
    variables, as `make migrate` and a deployment run it."""
    url = databases.new("migrations_wsgi")
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    env.pop("PORTAL_SECRET_KEY", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    result = subprocess.run(flask, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

    with migrating_app(url):
        assert PORTAL_TABLES <= table_names()
        assert current_revision() == head_revision()
        assert schema_differences() == []


def test_the_schema_comparison_notices_a_difference(databases):
    """A control for the tests above: an empty diff means something only if a real
    difference would show up."""
    with migrating_app(databases.new("migrations_control")):
        flask_migrate.upgrade()
        with db.engine.begin() as connection:
            connection.execute(text("DROP INDEX ix_outbox_messages_recipient"))
        differences = schema_differences()
        assert [(d[0], d[1].name) for d in differences] == [
            ("add_index", "ix_outbox_messages_recipient")
        ]
