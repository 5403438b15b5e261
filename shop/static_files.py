"""Static files under versioned URLs that browsers may keep for a year, and compressed text.

Every ``url_for("static", filename=…)`` gets ``?v=<first 12 hex digits of the file's SHA-256>``
(``static_version``): when a file changes, its URL changes, so a browser never runs a stale
stylesheet or script, and a URL that names the current version can be cached for a year and marked
``immutable`` (RFC 8246). A request without ``v``, or with a ``v`` that is not the file's current
version (an old page still open after a deploy), gets Flask's default (revalidate with the
``Last-Modified`` / ``ETag`` that ``send_file`` gives), so nothing stale is pinned for a year.

The version is computed once per file and kept with the file's modification time and size (the
``_versions`` cache below), so editing a file in development gives a new URL at the next page while
production reads each file once per worker.

Text responses (HTML, CSS, JavaScript, JSON, SVG, XML) are compressed with Brotli or gzip by
Flask-Compress when the client accepts it and the response is larger than ``COMPRESS_MIN_SIZE``
(500 bytes); a reverse proxy that compresses already can turn it off with ``COMPRESS_REGISTER=0``
(see the README's settings).
"""
from __future__ import annotations

import hashlib
import os
import threading

from flask import Flask, Response, request
from werkzeug.security import safe_join

#: One year, the longest lifetime HTTP caches are asked to honour (RFC 9111 § 5.2.2.1 practice).
IMMUTABLE_SECONDS = 365 * 24 * 3600
VERSION_LENGTH = 12  # hex digits of SHA-256: 48 bits, enough to tell one file's versions apart

_versions: dict[str, tuple[float, int, str]] = {}
_lock = threading.Lock()


def static_version(static_folder: str, filename: str) -> str | None:
    """The version of ``static/<filename>``: 12 hex digits of its SHA-256, or None if no such file.

    Cached per (path, modification time, size); ``filename`` that leaves the folder gives None.
    """
    path = safe_join(static_folder, filename)
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    cached = _versions.get(path)
    if cached is not None and cached[0] == stat.st_mtime and cached[1] == stat.st_size:
        return cached[2]
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()[:VERSION_LENGTH]
    with _lock:
        _versions[path] = (stat.st_mtime, stat.st_size, digest)
    return digest


def init_app(app: Flask) -> None:
    """Add ``v`` to static URLs, cache current versions for a year, compress text responses."""

    @app.url_defaults
    def _add_static_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            version = static_version(app.static_folder, values["filename"])
            if version is not None:
                values["v"] = version

    from shop.extensions import compress

    compress.init_app(app)  # registers nothing when COMPRESS_REGISTER is false

    # Registered after Flask-Compress, so it runs before it (Flask runs after_request hooks last
    # registered first).
    @app.after_request
    def _cache_versioned_static(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code != 200:
            return response
        if response.mimetype in app.config.get("COMPRESS_MIMETYPES", ()):
            # send_file streams the file untouched; let Flask-Compress read it (our text files are
            # a few kilobytes) so stylesheets and scripts are compressed too.
            response.direct_passthrough = False
            response.make_sequence()  # read whole, so it is compressed in one piece (gzip too)
        asked = request.args.get("v")
        filename = (request.view_args or {}).get("filename", "")
        if asked and asked == static_version(app.static_folder, filename):
            response.cache_control.public = True
            response.cache_control.max_age = IMMUTABLE_SECONDS
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        return response

