"""Fixtures shared by every test.

The suite runs on SQLite by default and on PostgreSQL when ``TEST_DATABASE_URL`` points at a
server (the tests create and drop their own database there). With ``CI=true`` a missing
database, browser or SMTP dependency fails the run instead of skipping.

`make test` runs the tests in several processes (pytest-xdist). Each process has its own
session, so everything a session holds is its own: databases (unique names), the instance
folder, the job queue's name, the rate limiter's keys on Redis and the ports its servers
listen on.
"""

from __future__ import annotations

import copy
import os
import random
import socket
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# Before the portal is imported: the job queue is built from the environment at import.
os.environ["PORTAL_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="portal-test-instance-")
os.environ["PORTAL_JOBS_NAME"] = f"portal-test-{os.getpid()}"
# The rate limiter's counters on a shared Redis: ``limiter.reset()`` deletes every key under
# its prefix, so a process that shared the default one would wipe the others' counts.
LIMITER_KEY_PREFIX = f"portal-test-{os.getpid()}-limits"
# "gw0", "gw1", ... in a pytest-xdist worker; empty when the tests run in one process.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")

import pytest
from flask import Flask, g, request_started
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker
from sqlalchemy.pool import NullPool

from portal import create_app, jobs
from portal.database import db as _db
from portal.extensions import limiter
from portal.security import start_session

IN_CI = os.environ.get("CI") == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith(("postgres", "postgresql"))
REDIS_URL = os.environ.get("PORTAL_REDIS_URL", "")


def missing(reason: str):
    """Fail in CI, skip elsewhere: CI must never pass by skipping what it should test."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


PORTS = range(20000, 32000)
PORTS_PER_WORKER = 1500


def worker_ports(worker: str) -> range:
    """The ports this test process picks from: the whole range in a single process, a slice
    of its own in each pytest-xdist worker, so that two workers never pick the same port
    between one's check that it is free and its server binding it."""
    if not worker:
        return PORTS
    slices = len(PORTS) // PORTS_PER_WORKER
    start = PORTS.start + int(worker.removeprefix("gw")) % slices * PORTS_PER_WORKER
    return range(start, start + PORTS_PER_WORKER)


def free_port() -> int:
    """A free port below 32768 (the client port range starts there on these machines)."""
    ports = worker_ports(XDIST_WORKER)
    for _ in range(200):
        port = random.choice(ports)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found")


# --- parallel runs (pytest-xdist) -----------------------------------------------------------


@pytest.hookimpl(optionalhook=True)  # the hook exists only with pytest-xdist installed
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadgroup`` (as `make test` runs): every browser test in one worker, as
    one unit of work, since each worker would start and seed its own portal and Chromium;
    every other test on its own, to whichever worker is free.

    The group is told from the test's folder rather than by an ``xdist_group`` mark:
    pytest-xdist 3.8 marks a group by renaming the test, which pytest 9.2 ignores
    (pytest-dev/pytest-xdist#1386), and the folder is what decides it anyway."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class BrowserTestsTogether(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("tests/browser/"):
                return "tests/browser/"
            return super()._split_scope(nodeid)

    return BrowserTestsTogether(config, log)


# --- databases ------------------------------------------------------------------------------


class Databases:
    """Creates throw-away databases: SQLite files, or PostgreSQL databases on the test server.

    Dropping a PostgreSQL database waits for a checkpoint (seconds each on a busy server), so
    databases that tests only need empty are handed back (``give_back``), emptied, and handed
    out again by ``empty``; the rest are dropped together at the end."""

    DROPPING_AT_ONCE = 8

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.created: list[str] = []
        self.emptied: list[str] = []

    def new(self, label: str) -> str:
        name = f"portal_test_{label}_{uuid.uuid4().hex[:8]}"
        if not ON_POSTGRES:
            return f"sqlite:///{self.tmp / (name + '.sqlite3')}"
        admin = self._admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return self._url(name)

    def empty(self, label: str) -> str:
        """A database with nothing in it: a new one, or one given back and emptied."""
        return self.emptied.pop() if self.emptied else self.new(label)

    def give_back(self, url: str) -> None:
        """Empty the database (every table, sequence and type with its schema) for ``empty``.
        Its connections must be closed. SQLite files are not reused: a new one costs nothing."""
        if not ON_POSTGRES:
            return
        engine = create_engine(_pg_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(text("SET lock_timeout = '10s'"))
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        except Exception:  # still in use: it is dropped at the end instead
            return
        finally:
            engine.dispose()
        self.emptied.append(url)

    def drop_all(self) -> None:
        """Drops every database made, several at a time: drops running together share a
        checkpoint."""
        if not self.created:
            return
        admin = self._admin_engine(poolclass=NullPool)

        def drop(name: str) -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        with ThreadPoolExecutor(max_workers=self.DROPPING_AT_ONCE) as pool:
            list(pool.map(drop, self.created))
        admin.dispose()

    @staticmethod
    def _url(name: str) -> str:
        return make_url(_pg_url(TEST_DATABASE_URL)).set(database=name).render_as_string(hide_password=False)

    @staticmethod
    def _admin_engine(**options):
        return create_engine(_pg_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT", **options)


def _pg_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    if TEST_DATABASE_URL and not ON_POSTGRES:
        pytest.fail(f"TEST_DATABASE_URL must be a PostgreSQL URL, got {TEST_DATABASE_URL!r}")
    if ON_POSTGRES:
        engine = Databases._admin_engine()
        try:
            engine.connect().close()
        except Exception as exc:  # the server is down or the URL is wrong
            pytest.fail(f"PostgreSQL at TEST_DATABASE_URL does not answer: {exc}", pytrace=False)
        finally:
            engine.dispose()
    dbs = Databases(tmp_path_factory.mktemp("databases"))
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def database_url(databases):
    """The database the ordinary tests share; its schema is built once from the models
    (test_migrations.py proves the migrations build the same schema)."""
    url = databases.new("main")
    app = create_app(_test_config(url))
    with app.app_context():
        _db.create_all()
        _db.engine.dispose()
    return url


def _test_config(database_url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hmac",
        "DATABASE_URL": database_url,
        "BASE_URL": "http://portal.test",
        "JOBS_IMMEDIATE": True,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SMTP_HOST": "",
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": LIMITER_KEY_PREFIX},
        # Tests look at the figures right after changing the data (tests/web/test_reporting_web.py
        # turns the dashboard's reuse of them back on).
        "DASHBOARD_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def reference_database_url(databases):
    """The reference database the ordinary tests publish into (schema from its metadata;
    tests/test_reference_schema.py proves its migrations build the same). Tests that look
    at what was published use their own, empty one (``reference_db``)."""
    from portal import reference

    url = databases.new("reference")
    engine = create_engine(_pg_url(url))
    reference.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def app_config(database_url, reference_database_url):
    """Override per test with ``@pytest.mark.parametrize`` or by wrapping this fixture."""
    return _test_config(database_url, REFERENCE_DATABASE_URL=reference_database_url)


def _fresh_g(sender, **extra) -> None:
    """Every request starts with an empty ``g``, as it does in production."""
    g.__dict__.clear()


@dataclass
class _BuiltApp:
    """An app as create_app built it, to put it back that way after a test."""

    app: Flask
    config: dict
    extensions: dict
    loader: object
    views: int

    @classmethod
    def build(cls, config: dict) -> _BuiltApp:
        app = create_app(config)
        # Requests reuse the app context the fixture holds open (so they share the test's
        # session), and with it ``g``: without this, Flask-Login's cached user and Flask-WTF's
        # token from one request would carry into the next, even into another client's.
        request_started.connect(_fresh_g, app)
        return cls(app, copy.deepcopy(dict(app.config)), dict(app.extensions), app.jinja_env.loader, len(app.view_functions))

    def restore(self) -> bool:
        """Back to as built: the configuration and the extensions' entries (a cached token,
        the reference engines); False if the test changed the app itself (its routes or
        template loader), which then is not used again."""
        if self.app.jinja_env.loader is not self.loader or len(self.app.view_functions) != self.views:
            return False
        self.app.config.clear()
        self.app.config.update(copy.deepcopy(self.config))
        self.app.extensions.clear()
        self.app.extensions.update(self.extensions)
        return True


class _Apps:
    """One app per test configuration, shared by the tests that use that configuration:
    building one (blueprints, URL rules, an engine) costs more than most tests, and an
    engine kept across tests keeps its compiled-statement cache (a new engine compiles
    every statement again)."""

    KEEP = 8  # configurations parametrized per test should not pile up

    def __init__(self):
        self.idle: dict[str, _BuiltApp] = {}

    def take(self, config: dict, fresh: bool) -> tuple[str, _BuiltApp]:
        key = repr(sorted(config.items()))
        built = None if fresh else self.idle.pop(key, None)
        return key, built or _BuiltApp.build(config)

    def give_back(self, key: str, built: _BuiltApp) -> None:
        if built.restore():
            self.idle[key] = built
            while len(self.idle) > self.KEEP:
                self.idle.pop(next(iter(self.idle)))


_apps = _Apps()


@pytest.fixture
def app(app_config, request):
    """The app for this test's configuration, in an app context. Apps are reused between
    tests with the same configuration (put back as built after each); a test that adds
    routes or otherwise changes the app itself is marked ``fresh_app`` and gets its own
    (Flask refuses ``add_url_rule`` on an app that has served a request)."""
    fresh = request.node.get_closest_marker("fresh_app") is not None
    key, built = _apps.take(app_config, fresh)
    app = built.app
    # The job queue and the limiter are shared by every app; create_app sets them from its
    # configuration, and another app may have been built since this one was.
    jobs.huey.immediate = bool(app.config["JOBS_IMMEDIATE"])
    limiter.enabled = bool(app.config["RATELIMIT_ENABLED"])
    if limiter.enabled:
        # Its storage too: the newest app's may be another Redis (tests/web/test_redis_outage.py
        # stops its own). init_app adds no second set of hooks to an app that has them.
        limiter.init_app(app)
        limiter.reset()  # counts live in the limiter's storage, not in the app
    with app.app_context():
        yield app
        _db.session.remove()
        for engine in _db.engines.values():
            engine.dispose()  # its connections; the engine and its statement cache stay
        from portal import reference

        reference.dispose()
    if not fresh:
        _apps.give_back(key, built)


@pytest.fixture
def db(app):
    """The session, inside a transaction rolled back after the test. Commits in the code
    under test release savepoints instead of committing."""
    connection = _db.engine.connect()
    transaction = connection.begin()
    if connection.dialect.name == "sqlite":
        # pysqlite defers BEGIN until the first write, so the session's SAVEPOINT would
        # open the outermost transaction and its RELEASE (a commit in the code under test)
        # would commit for real, leaking rows into later tests. Begin explicitly.
        connection.exec_driver_sql("BEGIN")
    original = _db.session
    _db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    )
    try:
        yield _db
    finally:
        _db.session.remove()
        _db.session = original
        transaction.rollback()
        connection.close()


@pytest.fixture
def committed_db(app, request):
    """Real commits, for tests where several threads or processes must see the data
    (races). Every table is emptied afterwards."""
    # With ``db`` too, every thread would share its one connection and nothing would race.
    assert "db" not in request.fixturenames, "committed_db cannot be combined with db (or taxonomies)"
    yield _db
    _db.session.remove()
    with _db.engine.begin() as conn:
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def login_as(client):
    """Sign ``user`` in on the test client (as Flask-Login would after any sign-in)."""

    def login(user):
        with client.session_transaction() as session:
            session.clear()
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
            start_session(user, session, time.time())
        return user

    return login


# --- real SMTP ------------------------------------------------------------------------------


class Inbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes
        from email.policy import default

        message = message_from_bytes(envelope.original_content, policy=default)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    def clear(self) -> None:
        self.messages.clear()


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 for the whole session."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def smtp(smtp_server, app):
    """An app sending real email to the test SMTP server; the inbox starts empty."""
    smtp_server.clear()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port, MAIL_CONSOLE=False)
    return smtp_server


@pytest.fixture
def taxonomies(db):
    """The default taxonomies (products, industries, activity types, nested regions)."""
    from portal.services import taxonomy

    taxonomy.load_defaults()
    return taxonomy
