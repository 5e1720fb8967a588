"""PDF documents (certificates, vouchers, the program report), rendered by WeasyPrint from
``templates/pdf/``. Everything PDF goes through this module, for two reasons:

- WeasyPrint fetches nothing: no ``file://`` (which would read the server's disk) and no
  remote URL (which would make the server request what a template names). Only inline
  ``data:`` URLs load, so images are passed in as data URIs.
- Templates get plain values only (strings, numbers, dates, lists and dicts of them), never
  models: a template cannot lazy-load a relationship or reach data the view did not choose.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

from flask import render_template, send_file

PLAIN = (str, int, float, Decimal, date, datetime, bool, type(None))
PDF_MIMETYPE = "application/pdf"


def _check_plain(value, path: str) -> None:
    if isinstance(value, PLAIN):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(item, f"{path}.{key}")
        return
    raise TypeError(f"PDF templates get plain values only; {path} is a {type(value).__name__}")


def _fetcher():
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"})


def render_pdf(template: str, **values) -> bytes:
    """``templates/pdf/<template>`` rendered with ``values`` as a PDF."""
    from weasyprint import HTML

    for name, value in values.items():
        _check_plain(value, name)
    html = render_template(f"pdf/{template}", **values)
    return HTML(string=html, url_fetcher=_fetcher()).write_pdf()


def data_uri(content: bytes, mimetype: str) -> str:
    """An image stored in the database, inlined for a PDF template."""
    return f"data:{mimetype};base64,{base64.b64encode(content).decode('ascii')}"


def pdf_response(pdf: bytes, filename: str):
    """A PDF download; certificates and reports name people, so no cache keeps them."""
    response = send_file(BytesIO(pdf), mimetype=PDF_MIMETYPE, as_attachment=True, download_name=filename)
    response.headers["Cache-Control"] = "no-store"
    return response
