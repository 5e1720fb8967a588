"""Done when: in a running portal (`make run`, with its job consumer), approving an advocate,
editing a profile and withdrawing a consent each show up in the reference database within
seconds. The reference database is the SQLite file `make run` migrated in the instance folder."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import create_engine, select

from portal import reference
from tests.browser.conftest import ADMIN_EMAIL

DIEGO = "diego.mora@cafepacifico.example"  # approved, consented to reference calls and quotes


def reference_row(portal, name: str) -> dict | None:
    path = Path(portal.env["PORTAL_INSTANCE_PATH"]) / "reference.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            row = conn.execute(select(reference.advocates).where(reference.advocates.c.name == name)).first()
    finally:
        engine.dispose()
    return row._asdict() if row else None


def eventually(check, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def test_a_profile_edit_and_consent_withdrawals_reach_the_reference_database(open_page, portal):
    assert eventually(lambda: reference_row(portal, "Diego Mora")), "the demo's published advocate"
    page = open_page("desktop", as_=DIEGO)
    page.goto("/profile")
    page.get_by_label("Your name").fill("Diego Mora Jiménez")
    page.get_by_role("button", name="Save my profile").click()
    expect(page.get_by_role("status")).to_be_visible()
    started = time.monotonic()
    row = eventually(lambda: reference_row(portal, "Diego Mora Jiménez"))
    assert row is not None, "the edit did not reach the reference database"
    assert "quote" in row["consented_purposes"]
    print(f"profile edit published after {time.monotonic() - started:.1f}s")

    consent = page.get_by_role("region", name="What may be shared, and for what")
    consent.get_by_label("Quotes and testimonials").uncheck()
    consent.get_by_role("button", name="Save my consent choices").click()
    row = eventually(lambda: (r := reference_row(portal, "Diego Mora Jiménez")) and "quote" not in r["consented_purposes"] and r)
    assert row, "the quote withdrawal did not reach the reference database"

    page.get_by_role("region", name="What may be shared, and for what").get_by_label("Reference calls with prospects").uncheck()
    page.get_by_role("region", name="What may be shared, and for what").get_by_role("button", name="Save my consent choices").click()
    assert eventually(lambda: reference_row(portal, "Diego Mora Jiménez") is None), "still listed after withdrawing"


def test_approving_an_advocate_publishes_them_within_seconds(open_page, portal):
    assert reference_row(portal, "Ingrid Berg") is None  # waiting for approval: not listed
    page = open_page("desktop", as_=ADMIN_EMAIL)
    page.goto("/admin/queue")
    page.get_by_role("link", name=re.compile(r"^Review .*Ingrid Berg")).first.click()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_be_visible()
    row = eventually(lambda: reference_row(portal, "Ingrid Berg"))
    assert row is not None, "the approval did not reach the reference database"
    assert row["company"] == "Fjordline Logistics"
    assert row["consented_purposes"] == ["case_study", "reference_calls"]

    # The consistency check runs in the job consumer; the page follows it until the result shows.
    page.goto("/admin/publishing")
    consistency = page.get_by_role("region", name="Consistency")
    consistency.get_by_role("button", name="Check now").click()
    expect(page.get_by_role("status").filter(has_text="The check has started")).to_be_visible()
    expect(consistency).to_contain_text("a rebuild would change nothing", timeout=30_000)
    expect(consistency).to_contain_text(re.compile(r"Last checked \d{4}-\d\d-\d\d \d\d:\d\d UTC, started by"))
