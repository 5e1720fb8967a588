"""The load run: serves the portal and the reference app with gunicorn on 127.0.0.1, drives
every measured page with wrk using signed-in sessions, counts each page's SQL queries, and
prints a Markdown table (appended to bench/RESULTS.md with --record).

    .venv/bin/python bench/run.py --database-url sqlite:////tmp/bench-1k.sqlite3 --label "1k SQLite"

The database is one bench/generate.py filled. Only 127.0.0.1 is ever contacted; every wrk run
is bounded by --duration.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.generate import BENCH_ADMIN, BENCH_ADVOCATE, BENCH_API_TOKEN, reference_url_for  # noqa: E402

WARM_UP_SECONDS = 2
SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdef"


@dataclass
class Page:
    name: str
    path: str
    who: str | None  # "admin", "advocate" or None (signed out)
    method: str = "GET"
    body: str = ""  # for POST: the form, with {csrf} and {advocate_id} filled per request
    headers: dict = field(default_factory=dict)
    # POSTs as many different advocates, one after the other (a claim spends one person's points)
    as_advocates: int = 0


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    queries: int | str
    db_ms: float | None = None  # the page's statements' time in the database, in process


def free_port_below() -> int:
    """A free port below 32768 (the client port range starts there on these machines)."""
    import random

    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


# --- servers --------------------------------------------------------------------------------


def serve(app_path: str, port: int, env: dict, workers: int, log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [str(gunicorn), "--no-control-socket", "--worker-class", "sync", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app_path],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- sessions, pages and query counts (in process, same secret as the servers) ---------------


class Portal:
    def __init__(self, env: dict):
        os.environ.update(env)
        from portal import create_app

        self.app = create_app({"SERVER_NAME": None})
        # Each request below gets its own app context (and so a fresh g), as in production.
        with self.app.app_context():
            from portal.database import db

            self.engine = db.engine

    def user_id(self, email: str) -> int:
        from sqlalchemy import select

        from portal.database import db
        from portal.models import User

        with self.app.app_context():
            return db.session.scalar(select(User.id).where(User.email == email))

    def cookie_and_csrf(self, email: str) -> tuple[str, str]:
        """A signed session cookie for ``email`` (as Flask-Login writes it at sign-in) and a
        CSRF token that goes with it."""
        from flask import session
        from flask_wtf.csrf import generate_csrf

        from portal.database import db
        from portal.models import User
        from portal.security import start_session

        user_id = self.user_id(email)
        with self.app.test_request_context():
            session["_user_id"] = str(user_id)
            session["_fresh"] = True
            start_session(db.session.get(User, user_id), session, time.time())
            token = generate_csrf()
            cookie = self.app.session_interface.get_signing_serializer(self.app).dumps(dict(session))
        return f"{self.app.config['SESSION_COOKIE_NAME']}={cookie}", token

    def ids(self) -> dict:
        from sqlalchemy import select

        from portal.database import db
        from portal.models import ActivityType, Advocate, AdvocateStatus, Region, Term, TermKind

        with self.app.app_context():
            return self._ids()

    def _ids(self) -> dict:
        from sqlalchemy import select

        from portal.database import db
        from portal.models import ActivityType, Advocate, AdvocateStatus, Region, Reward, Term, TermKind, User

        product = db.session.scalar(select(Term.id).where(Term.kind == TermKind.PRODUCT).order_by(Term.id))
        industry = db.session.scalar(select(Term.id).where(Term.kind == TermKind.INDUSTRY).order_by(Term.id))
        region = db.session.scalar(select(Region.id).where(Region.name == "Americas")) or db.session.scalar(select(Region.id))
        call = db.session.scalar(select(ActivityType.id).where(ActivityType.key == "reference_call"))
        approved = db.session.scalars(
            select(Advocate.id).where(Advocate.status == AdvocateStatus.APPROVED).order_by(Advocate.id).limit(2000)
        ).all()
        claimers = db.session.scalars(
            select(User.email)
            .join(Advocate, Advocate.user_id == User.id)
            .where(Advocate.status == AdvocateStatus.APPROVED)
            .order_by(Advocate.id)
            .limit(300)
        ).all()
        reward = db.session.scalar(select(Reward.id).where(Reward.name == "Thank-you e-card"))
        return {"product": product, "industry": industry, "region": region, "call": call, "approved": approved,
                "claimers": claimers, "reward": reward, "page_50": self._page_50_cursor()}

    @staticmethod
    def _page_50_cursor() -> str:
        """The cursor the API's next link carries to page 50 of 20 (the 980th published id)."""
        from sqlalchemy import func, select

        from blueprints.api.views import encode_cursor
        from portal.database import db
        from portal.models import Advocate
        from portal.services import publishing

        published = select(Advocate.id).where(publishing.published_condition())
        after = db.session.scalar(published.order_by(Advocate.id).offset(49 * 20 - 1).limit(1)) or 0
        total = db.session.scalar(select(func.count()).select_from(published.subquery()))
        return encode_cursor(after, 50, total)

    def has_route(self, path: str) -> bool:
        adapter = self.app.url_map.bind("localhost")
        try:
            adapter.match(path.split("?")[0], method="GET")
        except Exception as exc:  # NotFound, or MethodNotAllowed for a POST-only rule
            return type(exc).__name__ == "MethodNotAllowed"
        return True

    def count_queries(self, page: Page, cookie: str, csrf: str, advocate_id: int) -> tuple[int, float]:
        """Statements one request of ``page`` issues (after a first, warming request), and the
        time they took in the database (the best of five requests: the page's own cost, not
        the machine's other work)."""
        from sqlalchemy import event

        client = self.app.test_client()
        headers = dict(page.headers)
        if cookie:
            client.set_cookie(*cookie.split("=", 1))
        started: list[float] = []
        took: list[float] = []

        def before(*_args, **_kwargs):
            started.append(time.perf_counter())

        def after(*_args, **_kwargs):
            took.append(time.perf_counter() - started[-1])

        def once():
            if page.method == "POST":
                body = page.body.format(csrf=csrf, advocate_id=advocate_id)
                return client.post(page.path.format(advocate_id=advocate_id), data=body, headers=headers,
                                   content_type="application/x-www-form-urlencoded")
            return client.get(page.path, headers=headers)

        once()
        counts, db_ms = [], []
        event.listen(self.engine, "before_cursor_execute", before)
        event.listen(self.engine, "after_cursor_execute", after)
        try:
            for _ in range(1 if page.method == "POST" else 5):
                started.clear()
                took.clear()
                response = once()
                counts.append(len(took))
                db_ms.append(sum(took) * 1000)
        finally:
            event.remove(self.engine, "before_cursor_execute", before)
            event.remove(self.engine, "after_cursor_execute", after)
        if response.status_code >= 500 or response.status_code in (400, 401, 403):
            raise RuntimeError(f"{page.name} answered {response.status_code}")
        if page.who and "/sign-in" in response.headers.get("Location", ""):
            raise RuntimeError(f"{page.name} sent its signed-in visitor to sign in: the session is not valid")
        return counts[0], min(db_ms)


def pages(ids: dict) -> list[Page]:
    due = (date.today() + timedelta(days=10)).isoformat()
    directory = f"/admin/advocates?product={ids['product']}&industry={ids['industry']}&region={ids['region']}"
    return [
        Page("/ (public)", "/", None),
        Page("/home", "/home", "advocate"),
        Page("/preferences", "/preferences", "advocate"),
        Page("/rewards", "/rewards", "advocate"),
        Page("/admin", "/admin", "admin"),
        Page("/admin/advocates", "/admin/advocates", "admin"),
        Page("/admin/advocates (3 filters)", directory, "admin"),
        Page("/admin/advocates (available now)", "/admin/advocates?available=y", "admin"),
        Page("/admin/advocates (over-used)", "/admin/advocates?usage=over", "admin"),
        Page("/admin/advocates (under-used)", "/admin/advocates?usage=under", "admin"),
        Page("/admin/queue", "/admin/queue", "admin"),
        Page(
            "POST /rewards/<id>/claim",
            f"/rewards/{ids['reward']}/claim",
            "advocate",
            method="POST",
            body="csrf_token={csrf}&delivery_note=Bench",
            as_advocates=300,
        ),
        Page("GET /api/v1/advocates", "/api/v1/advocates?per_page=20", None,
             headers={"Authorization": f"Bearer {BENCH_API_TOKEN}"}),
        Page("GET /api/v1/advocates (page 50)", f"/api/v1/advocates?per_page=20&cursor={ids['page_50']}", None,
             headers={"Authorization": f"Bearer {BENCH_API_TOKEN}"}),
        Page(
            "POST /admin/asks/new",
            "/admin/asks/new?advocate_id={advocate_id}",
            "admin",
            method="POST",
            body=f"csrf_token={{csrf}}&advocate_id={{advocate_id}}&activity_type={ids['call']}"
            f"&prospect_company=Bench+Prospect&due_on={due}",
        ),
    ]


# --- wrk ------------------------------------------------------------------------------------

LUA = """
local sessions = {{{sessions}}}
local ids = {{{ids}}}
local counter = 0
request = function()
  counter = counter + 1
  local session = sessions[(counter % #sessions) + 1]
  local id = tostring(ids[(counter % #ids) + 1])
  local path = string.gsub("{path}", "{{advocate_id}}", id)
  local body = string.gsub(string.gsub("{body}", "{{advocate_id}}", id), "{{csrf}}", session[2])
  local headers = {{["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = session[1]}}
  return wrk.format("{method}", path, headers, body)
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_duration_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def run_wrk(url: str, page: Page, sessions: list[tuple[str, str]], advocate_ids: list[int], duration: int,
            connections: int, tmp: Path) -> tuple[float, float, float, int]:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", "--timeout", "10s"]
    for name, value in page.headers.items():
        command += ["-H", f"{name}: {value}"]
    if page.method == "POST":
        script = tmp / "post.lua"
        script.write_text(
            LUA.format(
                sessions=",".join(f"{{{lua_string(cookie)}, {lua_string(csrf)}}}" for cookie, csrf in sessions),
                ids=",".join(str(i) for i in advocate_ids),
                path=page.path,
                body=page.body,
                method=page.method,
            )
        )
        command += ["-s", str(script)]
    elif sessions[0][0]:
        command += ["-H", f"Cookie: {sessions[0][0]}"]
    target = url + (page.path if page.method == "GET" else "/")
    # A short unrecorded run first, so that the result is the steady state: every worker has
    # its connections, compiled statements and (the dashboard) its one-minute figures.
    warm_up = list(command)
    warm_up[warm_up.index("-d") + 1] = f"{WARM_UP_SECONDS}s"
    subprocess.run(warm_up + [target], capture_output=True, text=True, timeout=WARM_UP_SECONDS + 60)
    result = subprocess.run(command + [target], capture_output=True, text=True, timeout=duration + 60)
    out = result.stdout
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr or out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = parse_duration_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = parse_duration_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, p50, p99, int(non_2xx.group(1)) if non_2xx else 0


# --- the run --------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reference-url", help="the reference database (default: as bench/generate.py made it)")
    parser.add_argument("--label", required=True, help='e.g. "100k PostgreSQL"')
    parser.add_argument("--duration", type=int, default=10, help="seconds per page")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers, for both apps")
    parser.add_argument("--only", help="measure only pages whose name contains this")
    parser.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    tmp = Path(tempfile.mkdtemp(prefix="bench-run-"))
    env = dict(os.environ)
    env.update(
        PORTAL_ENV="production",
        PORTAL_SECRET_KEY=SECRET_KEY,
        PORTAL_DATABASE_URL=args.database_url,
        PORTAL_REFERENCE_DATABASE_URL=args.reference_url or reference_url_for(args.database_url),
        PORTAL_INSTANCE_PATH=str(tmp),
        PORTAL_SMTP_HOST="",
        PORTAL_MAIL_LOG_ONLY="true",  # production refuses to start without SMTP otherwise
    )
    portal_port, reference_port = free_port_below(), free_port_below()
    env["PORTAL_BASE_URL"] = f"http://127.0.0.1:{portal_port}"
    servers = [
        serve("wsgi:app", portal_port, env, args.workers, tmp / "portal.log"),
        serve("bench.reference_app:app", reference_port, env, args.workers, tmp / "reference.log"),
    ]
    results: list[Result] = []
    try:
        wait_for(f"http://127.0.0.1:{portal_port}/healthz", servers[0])
        wait_for(f"http://127.0.0.1:{reference_port}/constant", servers[1])
        portal = Portal(env)
        ids = portal.ids()
        sessions = {"admin": portal.cookie_and_csrf(BENCH_ADMIN), "advocate": portal.cookie_and_csrf(BENCH_ADVOCATE), None: ("", "")}
        reference = [Page("reference: constant", "/constant", None), Page("reference: 20-row table", "/table", None)]
        for page in reference:
            rps, p50, p99, bad = run_wrk(f"http://127.0.0.1:{reference_port}", page, [("", "")], [1], args.duration, args.connections, tmp)
            results.append(Result(page.name, rps, p50, p99, bad, 1 if "table" in page.name else 0))
        for page in pages(ids):
            if args.only and args.only not in page.name:
                continue
            if not portal.has_route(page.path.format(advocate_id=ids["approved"][0])):
                print(f"skipping {page.name}: no such page in this version", file=sys.stderr)
                continue
            signed_in = [sessions[page.who]]
            if page.as_advocates:
                signed_in = [portal.cookie_and_csrf(email) for email in ids["claimers"][: page.as_advocates]]
            cookie, csrf = signed_in[-1]
            queries, db_ms = portal.count_queries(page, cookie, csrf, ids["approved"][-1])
            rps, p50, p99, bad = run_wrk(f"http://127.0.0.1:{portal_port}", page, signed_in, ids["approved"], args.duration, args.connections, tmp)
            results.append(Result(page.name, rps, p50, p99, bad, queries, db_ms))
            print(f"{page.name}: {rps:.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {queries} queries, {db_ms:.1f} ms in the database",
                  file=sys.stderr)
    finally:
        for server in servers:
            stop(server)
    table = render(results, args)
    print(table)
    if args.record:
        with (HERE / "RESULTS.md").open("a") as out:
            out.write("\n" + table + "\n")
    return 0


def render(results: list[Result], args) -> str:
    table_ref = next(r for r in results if r.name == "reference: 20-row table")
    constant_ref = next(r for r in results if r.name == "reference: constant")
    lines = [
        f"### {args.label} — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; gunicorn "
        f"{args.workers} sync workers per app, wrk 2 threads × {args.connections} connections × {args.duration} s per page.",
        f"Command: `python bench/run.py --database-url <{args.database_url.split(':')[0]}> --label \"{args.label}\" "
        f"--duration {args.duration} --connections {args.connections} --workers {args.workers}`",
        "",
        "| page | req/s | p50 ms | p99 ms | queries | db ms | vs constant | vs 20-row table | p99 vs table | non-2xx/3xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.rps:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.queries} | "
            f"{'' if r.db_ms is None else f'{r.db_ms:.1f}'} | "
            f"{r.rps / constant_ref.rps:.0%} | {r.rps / table_ref.rps:.0%} | {r.p99_ms / table_ref.p99_ms:.1f}× | {r.non_2xx} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
