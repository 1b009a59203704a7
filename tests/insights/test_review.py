"""The review queue: which messages of the seeded conversations go to it and why, labels, and
the export: masked Rasa NLU YAML that Rasa's own loader accepts, never written into data/."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.training_data.loading import load_data

from bot.handoff.db import build_engine
from bot.insights import cli, review_export
from bot.insights.conversations import conversations
from bot.insights.errors import ReviewItemNotFound, UnsafeExportPath
from bot.insights.events import Events
from bot.insights.review_sources import all_candidates
from bot.insights.review_store import ReviewStore
from tests.pii_corpus import leaks, samples

EXPECTED = {
    ("fallback", "嗯嗯那个东西怎么弄"),
    ("fallback", "就是那个啊"),
    ("low_confidence", "客服电话多少"),
    ("misread", "手机号吧"),
    ("handoff", "我的账户被锁了 138****8000"),
    ("handoff", "我的转账一直没到账"),
    ("handoff", "我要投诉"),
    ("handoff", "人呢"),
    ("handoff", "退款什么时候到"),
    ("handoff", "想投诉一下"),
}


def test_sources_of_the_seeded_conversations(seeded_events: Events) -> None:
    found = all_candidates(conversations(seeded_events), 0.7)
    assert {(c.source, c.text) for c in found} == EXPECTED
    assert len({c.key for c in found}) == len(found)
    assert not any(c.text.startswith("/") for c in found)  # button payloads are never candidates


def test_threshold_moves_low_confidence(seeded_events: Events) -> None:
    low = {c.text for c in all_candidates(conversations(seeded_events), 0.95) if c.source == "low_confidence"}
    assert low == {
        "客服电话多少",
        "在吗",
        "我的账户被锁了 138****8000",
        "改一下信息",
        "手机号吧",
        "退款什么时候到",
        "想投诉一下",
    }


@pytest.fixture
def store(tmp_path: Path) -> ReviewStore:
    review = ReviewStore(build_engine(f"sqlite:///{tmp_path / 'handoff.db'}"))
    review.create_schema()
    return review


def test_store_adds_once_labels_and_lists(store: ReviewStore, seeded_events: Events) -> None:
    found = all_candidates(conversations(seeded_events), 0.7)
    assert store.add(found, 100.0) == 10
    assert store.add(found, 200.0) == 0
    assert store.scanned_until() == 200.0
    store.add([], 150.0)
    assert store.scanned_until() == 200.0  # the mark never moves back
    items = store.items("open")
    assert len(items) == 10 and items == sorted(items, key=lambda i: -i.at)
    labelled = store.label(items[0].id, "complaint", 1)
    assert labelled.label == "complaint"
    store.label(items[1].id, "ignore", 1)
    counts = [len(store.items(status)) for status in ("open", "labelled", "all")]
    assert counts == [8, 2, 10]
    assert [i.label for i in store.labelled()] == ["complaint"]
    with pytest.raises(ReviewItemNotFound):
        store.label(99999, "greet", 1)


def test_export_is_masked_valid_rasa_nlu(store: ReviewStore, tmp_path: Path, seeded_events: Events) -> None:
    store.add(all_candidates(conversations(seeded_events), 0.7), 1.0)
    for item in store.items("all"):
        store.label(item.id, "transaction_failed" if "转账" in item.text else "account_security", 7)
    out = review_export.write(store.labelled(), tmp_path / "out" / "review.yml")
    loaded = load_data(str(out))
    assert {m.get("intent") for m in loaded.intent_examples} == {"transaction_failed", "account_security"}
    assert len(loaded.intent_examples) == 10
    texts = {m.get("text") for m in loaded.intent_examples}
    assert "我的账户被锁了 138****8000" in texts and "13800138000" not in out.read_text(encoding="utf-8")
    # the project's own data plus the export load together, as after a merge
    importer = RasaFileImporter(training_data_paths=["data/nlu", str(out)])
    merged = importer.get_nlu_data()
    assert len(merged.intent_examples) > len(loaded.intent_examples)


def test_export_masks_every_pii_string(store: ReviewStore, tmp_path: Path) -> None:
    from bot.insights.review_store import ReviewItem

    items = [
        ReviewItem(n, "fallback", "widget", text, None, 0.2, float(n), "inform")
        for n, text in enumerate(s.text for s in samples())
    ]
    assert leaks(review_export.to_yaml(items)) == []


def test_export_refuses_the_training_data(tmp_path: Path) -> None:
    for path in (Path("data/nlu/review.yml"), Path("data/review.yml"), Path("data/nlu/../x.yml")):
        with pytest.raises(UnsafeExportPath):
            review_export.safe_path(path)
    with pytest.raises(UnsafeExportPath):
        review_export.safe_path(tmp_path / "review.txt")
    assert review_export.safe_path(tmp_path / "ok.yml") == (tmp_path / "ok.yml").resolve()


def test_cli_export(
    store: ReviewStore, tmp_path: Path, seeded_events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add(all_candidates(conversations(seeded_events), 0.7), 1.0)
    first = store.items("all")[0]
    store.label(first.id, "complaint", 1)
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'handoff.db'}")
    out = tmp_path / "var" / "review.yml"
    assert cli.main(["export", "--out", str(out)]) == 0
    assert load_data(str(out)).intent_examples[0].get("intent") == "complaint"
    assert cli.main(["export", "--out", "data/nlu/review.yml"]) == 2
    assert not Path("data/nlu/review.yml").exists()
