"""Redis goes away and comes back: a real redis-server, started by the test on its own port,
stopped and started again mid-test. While it is away sign-in, /join and an ask answer without
a 5xx (rate limits counted in memory, said in the log and /healthz); once it is back, every
email written meanwhile is delivered exactly once, over real SMTP."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter

import pytest
import redis
from huey import RedisHuey
from sqlalchemy import select

from portal import jobs
from portal.models import OutboxKind, OutboxMessage, OutboxStatus
from tests.conftest import free_port
from tests.factories import TEST_PASSWORD, StaffFactory
from tests.web.asks import ask_data, build_asks_world
from tests.web.intake import join_data

pytestmark = pytest.mark.fresh_app  # its limiter and queue point at this test's Redis only


class RedisServer:
    """redis-server on a port of its own, without persistence: a restart loses whatever
    the queue held, as a crashed or replaced Redis would."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        try:
            for _ in range(100):
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    time.sleep(0.05)
            raise RuntimeError("redis-server did not start")
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server():
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config, redis_server):
    """Redis for the rate limiter and the job queue (as PORTAL_REDIS_URL does), limits on,
    and jobs queued for a consumer instead of run at once."""
    # The shared limiter is pointed at each test's own storage by the app fixture.
    return {**app_config, "REDIS_URL": redis_server.url, "RATELIMIT_ENABLED": True, "JOBS_IMMEDIATE": False}


@pytest.fixture
def queue(app, redis_server, monkeypatch):
    """The job queue on this Redis, as jobs.py builds it when PORTAL_REDIS_URL is set."""
    queue = RedisHuey(app.config["JOBS_NAME"], connection_pool=jobs.redis_pool(redis_server.url), results=False)
    monkeypatch.setattr(jobs.huey, "storage", queue.storage)
    yield jobs.huey
    queue.storage.pool.disconnect()


def run_consumer() -> None:
    """What huey_consumer does: the tasks waiting in the queue, then the periodic drain."""
    while (task := jobs.huey.dequeue()) is not None:
        jobs.huey.execute(task)
    jobs.redeliver_due_messages.call_local()


def test_redis_away_and_back_answers_without_5xx_and_loses_no_email(app, client, db, smtp, login_as, redis_server,
                                                                       queue, caplog):
    world = build_asks_world()
    staff = StaffFactory()
    advocate = world.world.owner
    visitor = app.test_client()
    assert client.get("/healthz").json["rate_limits"] == "redis"

    # Queued while Redis is up, not yet consumed when it goes: the queue's copy is lost.
    assert visitor.post("/sign-in/link", data={"email": advocate.user.email}).status_code == 302
    redis_server.stop()

    answers = {
        "sign-in link": visitor.post("/sign-in/link", data={"email": advocate.user.email}).status_code,
        "join": visitor.post("/join", data=join_data(email="new.joiner@customer.example")).status_code,
        "password": app.test_client().post("/sign-in/password", data={"email": staff.email, "password": TEST_PASSWORD}).status_code,
    }
    login_as(world.world.admin)
    answers["ask"] = client.post(f"/admin/asks/new?advocate_id={advocate.id}", data=ask_data()).status_code
    assert answers == {"sign-in link": 302, "join": 302, "password": 302, "ask": 302}
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["status"] == "degraded"
    assert health.json["queue"] == "unavailable" and health.json["rate_limits"] == "memory (Redis unreachable)"
    assert "falling back to in-memory storage" in caplog.text  # Flask-Limiter says so
    assert "left for the periodic drain" in caplog.text
    assert smtp.messages == []

    written = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.EMAIL)).all()
    recipients = Counter(m.recipient for m in written)
    assert recipients[advocate.user.email] >= 3  # two sign-in links and the ask
    assert recipients["new.joiner@customer.example"] == 1

    redis_server.start()
    run_consumer()
    run_consumer()  # a second pass (or a second consumer) sends nothing twice

    delivered = Counter((m["To"], m["Subject"]) for m in smtp.messages)
    assert len(smtp.messages) == len(written)
    assert all(count == 1 for (to, subject), count in delivered.items() if "sign-in link" not in subject)
    assert sum(1 for m in smtp.messages if advocate.user.email in m["To"]) == recipients[advocate.user.email]
    assert {m.status for m in written} == {OutboxStatus.SENT}
    assert client.get("/healthz").json == {"status": "ok", "database": "ok", "queue": "ok", "rate_limits": "redis"}
