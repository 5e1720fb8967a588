"""Uploaded images: the type is decided from the content, the size is capped, nothing is
stored when a file is refused."""

import io

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from portal.models import Upload
from portal.services import uploads
from portal.services.errors import DomainError
from tests.factories import UserFactory
from tests.services.helpers import count


def image_bytes(fmt: str, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def file(content: bytes, name: str, mimetype: str = "image/png") -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=name, content_type=mimetype)


@pytest.mark.parametrize("fmt,mimetype", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_images_are_kept_with_the_type_found_in_them(db, fmt, mimetype):
    user = UserFactory()
    content = image_bytes(fmt)
    # The name and the browser's claim say PNG; the content decides.
    upload = uploads.store_image(user, file(content, "shot.png", "image/png"))
    assert (upload.mimetype, upload.size, upload.uploaded_by_id) == (mimetype, len(content), user.id)
    assert db.session.get(Upload, upload.id).content == content


@pytest.mark.parametrize(
    "content,name,message",
    [
        (b"<html><script>alert(1)</script></html>", "review.png", "not a PNG, JPEG or WebP"),
        (b"<!doctype html><p>proof</p>", "proof.html", "not a PNG, JPEG or WebP"),
        (b"GIF89a" + b"\x00" * 50, "anim.gif", "not a PNG, JPEG or WebP"),
        (image_bytes("PNG")[:60], "cut.png", "not a PNG, JPEG or WebP"),  # truncated
        (b"", "empty.png", "Choose an image"),
    ],
)
def test_anything_else_is_refused_and_nothing_is_stored(db, content, name, message):
    with pytest.raises(DomainError) as refused:
        uploads.store_image(UserFactory(), file(content, name), field="screenshot")
    assert message in refused.value.message and refused.value.field == "screenshot"
    assert count(Upload) == 0


def test_an_oversized_file_is_refused_before_it_is_decoded(db):
    big = image_bytes("PNG") + b"\x00" * (uploads.MAX_IMAGE_BYTES + 10)
    with pytest.raises(DomainError, match="larger than 5 MB"):
        uploads.store_image(UserFactory(), file(big, "huge.png"))
    assert count(Upload) == 0


def test_served_as_stored_and_never_sniffed(db, app):
    upload = uploads.store_image(None, file(image_bytes("JPEG"), "x.png"))
    with app.test_request_context():
        response = uploads.serve(upload)
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
