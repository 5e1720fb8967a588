"""The reference pages every measurement is compared with: a minimal Flask app, served by the
same gunicorn settings on the same machine, against the same database.

- ``/constant``: a constant string (the floor: what gunicorn + Flask cost).
- ``/table``: a 20-row Jinja table from one SQLAlchemy query on the advocates table (what a
  simple, well-indexed database page costs).

Ratios to these, not absolute times, are what count on a shared machine.
"""

from __future__ import annotations

import os

from flask import Flask, render_template
from jinja2 import DictLoader
from sqlalchemy import create_engine, text

TABLE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Reference</title></head>
<body><main><table><thead><tr><th>Id</th><th>Job title</th><th>Country</th><th>Status</th></tr></thead>
<tbody>{% for row in rows %}<tr><td>{{ row.id }}</td><td>{{ row.job_title }}</td><td>{{ row.country }}</td>
<td>{{ row.status }}</td></tr>{% endfor %}</tbody></table></main></body></html>"""


def _url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


app = Flask(__name__)
# Through Flask's own template loading, as the portal's pages are: compiled once, then cached
# (render_template_string would compile the table again on every request).
app.jinja_loader = DictLoader({"table.html": TABLE})
engine = create_engine(_url(os.environ["PORTAL_DATABASE_URL"]), pool_pre_ping=True)


@app.get("/constant")
def constant():
    return "ok"


@app.get("/table")
def table():
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, job_title, country, status FROM advocates ORDER BY id DESC LIMIT 20")
        ).all()
    return render_template("table.html", rows=rows)
