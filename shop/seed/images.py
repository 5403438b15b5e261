"""Pictures for the demo catalogue, drawn locally with Pillow (no downloads).

Product pictures are 800×800, producer covers 1200×500. The shop's CSS crops product pictures to
4:3 and producer covers to 16:9 (``object-fit: cover``), so everything that matters is kept inside
the central band that survives the crop: y 110–690 on products, x 170–1030 on covers.

No text is drawn on any picture: a picture is shown at every size (a 150 px card on a phone, a
1280 px page) and on pages in both languages, and a label drawn into pixels can be neither resized
nor translated. The page next to the picture carries the name, unit and place.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

PRODUCT_SIZE = (800, 800)
COVER_SIZE = (1200, 500)
JPEG_QUALITY = 86

# Two gradient colours (top, bottom) and an accent per top-level OCOP group.
PALETTES = {
    "I": ((253, 224, 150), (222, 120, 60), (120, 60, 20)),      # food: rice straw to terracotta
    "II": ((246, 196, 170), (150, 50, 80), (90, 20, 40)),       # drinks: rice spirit and wine
    "III": ((214, 240, 170), (60, 140, 100), (25, 80, 50)),     # herbal: turmeric leaf green
    "IV": ((190, 200, 240), (60, 70, 150), (30, 30, 90)),       # handicrafts: indigo
    "V": ((250, 210, 235), (170, 120, 200), (90, 50, 120)),     # ornamental: orchid
    "VI": ((190, 240, 245), (50, 140, 180), (20, 70, 100)),     # tourism: Ba Bể lake
}
GOLD = (255, 205, 60)


def _mix(a, b, t: float):
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))


def _shift(colour, rng: random.Random, amount: int = 18):
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)


def _gradient(size, top, bottom) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _soft_layer(size, colour=(255, 255, 255), scale: int = 4) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """A small transparent layer: drawn at low resolution, then blurred and scaled up (cheap).

    The transparent pixels carry ``colour`` so that blurring does not pull in a dark fringe.
    """
    layer = Image.new("RGBA", (size[0] // scale, size[1] // scale), (*colour, 0))
    return layer, ImageDraw.Draw(layer)


def _paste_soft(base: Image.Image, layer: Image.Image, blur: float) -> Image.Image:
    layer = layer.filter(ImageFilter.GaussianBlur(blur)).resize(base.size, Image.Resampling.BICUBIC)
    return Image.alpha_composite(base, layer)


def _star(cx: float, cy: float, r: float, rotation: float = -math.pi / 2):
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.45
        angle = rotation + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


# ---- product motifs ---------------------------------------------------------------------------
# Each motif draws a white silhouette centred on (cx, cy) roughly ``h`` pixels tall.

def _bottle(d: ImageDraw.ImageDraw, cx, cy, h, fill, accent, variant=0):
    w = h * 0.36
    top = cy - h / 2
    d.rounded_rectangle((cx - w * 0.18, top, cx + w * 0.18, top + h * 0.1), 6, fill=accent)  # cap
    d.rectangle((cx - w * 0.14, top + h * 0.1, cx + w * 0.14, top + h * 0.3), fill=fill)     # neck
    d.polygon([(cx - w * 0.14, top + h * 0.3), (cx + w * 0.14, top + h * 0.3),
               (cx + w / 2, top + h * 0.45), (cx - w / 2, top + h * 0.45)], fill=fill)
    d.rounded_rectangle((cx - w / 2, top + h * 0.42, cx + w / 2, top + h), 18, fill=fill)
    d.rounded_rectangle((cx - w * 0.4, top + h * 0.58, cx + w * 0.4, top + h * 0.84), 8, fill=accent)


def _jar(d, cx, cy, h, fill, accent, variant=0):
    w = h * 0.78
    top = cy - h / 2
    d.rounded_rectangle((cx - w * 0.42, top, cx + w * 0.42, top + h * 0.16), 10, fill=accent)  # lid
    d.rounded_rectangle((cx - w / 2, top + h * 0.14, cx + w / 2, top + h), 40, fill=fill)
    d.rounded_rectangle((cx - w * 0.38, top + h * 0.4, cx + w * 0.38, top + h * 0.74), 10, fill=accent)


def _box(d, cx, cy, h, fill, accent, variant=0):
    w = h * 0.8
    depth = h * 0.16
    x0, y0, x1, y1 = cx - w / 2, cy - h / 2 + depth, cx + w / 2 - depth, cy + h / 2
    d.polygon([(x0, y0), (x0 + depth, y0 - depth), (x1 + depth, y0 - depth), (x1, y0)], fill=_mix(fill, accent, 0.15))
    d.polygon([(x1, y0), (x1 + depth, y0 - depth), (x1 + depth, y1 - depth), (x1, y1)], fill=_mix(fill, accent, 0.3))
    d.rectangle((x0, y0, x1, y1), fill=fill)
    if variant % 2:
        _emblem(d, (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * 0.3, accent, fill, variant)
    else:
        d.rectangle((x0, y0 + (y1 - y0) * 0.38, x1, y0 + (y1 - y0) * 0.62), fill=accent)


def _emblem(d, cx, cy, r, accent, fill, variant: int):
    """A label mark: a disc, a leaf, three rice grains or a sun, so similar packs look different."""
    if variant == 1:
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=accent)
        d.polygon([(cx, cy - r * 0.75), (cx + r * 0.45, cy), (cx, cy + r * 0.75), (cx - r * 0.45, cy)], fill=fill)
        d.line((cx, cy - r * 0.6, cx, cy + r * 0.6), fill=accent, width=3)
    elif variant == 2:
        for dx, dy in ((-0.45, 0.15), (0.0, -0.3), (0.45, 0.15)):
            x, y = cx + dx * r, cy + dy * r
            d.ellipse((x - r * 0.28, y - r * 0.5, x + r * 0.28, y + r * 0.5), fill=accent)
    elif variant == 3:
        d.ellipse((cx - r * 0.55, cy - r * 0.55, cx + r * 0.55, cy + r * 0.55), fill=accent)
        for k in range(8):
            a = k * math.pi / 4
            d.line((cx + r * 0.7 * math.cos(a), cy + r * 0.7 * math.sin(a),
                    cx + r * math.cos(a), cy + r * math.sin(a)), fill=accent, width=5)
    else:
        d.ellipse((cx - r, cy - r * 0.8, cx + r, cy + r * 0.8), fill=accent)


def _bag(d, cx, cy, h, fill, accent, variant=0):
    w = h * 0.72
    top = cy - h / 2
    d.polygon([(cx - w * 0.42, top + h * 0.06), (cx + w * 0.42, top + h * 0.06),
               (cx + w / 2, top + h), (cx - w / 2, top + h)], fill=fill)
    d.rectangle((cx - w * 0.44, top, cx + w * 0.44, top + h * 0.1), fill=accent)  # sealed top
    for i in range(7):  # crimp
        x = cx - w * 0.4 + i * w * 0.8 / 6
        d.line((x, top + h * 0.01, x, top + h * 0.09), fill=fill, width=3)
    _emblem(d, cx, top + h * 0.58, w * 0.28, accent, fill, variant)


def _crate(d, cx, cy, h, fill, accent, variant=0):
    w = h * 1.05
    x0, y0, x1, y1 = cx - w / 2, cy - h * 0.1, cx + w / 2, cy + h / 2
    for i, ox in enumerate((-0.26, 0.0, 0.26, -0.13, 0.13)):  # fruit on top
        r = h * 0.16
        fy = y0 - (r * 0.6 if i < 3 else r * 1.5)
        d.ellipse((cx + ox * w - r, fy - r, cx + ox * w + r, fy + r), fill=accent)
        d.ellipse((cx + ox * w - r * 0.25, fy - r * 0.85, cx + ox * w + r * 0.25, fy - r * 0.55), fill=fill)
    d.rectangle((x0, y0, x1, y1), fill=fill)
    for i in range(1, 3):
        y = y0 + (y1 - y0) * i / 3
        d.line((x0, y, x1, y), fill=accent, width=6)


def _cloth(d, cx, cy, h, fill, accent, variant=0):
    w = h * 0.9
    x0, y0, x1, y1 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    d.rounded_rectangle((x0, y0, x1, y1), 16, fill=fill)
    step = w / 6
    for row in range(4):  # the Tày diamond pattern
        y = y0 + h * 0.16 + row * h * 0.22
        for col in range(6):
            x = x0 + step / 2 + col * step
            d.polygon([(x, y - step * 0.35), (x + step * 0.35, y), (x, y + step * 0.35), (x - step * 0.35, y)],
                      fill=accent if (row + col) % 2 == 0 else _mix(accent, fill, 0.5))
    for x in range(int(x0) + 12, int(x1) - 6, 14):  # fringe
        d.line((x, y1, x, y1 + 22), fill=fill, width=4)


def _plant(d, cx, cy, h, fill, accent, variant=0):
    pot_top = cy + h * 0.15
    d.polygon([(cx - h * 0.26, pot_top), (cx + h * 0.26, pot_top), (cx + h * 0.19, cy + h / 2),
               (cx - h * 0.19, cy + h / 2)], fill=fill)
    d.rectangle((cx - h * 0.29, pot_top - h * 0.05, cx + h * 0.29, pot_top + h * 0.03), fill=fill)
    d.line((cx, pot_top, cx - h * 0.05, cy - h * 0.45), fill=fill, width=8)
    for i, (dx, dy) in enumerate(((-0.18, -0.42), (0.05, -0.36), (0.22, -0.24), (-0.2, -0.2), (0.0, -0.5))):
        x, y, r = cx + dx * h, cy + dy * h, h * 0.1
        for k in range(5):  # a five-petal flower
            a = k * 2 * math.pi / 5 + i
            px, py = x + r * 0.7 * math.cos(a), y + r * 0.7 * math.sin(a)
            d.ellipse((px - r * 0.55, py - r * 0.55, px + r * 0.55, py + r * 0.55), fill=fill)
        d.ellipse((x - r * 0.35, y - r * 0.35, x + r * 0.35, y + r * 0.35), fill=accent)
    for side in (-1, 1):  # leaves
        d.ellipse((cx + side * h * 0.32 - h * 0.18, pot_top - h * 0.16, cx + side * h * 0.32 + h * 0.18,
                   pot_top - h * 0.02), fill=fill)


def _stilt_house(d, cx, cy, h, fill, accent, variant=0):
    w = h * 1.2
    floor = cy + h * 0.12
    d.polygon([(cx - w * 0.62, floor - h * 0.3), (cx, cy - h / 2), (cx + w * 0.62, floor - h * 0.3)], fill=fill)
    d.rectangle((cx - w * 0.45, floor - h * 0.3, cx + w * 0.45, floor), fill=fill)
    d.rectangle((cx - w * 0.12, floor - h * 0.26, cx + w * 0.12, floor), fill=accent)  # door
    d.rectangle((cx - w * 0.5, floor, cx + w * 0.5, floor + h * 0.05), fill=fill)
    for i in range(6):  # stilts
        x = cx - w * 0.42 + i * w * 0.84 / 5
        d.rectangle((x - 5, floor, x + 5, cy + h / 2), fill=fill)
    for i in range(3):  # water ripples
        y = cy + h / 2 + 14 + i * 14
        d.line((cx - w * 0.5 + i * 30, y, cx + w * 0.5 - i * 30, y), fill=_mix(fill, accent, 0.4), width=4)


def _bowl(d, cx, cy, h, fill, accent, variant=0):
    w = h * 1.05
    d.pieslice((cx - w / 2, cy - h * 0.55, cx + w / 2, cy + h * 0.55), 0, 180, fill=fill)
    d.rectangle((cx - w * 0.18, cy + h * 0.5, cx + w * 0.18, cy + h * 0.58), fill=fill)
    for i in range(6):  # noodles / grains heaped in the bowl
        r = h * 0.12
        x = cx - w * 0.32 + i * w * 0.64 / 5
        d.ellipse((x - r, cy - r * 1.2, x + r, cy + r * 0.5), fill=accent)
    for i in range(3):  # steam
        x = cx - h * 0.2 + i * h * 0.2
        d.arc((x - 16, cy - h * 0.55, x + 16, cy - h * 0.25), 90, 270, fill=fill, width=5)


def _basket(d, cx, cy, h, fill, accent, variant=0):
    w = h * 0.95
    top = cy - h * 0.1
    d.arc((cx - w * 0.36, cy - h / 2, cx + w * 0.36, top + h * 0.3), 180, 360, fill=fill, width=12)  # handle
    d.polygon([(cx - w / 2, top), (cx + w / 2, top), (cx + w * 0.36, cy + h / 2), (cx - w * 0.36, cy + h / 2)],
              fill=fill)
    rows = 5
    for i in range(1, rows):  # woven bands
        y = top + (cy + h / 2 - top) * i / rows
        d.line((cx - w / 2 + (y - top) * 0.25, y, cx + w / 2 - (y - top) * 0.25, y), fill=accent, width=4)
    for i in range(1, 8):
        x = cx - w * 0.45 + i * w * 0.9 / 8
        d.line((x, top, cx + (x - cx) * 0.72, cy + h / 2), fill=_mix(fill, accent, 0.45), width=3)
    d.rectangle((cx - w / 2 - 6, top - 6, cx + w / 2 + 6, top + 8), fill=accent)


MOTIFS = {
    "basket": _basket,
    "bottle": _bottle, "jar": _jar, "box": _box, "bag": _bag, "crate": _crate,
    "cloth": _cloth, "plant": _plant, "house": _stilt_house, "bowl": _bowl,
}


def motif_for(unit: str, group_code: str) -> str:
    """Choose a silhouette from the product's unit and group ('chai 500 ml' → bottle)."""
    top = group_code.split(".")[0]
    unit = (unit or "").lower()
    if top == "VI":
        return "house"
    if top == "V":
        return "plant"
    if top == "IV":
        return "basket" if group_code == "IV.1" else "cloth"
    for word, motif in (("chai", "bottle"), ("hũ", "jar"), ("lọ", "jar"), ("hộp", "box"),
                        ("thùng", "crate"), ("túi", "bag")):
        if word in unit:
            return motif
    return "bowl"


def product_picture(path: Path, *, unit: str, group_code: str, seed: str) -> None:
    """An 800×800 JPEG for a product: a silhouette chosen by its unit and group, no text.

    No stars are drawn either: a picture outlives certificates, and the badge must disappear the day a
    certificate lapses, so only the page (which checks the certificate) shows it.
    """
    rng = random.Random(f"picture:{seed}")
    top, bottom, ink = PALETTES.get(group_code.split(".")[0], PALETTES["I"])
    top, bottom = _shift(top, rng), _shift(bottom, rng)
    size = PRODUCT_SIZE
    img = _gradient(size, top, bottom).convert("RGBA")

    layer, d = _soft_layer(size)
    d.ellipse((30, 20, 170, 150), fill=(255, 255, 255, 90))  # a soft light behind the motif
    for _ in range(6):
        r = rng.randint(18, 60)
        x, y = rng.randint(0, size[0] // 4), rng.randint(0, size[1] // 4)
        d.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, rng.randint(25, 60)))
    img = _paste_soft(img, layer, 6)

    shadow, sd = _soft_layer(size, ink)
    sd.ellipse((230 / 4, 540 / 4, 570 / 4, 590 / 4), fill=(*ink, 90))  # under the motif, at ¼ scale
    img = _paste_soft(img, shadow, 4)

    draw = ImageDraw.Draw(img)
    motif = MOTIFS[motif_for(unit, group_code)]
    accent = _shift(_mix(bottom, ink, 0.35), rng, 30)
    motif(draw, 400, 400, 300, (255, 255, 255, 235), (*accent, 255), rng.randrange(4))

    path.parent.mkdir(parents=True, exist_ok=True)
    img.convert("RGB").save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)


# ---- producer covers --------------------------------------------------------------------------

SKIES = (
    ((255, 214, 170), (255, 244, 222)),   # dawn
    ((150, 200, 240), (230, 244, 250)),   # clear day
    ((250, 190, 160), (255, 232, 200)),   # late afternoon
    ((190, 210, 230), (240, 240, 235)),   # highland mist
)


def _ridge(rng: random.Random, width: int, base: float, amplitude: float, step: int = 8):
    waves = [(rng.uniform(0.5, 3.5), rng.uniform(0, math.tau), rng.uniform(0.3, 1.0)) for _ in range(3)]
    total = sum(w[2] for w in waves)
    points = []
    for x in range(-step, width + 2 * step, step):
        t = x / width * math.tau
        y = base - amplitude * sum(a * math.sin(f * t + p) for f, p, a in waves) / total
        points.append((x, y))
    return points


def cover_picture(path: Path, *, scene: str, seed: str) -> None:
    """A 1200×500 JPEG landscape: sky, layered hills, and terraces, tea rows or a lake; no text."""
    rng = random.Random(f"cover:{seed}")
    w, h = COVER_SIZE
    sky_top, sky_bottom = SKIES[rng.randrange(len(SKIES))]
    img = _gradient((w, h), _shift(sky_top, rng, 10), sky_bottom).convert("RGBA")

    layer, d = _soft_layer((w, h))
    sx, sy, r = rng.randint(260, 940) / 4, rng.randint(70, 150) / 4, 16
    d.ellipse((sx - r * 2.5, sy - r * 2.5, sx + r * 2.5, sy + r * 2.5), fill=(255, 250, 225, 90))
    d.ellipse((sx - r, sy - r, sx + r, sy + r), fill=(255, 250, 235, 235))
    img = _paste_soft(img, layer, 2)
    clouds, d = _soft_layer((w, h))  # a layer of their own, so a cloud veils the sun, not cuts it
    for _ in range(4):
        cx, cy = rng.randint(0, w // 4), rng.randint(10, 45)
        for k in range(4):
            cr = rng.randint(6, 13)
            d.ellipse((cx + k * 9 - cr, cy - cr, cx + k * 9 + cr, cy + cr), fill=(255, 255, 255, 110))
    img = _paste_soft(img, clouds, 2)

    far = (150, 175, 190)
    near = {"lake": (40, 110, 80), "tea": (50, 120, 60), "forest": (35, 95, 60)}.get(scene, (70, 130, 60))
    draw = ImageDraw.Draw(img)
    layers = 4
    ridges = []
    for i in range(layers):
        t = i / (layers - 1)
        colour = _mix(_mix(far, sky_bottom, 0.3), near, t)
        base = 230 + i * 62 + rng.randint(-15, 15)
        amplitude = 90 - i * 15
        ridge = _ridge(rng, w, base, amplitude)
        ridges.append(ridge)
        if scene == "lake" and i == layers - 1:
            break
        draw.polygon(ridge + [(w + 10, h + 10), (-10, h + 10)], fill=colour)
        if i == 1 and rng.random() < 0.8:  # limestone karst peaks behind the valley
            for _ in range(3):
                px = rng.randint(120, 1080)
                py = min(y for x, y in ridge if abs(x - px) < 40) + 5
                pw, ph = rng.randint(40, 80), rng.randint(50, 110)
                lean = rng.uniform(-0.25, 0.25)
                tower = [(px + pw * math.cos(a) + lean * pw * math.sin(a), py + 10 - ph * math.sin(a) ** 0.5)
                         for a in (k * math.pi / 20 for k in range(21))]  # a steep limestone tower
                tower += [(px - pw, py + 150), (px + pw, py + 150)]  # its foot, hidden by the hill
                draw.polygon(tower, fill=_mix(colour, far, 0.25))
                draw.polygon(ridge + [(w + 10, h + 10), (-10, h + 10)], fill=colour)

    if scene == "lake":
        water_top = 395
        water = _gradient((w, h - water_top), (120, 185, 200), (40, 110, 130)).convert("RGBA")
        img.alpha_composite(water, (0, water_top))
        draw = ImageDraw.Draw(img)
        for i in range(10):
            y = water_top + 12 + i * 9
            x = rng.randint(0, w - 200)
            draw.line((x, y, x + rng.randint(60, 200), y), fill=(210, 235, 240, 150), width=2)
        bx, by = rng.randint(300, 800), water_top + 50  # a dugout boat
        draw.polygon([(bx - 60, by), (bx + 60, by), (bx + 45, by + 12), (bx - 45, by + 12)], fill=(60, 40, 25))
        draw.line((bx + 10, by, bx + 30, by - 40), fill=(60, 40, 25), width=3)
        draw.ellipse((bx - 8, by - 30, bx + 8, by - 14), fill=(60, 40, 25))
        draw.rectangle((bx - 6, by - 16, bx + 6, by), fill=(60, 40, 25))
    else:
        front = ridges[-1]
        stripe = (150, 190, 80) if scene == "terraces" else (95, 160, 80)
        gap = 16 if scene == "terraces" else 13
        for k in range(1, 14):
            offset = k * gap
            line = [(x, y + offset + math.sin(x / 90 + k) * 4) for x, y in front]
            draw.line(line, fill=(*_mix(stripe, (255, 240, 170), rng.random() * 0.3), 255), width=3 if scene == "terraces" else 6)

    if scene != "lake" and rng.random() < 0.9:  # a Tày stilt house on the middle hill
        ridge = ridges[2]
        hx = rng.choice((rng.randint(200, 420), rng.randint(780, 1000)))
        hy = min(y for x, y in ridge if abs(x - hx) < 30) + 8
        c = (80, 55, 35)
        draw.polygon([(hx - 42, hy - 26), (hx, hy - 50), (hx + 42, hy - 26)], fill=c)
        draw.rectangle((hx - 32, hy - 27, hx + 32, hy - 10), fill=_mix(c, (200, 160, 110), 0.4))
        for sx_ in (-28, -10, 10, 28):
            draw.line((hx + sx_, hy - 10, hx + sx_, hy + 6), fill=c, width=3)

    path.parent.mkdir(parents=True, exist_ok=True)
    img.convert("RGB").save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)
