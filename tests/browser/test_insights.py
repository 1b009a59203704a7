"""A supervisor in the browser: the reports page of the seeded conversations (figures, charts,
a CSV export) and the review queue (label a message, export the labelled ones as YAML);
screenshots in docs/. The Rasa server runs with the insights' channel registered."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.insights.review_export import check
from tests.insights.rasa_process import RasaProcess, rasa_with_insights

pytestmark = pytest.mark.server
DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
TIMEOUT = 60_000
PASSWORD = "laoli-Passw0rd-2026"


@pytest.fixture(scope="module")
def rasa(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaProcess]:
    with rasa_with_insights(tmp_path_factory.mktemp("insights-browser"), model_path) as running:
        from bot.handoff.errors import Conflict
        from bot.handoff.store import HandoffStore

        store = HandoffStore(running.handoff_db_url)
        store.create_schema()
        with contextlib.suppress(Conflict):
            store.add_agent("laoli", "老李", PASSWORD, role="supervisor")
        store.close()
        yield running


def _supervisor(browser: Any, rasa: RasaProcess) -> Any:
    viewport = {"width": 1400, "height": 1000}
    context = browser.new_context(locale="zh-CN", viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{rasa.url}/console/")
    page.get_by_test_id("uwa-login-username").fill("laoli")
    page.get_by_test_id("uwa-login-password").fill(PASSWORD)
    page.get_by_test_id("uwa-login-submit").click()
    page.get_by_test_id("uwa-agent-name").filter(has_text="老李").wait_for()
    return page


def test_reports_page(browser: Any, rasa: RasaProcess) -> None:
    page = _supervisor(browser, rasa)
    page.goto(f"{rasa.url}/console/insights/reports?from=2026-11-20&to=2026-11-21")
    page.locator("body[data-loaded='true']").wait_for()
    assert page.get_by_test_id("uwi-card-conversations").locator("strong").inner_text() == "11"
    assert page.get_by_test_id("uwi-card-containment").locator("strong").inner_text() == "45.5%"
    assert page.get_by_test_id("uwi-card-true-containment").locator("strong").inner_text() == "27.3%"
    assert page.get_by_test_id("uwi-card-wait").locator("strong").inner_text() == "1.0 分钟 / 5.0 分钟"
    assert page.get_by_test_id("uwi-card-csat").locator("strong").inner_text() == "3.33 分"
    assert page.evaluate("typeof window.Chart") == "function"  # the vendored Chart.js loaded
    assert page.evaluate("document.getElementById('uwi-chart-daily').width") > 0
    page.get_by_test_id("uwi-agents").filter(has_text="小王").wait_for()
    page.get_by_test_id("uwi-flow").select_option("transaction_form")
    page.get_by_test_id("uwi-funnel").filter(has_text="验证：验证码").wait_for()
    page.screenshot(path=str(DOCS / "console-reports.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_test_id("uwi-export-daily").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("day,channel,conversations")
    assert "total,all,11" in text and "138" not in text
    # the date range picker: a day without conversations
    page.get_by_test_id("uwi-from").fill("2026-10-01")
    page.get_by_test_id("uwi-to").fill("2026-10-01")
    page.get_by_test_id("uwi-apply").click()
    page.get_by_test_id("uwi-card-conversations").locator("strong").filter(has_text="0").wait_for()
    page.context.close()


def test_review_queue_label_and_export(browser: Any, rasa: RasaProcess) -> None:
    page = _supervisor(browser, rasa)
    page.goto(f"{rasa.url}/console/insights/review")
    page.locator("body[data-loaded='true']").wait_for()
    items = page.get_by_test_id("uwi-item")
    assert items.count() == 10
    assert page.get_by_test_id("uwi-item-text").filter(has_text="138****8000").count() == 1
    row = items.filter(has_text="嗯嗯那个东西怎么弄")
    row.get_by_test_id("uwi-label-select").select_option("transaction_failed")
    row.get_by_test_id("uwi-label-save").click()
    page.get_by_test_id("uwi-count").filter(has_text="9 条").wait_for()
    locked = items.filter(has_text="我的账户被锁了")
    locked.get_by_test_id("uwi-label-select").select_option("account_security")
    locked.get_by_test_id("uwi-label-save").click()
    page.get_by_test_id("uwi-count").filter(has_text="8 条").wait_for()
    page.get_by_test_id("uwi-status-labelled").click()
    page.get_by_test_id("uwi-count").filter(has_text="2 条").wait_for()
    page.get_by_test_id("uwi-status-open").click()
    page.get_by_test_id("uwi-count").filter(has_text="8 条").wait_for()
    page.screenshot(path=str(DOCS / "console-review.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_test_id("uwi-export").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    check(text)
    blocks = {b["intent"]: b["examples"] for b in yaml.safe_load(text)["nlu"]}
    assert blocks == {
        "account_security": "- 我的账户被锁了 138****8000\n",
        "transaction_failed": "- 嗯嗯那个东西怎么弄\n",
    }
    page.context.close()


def test_an_agent_sees_no_reports(browser: Any, rasa: RasaProcess) -> None:
    from bot.handoff.errors import Conflict
    from bot.handoff.store import HandoffStore

    store = HandoffStore(rasa.handoff_db_url)
    with contextlib.suppress(Conflict):
        store.add_agent("xiaowang", "小王", PASSWORD)
    store.close()
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{rasa.url}/console/insights/reports")
    page.get_by_test_id("uwi-notice").filter(has_text="请先在工作台登录").wait_for()
    page.goto(f"{rasa.url}/console/")
    page.get_by_test_id("uwa-login-username").fill("xiaowang")
    page.get_by_test_id("uwa-login-password").fill(PASSWORD)
    page.get_by_test_id("uwa-login-submit").click()
    page.get_by_test_id("uwa-agent-name").filter(has_text="小王").wait_for()
    page.goto(f"{rasa.url}/console/insights/review")
    page.get_by_test_id("uwi-notice").filter(has_text="只有主管").wait_for()
    assert page.get_by_test_id("uwi-item").count() == 0
    context.close()
