"""The optional HTTP push: the same publish events, sent as JSON to a real local receiver that
has its own OAuth 2.0 token endpoint, fails for a while and then recovers."""

from __future__ import annotations

import base64
import json
import secrets
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal.database import commit, db
from portal.models import ConsentPurpose, OutboxKind, OutboxMessage, OutboxStatus
from portal.services import consent, publishing
from tests.conftest import free_port
from tests.factories import AdminFactory
from tests.publishing import listed_advocate, reference_db  # noqa: F401

CLIENT_ID, CLIENT_SECRET = "advocate-portal", "s3cret-for-tests"


class Receiver:
    """A CRM's reference endpoint: issues tokens for client credentials, accepts events
    only with a token it issued, and answers 503 to the first ``fail_next`` events."""

    def __init__(self):
        self.tokens: set[str] = set()
        self.token_requests: list[dict] = []
        self.events: list[dict] = []
        self.refused = 0
        self.fail_next = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            response = self.token(request) if request.path == "/oauth/token" else self.event(request)
        return response(environ, start_response)

    def token(self, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        basic = base64.b64decode(auth.removeprefix("Basic ")).decode() if auth.startswith("Basic ") else ""
        self.token_requests.append({"grant_type": request.form.get("grant_type"), "client": basic})
        if request.form.get("grant_type") != "client_credentials" or basic != f"{CLIENT_ID}:{CLIENT_SECRET}":
            return Response(json.dumps({"error": "invalid_client"}), 401, content_type="application/json")
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return Response(json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": 3600}),
                        content_type="application/json")

    def event(self, request: Request) -> Response:
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return Response("no token", 401)
        if self.fail_next > 0:
            self.fail_next -= 1
            self.refused += 1
            return Response("overloaded", 503)
        self.events.append(request.get_json())
        return Response(status=204)


@pytest.fixture
def receiver(app):
    receiver = Receiver()
    server = make_server("127.0.0.1", free_port(), receiver, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(PUSH_URL=f"{base}/events", PUSH_TOKEN_URL=f"{base}/oauth/token",
                      PUSH_CLIENT_ID=CLIENT_ID, PUSH_CLIENT_SECRET=CLIENT_SECRET)
    app.extensions.pop("push_token", None)
    yield receiver
    server.shutdown()
    thread.join()


def push_events():
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.HTTP_PUSH).order_by(OutboxMessage.id)
    ).all()


def test_the_push_signs_in_with_client_credentials_and_sends_each_change(app, db, reference_db, receiver):
    advocate = listed_advocate(ConsentPurpose.CASE_STUDY, story="Ten days to two.")
    [event] = push_events()
    assert event.status is OutboxStatus.SENT
    assert receiver.token_requests == [{"grant_type": "client_credentials", "client": f"{CLIENT_ID}:{CLIENT_SECRET}"}]
    [body] = receiver.events
    assert (body["event_id"], body["advocate_id"], body["action"]) == (event.id, advocate.id, "upsert")
    assert body["advocate"]["story"] == "Ten days to two."

    consent.set_consents(advocate.user, advocate, set())  # withdrawn: the CRM must drop them
    commit()
    assert receiver.events[-1]["action"] == "remove" and receiver.events[-1]["advocate"] is None
    assert len(receiver.token_requests) == 1  # the token is reused until it expires


def test_the_push_survives_the_receiver_failing_then_recovering(app, db, reference_db, receiver):
    receiver.fail_next = 7
    advocates = [listed_advocate() for _ in range(3)]
    for advocate in advocates:
        advocate.story = "Updated."
    commit()
    events = push_events()
    assert len(events) == 6
    assert sum(e.status is OutboxStatus.PENDING for e in events) == 6 - len(receiver.events)
    assert publishing.feed_status().failing >= 1

    for _ in range(5):  # the periodic re-drain, minute after minute
        publishing.retry_all_now()
        commit()
        publishing.drain()
    db.session.expire_all()
    assert {e.status for e in push_events()} == {OutboxStatus.SENT}
    assert receiver.refused == 7
    ids = [e["event_id"] for e in receiver.events]
    assert sorted(ids) == [e.id for e in events]  # every event arrived, each exactly once
    final = {e["advocate_id"]: e for e in receiver.events if e["event_id"] in {x.id for x in events[3:]}}
    assert {a.id for a in advocates} == set(final)


def test_a_wrong_client_secret_fails_and_is_retried_after_the_fix(app, db, reference_db, receiver):
    app.config["PUSH_CLIENT_SECRET"] = "wrong"
    listed_advocate()
    [event] = push_events()
    assert event.status is OutboxStatus.PENDING and "invalid_client" in event.last_error
    assert receiver.events == []
    app.config["PUSH_CLIENT_SECRET"] = CLIENT_SECRET
    publishing.retry_event(AdminFactory(), event.id)
    commit()
    db.session.refresh(event)
    assert event.status is OutboxStatus.SENT
    assert len(receiver.events) == 1
