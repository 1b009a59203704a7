"""The console's ES modules (bot/console/static/*.js) and the helpers they share with the widget
(bot/widget/shared.js), checked by Node: each parses, every import names an export that
exists (the module graph links), no module leaks a global, and the shared helpers give known
answers. The browser tests check the pages themselves."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
STATIC = ROOT / "bot" / "console" / "static"
SHARED = ROOT / "bot" / "widget" / "shared.js"
CHECK = """
const before = new Set(Object.getOwnPropertyNames(globalThis));
globalThis.document = { title: "t", readyState: "complete", querySelectorAll: () => [] };
process.on("unhandledRejection", () => {}); // main.js's boot() finds no page here: expected
const names = JSON.parse(process.argv[2]);
for (const name of names) await import("./" + name);
const shared = await import("./shared.js");
const leaked = Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k) && k !== "document");
const answers = {
  str: [shared.str("a"), shared.str(5), shared.str(null), shared.str({})],
  toMs: [1700000000, 1700000000000, "2026-12-01T00:00:00Z", "x"].map(shared.toMs),
  safe: ["https://a.example/x", "javascript:alert(1)", 5].map(shared.safeHttpUrl),
  pad: shared.pad(7),
};
console.log(JSON.stringify({ leaked, answers }));
"""


def _node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is missing: it is needed for the console's module checks (apt: nodejs)")
    return found


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("console_modules")
    for module in STATIC.glob("*.js"):
        shutil.copy(module, work / module.name)
    shutil.copy(SHARED, work / "shared.js")  # served beside them as /console/static/shared.js
    (work / "package.json").write_text('{"type": "module"}', encoding="utf-8")
    (work / "check.mjs").write_text(CHECK, encoding="utf-8")
    names = sorted(p.name for p in STATIC.glob("*.js"))
    done = subprocess.run(
        [_node(), "check.mjs", json.dumps(names)], cwd=work, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_every_module_links_and_none_leaks_a_global(checked: dict) -> None:
    assert checked["leaked"] == []


def test_the_console_is_small_modules_without_the_old_script() -> None:
    modules = sorted(STATIC.glob("*.js"))
    assert not (STATIC / "console.js").exists() and len(modules) >= 10
    for module in modules:
        lines = module.read_text(encoding="utf-8").count("\n")
        assert lines < 250, (module.name, lines)
        assert ".innerHTML" not in module.read_text(encoding="utf-8")  # text only
    page = (STATIC / "console.html").read_text(encoding="utf-8")
    assert '<script type="module" src="/console/static/main.js"></script>' in page


def test_the_shared_helpers_known_answers(checked: dict) -> None:
    answers = checked["answers"]
    assert answers["str"] == ["a", "5", "", ""]
    assert answers["toMs"] == [1700000000000, 1700000000000, 1796083200000, None]
    assert answers["safe"] == ["https://a.example/x", None, None]
    assert answers["pad"] == "07"


def test_the_widget_and_the_console_load_the_same_shared_module() -> None:
    widget = (ROOT / "bot" / "widget" / "widget.js").read_text(encoding="utf-8")
    assert 'import(SERVER_URL + "/widget/shared.js")' in widget
    for module in STATIC.glob("*.js"):
        text = module.read_text(encoding="utf-8")
        assert "../../widget/" not in text  # the console serves shared.js itself
    for helper in ("function el(", "function toMs(", "function clock(", "function safeHttpUrl("):
        assert helper not in widget  # one copy, in shared.js
        assert helper in SHARED.read_text(encoding="utf-8")
