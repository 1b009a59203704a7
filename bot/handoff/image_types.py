"""What kind of image some bytes are, by their first bytes (pure: the channels use it too)."""

from __future__ import annotations


def image_type(data: bytes) -> str | None:
    """The image type the bytes start with (JPEG, PNG, GIF, WebP), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    return None
