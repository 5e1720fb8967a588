"""Production never leaks mail: without SMTP it refuses to start unless told to log mail
without bodies or links; the development mailbox exists only in development; no sign-in
link or token is written to a log or printed by the support command."""

from __future__ import annotations

import logging
import re

import pytest

from portal import create_app
from portal.config import ConfigError
from portal.models import OutboxKind, OutboxMessage, OutboxStatus
from tests.factories import AdminFactory, AdvocateFactory, FailedEmailFactory, UserFactory
from tests.web.pages import submit

PRODUCTION = {"ENV": "production", "SECRET_KEY": "a-long-random-production-secret-" * 2}
LOG_ONLY = {**PRODUCTION, "MAIL_LOG_ONLY": True}
TOKEN = re.compile(r"/sign-in/link/([\w.-]+)")


class Logs:
    """Everything the portal and its libraries log, down to DEBUG, and what they print; not
    the test's own SMTP server (aiosmtpd logs every line it receives)."""

    def __init__(self, caplog, capfd):
        self.caplog, self.capfd = caplog, capfd

    @property
    def text(self) -> str:
        handler = self.caplog.handler
        records = [r for r in self.caplog.records if not r.name.startswith("mail.log")]
        return "\n".join(handler.format(r) for r in records) + "".join(self.capfd.readouterr())


@pytest.fixture
def logs(caplog, capfd):
    caplog.set_level(logging.DEBUG)
    return Logs(caplog, capfd)


def test_production_without_smtp_refuses_to_start(app_config):
    with pytest.raises(ConfigError) as error:
        create_app({**app_config, **PRODUCTION, "SMTP_HOST": ""})
    message = str(error.value)
    assert "PORTAL_SMTP_HOST is not set" in message
    assert "PORTAL_MAIL_LOG_ONLY=true" in message  # says the way out, too


@pytest.mark.parametrize("app_config", [LOG_ONLY], indirect=True)
class TestProductionThatLogsMailOnly:
    def test_it_starts(self, app):
        assert app.config["ENV"] == "production"
        assert app.config["MAIL_CONSOLE"]

    def test_a_sign_in_link_is_logged_without_its_link(self, app, client, db, logs):
        advocate = AdvocateFactory(user__email="rosa@customer.example").user

        response = client.post("/sign-in/link", data={"email": advocate.email})

        assert response.status_code == 302
        [message] = db.session.query(OutboxMessage).filter_by(kind=OutboxKind.EMAIL).all()
        assert message.status is OutboxStatus.SENT  # handled: nothing waits for an SMTP server
        token = TOKEN.search(message.payload["text"]).group(1)
        written = logs.text
        assert "rosa@customer.example" in written and "Your sign-in link" in written
        assert token not in written
        assert "/sign-in/link/" not in written and "unsubscribe" not in written.lower()

    @pytest.mark.parametrize("path", ["/admin/mailbox", "/admin/mailbox/{message}"])
    def test_the_development_mailbox_does_not_exist(self, client, db, login_as, path):
        login_as(AdminFactory())
        assert client.get(path.format(message=FailedEmailFactory().id)).status_code == 404

    def test_the_dashboard_does_not_link_to_a_mailbox(self, client, db, login_as):
        FailedEmailFactory()
        login_as(AdminFactory())
        page = client.get("/admin")
        assert page.status_code == 200
        assert "1 email failed" in page.text
        assert "/admin/mailbox" not in page.text


@pytest.mark.parametrize("app_config", [{"MAIL_LOG_ONLY": True}], indirect=True)
def test_log_only_mail_in_development_has_no_mailbox_either(client, db, login_as, logs):
    login_as(AdminFactory())
    assert client.get("/admin/mailbox").status_code == 404
    UserFactory(email="rosa@customer.example")
    client.post("/sign-in/link", data={"email": "rosa@customer.example"})
    assert "/sign-in/link/" not in logs.text


def test_development_without_smtp_keeps_its_mailbox(client, db, login_as):
    login_as(AdminFactory())
    assert client.get("/admin/mailbox").status_code == 200


@pytest.mark.parametrize("app_config", [PRODUCTION], indirect=True)
class TestProductionWithSmtp:
    @pytest.fixture
    def app_config(self, app_config, smtp_server):
        return {**app_config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port}

    def test_the_support_command_emails_the_link_instead_of_printing_it(self, app, client, db, smtp_server, logs):
        smtp_server.clear()
        UserFactory(email="casey@example.com", name="Casey")

        result = app.test_cli_runner().invoke(args=["login-link", "Casey@Example.com"])

        assert result.exit_code == 0, result.output
        assert result.output.strip() == "Emailed a one-time sign-in link to casey@example.com."
        [email] = smtp_server.to("casey@example.com")
        link = TOKEN.search(email.get_body(preferencelist=("plain",)).get_content())
        assert link is not None
        assert link.group(1) not in logs.text + result.output
        # The emailed link works.
        path = "/sign-in/link/" + link.group(1)
        response = submit(client, client.get(path, base_url="https://portal.test").text, to=path)
        assert response.status_code == 302

    def test_no_sign_in_writes_a_link_or_token_to_the_log(self, app, db, smtp_server, logs):
        smtp_server.clear()
        AdvocateFactory(user__email="rosa@customer.example")
        client = app.test_client()
        base = "https://portal.test"  # production cookies are Secure

        client.post("/sign-in/link", data={"email": "rosa@customer.example"}, base_url=base)
        client.post("/sign-in/link", data={"email": "nobody@customer.example"}, base_url=base)
        [email] = smtp_server.to("rosa@customer.example")
        token = TOKEN.search(email.get_body(preferencelist=("plain",)).get_content()).group(1)
        path = f"/sign-in/link/{token}"
        response = submit(client, client.get(path, base_url=base).text, to=path)
        assert response.status_code == 302
        client.get(path, base_url=base)  # the spent link, opened again
        client.post("/sign-in/password", data={"email": "rosa@customer.example", "password": "wrong"}, base_url=base)

        written = logs.text
        assert token not in written
        assert token.split(".")[0] not in written
        assert "/sign-in/link/" not in written
