"""Serving a folder of static files (the widget's, the console's), never outside it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sanic import response
from sanic.response import HTTPResponse

MIME_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def resolve(root: Path, name: str) -> Path | None:
    """The file ``name`` inside ``root`` with a known type, or None (also for ../ tricks)."""
    base = root.resolve()
    try:
        path = (base / name).resolve()
    except (OSError, ValueError):
        return None
    if not path.is_relative_to(base) or not path.is_file() or path.suffix not in MIME_TYPES:
        return None
    return path


async def serve(root: Path, name: str) -> HTTPResponse:
    """The file, or a JSON 404 (the file system is asked off the event loop)."""
    path = await asyncio.to_thread(resolve, root, name)
    if path is None:
        return response.json({"error": "not_found", "message": "Not found."}, 404)
    return await response.file(str(path), mime_type=MIME_TYPES[path.suffix])
