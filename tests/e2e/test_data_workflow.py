"""The seed's "data import and validation" flow in a real browser (seed section 2)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from backtestr.server.runner import BackgroundServer
from tests.helpers import real_file

pytestmark = pytest.mark.e2e

# set to a folder to save screenshots of the main screens (those in the README come from here)
SCREENSHOTS = os.environ.get("BACKTESTR_SCREENSHOTS")


def valid_csv(path: Path, days: int = 2) -> Path:
    """M1 bid bars of a gently trending EURUSD-like series, as a generic CSV."""
    start = pd.Timestamp("2019-02-04", tz="UTC")
    lines = ["timestamp,open,high,low,close,volume"]
    price = 1.1450
    for minute in range(days * 1440):
        stamp = start + pd.Timedelta(minutes=minute)
        drift = 0.00002 * ((minute // 90) % 7 - 3)
        close = price + drift
        high, low = max(price, close) + 0.00008, min(price, close) - 0.00007
        lines.append(
            f"{stamp:%Y-%m-%d %H:%M},{price:.5f},{high:.5f},{low:.5f},{close:.5f},{minute % 50 + 1}"
        )
        price = close
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def invalid_csv(path: Path) -> Path:
    path.write_text(
        "timestamp,open,high,low,close\n"
        "2019-02-04 00:00,1.14500,1.14520,1.14490,1.14510\n"
        "2019-02-04 00:01,1.14510,1.14400,1.14500,1.14505\n",
        encoding="utf-8",
    )
    return path


def test_data_import_and_validation(page: Page, server: BackgroundServer, tmp_path: Path) -> None:
    page.get_by_test_id("import-data-button").click()
    page.get_by_test_id("file-input").set_input_files(invalid_csv(tmp_path / "invalid.csv"))
    page.get_by_test_id("import-confirm").click()
    error = page.get_by_test_id("error-message")
    expect(error).to_contain_text("Invalid data format")
    expect(error).to_contain_text("invalid.csv line 3")

    page.get_by_test_id("file-input").set_input_files(valid_csv(tmp_path / "valid.csv"))
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-status")).to_contain_text("Import completed")
    expect(page.get_by_test_id("import-status")).to_contain_text("2,880 M1 bars")
    expect(error).to_be_hidden()

    chart = page.get_by_test_id("chart-canvas")
    expect(chart).to_be_visible()
    candle_count = page.get_by_test_id("candle-count")
    expect(candle_count).to_have_text("48")  # two days of H1 bars
    assert int(candle_count.text_content() or "0") > 0
    expect(chart).to_have_attribute("data-last-price", re.compile(r"^1\.1\d+$"))
    expect(chart.locator("canvas").first).to_be_visible()

    page.get_by_test_id("import-close").click()
    page.get_by_test_id("timeframe-M15").click()
    expect(candle_count).to_have_text("192")
    expect(page.get_by_test_id("library-entry-EURUSD")).to_contain_text("2,880 rows")
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "data-and-chart.png"))


def test_removing_a_symbol_empties_the_library(
    page: Page, server: BackgroundServer, tmp_path: Path
) -> None:
    page.get_by_test_id("import-data-button").click()
    page.get_by_test_id("file-input").set_input_files(valid_csv(tmp_path / "EURUSD_M1.csv", days=1))
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-status")).to_contain_text("Import completed")
    page.get_by_test_id("import-close").click()
    remove = page.get_by_test_id("remove-dataset-EURUSD")
    remove.click()
    expect(remove).to_have_text("Click again to delete")
    remove.click()
    expect(page.get_by_test_id("library-empty")).to_be_visible()
    expect(page.get_by_test_id("candle-count")).to_have_text("0")


def test_a_page_on_another_origin_cannot_reach_the_server(
    page: Page, server: BackgroundServer
) -> None:
    # a cross-origin page in the same browser (which holds the token cookie) tries to read and
    # to post: the browser blocks the read, and the server refuses both before doing anything
    api = f"{server.settings.base_url}/api/datasets"
    foreign = page.context.new_page()
    foreign.route(
        "http://evil.example/",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p>hi</p>"),
    )
    foreign.goto("http://evil.example/")
    outcome = foreign.evaluate(
        """async (url) => {
            try { const r = await fetch(url, {credentials: 'include'}); return 'read ' + r.status; }
            catch (e) { return 'blocked'; }
        }""",
        api,
    )
    assert outcome == "blocked"
    # a "simple" POST needs no CORS preflight, so only the server's Origin check stops it (when
    # Chromium's private-network protection does not block it first)
    sent = foreign.evaluate(
        """async (url) => {
            try {
                const form = new FormData();
                form.set('symbol', 'EURUSD');
                form.set('file', new Blob(['timestamp,bid,ask\\n']), 'EURUSD.csv');
                const r = await fetch(url, {method: 'POST', mode: 'no-cors',
                                            credentials: 'include', body: form});
                return r.type;
            } catch (e) { return 'blocked'; }
        }""",
        api.replace("datasets", "imports"),
    )
    assert sent in ("opaque", "blocked")
    assert not list((server.settings.home / "staging").iterdir())


@pytest.mark.realdata
def test_real_dukascopy_minutes_chart_in_every_timeframe(
    page: Page, server: BackgroundServer
) -> None:
    source = real_file("dukascopy_eurusd/EURUSD_M1_BID_20190204-20190205_UTC.csv")
    page.get_by_test_id("import-data-button").click()
    page.get_by_test_id("file-input").set_input_files(source)
    expect(page.get_by_test_id("import-symbol")).to_have_value("EURUSD")
    expect(page.get_by_test_id("import-detected")).to_have_text("Detected: generic-bars (M1 bid)")
    expect(page.get_by_test_id("import-format")).to_have_value("generic-bars")
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-status")).to_contain_text(
        "Import completed: EURUSD, 2,880 M1 bars, 2019-02-04 00:00:00 → 2019-02-05 23:59:00 UTC"
    )
    page.get_by_test_id("import-close").click()
    count = page.get_by_test_id("candle-count")
    chart = page.get_by_test_id("chart-canvas")
    expect(count).to_have_text("48")
    # the last H1 bar closes where the file's last minute closes
    last_close = source.read_text(encoding="utf-8").strip().rsplit("\n", 1)[1].split(",")[4]
    expect(chart).to_have_attribute("data-last-price", str(float(last_close)))
    for timeframe, bars in (("M5", "576"), ("H4", "12"), ("M1", "2000")):
        page.get_by_test_id(f"timeframe-{timeframe}").click()
        expect(count).to_have_text(bars)
    # M1 holds more than one page: scrolling back to the oldest bar pages the rest in
    box = chart.bounding_box()
    assert box is not None
    for _ in range(30):
        if count.text_content() == "2880":
            break
        page.mouse.move(box["x"] + 100, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] - 100, box["y"] + box["height"] / 2, steps=4)
        page.mouse.up()
    expect(count).to_have_text("2880")
    if SCREENSHOTS:
        page.get_by_test_id("timeframe-M15").click()
        expect(count).to_have_text("192")
        page.screenshot(path=str(Path(SCREENSHOTS) / "real-eurusd-m15.png"))


def test_strategy_editor_accepts_filled_code(page: Page) -> None:
    # the seed's workflow fills the editor (the run: test_backtest_workflow.py)
    page.get_by_test_id("strategy-tab").click()
    editor = page.get_by_test_id("strategy-editor")
    expect(editor).to_be_visible()
    expect(editor).to_contain_text("def initialize(context):")
    code = (
        "def initialize(context):\n    context.ma_short = 5\n\n\n"
        "def handle_data(context, data):\n    pass\n"
    )
    editor.fill(code)
    expect(page.get_by_test_id("strategy-status")).to_have_text("7 lines")
    expect(editor).to_contain_text("context.ma_short = 5")
    page.get_by_test_id("data-tab").click()
    expect(page.get_by_test_id("chart-canvas")).to_be_attached()
    page.get_by_test_id("strategy-tab").click()
    expect(editor).to_contain_text("context.ma_short = 5")  # kept while switching tabs
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "strategy.png"))
