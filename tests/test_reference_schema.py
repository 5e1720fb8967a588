"""The reference database's own migrations build exactly the documented schema, walk down
and up, and are applied by ``flask --app wsgi reference upgrade``; ``reference rebuild``
reports differences and records its result like a check started on the page."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from portal import reference
from portal.database import commit, db
from portal.models import AuditEvent, CheckStatus, CheckTrigger, ReferenceCheck
from portal.services import checks, publishing
from tests.publishing import listed_advocate, published

TABLES = {t.name for t in reference.metadata.sorted_tables}


def tables() -> set[str]:
    with reference.engine().connect() as conn:
        return set(inspect(conn).get_table_names())


def differences() -> list:
    with reference.engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": reference.VERSION_TABLE})
        return compare_metadata(context, reference.metadata)


def test_reference_migrations_build_the_schema_and_walk_down_and_up(app, databases):
    app.config["REFERENCE_DATABASE_URL"] = databases.new("reference_migrations")
    reference.upgrade()
    assert TABLES <= tables() and reference.VERSION_TABLE in tables()
    assert differences() == []
    reference.downgrade("base")
    assert tables() <= {reference.VERSION_TABLE}
    reference.upgrade()
    assert differences() == []
    reference.dispose()


def test_the_cli_migrates_and_rebuilds(app, db, databases):
    app.config["REFERENCE_DATABASE_URL"] = databases.new("reference_cli")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reference", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"version {reference.SCHEMA_VERSION}" in result.output

    advocate = listed_advocate()
    assert published(advocate.id) is not None
    assert runner.invoke(args=["reference", "rebuild"]).output.strip() == "No differences."
    with reference.engine().begin() as conn:
        conn.execute(reference.advocates.delete())
    result = runner.invoke(args=["reference", "rebuild", "--dry-run"])
    assert f"advocate {advocate.id}: add" in result.output and "would change 1 rows" in result.output
    assert published(advocate.id) is None
    result = runner.invoke(args=["reference", "rebuild"])
    assert "the rebuild changed 1 rows" in result.output
    assert published(advocate.id) is not None
    # Each run is recorded like one started on /admin/publishing (the page shows the latest).
    checks = db.session.scalars(select(ReferenceCheck).order_by(ReferenceCheck.id)).all()
    assert [(c.repair, c.trigger, c.status, c.difference_count) for c in checks] == [
        (True, CheckTrigger.COMMAND, CheckStatus.FINISHED, 0),
        (False, CheckTrigger.COMMAND, CheckStatus.FINISHED, 1),
        (True, CheckTrigger.COMMAND, CheckStatus.FINISHED, 1),
    ]
    audited = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "publishing.rebuild")).all()
    assert [e.subject_id for e in audited] == [checks[0].id, checks[2].id]
    reference.dispose()


def test_the_cli_refuses_while_a_check_runs(app, db, databases):
    app.config["REFERENCE_DATABASE_URL"] = databases.new("reference_cli_busy")
    reference.upgrade()
    checks.start_check(None, repair=True, trigger=CheckTrigger.NIGHTLY)
    commit()
    result = app.test_cli_runner().invoke(args=["reference", "rebuild", "--dry-run"])
    assert result.exit_code == 1
    assert "A rebuild started by the nightly job at" in result.output and "wait for it to finish" in result.output
    assert db.session.scalar(select(func.count()).select_from(ReferenceCheck)) == 1
    reference.dispose()


def test_the_rebuild_says_when_the_reference_database_does_not_answer(app, db):
    app.config["REFERENCE_DATABASE_URL"] = "sqlite:////nonexistent-folder/reference.sqlite3"
    result = app.test_cli_runner().invoke(args=["reference", "rebuild"])
    assert result.exit_code == 1
    assert "The reference database did not answer: OperationalError" in result.output
    check = db.session.scalar(select(ReferenceCheck))
    assert check.status is CheckStatus.FAILED and check.error in result.output
    reference.dispose()
