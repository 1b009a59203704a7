"""`make eval`: NLU evaluation on the held-out set, side by side with two comparisons.

Pipelines: the project's (config.yml), the project's without the spaCy rules
(to measure what they contribute), Rasa's default pipeline with the jieba
tokenizer swapped in, and a TF-IDF character n-gram + logistic regression
baseline. Each Rasa pipeline is trained, loaded and timed in its own process so
that its memory is measured alone. Results go to reports/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"
TRAIN = "data/nlu"
HELDOUT = "tests/nlu/heldout.yml"
SEED = 20261125

PIPELINES = {
    "project": "the project's pipeline (config.yml)",
    "project_no_rules": "the project's pipeline without the spaCy rules (normalization kept)",
    "rasa_default_jieba": "Rasa's default pipeline, JiebaTokenizer instead of WhitespaceTokenizer",
}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _config_for(name: str, workdir: Path) -> Path:
    if name.startswith("project"):
        config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
        if name == "project_no_rules":
            for component in config["pipeline"]:
                if component["name"].endswith("SpacyRuleEntityExtractor"):
                    component["use_rules"] = False
    else:
        import rasa.engine.recipes

        default = Path(rasa.engine.recipes.__file__).parent / "config_files" / "default_config.yml"
        config = yaml.safe_load(default.read_text(encoding="utf-8"))
        config["language"] = "zh"
        for component in config["pipeline"]:
            if component["name"] == "WhitespaceTokenizer":
                component["name"] = "JiebaTokenizer"
            if component["name"] in ("DIETClassifier", "ResponseSelector"):
                component["random_seed"] = SEED
    config.pop("policies", None)
    path = workdir / f"{name}.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _heldout() -> list[dict[str, Any]]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [
        {"text": m.get("text"), "intent": m.get("intent"), "entities": m.get("entities", [])}
        for m in load_data(HELDOUT).intent_examples
    ]


def _fingerprint(name: str) -> str:
    """What a pipeline's result depends on: the training data and the held-out set, and for the
    project's pipelines the configuration and the project's NLU code (Rasa's default pipeline
    uses neither)."""
    import hashlib

    digest = hashlib.sha256()
    files = [*sorted((ROOT / "data").rglob("*")), ROOT / HELDOUT]
    if name.startswith("project"):
        files += [ROOT / "config.yml", *sorted((ROOT / "bot" / "nlu").glob("*.py"))]
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def worker(name: str, workdir: Path) -> dict[str, Any]:
    """Train, load and run one Rasa pipeline; return predictions and figures."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    config = _config_for(name, workdir)
    started = time.perf_counter()
    model = train_nlu(str(config), TRAIN, str(workdir), fixed_model_name=name, domain="domain.yml")
    train_seconds = time.perf_counter() - started

    rss_before = _rss_mb()
    started = time.perf_counter()
    agent = Agent.load(str(model))
    load_seconds = time.perf_counter() - started
    loop = asyncio.new_event_loop()
    loop.run_until_complete(agent.parse_message("你好"))  # warm-up
    rss_loaded = _rss_mb()

    predictions, latencies = [], []
    for example in _heldout():
        started = time.perf_counter()
        result = loop.run_until_complete(agent.parse_message(example["text"]))
        latencies.append((time.perf_counter() - started) * 1000)
        predictions.append(
            {
                "intent": result["intent"]["name"] if result.get("intent") else None,
                "entities": [
                    {k: e[k] for k in ("entity", "start", "end", "value")} for e in result["entities"]
                ],
            }
        )
    return {
        "train_seconds": train_seconds,
        "load_seconds": load_seconds,
        "rss_mb_model": rss_loaded - rss_before,
        "rss_mb_process": rss_loaded,
        "parse_ms": latencies,
        "predictions": predictions,
    }


def tfidf_baseline() -> dict[str, Any]:
    """TF-IDF character 1–3-grams with logistic regression."""
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train = load_data(TRAIN).intent_examples
    model = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
        LogisticRegression(max_iter=3000, C=10.0, random_state=SEED),
    )
    started = time.perf_counter()
    model.fit([m.get("text") for m in train], [m.get("intent") for m in train])
    train_seconds = time.perf_counter() - started
    predictions, latencies = [], []
    for example in _heldout():
        started = time.perf_counter()
        intent = model.predict([example["text"]])[0]
        latencies.append((time.perf_counter() - started) * 1000)
        predictions.append({"intent": intent, "entities": []})
    return {
        "train_seconds": train_seconds,
        "load_seconds": 0.0,
        "rss_mb_model": float("nan"),
        "rss_mb_process": float("nan"),
        "parse_ms": latencies,
        "predictions": predictions,
    }


def _entity_scores(gold: list[dict[str, Any]], predictions: list[dict[str, Any]]) -> dict[str, Any]:
    per_type: dict[str, dict[str, int]] = {}
    values_right = values_total = 0
    for example, predicted in zip(gold, predictions, strict=True):
        gold_spans = {(e["entity"], e["start"], e["end"]): e for e in example["entities"]}
        predicted_spans = {(e["entity"], e["start"], e["end"]): e for e in predicted["entities"]}
        for key in gold_spans.keys() | predicted_spans.keys():
            counts = per_type.setdefault(key[0], {"tp": 0, "fp": 0, "fn": 0})
            if key in gold_spans and key in predicted_spans:
                counts["tp"] += 1
                text = example["text"][key[1] : key[2]]
                if gold_spans[key].get("value") not in (None, text):  # a canonical value is given
                    values_total += 1
                    values_right += predicted_spans[key]["value"] == gold_spans[key]["value"]
            elif key in gold_spans:
                counts["fn"] += 1
            else:
                counts["fp"] += 1

    def _pr(c: dict[str, int]) -> dict[str, float]:
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "support": c["tp"] + c["fn"]}

    total = {k: sum(c[k] for c in per_type.values()) for k in ("tp", "fp", "fn")}
    return {
        "micro": _pr(total),
        "per_type": {t: _pr(c) for t, c in sorted(per_type.items())},
        "value_accuracy": values_right / values_total if values_total else None,
        "values_checked": values_total,
    }


def _scores(gold: list[dict[str, Any]], run: dict[str, Any]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    y_true = [g["intent"] for g in gold]
    y_pred = [p["intent"] or "none" for p in run["predictions"]]
    labels = sorted(set(y_true))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    latencies = sorted(run["parse_ms"])
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "macro_f1": f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0),
        "fallbacks": sum(p == "nlu_fallback" for p in y_pred),
        "per_intent": {
            label: {"precision": p, "recall": r, "f1": f, "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "entities": _entity_scores(gold, run["predictions"]),
        "errors": [
            {"text": g["text"], "gold": g["intent"], "predicted": p}
            for g, p in zip(gold, y_pred, strict=True)
            if g["intent"] != p
        ],
        "train_seconds": run["train_seconds"],
        "load_seconds": run["load_seconds"],
        "rss_mb_model": run["rss_mb_model"],
        "rss_mb_process": run["rss_mb_process"],
        "parse_ms_mean": statistics.fmean(latencies),
        "parse_ms_p50": latencies[len(latencies) // 2],
        "parse_ms_p95": latencies[int(len(latencies) * 0.95) - 1],
    }


def _confusion_png(gold: list[dict[str, Any]], run: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    y_true = [g["intent"] for g in gold]
    y_pred = [p["intent"] or "none" for p in run["predictions"]]
    labels = sorted(set(y_true) | set(y_pred))
    fig, ax = plt.subplots(figsize=(11, 10))
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=labels, ax=ax, xticks_rotation=60, colorbar=False, cmap="Blues"
    )
    ax.set_title("Held-out intents: project pipeline")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(results: dict[str, dict[str, Any]], heldout_size: int) -> str:
    names = {**PIPELINES, "tfidf_logreg": "TF-IDF char 1–3-grams + logistic regression"}
    lines = [
        "# NLU evaluation (held-out set)",
        "",
        f"Held-out utterances: {heldout_size} (`{HELDOUT}`, never trained on). "
        f"Training data: `{TRAIN}/`. Produced by `make eval` (`scripts/eval_nlu.py`).",
        "",
        "| pipeline | intent accuracy | macro-F1 | fallbacks | entity P | entity R | "
        "value acc. | train s | load s | parse ms mean / p95 | RSS MB (process, model loaded) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        e = r["entities"]["micro"]
        value = r["entities"]["value_accuracy"]
        lines.append(
            f"| {names[name]} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['fallbacks']} | "
            f"{e['precision']:.3f} | {e['recall']:.3f} | {'-' if value is None else f'{value:.3f}'} | "
            f"{r['train_seconds']:.1f} | {r['load_seconds']:.1f} | "
            f"{r['parse_ms_mean']:.1f} / {r['parse_ms_p95']:.1f} | {r['rss_mb_process']:.0f} |"
        )
    project = results["project"]
    lines += ["", "## Project pipeline: per intent", "", "| intent | precision | recall | F1 | support |"]
    lines.append("|---|---|---|---|---|")
    for intent, s in project["per_intent"].items():
        lines.append(
            f"| {intent} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |"
        )
    lines += ["", "![confusion matrix](confusion_matrix.png)", "", "## Entities by type", ""]
    lines.append("| entity | project P / R | without spaCy rules P / R | Rasa default + jieba P / R |")
    lines.append("|---|---|---|---|")
    types = sorted(project["entities"]["per_type"])
    for t in types:
        cells = []
        for name in ("project", "project_no_rules", "rasa_default_jieba"):
            s = results[name]["entities"]["per_type"].get(t)
            cells.append("-" if s is None else f"{s['precision']:.2f} / {s['recall']:.2f}")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    lines += ["", "## Project pipeline: misclassified held-out utterances", ""]
    lines += [f"- {e['text']} — expected `{e['gold']}`, got `{e['predicted']}`" for e in project["errors"]]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", choices=sorted(PIPELINES))
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--only", nargs="*", choices=sorted(PIPELINES))
    parser.add_argument("--resume", action="store_true", help="reuse results for the same inputs")
    args = parser.parse_args()
    os.chdir(ROOT)
    if args.worker:
        result = worker(args.worker, args.workdir)
        (args.workdir / f"{args.worker}.json").write_text(json.dumps(result), encoding="utf-8")
        return

    REPORTS.mkdir(exist_ok=True)
    gold = _heldout()
    runs: dict[str, dict[str, Any]] = {}
    # A pipeline's result is kept under .eval-work/ with the fingerprint of what it was trained
    # and scored on, so an interrupted run goes on where it stopped (--resume).
    with tempfile.TemporaryDirectory(prefix="eval-") as tmp:
        workdir = Path(tmp)
        for name in args.only or PIPELINES:
            results_dir = ROOT / ".eval-work" / _fingerprint(name)
            results_dir.mkdir(parents=True, exist_ok=True)
            kept = results_dir / f"{name}.json"
            if args.resume and kept.exists():
                print(f"== kept from an earlier run: {PIPELINES[name]}", flush=True)
                runs[name] = json.loads(kept.read_text(encoding="utf-8"))
                continue
            print(f"== training and evaluating: {PIPELINES[name]}", flush=True)
            env = {**os.environ, "RASA_CACHE_DIRECTORY": str(workdir / f"cache-{name}")}
            subprocess.run(
                [sys.executable, "-m", "scripts.eval_nlu", "--worker", name, "--workdir", str(workdir)],
                check=True,
                env=env,
            )
            runs[name] = json.loads((workdir / f"{name}.json").read_text(encoding="utf-8"))
            kept.write_text(json.dumps(runs[name]), encoding="utf-8")
    runs["tfidf_logreg"] = tfidf_baseline()
    results = {name: _scores(gold, run) for name, run in runs.items()}
    if "project" in runs:
        _confusion_png(gold, runs["project"], REPORTS / "confusion_matrix.png")
    (REPORTS / "nlu_eval.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2, default=float), encoding="utf-8"
    )
    if {"project", "project_no_rules", "rasa_default_jieba"} <= results.keys():
        (REPORTS / "nlu_eval.md").write_text(_markdown(results, len(gold)), encoding="utf-8")
    for name, r in results.items():
        print(
            f"{name:20s} accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}  "
            f"entity P/R {r['entities']['micro']['precision']:.3f}/{r['entities']['micro']['recall']:.3f}  "
            f"train {r['train_seconds']:.1f}s  load {r['load_seconds']:.1f}s  "
            f"parse {r['parse_ms_mean']:.1f}ms  RSS {r['rss_mb_process']:.0f}MB"
        )
    print(f"report: {REPORTS / 'nlu_eval.md'}")


if __name__ == "__main__":
    main()
