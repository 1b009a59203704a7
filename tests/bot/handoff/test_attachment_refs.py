"""The pure helpers the action server uses to link images to tickets, and the ids' form."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from bot.handoff.attachment_refs import (
    MAX_TICKET_SUMMARY,
    attachment_ids,
    attachment_metadata,
    ticket_reference,
    with_references,
)
from bot.handoff.ids import ID_LENGTH, is_id, new_id
from bot.masking import mask_text
from bot.tracker_store import mask_value


def image(attachment_id: str) -> dict[str, Any]:
    return {"event": "user", "text": "[图片]", "metadata": attachment_metadata(attachment_id, "image/jpeg")}


def test_ids_are_random_letters_that_masking_leaves_alone() -> None:
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000 and all(is_id(i) and len(i) == ID_LENGTH for i in ids)
    references = ticket_reference([image(i) for i in ids])
    assert mask_text(references) == references
    assert all(mask_value({"id": i}) == {"id": i} for i in ids)
    assert not any(is_id(bad) for bad in ("A" * ID_LENGTH, "a" * (ID_LENGTH - 1), "a1" * 14, None, 7))


def test_the_images_of_the_current_session_once_each_in_order() -> None:
    a, b, c = new_id(), new_id(), new_id()
    events = [
        image(a),
        {"event": "session_started"},
        image(b),
        {"event": "bot", "text": "x", "metadata": attachment_metadata(c, "image/png")},  # not the user's
        {"event": "user", "text": "hi", "metadata": {"attachment": {"id": "../etc/passwd"}}},
        {"event": "user", "text": "hi", "metadata": "not a mapping"},
        image(c),
        image(b),
    ]
    assert attachment_ids(events) == [b, c]


def test_the_ticket_reference_lists_the_latest_five() -> None:
    ids = [new_id() for _ in range(7)]
    reference = ticket_reference([image(i) for i in ids])
    assert reference.startswith("用户发送的图片：") and reference.endswith("等 7 张")
    assert all(i in reference for i in ids[2:]) and not any(i in reference for i in ids[:2])
    assert ticket_reference([{"event": "user", "text": "你好"}]) == ""


def test_a_long_summary_is_shortened_never_the_references() -> None:
    image_id = new_id()
    summary = with_references("投诉：" + "很长" * 2000, [image(image_id)])
    assert len(summary) == MAX_TICKET_SUMMARY and summary.endswith(f"/console/api/attachments/{image_id}")
    assert with_references("投诉：服务差", []) == "投诉：服务差"


def test_the_action_server_helpers_do_not_load_the_sql_store() -> None:
    code = (
        "import sys, bot.handoff.attachment_refs;"
        "loaded = [m for m in ('sqlalchemy', 'bot.handoff.store', 'sanic') if m in sys.modules];"
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
