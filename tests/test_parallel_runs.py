"""`make test` runs the suite in several processes at once (pytest-xdist), CI runs its two
passes side by side, and other people's runs share the same servers: what one test process
keeps on a shared server, or the ports it listens on, must not be another's."""

from __future__ import annotations

import itertools

import pytest
import redis
from limits.storage import storage_from_string

from portal.extensions import limiter
from tests.conftest import LIMITER_KEY_PREFIX, PORTS, REDIS_URL, worker_ports


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True}


@pytest.mark.skipif(not REDIS_URL, reason="rate limits are shared between processes only on Redis")
@pytest.mark.fresh_app  # the limiter's storage is made by the newest app (create_app)
def test_resetting_the_rate_limits_touches_only_this_process_counts(app):
    server = redis.Redis.from_url(REDIS_URL)
    # What another test process (or a portal) counted, under its own prefix.
    another = storage_from_string(REDIS_URL, key_prefix="portal-test-another-process-limits")
    another.incr("sign-in/198.51.100.1", 60)
    try:
        limiter.storage.incr("sign-in/198.51.100.1", 60)
        assert server.exists(f"{LIMITER_KEY_PREFIX}:sign-in/198.51.100.1")

        limiter.reset()  # what the app fixture does before every rate-limited test

        assert limiter.storage.get("sign-in/198.51.100.1") == 0
        assert another.get("sign-in/198.51.100.1") == 1
    finally:
        another.reset()
        server.close()


def test_each_worker_picks_ports_of_its_own():
    assert worker_ports("") == PORTS  # one process: the whole range
    slices = [worker_ports(f"gw{n}") for n in range(8)]
    for ports in slices:
        assert len(ports) > 1000 and ports.start >= PORTS.start and ports.stop <= PORTS.stop
    for one, other in itertools.combinations(slices, 2):
        assert not set(one) & set(other), f"{one} and {other} overlap"
