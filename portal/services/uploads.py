"""Accepting uploaded images safely: size capped, type decided by decoding the content with
Pillow (a renamed HTML or script file is refused whatever its extension), stored in the
database. Serving is the owning feature's job, after its own permission check."""

from __future__ import annotations

import hashlib
import io
import warnings

from flask import Response
from werkzeug.datastructures import FileStorage

from portal.database import db
from portal.models import Upload, User
from portal.services.errors import DomainError

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded


def _image_type(content: bytes) -> str | None:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                if image.format not in IMAGE_TYPES or image.width * image.height > MAX_PIXELS:
                    return None
                image.verify()  # reads the whole file: a truncated or forged one fails
                return IMAGE_TYPES[image.format]
    except Exception:  # Pillow raises many kinds for files that are not images
        return None


def too_large_message(max_bytes: int) -> str:
    return f"The file is larger than {max_bytes // (1024 * 1024)} MB: upload a smaller image."


def store_image(uploader: User | None, file: FileStorage, *, field: str = "file", max_bytes: int = MAX_IMAGE_BYTES) -> Upload:
    """Keep an uploaded PNG, JPEG or WebP image; raises ``DomainError`` (for ``field``) and
    stores nothing otherwise."""
    content = file.read(max_bytes + 1)
    if not content:
        raise DomainError("Choose an image to upload.", field=field)
    if len(content) > max_bytes:
        raise DomainError(too_large_message(max_bytes), field=field)
    mimetype = _image_type(content)
    if mimetype is None:
        raise DomainError("The file is not a PNG, JPEG or WebP image: upload a screenshot in one of those formats.", field=field)
    upload = Upload(
        uploaded_by_id=uploader.id if uploader is not None else None,
        mimetype=mimetype,
        filename=(file.filename or "")[-200:],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def serve(upload: Upload, *, personal: bool = True) -> Response:
    """The stored bytes, as the type found at upload; never sniffed or run by the browser.
    A personal file (a review screenshot) is never kept by the browser or a proxy: after
    sign-out or erasure it must not be readable from a cache; a catalog image may be."""
    response = Response(upload.content, mimetype=upload.mimetype)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = "no-store" if personal else "private, max-age=3600"
    return response
