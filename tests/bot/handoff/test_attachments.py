"""Images users send during a handoff: checked by their bytes, stored, refused, put in the
transcript (and seen live in the console), and served only to the agents of the conversation."""

from __future__ import annotations

import asyncio
import json
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.handoff.attachment_refs import METADATA_KEY
from bot.handoff.attachments import AttachmentRefused, image_type, receive_attachment
from bot.handoff.deliveries import DeliveryRecord
from bot.handoff.ids import is_id, new_id
from bot.tracker_store import mask_event
from tests.bad_inputs import bad_messages
from tests.bot.handoff.console_server import Console, eventually, running_console

WECHAT = "wechat:oUser0000000000000000000001"
OTHER = "wechat:oUser0000000000000000000002"


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG image (red pixels)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
GIF = b"GIF89a" + b"\x01\x00\x01\x00\x00\x00\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 " + b"\x00" * 16
HTML = b"<html><script>alert(1)</script></html>"


def run(test: Any, tmp_path: Path, **settings: Any) -> None:
    async def main() -> None:
        async with running_console(tmp_path, **settings) as console:
            await test(console)

    asyncio.run(main())


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png(), "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (b"GIF87a" + b"\x00" * 8, "image/gif"),
        (WEBP, "image/webp"),
        (HTML, None),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', None),
        (b"RIFF\x1a\x00\x00\x00WAVEfmt ", None),
        (b"\x89PNG", None),
        (b"", None),
    ],
)
def test_the_type_comes_from_the_bytes(data: bytes, expected: str | None) -> None:
    assert image_type(data) == expected


def test_an_image_is_stored_and_becomes_a_user_message(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        agent, _ = await console.agent("xiaowang", "小王")
        await console.taken_by(agent, WECHAT, "wechat")
        data = png()
        stored = await receive_attachment(console.app, WECHAT, "wechat", "image/jpeg", data, "media:abc")
        assert is_id(stored.id) and stored.content_type == "image/png" and stored.size == len(data)
        found, back = await console.db(console.store.attachments.get, stored.id)
        assert back == data and found.sender_id == WECHAT and found.source == "media:abc"
        tracker = await console.rasa.tracker_store.retrieve(WECHAT)
        latest = tracker.events[-1]
        assert latest.type_name == "user" and latest.text == "[图片]" and latest.input_channel == "wechat"
        assert latest.metadata == {METADATA_KEY: {"id": stored.id, "content_type": "image/png"}}
        # the tracker store masks every string it keeps: the id and the type survive it
        assert mask_event(latest.as_dict())["metadata"] == latest.metadata

    run(test, tmp_path)


def test_images_are_refused_too_large_of_a_bad_type_or_when_the_store_is_down(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        before = len((await console.rasa.tracker_store.get_or_create_tracker(WECHAT)).events)

        async def refused(data: bytes, declared: str = "image/png") -> str:
            with pytest.raises(AttachmentRefused) as refusal:
                await receive_attachment(console.app, WECHAT, "wechat", declared, data, "media:x")
            return refusal.value.reason

        limit = 4096
        assert await refused(JPEG + b"\x00" * (limit - len(JPEG) + 1)) == "too_large"
        assert await refused(HTML) == "bad_type"  # declared an image: not trusted
        assert await refused(b"") == "bad_type"
        assert await refused("not bytes", "image/png") == "bad_type"  # type: ignore[arg-type]

        def down(*args: Any) -> None:
            raise OperationalError("INSERT", {}, Exception("database is locked"))

        real = console.store.attachments.add
        console.store.attachments.add = down  # type: ignore[method-assign]
        assert await refused(JPEG) == "unavailable"
        console.store.attachments.add = real  # type: ignore[method-assign]
        with pytest.raises(AttachmentRefused) as no_service:
            await receive_attachment(SimpleNamespace(ctx=SimpleNamespace()), WECHAT, "wechat", "", JPEG, "")  # type: ignore[arg-type]
        assert no_service.value.reason == "unavailable"
        after = len((await console.rasa.tracker_store.get_or_create_tracker(WECHAT)).events)
        assert after == before  # nothing refused reached the transcript
        exact = JPEG + b"\x00" * (limit - len(JPEG))
        assert (await receive_attachment(console.app, WECHAT, "wechat", "", exact, "")).size == limit

    run(test, tmp_path, attachment_max_bytes=4096)


def test_images_are_served_only_to_the_agents_of_the_conversation(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        agent, token = await console.agent("xiaowang", "小王")
        _, stranger = await console.agent("laoli", "老李")
        _, boss = await console.agent("boss", "主管", role="supervisor")
        handoff = await console.taken_by(agent, WECHAT, "wechat")
        stored = await receive_attachment(console.app, WECHAT, "wechat", "image/png", png(), "media:1")
        path = f"/api/attachments/{stored.id}"
        async with console.client(None) as anonymous:
            assert (await anonymous.get(path)).status_code == 401
        async with console.client(stranger) as http:
            hidden = await http.get(path)
            assert hidden.status_code == 404 and hidden.json()["error"] == "attachment_not_found"
            assert stored.id not in hidden.text
        for who in (token, boss):
            async with console.client(who) as http:
                served = await http.get(path)
                assert served.status_code == 200 and served.content == png()
                assert served.headers["content-type"] == "image/png"
                assert served.headers["x-content-type-options"] == "nosniff"
                assert served.headers["content-disposition"].startswith("inline")
                assert "default-src 'none'" in served.headers["content-security-policy"]
                assert "sandbox" in served.headers["content-security-policy"]
        async with console.client(token) as http:
            for unknown in ("a" * 28, "../../etc/passwd", "x", "A" * 28):
                assert (await http.get(f"/api/attachments/{unknown}")).status_code == 404
            shown = (await http.get(f"/api/conversations/{handoff.id}/transcript")).json()["messages"]
        image = next(m for m in shown if m.get("attachment"))
        assert image["role"] == "user" and image["text"] == "[图片]"
        assert image["attachment"] == {"id": stored.id, "content_type": "image/png", "url": f"/console{path}"}

    run(test, tmp_path)


def test_an_image_appears_live_in_the_agents_stream(tmp_path: Path) -> None:
    async def test(console: Console) -> None:
        agent, token = await console.agent("xiaowang", "小王")
        handoff = await console.taken_by(agent, WECHAT, "wechat")
        other = await console.taken_by(agent, OTHER, "wechat")
        changes: list[dict[str, Any]] = []

        async def listen() -> None:
            async with console.client(token) as http, http.stream("GET", "/api/events") as stream:
                name = ""
                async for line in stream.aiter_lines():
                    if line.startswith("event: "):
                        name = line[len("event: ") :]
                    elif line.startswith("data: ") and name == "changed":
                        changes.append(json.loads(line[len("data: ") :]))

        listener = asyncio.create_task(listen())
        try:
            await eventually(lambda: _async(len(changes) >= 1), "the stream's first round")
            changes.clear()
            stored = await receive_attachment(console.app, WECHAT, "wechat", "image/gif", GIF, "media:2")
            change = await eventually(
                lambda: _async(next((c for c in changes if c["conversations"]), None)), "a change"
            )
            assert change["conversations"] == [handoff.id]  # only the conversation with the image
            async with console.client(token) as http:
                shown = (await http.get(f"/api/conversations/{handoff.id}/transcript")).json()["messages"]
            assert shown[-1]["attachment"]["id"] == stored.id
            # an outcome recorded after the transcript changed is a change of its own
            changes.clear()
            late = DeliveryRecord(new_id(), OTHER, None, "wechat", False, "quota")
            await console.db(console.store.deliveries.record, [late])
            change = await eventually(
                lambda: _async(next((c for c in changes if c["conversations"]), None)), "a change"
            )
            assert change["conversations"] == [other.id]
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    run(test, tmp_path)


async def _async(value: Any) -> Any:
    return value


def test_bad_inputs_are_stored_masked_or_refused_never_an_error(tmp_path: Path) -> None:
    """The shared corpus as the image's source, declared type and sender."""

    async def test(console: Console) -> None:
        for name, text in bad_messages().items():
            stored = await receive_attachment(console.app, WECHAT, "wechat", text, JPEG, text)
            found, _ = await console.db(console.store.attachments.get, stored.id)
            assert len(found.source) <= 255 and "\x00" not in found.source, name
            try:
                await receive_attachment(console.app, text, "wechat", "image/jpeg", JPEG, "")
            except AttachmentRefused as refusal:
                assert refusal.reason == "unavailable", name

    run(test, tmp_path)
