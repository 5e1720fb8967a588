"""CSV exports of the admin lists: one streaming response for all of them.

Rows are written as they are read from the database (``yield_per``), so a large export
neither holds the whole list in memory nor waits for it before the download starts. Every
cell is made safe for spreadsheets: a value starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return would be run as a formula by Excel, LibreOffice or Google Sheets
(CSV injection), so it is prefixed with an apostrophe, which they show as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from flask import Response, stream_with_context
from sqlalchemy import Select

from portal.database import db, utcnow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 500


def safe_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (date, Decimal, int, float)):
        return str(value)  # numbers stay numbers: a negative amount is not a formula
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _lines(header: list[str], rows: Iterable[Iterable]) -> Iterable[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff"  # a byte-order mark, so spreadsheets read the file as UTF-8
    writer.writerow([safe_cell(h) for h in header])
    yield flush()
    for count, row in enumerate(rows, 1):
        writer.writerow([safe_cell(cell) for cell in row])
        if count % 100 == 0:
            yield flush()
    yield flush()


def rows_of(query: Select, to_row: Callable[[object], Iterable]) -> Iterable[Iterable]:
    """The query's objects in batches, each turned into a row."""
    for item in db.session.scalars(query.execution_options(yield_per=BATCH)):
        yield to_row(item)


def export_filename(stem: str) -> str:
    """``stem-YYYYMMDD-HHMM.csv``: downloads of the same list sort by when they were made."""
    return f"{stem}-{utcnow():%Y%m%d-%H%M}.csv"


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    return Response(
        stream_with_context(_lines(header, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
