"""Small media files made on the spot (no files shipped): a PNG picture and an AMR voice clip."""

from __future__ import annotations

import struct
import zlib

AMR_HEADER = b"#!AMR\n"
# One AMR-NB frame of "no data" (frame type 15): a valid, silent clip.
AMR_NO_DATA_FRAME = b"\x7c"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png(width: int = 48, height: int = 32, rgb: tuple[int, int, int] = (7, 193, 96)) -> bytes:
    """A one-colour RGB PNG (WeChat green by default), with a white stripe across."""
    rows = []
    for y in range(height):
        colour = bytes((255, 255, 255)) if height // 3 <= y < height // 3 + 3 else bytes(rgb)
        rows.append(b"\x00" + colour * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def amr(frames: int = 50) -> bytes:
    """A silent AMR-NB clip, one second for 50 frames."""
    return AMR_HEADER + AMR_NO_DATA_FRAME * frames
