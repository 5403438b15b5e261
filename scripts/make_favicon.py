"""Draw static/favicon.ico from the shapes of static/favicon.svg. Run from the repository root: `.venv/bin/python scripts/make_favicon.py`."""
import math
from PIL import Image, ImageDraw
S = 256
img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
d = ImageDraw.Draw(img)
k = S / 64
d.ellipse((1 * k, 1 * k, 63 * k, 63 * k), fill=(0x2f, 0x5d, 0x3a, 255))
hills = [(8, 46), (24, 28), (32, 37), (40, 26), (56, 46)]
# keep the hills inside the disc: clip with a mask
layer = Image.new("RGBA", (S, S), (0, 0, 0, 0))
ImageDraw.Draw(layer).polygon([(x * k, y * k) for x, y in hills], fill=(0x6f, 0x9a, 0x4a, 255))
mask = Image.new("L", (S, S), 0)
ImageDraw.Draw(mask).ellipse((1 * k, 1 * k, 63 * k, 63 * k), fill=255)
img.paste(layer, (0, 0), Image.composite(layer.split()[3], Image.new("L", (S, S), 0), mask))
cx, cy, r = 32 * k, 23.5 * k, 15 * k
pts = []
for i in range(10):
    rad = r if i % 2 == 0 else r * 0.45
    a = -math.pi / 2 + i * math.pi / 5
    pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
ImageDraw.Draw(img).polygon(pts, fill=(0xe3, 0xa9, 0x3b, 255))
img.save("static/favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])

