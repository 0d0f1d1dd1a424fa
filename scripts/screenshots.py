"""Screenshots of the web workstation's main screens for the README, taken in Debian's Chromium.

Starts the real server over a temporary home, imports real Dukascopy EURUSD ticks and minutes
(the shared real-data folder; ``--data`` points elsewhere), and drives the page with Playwright:
the import dialog, the chart, a backtest's results, its trades with their stop-loss and
take-profit on the chart, and a replay with a hand trade whose levels are drawn.

    .venv/bin/python scripts/screenshots.py                 # writes docs/screenshots/*.png
    .venv/bin/python scripts/screenshots.py --out /tmp/shots
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from backtestr.server import ServerSettings
from backtestr.server.runner import BackgroundServer, free_port

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
BRACKETED = """\
PARAMETERS = {"fast": 10, "slow": 30}


def handle_data(context, data):
    closes = data.history(context.symbol, "close", context.params.slow)
    fast = closes[-context.params.fast:].mean()
    if not context.portfolio.positions[context.symbol]:
        units = 10_000 if fast > closes.mean() else -10_000
        order(context.symbol, units, stop_loss_pips=6, take_profit_pips=9)
"""


def import_file(page: Page, path: Path, expected: str) -> None:
    page.get_by_test_id("import-data-button").click()
    page.get_by_test_id("file-input").set_input_files(path)
    expect(page.get_by_test_id("import-symbol")).to_have_value("EURUSD")
    page.get_by_test_id("import-confirm").click()
    expect(page.get_by_test_id("import-status")).to_contain_text(expected, timeout=60_000)


def take(page: Page, data: Path, out: Path) -> list[Path]:
    shots: list[Path] = []

    def shot(name: str) -> None:
        path = out / name
        page.screenshot(path=str(path))
        shots.append(path)

    import_file(page, data / "EURUSD_M1_BID_20190204-20190205_UTC.csv", "2,880 M1 bars")
    page.get_by_test_id("import-close").click()
    import_file(page, data / "EURUSD_ticks_20190204-20190205_UTC.csv", "Import completed")
    shot("import-dialog.png")
    page.get_by_test_id("import-close").click()
    count = page.get_by_test_id("candle-count")
    page.get_by_test_id("timeframe-M15").click()
    expect(count).to_have_text("192")
    shot("chart-eurusd-m15.png")

    page.get_by_test_id("strategy-tab").click()
    page.get_by_test_id("strategy-editor").fill(BRACKETED)
    page.get_by_test_id("run-backtest-button").click()
    expect(page.get_by_test_id("backtest-status")).to_contain_text("Completed", timeout=60_000)
    shot("backtest-results.png")
    page.get_by_test_id("data-tab").click()
    page.get_by_test_id("timeframe-M5").click()
    chart = page.get_by_test_id("chart-canvas")
    expect(chart).not_to_have_attribute("data-exit-segments", "0")
    page.wait_for_timeout(300)  # let the chart settle after drawing the lines
    shot("trades-with-stop-loss-and-take-profit.png")

    page.get_by_test_id("replay-from").fill("2019-02-05")
    page.get_by_test_id("replay-speed-select").select_option("50")
    page.get_by_test_id("replay-play-button").click()
    page.wait_for_timeout(1_500)
    page.get_by_test_id("replay-sl-pips").fill("8")
    page.get_by_test_id("replay-tp-pips").fill("12")
    page.get_by_test_id("replay-pause-button").click()
    page.get_by_test_id("replay-buy-button").click()
    page.get_by_test_id("replay-step-button").click()
    expect(chart).to_have_attribute("data-open-exits", re.compile(r"stop_loss:.+ take_profit:"))
    for _ in range(8):
        page.get_by_test_id("replay-step-button").click()
    page.wait_for_timeout(300)
    shot("replay.png")
    page.get_by_test_id("replay-stop-button").click()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument(
        "--data", type=Path, default=REPO / ".." / "shared" / "data" / "real" / "dukascopy_eurusd"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        settings = ServerSettings(home=Path(home), port=free_port())
        with BackgroundServer(settings) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(server.settings.url_with_token)
            try:
                for path in take(page, args.data, args.out):
                    print(f"wrote {path}")
            finally:
                browser.close()


if __name__ == "__main__":
    main()
