"""A real OpenID provider for the tests: node-oidc-provider (npm, pinned in
tests/oidc_provider/package-lock.json), run as a process of its own.

Like many real providers, it sends ``email`` and ``email_verified`` only from its userinfo
endpoint, never in the ID token. ``make test`` installs it (`npm ci`); so does the first
test that needs it when it is missing.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.conftest import free_port, missing

HERE = Path(__file__).resolve().parent / "oidc_provider"
START_TIMEOUT = 30


def install() -> None:
    # npm writes node_modules/.package-lock.json last. Parallel test processes take turns:
    # `npm ci` empties node_modules first, and a provider started from a half-written one
    # fails to import.
    installed = HERE / "node_modules" / ".package-lock.json"
    if installed.is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        missing("npm is not installed: the OpenID provider tests need Node.js 20 and npm")
    with open(HERE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not installed.is_file():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True, timeout=300)


@dataclass
class NodeProvider:
    issuer: str
    client_id: str
    client_secret: str
    settings_path: Path
    settings: dict = field(repr=False)

    def set_account(self, sub: str, **claims) -> None:
        """What the provider says about the person who signs in there as ``sub``; read again
        at every sign-in."""
        self.settings.setdefault("accounts", {})[sub] = claims
        self.settings_path.write_text(json.dumps(self.settings))

    def reset(self, default_email_verified: bool | None = True) -> None:
        self.settings["accounts"] = {}
        self.settings["default_email_verified"] = default_email_verified
        self.settings_path.write_text(json.dumps(self.settings))


@contextmanager
def node_provider(redirect_uri: str, default_email_verified: bool | None = True):
    """Runs node-oidc-provider on a free port with the portal registered as a confidential
    client for ``redirect_uri``."""
    install()
    node = shutil.which("node")
    if node is None:
        missing("node is not installed: the OpenID provider tests need Node.js 20")
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="oidc-provider-"))
    settings = {
        "clients": [
            {"client_id": "advocate-portal", "client_secret": "provider-secret-" + os.urandom(8).hex(), "redirect_uris": [redirect_uri]}
        ],
        "accounts": {},
        "default_email_verified": default_email_verified,
    }
    settings_path = folder / "settings.json"
    settings_path.write_text(json.dumps(settings))
    log_path = folder / "provider.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [node, str(HERE / "provider.mjs"), str(port), str(settings_path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    issuer = f"http://localhost:{port}"
    try:
        _wait_until_up(issuer, process, log_path)
        client = settings["clients"][0]
        yield NodeProvider(issuer, client["client_id"], client["client_secret"], settings_path, settings)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_up(issuer: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the OpenID provider did not start within {START_TIMEOUT} s:\n{log_path.read_text()}")


_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def sign_in_at_provider(authorize_url: str, login: str, redirect_uri: str) -> str:
    """What a person does at the provider: open the authorization URL, type ``login`` (their
    subject there; any password) into its sign-in form. Returns the ``redirect_uri`` URL the provider sends the
    browser back to."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    action = _FORM_ACTION.search(page.text)
    assert action, page.text
    answer = browser.post(
        requests.compat.urljoin(page.url, action.group(1).replace("&amp;", "&")),
        data={"prompt": "login", "login": login, "password": "any"},
        allow_redirects=False,
        timeout=10,
    )
    # The provider goes back to its authorization endpoint, which answers with the redirect
    # to the client (consent is not asked of a first-party client).
    while answer.status_code in (302, 303) and not answer.headers["Location"].startswith(redirect_uri):
        answer = browser.get(requests.compat.urljoin(answer.url, answer.headers["Location"]), allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["Location"]
