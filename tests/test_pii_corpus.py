"""The corpus of personal data (tests/fixtures/pii_corpus.yml) through every place that masks:
the text masking, the tracker store's SQL rows, the sandbox's tickets, log output; and the
readers of the flows, which must recognize only what the masking masks."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions.backend.sandbox import SandboxBackend
from actions.flows.text import contact_in, find_code
from bot import pii
from bot.masking import MaskingFilter, mask_text
from bot.nlu.normalize import normalize_email, normalize_phone
from bot.tracker_store import MaskingSQLTrackerStore
from tests.pii_corpus import Sample, all_raw_values, clean_texts, leaks, samples

SAMPLES = samples()
IDENTITY_TOKEN = "eyJzdWIiOiJVMTAwMSIsImV4cCI6MTc5MDAwMzYwMH0.ArVzOusGTRlM9T_XjJI9oiJYA_s0s2ucc-Wn1858ucY"


def _values(sample: Sample) -> tuple[str, ...]:
    """The raw values and the canonical values the NLU would extract from them."""
    return sample.raw + tuple(span.value for span in pii.scan(sample.text))


def test_the_corpus_is_large_and_varied() -> None:
    assert len(SAMPLES) >= 60
    kinds = {span.kind for sample in SAMPLES for span in pii.scan(sample.text)}
    assert kinds == {"phone", "email", "card", "id_card", "code", "secret", "token"}
    assert all(sample.raw for sample in SAMPLES)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.text[:40])
def test_masking_removes_every_raw_value(sample: Sample) -> None:
    masked = mask_text(sample.text)
    assert leaks(masked, _values(sample)) == [], masked


@pytest.mark.parametrize("text", clean_texts())
def test_masking_leaves_text_without_personal_data_alone(text: str) -> None:
    assert mask_text(text) == text


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.text[:40])
def test_what_the_flows_recognize_is_masked(sample: Sample) -> None:
    masked = mask_text(sample.text)
    contact = contact_in({"text": sample.text})
    if contact is not None:
        assert contact[1] not in masked and not contact_in({"text": masked})
    code = find_code(sample.text)
    if code is not None:
        assert code not in masked and find_code(masked) is None
    for piece in sample.raw:
        if normalize_phone(piece) or normalize_email(piece):
            assert piece not in masked


# --- the tracker store ----------------------------------------------------------------
def _entities(sample: Sample) -> list[dict[str, Any]]:
    """Every value as an entity of its own, but passwords and bearer tokens, which are ones only
    after their keyword."""
    return [
        {"entity": span.kind, "start": span.start, "end": span.end, "value": span.value,
         "text": sample.text[span.start : span.end], "extractor": "test"}
        for span in pii.scan(sample.text)
        if not (span.keyed and span.kind in ("secret", "token"))
    ]  # fmt: skip


def _tracker(domain: Domain, sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, domain.slots)
    for index, sample in enumerate(SAMPLES):
        at = float(index)  # timestamps without long runs of digits
        parse = {
            "text": sample.text,
            "intent": {"name": "inform", "confidence": 1.0},
            "entities": _entities(sample),
            "answer": {"kind": "answer", "payload": sample.text},
        }
        metadata = {"identity_token": IDENTITY_TOKEN, "echo": sample.text, "nested": [{"raw": sample.text}]}
        tracker.update(
            UserUttered(sample.text, parse["intent"], parse["entities"], parse, at, metadata=metadata)
        )
        tracker.update(SlotSet("security_report", sample.text, timestamp=at))
        tracker.update(SlotSet("tx_candidates", [{"note": sample.text}], timestamp=at))
        data = {"buttons": [{"title": sample.text, "payload": "/inform"}], "custom": {"echo": sample.text}}
        tracker.update(BotUttered(sample.text, data, {"echo": sample.text}, timestamp=at))
        tracker.update(ActionExecuted("action_listen", action_text=sample.text, timestamp=at))
    return tracker


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_the_tracker_store_keeps_no_raw_value(tmp_path: Path) -> None:
    domain = Domain.load("domain.yml")
    db = tmp_path / "trackers.db"
    store = MaskingSQLTrackerStore(domain, dialect="sqlite", db=str(db))
    asyncio.run(store.save(_tracker(domain, "corpus-user")))
    with sqlite3.connect(db) as connection:
        rows = [json.loads(data) for (data,) in connection.execute("SELECT data FROM events")]
    assert len(rows) == 5 * len(SAMPLES)  # five events a sample
    stored = "\n".join(s for row in rows for s in _strings(row))
    assert leaks(stored) == []
    assert IDENTITY_TOKEN not in db.read_bytes().decode("utf-8", "replace")
    retrieved = asyncio.run(store.retrieve("corpus-user"))
    assert retrieved is not None
    assert leaks(json.dumps([e.as_dict() for e in retrieved.events], ensure_ascii=False)) == []


# --- the sandbox's tickets --------------------------------------------------------------
def test_sandbox_tickets_keep_no_raw_value(tmp_path: Path) -> None:
    backend = SandboxBackend(tmp_path / "wallet.db")
    backend.reseed()
    for sample in SAMPLES:
        backend.create_ticket("U1001", "complaint", "normal", f"用户说：{sample.text}")
    tickets = backend.tickets()
    assert len(tickets) == len(SAMPLES)
    assert leaks("\n".join(t.summary for t in tickets)) == []
    with sqlite3.connect(tmp_path / "wallet.db") as connection:
        stored = "\n".join(summary for (summary,) in connection.execute("SELECT summary FROM tickets"))
    assert leaks(stored) == []


# --- logs -----------------------------------------------------------------------------------
def test_log_output_keeps_no_raw_value() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s [%(detail)s]"))
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("test.pii_corpus")
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.DEBUG)
    for sample in SAMPLES:
        logger.info("user said %r", sample.text, extra={"detail": sample.text})
        try:
            raise ValueError(f"could not handle {sample.text}")
        except ValueError:
            logger.exception("failed: %s", sample.text, extra={"detail": "-"})
    logger.warning("where", stack_info=True, extra={"detail": SAMPLES[0].text})
    output = stream.getvalue()
    assert output.count("Traceback") == len(SAMPLES)
    assert leaks(output) == []


def test_every_raw_value_is_checked() -> None:
    assert {"13800138000", "zhangwei@example.com", "246810", "6222021234567890123"} <= set(all_raw_values())
