"""The visual seal (drawn as SVG) and the verification QR code (a PNG made here) printed on a notice; no image
files.

The seal is the issuing organisation's name set around a red circle with a star in the middle, as an official
seal reads (GB/T 《印章》 customary layout); it marks where the electronic signature is, it is not the
signature: the PAdES signature (notices/signing.py) is what proves the document.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

import segno

SIZE = 160  # SVG user units (CSS px); the template scales it to ~42 mm
RED = "#d40000"
# The notice's own bold face first (static/css/notice.css: the GB 2312 cut), the full Noto CJK for a rarer
# character of a name: naming only the full font made every notice embed (and subset) a third, 65,535-glyph
# face for the dozen characters of the seal (issue 15).
FONT_FAMILY = "'Notice Serif CJK', 'Noto Serif CJK SC', serif"
# One fixed mask pattern (ISO/IEC 18004 §7.8.2; any of the eight is read by every decoder): scoring the eight
# to pick the "best" is pure Python and took 25–35 ms of a 150 ms page (issue 15).
QR_MASK = 0


def seal_svg(name: str) -> str:
    c = SIZE / 2
    chars = list(name.strip())[:24] or ["印"]
    n = len(chars)
    # The name runs over the upper ~240° of the ring, clockwise, each character upright towards the centre.
    arc = min(240.0, 18.0 * n + 20)
    start = -90 - arc / 2
    step = arc / max(n - 1, 1) if n > 1 else 0
    radius = c - 26
    font = max(11.0, min(20.0, 2 * math.pi * radius * (arc / 360) / max(n, 1) * 0.9))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="seal-svg" viewBox="0 0 {SIZE} {SIZE}" '
        f'width="{SIZE}" height="{SIZE}">',
        f'<circle cx="{c}" cy="{c}" r="{c - 4}" fill="none" stroke="{RED}" stroke-width="5"/>',
        _star(c, c, 22, 9),
    ]
    for i, ch in enumerate(chars):
        angle = start + step * i if n > 1 else -90
        rad = math.radians(angle)
        x, y = c + radius * math.cos(rad), c + radius * math.sin(rad)
        parts.append(
            f'<text x="{x:.2f}" y="{y:.2f}" fill="{RED}" font-size="{font:.1f}" font-weight="bold" '
            f'font-family="{FONT_FAMILY}" text-anchor="middle" '
            f'dominant-baseline="central" transform="rotate({angle + 90:.2f} {x:.2f} {y:.2f})">{escape(ch)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _star(cx: float, cy: float, outer: float, inner: float) -> str:
    points = []
    for k in range(10):
        r = outer if k % 2 == 0 else inner
        a = math.radians(-90 + 36 * k)
        points.append(f"{cx + r * math.cos(a):.2f},{cy + r * math.sin(a):.2f}")
    return f'<polygon points="{" ".join(points)}" fill="{RED}"/>'


def qr_img(url: str) -> str:
    """A QR code (segno, error correction M) that opens ``url``, as an ``<img>`` with a PNG ``data:`` URL of one
    pixel per module. A raster at that size is exact: the stylesheet scales it with ``image-rendering:
    pixelated`` (the PDF image is not interpolated), so every module stays a sharp square on paper. As inline
    SVG the same code was ~1,000 path commands that WeasyPrint parses in Python on every page (issue 15)."""
    qr = segno.make(url, error="m", micro=False, mask=QR_MASK)
    return f'<img class="qr-code" alt="QR" src="{qr.png_data_uri(scale=1, border=2)}">'
