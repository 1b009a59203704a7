"""Tickets link the images the user sent in the conversation (ids from the tracker's user
events, as the Rasa server records them; the action server never reads the handoff store)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.backend.models import TransactionStatus
from actions.backend.sandbox import SandboxBackend
from actions.flows.complaint import ActionSubmitComplaint
from actions.flows.security import ActionSecuritySubmit
from actions.flows.transactions import ActionEscalateTransaction
from bot.handoff.attachment_refs import attachment_metadata
from bot.handoff.ids import new_id
from tests.actions.conftest import slots
from tests.actions.trackers import tracker

pytestmark = pytest.mark.anyio


def image_event(attachment_id: str) -> dict[str, Any]:
    """The user event the Rasa server writes for an image (bot.handoff.transcript.image_message)."""
    return {
        "event": "user",
        "text": "[图片]",
        "parse_data": {"text": "[图片]", "intent": {}, "entities": []},
        "metadata": attachment_metadata(attachment_id, "image/png"),
        "input_channel": "wechat",
    }


def _deducted(sandbox: SandboxBackend) -> Any:
    return next(
        t.transaction_id
        for t in sandbox.list_transactions("U1001", limit=50)
        if t.counterparty == "银行卡" and t.status != TransactionStatus.SUCCEEDED
    )


async def _ticket_summary(sandbox: SandboxBackend, action: Any, snapshot: Any) -> str:
    events = await action.run(CollectingDispatcher(), snapshot, {})
    return str(sandbox.get_ticket(slots(events)["ticket_id"]).summary)


async def test_a_complaint_ticket_links_the_screenshots(sandbox: SandboxBackend) -> None:
    first, second = new_id(), new_id()
    events = [image_event(first), image_event(second), image_event(first)]
    summary = await _ticket_summary(
        sandbox, ActionSubmitComplaint(), tracker("complaint_done", events=events)
    )
    assert "服务态度" in summary
    assert summary.endswith(
        f"用户发送的图片：/console/api/attachments/{first}、/console/api/attachments/{second}"
    )


async def test_a_security_ticket_links_the_images(sandbox: SandboxBackend) -> None:
    image = new_id()
    snapshot = tracker("security_freeze_verified", events=[image_event(image)])
    summary = await _ticket_summary(sandbox, ActionSecuritySubmit(), snapshot)
    assert summary.startswith("安全事件") and f"/console/api/attachments/{image}" in summary


async def test_a_transaction_ticket_links_the_images(sandbox: SandboxBackend) -> None:
    image = new_id()
    snapshot = tracker("tx_ask_with_payee", events=[image_event(image)], transaction_id=_deducted(sandbox))
    summary = await _ticket_summary(sandbox, ActionEscalateTransaction(), snapshot)
    assert summary.startswith("交易问题") and f"/console/api/attachments/{image}" in summary


async def test_only_images_of_this_session_and_none_without_images(sandbox: SandboxBackend) -> None:
    old = new_id()
    earlier = [image_event(old), {"event": "session_started"}]
    summary = await _ticket_summary(
        sandbox, ActionSubmitComplaint(), tracker("complaint_done", events=earlier)
    )
    assert old not in summary and "图片" not in summary
    plain = await _ticket_summary(sandbox, ActionSubmitComplaint(), tracker("complaint_done"))
    assert "图片" not in plain
