"""Light pictures: WebP copies in srcset with sizes, width/height from the file, the first screen
loaded eagerly and the main photo first; copies made on demand or by the CLI, never outside the
upload folder."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from shop.extensions import db
from shop.inventory import services as inventory


def store_picture(app, relative: str, size=(800, 800)) -> Path:
    path = Path(app.config["UPLOAD_FOLDER"]) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (180, 120, 60)).save(path, "JPEG", quality=80)
    return path


@pytest.fixture
def pictured(app, make_product, make_shop):
    shop = make_shop("Cửa hàng OCOP Bắc Kạn", ships_online=True)
    products = []
    for n in range(6):
        relative = f"products/p{n}-{id(app)}.jpg"
        store_picture(app, relative)
        product = make_product(f"Sản phẩm {n}", slug=f"san-pham-{n}", image=relative)
        inventory.receive(shop.id, product.id, 5)
        products.append(product)
    db.session.commit()
    return products


def test_the_product_photo_offers_webp_sizes_and_loads_first(client, pictured):
    html = client.get(f"/products/{pictured[0].slug}").get_data(as_text=True)
    block = re.search(r"<picture>.*?</picture>", html, re.S).group(0)
    srcset = re.search(r'<source type="image/webp" srcset="([^"]+)" sizes="([^"]+)">', block)
    widths = [int(w) for w in re.findall(r" (\d+)w", srcset.group(1))]
    assert widths == [240, 480, 640, 800]  # none wider than the 800 px original
    assert all(url.startswith("/media/_sized/products/p0-") and url.endswith(f"-{w}w.webp")
               for url, w in zip(re.findall(r"(\S+) \d+w", srcset.group(1)), widths))
    img = re.search(r"<img [^>]+>", block).group(0)
    assert 'width="800" height="800"' in img and 'loading="eager"' in img and 'fetchpriority="high"' in img


def test_the_first_screen_of_the_catalogue_loads_at_once_and_the_rest_lazily(client, pictured):
    html = client.get("/products").get_data(as_text=True)
    loading = re.findall(r'<img [^>]*loading="(\w+)"', html)
    assert loading == ["eager"] * 4 + ["lazy"] * 2
    assert "fetchpriority" not in html
    assert html.count('sizes="(min-width: 1180px) 260px, (min-width: 640px) 34vw, 46vw"') == 6


def test_a_copy_is_made_when_first_asked_for_and_kept(app, client, pictured):
    relative = pictured[1].image.removesuffix(".jpg")
    url = f"/media/_sized/{relative}-480w.webp"
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/webp"
    with Image.open(io.BytesIO(response.data)) as img:
        assert img.format == "WEBP" and img.size == (480, 480)
    assert (Path(app.config["UPLOAD_FOLDER"]) / url.removeprefix("/media/")).is_file()
    assert "max-age=2592000" in response.headers["Cache-Control"]
    for bad in (f"/media/_sized/{relative}-333w.webp",  # not a width pages ask for
                f"/media/_sized/{relative}-1200w.webp",  # wider than the original
                "/media/_sized/products/nothing-480w.webp",
                "/media/_sized/../../etc/passwd-480w.webp",
                "/media/_sized//etc/hosts-480w.webp"):
        assert client.get(bad).status_code == 404, bad


def test_the_cli_makes_every_missing_copy_once(app, runner):
    store_picture(app, "producers/cover-cli.jpg", size=(1200, 500))
    result = runner.invoke(args=["media-variants"])
    assert result.exit_code == 0
    root = Path(app.config["UPLOAD_FOLDER"])
    made = sorted(p.name for p in (root / "_sized" / "producers").glob("cover-cli-*.webp"))
    assert made == [f"cover-cli-{w}w.webp" for w in sorted((1200, 240, 480, 640, 800), key=str)]
    with Image.open(root / "_sized/producers/cover-cli-640w.webp") as img:
        assert img.size == (640, 267)
    assert runner.invoke(args=["media-variants"]).output.startswith("0 picture copies written")
