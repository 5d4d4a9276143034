"""The topic map as a PNG (``dailypapers map export --png FILE``): a figure for slides, drawn with Pillow.

Every paper a dot in its topic's colour (the same golden-angle hues as ``static/map.js``), each topic's label at
its centre, on white. Pillow's default font is bundled with it, so nothing is downloaded.
"""

from __future__ import annotations

import colorsys
from pathlib import Path

from dailypapers.topics.repository import Cluster, Points


def topic_colour(topic: int) -> tuple[int, int, int]:
    """The colour of ``topic`` (hue steps of the golden angle, as on the web page)."""
    r, g, b = colorsys.hls_to_rgb(((topic * 137.508) % 360) / 360, 0.5, 0.62)
    return round(r * 255), round(g * 255), round(b * 255)


def export_png(points: Points, clusters: list[Cluster], path: Path, *, size: int = 1600, labels: int = 3) -> int:
    """Draw ``points`` and the ``clusters``' labels (``labels`` terms each) into a ``size`` x ``size`` PNG at
    ``path``; returns how many points it drew."""
    from PIL import Image, ImageDraw, ImageFont

    margin = size // 20
    inner = size - 2 * margin
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    radius = max(1, round(size / 800))
    for x, y, topic in zip(points.x, points.y, points.cluster, strict=True):
        cx, cy = margin + x * inner, margin + y * inner
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=topic_colour(topic))
    font = ImageFont.load_default(size=max(12, size // 70))
    for cluster in clusters:
        text = ", ".join(cluster.terms[:labels])
        draw.text((margin + cluster.x * inner, margin + cluster.y * inner), text, fill="#222222", font=font,
                  anchor="mm", stroke_width=3, stroke_fill="white")  # fmt: skip
    image.save(path, format="PNG")
    return len(points.x)
