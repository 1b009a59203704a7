"""Dialogue report for `make eval`: the end-to-end conversations of tests/e2e, passed / total.

Writes reports/dialogue_eval.md and reports/dialogue_eval.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

MODEL = Path("models/wallet.tar.gz")
STORIES = Path("tests/e2e")
REPORTS = Path("reports")


def main() -> int:
    """Run `rasa test core` on the conversation tests and summarize."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "rasa",
                "test",
                "core",
                "--model",
                str(MODEL),
                "--stories",
                str(STORIES),
                "--out",
                out,
            ],
            check=True,
            capture_output=True,
        )
        report = json.loads((Path(out) / "story_report.json").read_text(encoding="utf-8"))
        failed_text = (Path(out) / "failed_test_stories.yml").read_text(encoding="utf-8")
    names = [
        story["story"]
        for path in sorted(STORIES.glob("*.yml"))
        for story in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("stories", [])
    ]
    failed = [name for name in names if f"story: {name}" in failed_text]
    conversations = report["conversation_accuracy"]
    summary = {
        "conversations_passed": conversations["correct"],
        "conversations_total": conversations["total"],
        "action_accuracy": report.get("accuracy"),
        "failed": failed,
    }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "dialogue_eval.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    lines = [
        "# Dialogue evaluation (end-to-end conversations)",
        "",
        f"Conversation tests in `{STORIES}/` (Chinese user text, `rasa test core`). Produced by `make eval`.",
        "",
        f"- conversations passed: **{summary['conversations_passed']} / {summary['conversations_total']}**",
        f"- action prediction accuracy: {summary['action_accuracy']:.3f}",
        "",
        "| conversation | result |",
        "|---|---|",
        *[f"| {name} | {'failed' if name in failed else 'passed'} |" for name in names],
    ]
    (REPORTS / "dialogue_eval.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:6]))
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
