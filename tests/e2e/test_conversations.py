"""The end-to-end conversation tests of tests/e2e/*.yml, through `rasa test core`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

STORIES = Path(__file__).resolve().parent


def test_every_conversation_is_predicted_exactly(model_path: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "core",
            "--model",
            str(model_path),
            "--stories",
            str(STORIES),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    report = json.loads((tmp_path / "story_report.json").read_text(encoding="utf-8"))
    conversations = report["conversation_accuracy"]
    assert conversations["correct"] == conversations["total"] >= 19
