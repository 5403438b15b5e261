"""Static files under versioned URLs (a year in the browser's cache) and compressed text responses."""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli

from shop.static_files import IMMUTABLE_SECONDS, static_version

STATIC = Path(__file__).resolve().parent.parent / "static"


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_every_static_url_on_a_page_names_the_files_current_version(client, make_product):
    make_product(name="Gạo Nếp Tài")
    urls = static_urls(client.get("/").get_data(as_text=True)) + static_urls(
        client.get("/products").get_data(as_text=True))
    assert any(u.startswith("/static/css/site.css?v=") for u in urls)
    for url in urls:
        path, _, query = url.partition("?v=")
        digest = hashlib.sha256((STATIC / path.removeprefix("/static/")).read_bytes()).hexdigest()
        assert query == digest[:12], url


def test_the_current_version_is_cached_for_a_year_and_anything_else_revalidates(client):
    current = static_version(str(STATIC), "css/site.css")
    fresh = client.get(f"/static/css/site.css?v={current}")
    assert fresh.status_code == 200
    assert fresh.cache_control.max_age == IMMUTABLE_SECONDS
    assert fresh.cache_control.public and fresh.cache_control.immutable
    for stale in ("/static/css/site.css?v=000000000000", "/static/css/site.css"):
        response = client.get(stale)
        assert response.status_code == 200
        assert response.cache_control.max_age is None and response.cache_control.no_cache
    assert client.get("/static/css/nothing.css?v=1").status_code == 404
    assert client.get("/static/../config.py").status_code == 404


def test_a_changed_file_gets_a_new_version(tmp_path):
    asset = tmp_path / "a.css"
    asset.write_text("body{color:red}")
    first = static_version(str(tmp_path), "a.css")
    asset.write_text("body{color:blue;}")
    assert static_version(str(tmp_path), "a.css") != first
    assert static_version(str(tmp_path), "missing.css") is None
    assert static_version(str(tmp_path), "../etc/passwd") is None


def test_pages_and_stylesheets_are_compressed_for_clients_that_accept_it(client, make_product):
    make_product(name="Miến dong Tài Hoan")
    plain = client.get("/products")
    assert "Content-Encoding" not in plain.headers  # a client that does not ask gets plain text
    br = client.get("/products", headers={"Accept-Encoding": "br, gzip"})
    assert br.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.data) == plain.data
    assert len(br.data) < len(plain.data) / 3
    css = client.get(f"/static/css/site.css?v={static_version(str(STATIC), 'css/site.css')}",
                     headers={"Accept-Encoding": "gzip"})
    assert css.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(css.data) == (STATIC / "css" / "site.css").read_bytes()
