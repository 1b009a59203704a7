"""The store's parts for images and push outcomes, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.handoff.deliveries import DeliveryRecord
from bot.handoff.errors import InvalidInput, NotFound
from bot.handoff.ids import new_id
from bot.handoff.store import HandoffStore

SENDER = "wechat:oUser0000000000000000000001"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_images_are_kept_byte_for_byte_and_the_source_masked(store: HandoffStore) -> None:
    image_id = new_id()
    stored = store.attachments.add(
        image_id, SENDER, "wechat", "image/png", PNG, "pic?access_token=abcdef123456"
    )
    found, data = store.attachments.get(image_id)
    assert data == PNG and found == stored and found.size == len(PNG)
    assert "abcdef123456" not in found.source
    for unknown in (new_id(), "not an id", ""):
        with pytest.raises(NotFound):
            store.attachments.get(unknown)
    with pytest.raises(InvalidInput):
        store.attachments.add("short", SENDER, "wechat", "image/png", PNG, "")
    with pytest.raises(InvalidInput):
        store.attachments.add(new_id(), "", "wechat", "image/png", PNG, "")


def test_who_may_see_a_senders_images(store: HandoffStore) -> None:
    serving = store.add_agent("xiaowang", "小王", "password-123")
    stranger = store.add_agent("laoli", "老李", "password-123")
    handoff = store.request_handoff(SENDER, "wechat", "normal", "其他", "")
    assert not store.attachments.served_by(SENDER, serving.id)  # queued: nobody serves it yet
    store.take(handoff.id, serving.id)
    assert store.attachments.served_by(SENDER, serving.id)
    assert not store.attachments.served_by(SENDER, stranger.id)
    assert not store.attachments.served_by("wechat:someone-else", serving.id)


def test_undelivered_messages_are_counted_per_handoff(store: HandoffStore) -> None:
    first = store.request_handoff(SENDER, "wechat", "normal", "其他", "")
    other = store.request_handoff("telegram:42", "telegram", "normal", "其他", "")
    store.deliveries.record(
        [
            DeliveryRecord(new_id(), SENDER, first.id, "wechat", True),
            DeliveryRecord(new_id(), SENDER, first.id, "wechat", False, "window_closed"),
            DeliveryRecord(new_id(), SENDER, first.id, "wechat", False, "quota"),
            DeliveryRecord(new_id(), SENDER, None, "wechat", False, "unavailable"),
        ]
    )
    assert store.deliveries.undelivered([first.id, other.id]) == {first.id: 2, other.id: 0}
    assert store.deliveries.counts([SENDER, "telegram:42"]) == {SENDER: 4, "telegram:42": 0}
    reasons = sorted(str(d.reason) for d in store.deliveries.for_sender(SENDER).values() if not d.delivered)
    assert reasons == ["quota", "unavailable", "window_closed"]
    assert [e.action for e in store.audit_log()].count("undelivered") == 2  # those of a handoff
