"""The stock reference of the benchmark: the moodbot of ``rasa init --no-prompt``, made with the
project's own virtual environment and trained with a fixed seed, cached in ``.bench-work/stock``.

``rasa init`` copies Rasa's template (``rasa.cli.scaffold.create_initial_project``) and trains it
with Rasa's default configuration, unseeded. Here the template is copied the same way and
trained with that default configuration written out with ``random_seed`` on every trained
component, so two builds give the same model; the build is reused while Rasa's version, the
seed and the template are the same.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import yaml

from scripts.cluster_settings import ROOT

WORK = ROOT / ".bench-work"
STOCK_DIR = WORK / "stock"
STOCK_MODEL = STOCK_DIR / "models" / "moodbot.tar.gz"
VENV_BIN = ROOT / ".venv" / "bin"
SEED = 42
BUILD_TIMEOUT = 1800
SEEDED = ("DIETClassifier", "ResponseSelector", "UnexpecTEDIntentPolicy", "TEDPolicy")


def rasa_dir() -> Path:
    """The installed Rasa package (the virtual environment's)."""
    return Path(str(metadata.distribution("rasa").locate_file("rasa")))


def seeded_config(default_config: str, seed: int = SEED) -> str:
    """Rasa's default configuration with ``random_seed`` on each trained component."""
    config = yaml.safe_load(default_config)
    for part in ("pipeline", "policies"):
        for component in config[part]:
            if component["name"] in SEEDED:
                component["random_seed"] = seed
    config["assistant_id"] = "bench_moodbot"
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def build_stamp() -> str:
    """What the cached build depends on: Rasa's version, the seed, the template's files."""
    digest = hashlib.sha256()
    template = rasa_dir() / "cli" / "initial_project"
    for path in sorted(template.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(template)).encode())
            digest.update(path.read_bytes())
    return f"rasa {metadata.version('rasa')} seed {SEED} template {digest.hexdigest()[:16]}\n"


def stock_env() -> dict[str, str]:
    """The environment both bots run with (and the stock build is trained with)."""
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONHASHSEED": "0",
    }


def ensure_stock_model(log: Callable[[str], None] = print) -> Path:
    """The trained moodbot, built once and reused while its stamp is unchanged.

    Raises:
        RuntimeError: the training failed (its log is kept in ``.bench-work/stock/build.log``).
    """
    stamp = build_stamp()
    stamp_file = STOCK_DIR / "stamp.txt"
    if STOCK_MODEL.exists() and stamp_file.exists() and stamp_file.read_text(encoding="utf-8") == stamp:
        log(f"stock moodbot: cached ({STOCK_MODEL.relative_to(ROOT)})")
        return STOCK_MODEL
    log("stock moodbot: building (rasa init's template, seeded default config, rasa train)")
    if STOCK_DIR.exists():
        shutil.rmtree(STOCK_DIR)
    STOCK_DIR.mkdir(parents=True)
    python = str(VENV_BIN / "python")
    scaffold = "import sys; from rasa.cli.scaffold import create_initial_project as c; c(sys.argv[1])"
    subprocess.run([python, "-c", scaffold, str(STOCK_DIR)], check=True, env=stock_env(), timeout=300)
    default = (rasa_dir() / "engine" / "recipes" / "config_files" / "default_config.yml").read_text("utf-8")
    (STOCK_DIR / "config.yml").write_text(seeded_config(default), encoding="utf-8")
    build_log = STOCK_DIR / "build.log"
    with build_log.open("wb") as out:
        done = subprocess.run(
            [str(VENV_BIN / "rasa"), "train", "--fixed-model-name", "moodbot", "--out", "models"],
            cwd=STOCK_DIR,
            env=stock_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=BUILD_TIMEOUT,
        )
    if done.returncode != 0 or not STOCK_MODEL.exists():
        raise RuntimeError(f"training the stock moodbot failed: see {build_log}")
    stamp_file.write_text(stamp, encoding="utf-8")
    log(f"stock moodbot: built ({STOCK_MODEL.relative_to(ROOT)})")
    return STOCK_MODEL


if __name__ == "__main__":
    ensure_stock_model()
