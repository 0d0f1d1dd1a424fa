"""The web workstation's speed targets (issue 5, section 5), measured in Debian's Chromium.

Three measurements against the real server over a store holding millions of M1 bars:

1. **First paint**: a fresh browser context opens the page; the Paint Timing API gives the first
   contentful paint, an observer the moment the chart shows its first page of candles.
   Budget: 1 000 ms.
2. **Responsiveness with a large history**: switching timeframes and scrolling back (the chart
   pages older bars in) while Event Timing and Long Task observers watch the main thread; the
   latency of a page of bars at several depths of the history. Budgets: 200 ms from a click to the
   next paint (the "good" interaction latency of Core Web Vitals), 200 ms for a page to arrive
   and be drawn. The yardstick measured in the same run is the whole history in one response,
   which the chart never asks for.
3. **Replay at 100 bars/s**: frame intervals by ``requestAnimationFrame`` while bars stream in,
   against the same page idle (the browser's own jitter) in the same run; the bar arrival rate.

    ./dev bench web_ui                    # 5 M M1 bars (13.4 years of weekdays)
    ./dev bench web_ui --bars 1000000     # quicker
    ./dev bench web_ui --only replay      # just the replay (a small store)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from backtestr.data.store import Store
from backtestr.server import ServerSettings
from backtestr.server.runner import BackgroundServer, free_port
from backtestr.server.settings import default_static_dir
from web_bars import write_m1_csv

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
WEEKDAY_BARS_PER_YEAR = 365.25 * 1440 * 5 / 7
FIRST_PAINT_BUDGET_MS = 1_000.0
INTERACTION_BUDGET_MS = 200.0
PAGE_BUDGET_MS = 200.0

# Runs before the page's own scripts: when the chart first shows candles, and what the main
# thread went through (interactions to next paint, long tasks).
WATCH = """
window.__bench = { chartAt: null, events: [], longTasks: [] };
new MutationObserver(() => {
  const count = document.querySelector('[data-testid=candle-count]');
  if (window.__bench.chartAt === null && count && Number(count.textContent) > 0)
    window.__bench.chartAt = performance.now();
}).observe(document, { subtree: true, childList: true, characterData: true });
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    window.__bench.events.push({ name: e.name, duration: e.duration });
}).observe({ type: 'event', durationThreshold: 16, buffered: true });
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__bench.longTasks.push(e.duration);
}).observe({ type: 'longtask', buffered: true });
"""

# Click a control and wait until the chart holds a new page of bars and has painted it.
CLICK_UNTIL_NEW_PAGE = """
async (testid) => {
  const chart = document.querySelector('[data-testid=chart-canvas]');
  const before = chart.getAttribute('data-history-version');
  const started = performance.now();
  document.querySelector(`[data-testid=${testid}]`).click();
  await new Promise((resolve) => {
    const check = () => chart.getAttribute('data-history-version') !== before
      ? requestAnimationFrame(() => resolve()) : setTimeout(check, 1);
    check();
  });
  return performance.now() - started;
}
"""

# Fetch a page of bars ending `to` (epoch seconds), as the chart does when it pages back.
FETCH_PAGE = """
async ([symbol, timeframe, to]) => {
  const started = performance.now();
  const query = new URLSearchParams({ symbol, timeframe, limit: '2000' });
  if (to !== null) query.set('to', String(to));
  const response = await fetch('/api/bars?' + query);
  const page = await response.json();
  return { ms: performance.now() - started, bars: page.time.length, first: page.time[0],
           bytes: Number(response.headers.get('content-length') || 0) };
}
"""

# requestAnimationFrame intervals and the candle count over `seconds`.
FRAMES = """
async (seconds) => {
  const count = () => Number(document.querySelector('[data-testid=candle-count]').textContent);
  const intervals = [];
  const firstCount = count();
  const started = performance.now();
  let last = started;
  await new Promise((resolve) => {
    const frame = (now) => {
      intervals.push(now - last);
      last = now;
      if (now - started < seconds * 1000) requestAnimationFrame(frame); else resolve();
    };
    requestAnimationFrame(frame);
  });
  return { intervals: intervals.slice(1), bars: count() - firstCount,
           seconds: (performance.now() - started) / 1000 };
}
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def frame_summary(intervals: list[float]) -> dict[str, float]:
    typical = statistics.median(intervals)
    dropped = sum(1 for interval in intervals if interval > 1.5 * typical)
    return {
        "median": typical,
        "p99": percentile(intervals, 0.99),
        "max": max(intervals),
        "dropped": dropped,
        "frames": len(intervals),
    }


def open_page(browser: Browser, server: BackgroundServer) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(server.settings.url_with_token)
    page.wait_for_function("window.__bench && window.__bench.chartAt !== null")
    return page


def first_paint(browser: Browser, server: BackgroundServer, repeat: int) -> None:
    fcp, chart = [], []
    for _ in range(repeat):
        page = open_page(browser, server)
        timing: dict[str, float] = page.evaluate(
            """() => ({
              fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
              chart: window.__bench.chartAt })"""
        )
        fcp.append(timing["fcp"])
        chart.append(timing["chart"])
        page.context.close()
    fcp_ms, chart_ms = statistics.median(fcp), statistics.median(chart)
    print(f"first contentful paint:         {fcp_ms:7.0f} ms (median of {repeat})")
    print(
        f"chart with its first candles:   {chart_ms:7.0f} ms   "
        f"= {chart_ms / FIRST_PAINT_BUDGET_MS:4.2f} x the {FIRST_PAINT_BUDGET_MS:.0f} ms budget"
    )
    print(
        f"  the first visit of a fresh server: {chart[0]:5.0f} ms "
        f"= {chart[0] / FIRST_PAINT_BUDGET_MS:4.2f} x budget"
    )


def responsiveness(browser: Browser, server: BackgroundServer, symbol: str, bars: int) -> None:
    page = open_page(browser, server)
    loading_tasks: list[float] = page.evaluate("window.__bench.longTasks.splice(0)")
    switches, by_timeframe = [], {}
    for timeframe in ("D1", "H1", "M5", "H4", "M15", "M1"):  # H1 is shown first
        switches.append(page.evaluate(CLICK_UNTIL_NEW_PAGE, f"timeframe-{timeframe}"))
        by_timeframe[timeframe] = switches[-1]
    # scroll back: drag the chart to the right until it has paged in older bars five times
    chart = page.get_by_test_id("chart-canvas")
    box = chart.bounding_box()
    assert box is not None
    drag_waits: list[float] = []
    for _ in range(200):  # drags: most move the view, some bring it near the oldest bar
        if len(drag_waits) == 5:
            break
        before = chart.get_attribute("data-history-version")
        started = time.perf_counter()
        page.mouse.move(box["x"] + 80, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] - 80, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
        try:
            page.wait_for_function(
                "(v) => document.querySelector('[data-testid=chart-canvas]')"
                ".getAttribute('data-history-version') !== v",
                arg=before,
                timeout=400,
            )
        except PlaywrightTimeout:
            continue  # not near the oldest bar yet: drag further
        drag_waits.append((time.perf_counter() - started) * 1e3)
    count = page.get_by_test_id("candle-count").text_content()
    newest = page.evaluate(FETCH_PAGE, [symbol, "M1", None])
    depths = {"newest": newest}
    for years in (1, 5, 10):
        to = newest["first"] - int(years * 365.25 * 86_400)
        depths[f"{years} years back"] = page.evaluate(FETCH_PAGE, [symbol, "M1", to])
    ui_tasks: list[float] = page.evaluate("window.__bench.longTasks.splice(0)")
    whole_started = time.perf_counter()
    whole = page.evaluate(
        "async (s) => (await (await fetch('/api/bars?symbol=' + s + "
        "'&timeframe=M1&limit=50000')).json()).time.length",
        symbol,
    )
    whole_ms = (time.perf_counter() - whole_started) * 1e3
    watched: dict[str, Any] = page.evaluate("window.__bench")
    page.context.close()
    events = [event["duration"] for event in watched["events"]]
    yardstick_tasks = watched["longTasks"]
    print(f"\nstored history: {bars:,} M1 bars of {symbol}; the chart holds {count} after paging")
    print(
        f"timeframe switch, click to painted page: median {statistics.median(switches):5.0f} ms, "
        f"max {max(switches):5.0f} ms = {max(switches) / PAGE_BUDGET_MS:4.2f} x budget"
    )
    print("  " + ", ".join(f"{frame} {ms:.0f} ms" for frame, ms in by_timeframe.items()))
    print(
        f"scroll back, drag to older page drawn:   median {statistics.median(drag_waits):5.0f} ms, "
        f"max {max(drag_waits):5.0f} ms (includes the drag itself)"
    )
    for name, result in depths.items():
        print(
            f"page of 2 000 M1 bars, {name:14s} {result['ms']:6.0f} ms "
            f"({result['bars']} bars) = {result['ms'] / PAGE_BUDGET_MS:4.2f} x budget"
        )
    print(
        f"yardstick, 50 000 bars in one response:  {whole_ms:6.0f} ms ({whole} bars); "
        f"the whole history would be {bars / 50_000:.0f} x that"
    )
    worst_event = max(events, default=0.0)
    budget = INTERACTION_BUDGET_MS
    print(
        f"interactions over 16 ms: {len(events)}, worst {worst_event:.0f} ms "
        f"= {worst_event / budget:4.2f} x the {budget:.0f} ms budget; "
        f"long tasks switching and scrolling: {len(ui_tasks)}, longest "
        f"{max(ui_tasks, default=0.0):.0f} ms"
    )
    print(
        f"  (besides: loading the page {len(loading_tasks)} long tasks, longest "
        f"{max(loading_tasks, default=0.0):.0f} ms; the yardstick's 50 000 bars "
        f"{len(yardstick_tasks)}, longest {max(yardstick_tasks, default=0.0):.0f} ms)"
    )


def replay_once(browser: Browser, server: BackgroundServer, seconds: float) -> dict[str, Any]:
    page = open_page(browser, server)
    page.get_by_test_id("symbol-select").select_option("GBPUSD")
    page.evaluate(CLICK_UNTIL_NEW_PAGE, "timeframe-M1")
    idle = page.evaluate(FRAMES, seconds)
    page.get_by_test_id("replay-speed-select").select_option("100")
    page.get_by_test_id("replay-play-button").click()
    count = "Number(document.querySelector('[data-testid=candle-count]').textContent)"
    page.wait_for_function(f"{count} < 1000")  # the replay's history replaced the chart's page
    page.wait_for_function(f"{count} > 300")  # and bars have been streaming for a second
    page.evaluate("window.__bench.longTasks = []")
    playing = page.evaluate(FRAMES, seconds)
    long_tasks: list[float] = page.evaluate("window.__bench.longTasks")
    page.get_by_test_id("replay-stop-button").click()
    page.context.close()
    return {"idle": idle, "playing": playing, "long_tasks": long_tasks}


def replay(browser: Browser, server: BackgroundServer, seconds: float, runs: int) -> None:
    print(
        f"\nreplay at 100 bars/s, {runs} runs of {seconds:.0f} s (each: idle page, then replaying)"
    )
    calm_all, busy_all, tasks_all = [], [], []
    for run in range(runs):
        measured = replay_once(browser, server, seconds)
        idle, playing = measured["idle"], measured["playing"]
        calm, busy = frame_summary(idle["intervals"]), frame_summary(playing["intervals"])
        calm_all += idle["intervals"]
        busy_all += playing["intervals"]
        tasks_all += measured["long_tasks"]
        rate = playing["bars"] / playing["seconds"]
        print(
            f"  run {run + 1}: {rate:5.1f} bars/s arrived; dropped frames idle "
            f"{calm['dropped']:2.0f}, "
            f"replaying {busy['dropped']:2.0f} of {busy['frames']:3.0f} (max frame "
            f"{busy['max']:5.1f} ms); long tasks replaying {len(measured['long_tasks'])}"
        )
    calm, busy = frame_summary(calm_all), frame_summary(busy_all)
    for name, summary in (("idle page", calm), ("replaying", busy)):
        print(
            f"  {name:10s} frames {summary['frames']:4.0f}, interval median "
            f"{summary['median']:5.1f} ms, p99 {summary['p99']:5.1f} ms, max "
            f"{summary['max']:5.1f} ms, dropped (> 1.5 x median) {summary['dropped']:3.0f}"
        )
    print(
        f"  frame rate replaying / idle: {calm['median'] / busy['median']:4.2f}; "
        f"dropped frames replaying - idle: {busy['dropped'] - calm['dropped']:+.0f}; "
        f"long tasks replaying: {len(tasks_all)}, longest {max(tasks_all, default=0.0):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--replays", type=int, default=3, help="replay measurements")
    parser.add_argument("--only", choices=("first-paint", "responsiveness", "replay"))
    args = parser.parse_args()
    if not CHROMIUM.is_file() or not (default_static_dir() / "index.html").is_file():
        raise SystemExit(f"needs {CHROMIUM} and the built frontend (./dev web)")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        large = args.only in (None, "first-paint", "responsiveness")
        rows = (
            write_m1_csv(root / "EURUSD_M1_bid.csv", args.bars / WEEKDAY_BARS_PER_YEAR)
            if large
            else 0
        )
        write_m1_csv(root / "GBPUSD_M1_bid.csv", 0.02, seed=11)
        with Store.open(root / "home") as store:
            if large:
                store.import_file(root / "EURUSD_M1_bid.csv", symbol="EURUSD")
            store.import_file(root / "GBPUSD_M1_bid.csv", symbol="GBPUSD")
        if large:
            (root / "EURUSD_M1_bid.csv").unlink()
            print(f"stored {rows:,} EURUSD M1 bars in {time.perf_counter() - started:.0f} s")
        settings = ServerSettings(home=root / "home", port=free_port())
        with BackgroundServer(settings) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                if args.only in (None, "first-paint"):
                    first_paint(browser, server, args.repeat)
                if args.only in (None, "responsiveness"):
                    responsiveness(browser, server, "EURUSD", rows)
                if args.only in (None, "replay"):
                    replay(browser, server, args.seconds, args.replays)
            finally:
                browser.close()


if __name__ == "__main__":
    main()
