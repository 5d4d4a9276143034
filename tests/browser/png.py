"""Just enough of PNG (RFC 2083) to tell a blank screenshot from a rendered page, with the standard library only.

Chromium's screenshots are 8-bit RGB or RGBA, non-interlaced; :func:`pixels` undoes the five row filters and
returns the rows, :func:`is_blank` says whether nearly every pixel has one colour.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def pixels(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """``(width, height, bytes per pixel, rows)`` of an 8-bit RGB(A) PNG."""
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG")
    pos, idat, header = len(_SIGNATURE), b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    bpp = 3 if colour == 2 else 4
    raw, stride, rows = zlib.decompress(idat), width * bpp, []
    prev = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up, corner = prev[x], prev[x - bpp] if x >= bpp else 0
            add = (0, left, up, (left + up) // 2, _paeth(left, up, corner))[kind]
            line[x] = (line[x] + add) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def is_blank(data: bytes, *, step: int = 4, share: float = 0.995) -> bool:
    """Whether at least ``share`` of the sampled pixels (every ``step``-th in both directions) have one colour."""
    width, _height, bpp, rows = pixels(data)
    colours = Counter(row[x * bpp : x * bpp + 3] for row in rows[::step] for x in range(0, width, step))
    return colours.most_common(1)[0][1] >= share * sum(colours.values())
