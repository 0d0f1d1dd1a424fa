"""The seed's "complete backtest workflow" and replay, in a real browser against the real server
(seed section 2; issue 5)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.helpers import trending_m1_csv

pytestmark = pytest.mark.e2e

SCREENSHOTS = os.environ.get("BACKTESTR_SCREENSHOTS")

# exactly the text the seed's test fills in, leading newline and trailing indentation included
SEED_STRATEGY = """
def initialize(context):
    context.ma_short = 10
    context.ma_long = 20

def handle_data(context, data):
    if data.can_trade(context.symbol):
        short_ma = data.history(context.symbol, 'close', context.ma_short).mean()
        long_ma = data.history(context.symbol, 'close', context.ma_long).mean()
        
        if short_ma > long_ma and not context.portfolio.positions[context.symbol]:
            order_target_percent(context.symbol, 1.0)
        elif short_ma < long_ma and context.portfolio.positions[context.symbol]:
            order_target_percent(context.symbol, 0.0)
    """  # noqa: W293


def import_sample(page: Page, tmp_path: Path, days: int = 2) -> None:
    page.get_by_test_id("import-data-button").click()
    page.get_by_test_id("file-input").set_input_files(
        trending_m1_csv(tmp_path / "sample.csv", days=days)
    )
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-status")).to_contain_text("Import completed")
    page.get_by_test_id("import-close").click()


def test_complete_backtest_workflow(page: Page, tmp_path: Path) -> None:
    import_sample(page, tmp_path)

    page.get_by_test_id("strategy-tab").click()
    page.get_by_test_id("strategy-editor").fill(SEED_STRATEGY)
    page.get_by_test_id("run-backtest-button").click()

    expect(page.get_by_test_id("backtest-status")).to_contain_text("Completed", timeout=30_000)
    total_return = page.get_by_test_id("total-return").text_content()
    assert re.fullmatch(r"-?\d+\.\d+%", total_return or ""), total_return
    total_trades = int(page.get_by_test_id("total-trades").text_content() or "0")
    assert total_trades > 0

    # the other results: statistics, the equity curve, the trade list
    expect(page.get_by_test_id("sharpe-ratio")).not_to_be_empty()
    expect(page.get_by_test_id("equity-chart").locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("trade-list").locator("tbody tr")).to_have_count(
        min(total_trades, 500)
    )
    # the run is saved, and listed among the saved runs
    saved = page.get_by_test_id("past-runs-select").locator("option")
    expect(saved).to_have_count(2)
    expect(saved.nth(1)).to_contain_text(total_return or "")
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "backtest-results.png"))
    # the report downloads as one HTML file
    with page.expect_download() as download:
        page.get_by_test_id("download-report").click()
    assert download.value.suggested_filename.endswith(".html")
    # a trade picked in the list is shown on the chart
    page.get_by_test_id("trade-1").click()
    expect(page.get_by_test_id("chart-canvas")).to_be_visible()


def test_strategy_errors_point_at_the_users_line(page: Page, tmp_path: Path) -> None:
    import_sample(page, tmp_path, days=1)
    page.get_by_test_id("strategy-tab").click()
    page.get_by_test_id("strategy-editor").fill(
        "def handle_data(context, data):\n    price = data.current(context.symbol, 'close')\n"
        "    return price / 0\n"
    )
    page.get_by_test_id("run-backtest-button").click()
    status = page.get_by_test_id("backtest-status")
    expect(status).to_contain_text("ZeroDivisionError", timeout=30_000)
    expect(status).to_contain_text("line 3")

    # it loads, so it can be saved, and opened again from the saved strategies
    page.get_by_test_id("strategy-name").fill("divide")
    page.get_by_test_id("strategy-save-button").click()
    expect(page.get_by_test_id("strategy-status")).to_have_text("Saved as divide")
    page.get_by_test_id("strategy-example-select").select_option("1")
    expect(page.get_by_test_id("strategy-editor")).not_to_contain_text("price / 0")
    page.get_by_test_id("saved-strategy-select").select_option("divide")
    expect(page.get_by_test_id("strategy-editor")).to_contain_text("price / 0")


def test_replay_at_speed_ten_with_a_trade_by_hand(page: Page, tmp_path: Path) -> None:
    import_sample(page, tmp_path, days=2)
    page.get_by_test_id("timeframe-M5").click()
    count = page.get_by_test_id("candle-count")
    expect(count).to_have_text("576")
    chart = page.get_by_test_id("chart-canvas")

    page.get_by_test_id("replay-play-button").click()
    # the chart restarts from the history before the replay's start (200 bars), then grows
    expect(count).not_to_have_text("576")
    page.get_by_test_id("replay-speed-select").select_option("10")
    first_price = chart.get_attribute("data-last-price")
    expect(chart).not_to_have_attribute("data-last-price", first_price or "", timeout=15_000)
    expect(count).to_have_text(re.compile(r"^(20[1-9]|2[1-9]\d|[3-5]\d\d)$"))  # bars arrive

    page.get_by_test_id("replay-buy-button").click()
    expect(page.get_by_test_id("replay-position")).to_contain_text("long 10000", timeout=10_000)
    page.get_by_test_id("replay-pause-button").click()
    expect(page.get_by_test_id("replay-play-button")).to_be_enabled()
    paused_at = count.text_content()
    page.get_by_test_id("replay-step-button").click()
    expect(count).to_have_text(str(int(paused_at or "0") + 1))
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / "replay.png"))
    page.get_by_test_id("replay-stop-button").click()
    expect(page.get_by_test_id("replay-status")).to_contain_text("Replay saved as run")


def test_parameters_then_two_runs_side_by_side(page: Page, tmp_path: Path) -> None:
    import_sample(page, tmp_path, days=1)
    page.get_by_test_id("strategy-tab").click()
    expect(page.get_by_test_id("strategy-editor")).to_contain_text("PARAMETERS")
    status = page.get_by_test_id("backtest-status")
    page.get_by_test_id("run-backtest-button").click()
    expect(status).to_contain_text("Completed", timeout=30_000)
    first_run = (status.text_content() or "").rsplit(" ", 1)[-1]
    first_trades = page.get_by_test_id("total-trades").text_content()

    page.get_by_test_id("strategy-check-button").click()
    expect(page.get_by_test_id("strategy-status")).to_have_text("OK — parameters: fast, slow")
    fast = page.get_by_test_id("param-fast")
    expect(fast).to_have_value("10")
    fast.fill("3")
    fast.dispatch_event("change")
    page.get_by_test_id("run-backtest-button").click()
    expect(status).not_to_contain_text(first_run)
    expect(status).to_contain_text("Completed", timeout=30_000)
    # the run used the value typed in: its manifest says so
    run_id = (status.text_content() or "").rsplit(" ", 1)[-1]
    manifest = page.evaluate(
        "async (id) => (await (await fetch('/api/runs/' + id)).json()).manifest", run_id
    )
    assert manifest["parameters"] == {"fast": 3, "slow": 20}

    page.get_by_test_id("compare-run-select").select_option(first_run)
    expect(page.get_by_test_id("comparison-table")).to_be_visible()
    expect(page.get_by_test_id("compare-total-trades")).to_have_text(first_trades or "")
