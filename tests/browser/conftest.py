"""Browser tests: the portal started with `make run` as a real process, email through a real
SMTP server (aiosmtpd), pages driven in Debian's Chromium with Playwright, accessibility
checked with the vendored axe-core.

Helpers the tests share (signing in, reading email, the axe check) live here too.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import Inbox, free_port, missing
from tests.oidc import node_provider

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "screenshots"
AXE_SCRIPT = "/static/vendor/axe-core-4.14.1/axe.min.js"
START_TIMEOUT = 120
MAIL_TIMEOUT = 20

ADVOCATE_EMAIL = "advocate@example.com"
ADVOCATE_NAME = "Alex Advocate"
ADMIN_EMAIL = "admin@example.com"
STAFF_EMAIL = "staff@example.com"
TEAM_WITHOUT_PASSWORD = (STAFF_EMAIL, "csm@example.com")

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}


def pytest_collection_modifyitems(items):
    # This hook sees the whole session's items, so mark only the ones in this folder.
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


# --- the running portal ---------------------------------------------------------------------


@dataclass
class Portal:
    url: str
    admin_password: str
    inbox: Inbox
    log: Path
    # The server's environment, for running `flask` commands against it (kept out of
    # tracebacks: it is the whole environment of the test run).
    env: dict = field(repr=False, default_factory=dict)


@pytest.fixture(scope="session", autouse=True)
def _chromium_installed():
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is not installed (apt-get install chromium)")


@pytest.fixture(scope="session")
def portal_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def oidc_provider(portal_url):
    """A real OpenID provider (node-oidc-provider) the portal's single sign-on uses."""
    with node_provider(f"{portal_url}/sign-in/sso/callback") as provider:
        yield provider


@pytest.fixture(scope="session")
def portal(smtp_server, oidc_provider, portal_url, tmp_path_factory) -> Portal:
    """The portal as the README starts it (`make run`), with its own instance folder
    (SQLite database, secret, job queue), email going to the test SMTP server and single
    sign-on through a real OpenID provider."""
    instance = tmp_path_factory.mktemp("portal-instance")
    log_path = instance / "make-run.log"
    url = portal_url
    port = int(url.rsplit(":", 1)[1])
    env = os.environ.copy()
    for name in ("TEST_DATABASE_URL", "PORTAL_DATABASE_URL", "PORTAL_REDIS_URL"):
        env.pop(name, None)
    env.update(
        PORT=str(port),
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_BASE_URL=url,
        PORTAL_SMTP_HOST="127.0.0.1",
        PORTAL_SMTP_PORT=str(smtp_server.port),
        PORTAL_OIDC_ISSUER=oidc_provider.issuer,
        PORTAL_OIDC_CLIENT_ID=oidc_provider.client_id,
        PORTAL_OIDC_CLIENT_SECRET=oidc_provider.client_secret,
        # Every test signs in; from one client address the default limit (5 a minute)
        # would answer 429 within seconds.
        PORTAL_SIGN_IN_RATE_LIMIT="1000 per minute",
        PORTAL_SIGN_IN_CLIENT_RATE_LIMIT="1000 per minute",
        # The same for /join, which several tests submit.
        PORTAL_PUBLIC_FORM_RATE_LIMIT="1000 per minute",
        PORTAL_JOIN_ADDRESS_RATE_LIMIT="1000 per minute",
        # Signed-in sessions are made once and reused for the whole run (signed_in_state),
        # which may outlast the admins' 30 idle minutes on a busy machine.
        PORTAL_SESSION_IDLE_MINUTES="600",
        PORTAL_ADMIN_SESSION_IDLE_MINUTES="600",
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make, the consumer, flask
        )
    try:
        _wait_until_healthy(url, process, log_path)
        match = re.search(r"admin@example\.com\s+\(admin\)\s+password: (\S+)", log_path.read_text())
        assert match, f"no admin password in the seed output:\n{log_path.read_text()}"
        yield Portal(url=url, admin_password=match.group(1), inbox=smtp_server, log=log_path, env=env)
    finally:
        _stop_process_group(process)


def _wait_until_healthy(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`make run` exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            exc.close()  # 503 while the queue or database is not ready yet
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    pytest.fail(f"the portal did not answer /healthz within {START_TIMEOUT} s:\n{log_path.read_text()}")


def _stop_process_group(process: subprocess.Popen) -> None:
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait()


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, portal, signed_in_state):
    """Opens a page in a fresh context: ``open_page("phone")`` has no cookies,
    ``open_page("phone", as_=STAFF_EMAIL)`` is signed in as that person (see
    ``signed_in_state``)."""
    contexts = []

    def open_page(size: str = "desktop", as_: str | None = None) -> Page:
        state = signed_in_state(as_) if as_ else None
        context = browser.new_context(base_url=portal.url, storage_state=state, **VIEWPORTS[size])
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page) -> Page:
    return open_page("desktop")


@pytest.fixture
def phone(open_page) -> Page:
    return open_page("phone")


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_no_horizontal_scroll(page: Page) -> None:
    # Compared with the viewport we asked for, not window.innerWidth: a mobile browser
    # zooms out to fit content wider than the screen, and innerWidth grows with it.
    # Measured once the stylesheets have loaded: a page laid out before them is wider than
    # any visitor sees it (a busy machine once measured /home at 645 pixels that way).
    page.wait_for_load_state("load")
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    widths["viewport"] = page.viewport_size["width"]
    assert widths["scroll"] <= widths["viewport"] and widths["inner"] <= widths["viewport"], (
        f"the page scrolls sideways: {widths}"
    )


def go_by_menu(page: Page, menu: str, link: str) -> None:
    """Follow a link of the main navigation that sits in one of its menus, as a person does:
    open the menu, then choose the page."""
    nav = page.get_by_role("navigation", name="Main")
    everything = nav.locator("details.site-menu > summary")
    if everything.is_visible():  # on a phone every link sits behind the one Menu button
        everything.click()
    nav.locator("summary", has_text=menu).click()
    nav.get_by_role("link", name=link, exact=True).click()


# --- email ----------------------------------------------------------------------------------

SIGN_IN_URL = re.compile(r"https?://\S+/sign-in/link/\S+")


def wait_for_sign_in_url(inbox: Inbox, address: str, seen: int) -> str:
    """The sign-in URL in the newest email to ``address`` once more than ``seen`` have
    arrived (the job consumer delivers asynchronously)."""
    deadline = time.monotonic() + MAIL_TIMEOUT
    while time.monotonic() < deadline:
        # The newest new email with a link: the demo's own notifications (queued by the seed
        # and delivered by the consumer in the background) may still be arriving meanwhile.
        for message in reversed(inbox.to(address)[seen:]):
            match = SIGN_IN_URL.search(message.get_body(preferencelist=("plain",)).get_content())
            if match:
                return match.group(0)
        time.sleep(0.1)
    pytest.fail(f"no email with a sign-in link to {address} within {MAIL_TIMEOUT} s")


# --- signing in -----------------------------------------------------------------------------


def expect_signed_in(page: Page) -> None:
    """The page is a signed-in one: its navigation offers Sign out (on a phone, behind the
    Menu button, so it is in the page but not shown until the menu opens)."""
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_have_count(1)


def request_sign_in_link(page: Page, portal: Portal, email: str = ADVOCATE_EMAIL) -> str:
    """Ask for a link on the sign-in page the browser is on; returns the emailed URL."""
    seen = len(portal.inbox.to(email))
    page.get_by_label("Work email").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    return wait_for_sign_in_url(portal.inbox, email, seen)


def sign_in_by_link(page: Page, portal: Portal, email: str = ADVOCATE_EMAIL) -> None:
    page.goto("/sign-in")
    page.goto(request_sign_in_link(page, portal, email))
    page.get_by_role("button", name="Sign me in").click()
    expect_signed_in(page)


def team_form(page: Page):
    return page.get_by_role("article", name=re.compile(r"team$"))


def sign_in_with_password(page: Page, email: str, password: str) -> None:
    page.goto("/sign-in")
    form = team_form(page)
    form.get_by_role("textbox", name="Email", exact=True).fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in", exact=True).click()
    expect_signed_in(page)


def flask_command(portal: Portal, *args: str) -> str:
    """Run `flask --app wsgi ARGS` against the test server's instance folder; its output."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=portal.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def login_link(portal: Portal, email: str) -> str:
    """A sign-in URL from the support command (`flask login-link`): how a team member
    without a password gets in."""
    return flask_command(portal, "login-link", email).strip().splitlines()[-1]


def sign_in_with_login_link(page: Page, portal: Portal, email: str) -> None:
    page.goto(login_link(portal, email))
    page.get_by_role("button", name="Sign me in").click()
    expect_signed_in(page)


@pytest.fixture(scope="session")
def signed_in_state(browser, portal):
    """``signed_in_state(email)``: the cookies of a session signed in as that person, made
    once per test session the way that person signs in (the admin with the password, staff
    with a support link, advocates with an emailed link). Sessions are signed cookies, so
    every context given this state is signed in without spending another link."""
    states: dict[str, dict] = {}

    def state_for(email: str) -> dict:
        if email not in states:
            context = browser.new_context(base_url=portal.url, **VIEWPORTS["desktop"])
            page = context.new_page()
            if email == ADMIN_EMAIL:
                sign_in_with_password(page, email, portal.admin_password)
            elif email in TEAM_WITHOUT_PASSWORD:
                sign_in_with_login_link(page, portal, email)
            else:
                sign_in_by_link(page, portal, email)
            states[email] = context.storage_state()
            context.close()
        return states[email]

    return state_for


# --- accessibility --------------------------------------------------------------------------

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_check(page: Page) -> None:
    """No serious or critical axe-core violations on the page as it is now."""
    # The CSP allows same-origin scripts only, so the vendored file is loaded by URL.
    page.add_script_tag(url=urljoin(page.url, AXE_SCRIPT))
    # resultTypes: only violations are reported in full, which halves the run on long pages.
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    problems = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert not problems, f"axe-core on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {node['target']}" for node in v["nodes"])
        for v in problems
    )


def check_page(page: Page, name: str) -> None:
    """What every page must pass: axe-core, no sideways scrolling at its width, no table
    hiding columns behind a scroll of its own; then a screenshot to look at."""
    axe_check(page)
    assert_no_horizontal_scroll(page)
    hidden = page.evaluate(
        "() => [...document.querySelectorAll('.table-wrap')]"
        ".filter(t => t.scrollWidth > t.clientWidth).map(t => t.outerHTML.slice(0, 120))"
    )
    assert not hidden, f"tables wider than the screen: {hidden}"
    screenshot(page, name)
