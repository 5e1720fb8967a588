"""Every page of every role opens without a console error or a Content-Security-Policy
violation (an inline style or script the CSP blocks, a missing file, a script error).

"Every page" is found the way a person finds them: from the role's start page, every link
on the site is followed (GET only; a link marked ``download`` is a file, not a page), each
kind of address once (``/boards/3`` and ``/boards/4`` are one page)."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser.conftest import ADMIN_EMAIL, ADVOCATE_EMAIL, STAFF_EMAIL

MAX_PAGES = 150

# Recorded from the first script that runs on each page (before the page's own), so that
# a violation during parsing is caught too.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""

# Not pages of the portal: a sign-in or unsubscribe link is spent by opening it, and a
# campaign's tracking link and single sign-on send the person on to another site (the review
# platform, the identity provider).
NOT_FOLLOWED = re.compile(r"^/(sign-out|sign-in/link/|sign-in/sso|unsubscribe/|static/|campaigns/go/)")


def kind_of(path: str) -> str:
    """One address per kind of page: numbers and tokens in a path do not make a new page."""
    return re.sub(r"/\d+(?=/|$)", "/{n}", path)


def crawl(page, start: str) -> tuple[list[str], list[str]]:
    """Every page reachable from ``start``; returns (pages visited, problems found)."""
    problems: list[str] = []
    current = {"url": start}
    page.on("console", lambda m: m.type == "error" and problems.append(f"{current['url']}: console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"{current['url']}: script error: {e}"))
    page.add_init_script(WATCH_CSP)

    seen_kinds: set[str] = set()
    queue: deque[str] = deque([start])
    visited: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        path = queue.popleft()
        kind = kind_of(urlsplit(path).path)
        if kind in seen_kinds:
            continue
        seen_kinds.add(kind)
        current["url"] = path
        response = page.goto(path, wait_until="networkidle")
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        visited.append(path)
        problems.extend(f"{path}: CSP: {v}" for v in page.evaluate("window.__cspViolations || []"))
        hrefs = page.evaluate(
            "() => [...document.querySelectorAll('a[href]:not([download])')].map(a => a.getAttribute('href'))"
        )
        for href in hrefs:
            target = urlsplit(urljoin(page.url, href))
            if target.netloc != urlsplit(page.url).netloc or NOT_FOLLOWED.match(target.path):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return visited, problems


@pytest.mark.parametrize(
    ("who", "start"),
    [(None, "/"), (ADVOCATE_EMAIL, "/home"), (STAFF_EMAIL, "/home"), (ADMIN_EMAIL, "/admin")],
    ids=["visitor", "advocate", "staff", "admin"],
)
def test_no_console_error_or_csp_violation_on_any_page(open_page, who, start):
    page = open_page("desktop", as_=who)
    visited, problems = crawl(page, start)
    assert len(visited) >= 3, visited
    assert not problems, "\n".join(problems)
