"""Where a page's time goes before it does anything of its own: CPU per request, in process,
for the reference pages and for portal pages that do nothing but the common work (signed in or
not, with and without the layout), next to the measured pages.

    .venv/bin/python bench/floor.py --database-url sqlite:////tmp/bench-1k.sqlite3

CPU time (not wall time) of this process, the best of three rounds: the machine may be busy.
For PostgreSQL the server's own time is not in it (the load run counts that).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_ADMIN, BENCH_ADVOCATE, reference_url_for  # noqa: E402
from bench.run import SECRET_KEY, Portal, pages  # noqa: E402

EMPTY_PAGE = '{% extends "base.html" %}{% block content %}<h1>Empty</h1>{% endblock %}'


def cpu_ms(request, rounds: int = 3, n: int = 200) -> float:
    request()
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(n):
            request()
        best = min(best, (time.process_time() - started) / n * 1000)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reference-url", help="the reference database (default: as bench/generate.py made it)")
    args = parser.parse_args(argv)
    env = dict(
        PORTAL_ENV="production",
        PORTAL_SECRET_KEY=SECRET_KEY,
        PORTAL_DATABASE_URL=args.database_url,
        PORTAL_REFERENCE_DATABASE_URL=args.reference_url or reference_url_for(args.database_url),
        PORTAL_INSTANCE_PATH=tempfile.mkdtemp(prefix="bench-floor-"),
        PORTAL_SMTP_HOST="",
        PORTAL_BASE_URL="http://127.0.0.1:5000",
    )
    portal = Portal(env)
    from flask import render_template
    from flask_login import current_user
    from jinja2 import ChoiceLoader, DictLoader

    from bench.reference_app import app as reference

    app = portal.app
    app.jinja_loader = ChoiceLoader([app.jinja_loader, DictLoader({"bench_empty.html": EMPTY_PAGE})])
    app.add_url_rule("/bench/plain", "bench_plain", lambda: "ok")
    app.add_url_rule("/bench/user", "bench_user", lambda: f"ok {current_user.is_authenticated}")
    app.add_url_rule("/bench/layout", "bench_layout", lambda: render_template("bench_empty.html"))

    rows: list[tuple[str, float]] = []
    client = reference.test_client()
    rows.append(("reference: constant", cpu_ms(lambda: client.get("/constant"))))
    rows.append(("reference: 20-row table", cpu_ms(lambda: client.get("/table"))))
    ids = portal.ids()
    cookies = {"admin": portal.cookie_and_csrf(BENCH_ADMIN)[0], "advocate": portal.cookie_and_csrf(BENCH_ADVOCATE)[0]}
    floor = [("portal: string, signed out", "/bench/plain", None), ("portal: string, signed in", "/bench/user", "admin"),
             ("portal: empty layout, signed out", "/bench/layout", None), ("portal: empty layout, signed in (admin)", "/bench/layout", "admin"),
             ("portal: empty layout, signed in (advocate)", "/bench/layout", "advocate")]
    measured = [(p.name, p.path, p.who, p.headers) for p in pages(ids) if p.method == "GET"]
    for name, path, who, *headers in [(*f, {}) for f in floor] + measured:
        client = app.test_client()
        if who:
            client.set_cookie(*cookies[who].split("=", 1))
        rows.append((name, cpu_ms(lambda: client.get(path, headers=headers[0]))))
    table = next(ms for name, ms in rows if name == "reference: 20-row table")
    print("| request | CPU ms | 20-row table's CPU as % of it |")
    print("|---|---:|---:|")
    for name, ms in rows:
        print(f"| {name} | {ms:.2f} | {table / ms:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
