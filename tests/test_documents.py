"""The documents module: real PDFs from WeasyPrint, which fetches nothing from the disk or the
network, from templates that get plain values only."""

from __future__ import annotations

import http.server
import threading
from io import BytesIO

import pytest
from pypdf import PdfReader

from portal import documents
from tests.conftest import free_port


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


@pytest.fixture
def probe_template(app, tmp_path):
    """A template naming a local file and a web address; we count who asks for them."""
    (tmp_path / "secret.css").write_text("body { color: red }")
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from jinja2 import ChoiceLoader, DictLoader

    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader(
                {
                    "pdf/probe.html": (
                        '{% extends "pdf/_base.html" %}{% block body %}'
                        f'<link rel="stylesheet" href="file://{tmp_path}/secret.css">'
                        f'<img src="http://127.0.0.1:{port}/tracker.png" alt="">'
                        "<h1>Hello {{ name }}</h1>{% endblock %}"
                    )
                }
            ),
            app.jinja_env.loader,
        ]
    )
    yield hits
    server.shutdown()
    server.server_close()


def test_renders_a_real_pdf_with_the_values(app, probe_template):
    pdf = documents.render_pdf("probe.html", name="Alex Advocate", program_name="Advocate Portal")
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Hello Alex Advocate" in text
    assert "Advocate Portal · page 1 of 1" in text


def test_fetches_nothing_from_the_disk_or_the_network(app, probe_template):
    documents.render_pdf("probe.html", name="x", program_name="p")
    assert probe_template == []  # the web server was never asked
    with pytest.raises(ValueError, match="disallowed protocol"):
        documents._fetcher().fetch("file:///etc/passwd")
    with pytest.raises(ValueError, match="disallowed protocol"):
        documents._fetcher().fetch("https://example.com/logo.png")


def test_inline_images_still_load(app):
    from jinja2 import ChoiceLoader, DictLoader

    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    app.jinja_env.loader = ChoiceLoader(
        [DictLoader({"pdf/image.html": '<img src="{{ src }}" alt="" style="width:2cm">'}), app.jinja_env.loader]
    )
    pdf = documents.render_pdf("image.html", src=documents.data_uri(png, "image/png"))
    assert len(PdfReader(BytesIO(pdf)).pages[0].images) == 1


def test_templates_get_plain_values_only(app):
    from tests.factories import UserFactory

    with pytest.raises(TypeError, match=r"recipient is a User"):
        documents.render_pdf("probe.html", recipient=UserFactory.build())
    with pytest.raises(TypeError, match=r"rows\[0\]\.who is a User"):
        documents.render_pdf("probe.html", rows=[{"who": UserFactory.build()}])
