"""Stop-loss / take-profit levels on the chart and jumps back in replay, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_backtest_workflow import import_sample

pytestmark = pytest.mark.e2e

BRACKETED = """
def handle_data(context, data):
    if not context.portfolio.positions[context.symbol]:
        order(context.symbol, 10_000, stop_loss_pips=4, take_profit_pips=6)
"""


def test_a_runs_trades_show_their_stop_loss_and_take_profit(page: Page, tmp_path: Path) -> None:
    import_sample(page, tmp_path, days=1)
    chart = page.get_by_test_id("chart-canvas")
    expect(chart).to_have_attribute("data-exit-segments", "0")
    page.get_by_test_id("strategy-tab").click()
    page.get_by_test_id("strategy-editor").fill(BRACKETED)
    page.get_by_test_id("run-backtest-button").click()
    expect(page.get_by_test_id("backtest-status")).to_contain_text("Completed", timeout=30_000)
    trades = int(page.get_by_test_id("total-trades").text_content() or "0")
    assert trades > 2
    page.get_by_test_id("data-tab").click()
    # every trade had both levels: two segments each for the trades on the loaded H1 bars. The
    # trades are fetched after "Completed" shows: wait for them to reach the chart.
    expect(chart).not_to_have_attribute("data-exit-segments", "0")
    segments = int(chart.get_attribute("data-exit-segments") or "0")
    assert segments >= 2
    assert segments % 2 == 0


def test_replay_draws_the_open_positions_levels_until_it_closes(page: Page, tmp_path: Path) -> None:
    import_sample(page, tmp_path, days=1)
    page.get_by_test_id("timeframe-M1").click()
    chart = page.get_by_test_id("chart-canvas")
    page.get_by_test_id("replay-step-button").click()
    expect(page.get_by_test_id("replay-equity")).not_to_have_text("–")
    page.get_by_test_id("replay-sl-pips").fill("5")
    page.get_by_test_id("replay-tp-pips").fill("30")
    page.get_by_test_id("replay-buy-button").click()
    page.get_by_test_id("replay-step-button").click()
    expect(page.get_by_test_id("replay-position")).to_contain_text("long 10000")
    expect(chart).to_have_attribute(
        "data-open-exits", re.compile(r"^stop_loss:1\.1\d+ take_profit:1\.1\d+$")
    )
    # the series falls for its first 90 minutes: the stop closes the long, the lines go
    page.get_by_test_id("replay-speed-select").select_option("100")
    page.get_by_test_id("replay-play-button").click()
    expect(page.get_by_test_id("replay-position")).to_have_text("flat", timeout=20_000)
    expect(chart).not_to_have_attribute("data-open-exits", re.compile(".+"))


def test_jumping_back_discards_the_hand_orders_after_the_target(page: Page, tmp_path: Path) -> None:
    import_sample(page, tmp_path, days=2)
    page.get_by_test_id("timeframe-M15").click()
    page.get_by_test_id("replay-from").fill("2019-02-04")
    count = page.get_by_test_id("candle-count")
    page.get_by_test_id("replay-step-button").click()
    expect(page.get_by_test_id("replay-equity")).not_to_have_text("–")
    jump_to = page.get_by_test_id("replay-jump-to")
    jump_to.fill("2019-02-04T10:00")
    page.get_by_test_id("replay-jump-button").click()
    status = page.get_by_test_id("replay-status")
    expect(status).to_have_text("Jumped to 2019-02-04 10:00 UTC")
    page.get_by_test_id("replay-buy-button").click()
    page.get_by_test_id("replay-step-button").click()
    expect(page.get_by_test_id("replay-position")).to_contain_text("long 10000")
    at_ten = int(count.text_content() or "0")

    jump_to.fill("2019-02-04T06:00")
    page.get_by_test_id("replay-jump-button").click()
    expect(status).to_contain_text("Jumped back to 2019-02-04 06:00 UTC")
    expect(status).to_contain_text("1 hand order placed after it was discarded")
    expect(page.get_by_test_id("replay-position")).to_have_text("flat")
    expect(count).to_have_text("24")  # the bars before 06:00, none after it
    assert at_ten > 24
    page.get_by_test_id("replay-step-button").click()
    expect(count).to_have_text("25")
