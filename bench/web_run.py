"""A backtest started from the web UI against the same backtest run directly (as the CLI runs it).

Issue 5: "a 1-million-bar backtest started from the UI streams progress and finishes within 10%
of the CLI's time". Both paths load the same stored M1 bars, run the same strategy and save the
run; the web path goes through ``POST /api/runs`` (a background job reporting progress, polled
until done, as the page does). Printed: seconds per path and the ratio web / direct.

    ./dev bench web_run                   # ~1 M M1 bars (2.7 years of weekdays)
    ./dev bench web_run --years 0.5       # quicker
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from backtestr.data.store import Store
from backtestr.server import ServerSettings, create_app
from backtestr.strategy import load_strategy
from backtestr.strategy.samples import SEED_STRATEGY
from backtestr.strategy.stored import RunSpec, run_and_save
from web_bars import PORT, TOKEN, write_m1_csv

STRATEGIES = {
    "empty handle_data": "def handle_data(context, data):\n    pass\n",
    "seed SMA(10)/SMA(20)": SEED_STRATEGY,
}


def direct(home: Path, source: str) -> float:
    """As ``backtestr run`` does it, the store already open (as the server's is)."""
    with Store.open(home) as store:

        @contextmanager
        def open_store() -> Iterator[Store]:
            yield store

        started = time.perf_counter()
        run_and_save(open_store, load_strategy(source), RunSpec(symbol="EURUSD"), name="cli")
        return time.perf_counter() - started


def through_web(client: TestClient, source: str) -> tuple[float, int]:
    started = time.perf_counter()
    job = client.post("/api/runs", json={"source": source, "symbol": "EURUSD"}).json()
    reports = 0
    while True:
        response = client.get(f"/api/runs/jobs/{job['job_id']}")
        if response.status_code != 202:
            break
        reports += response.json()["progress"] is not None
        time.sleep(0.05)
    assert response.status_code == 200, response.text
    return time.perf_counter() - started, reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=float, default=2.7)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rows = write_m1_csv(root / "EURUSD_M1_bid.csv", args.years)
        with Store.open(root / "home") as store:
            store.import_file(root / "EURUSD_M1_bid.csv", symbol="EURUSD")
        print(f"{rows:,} M1 bars; best of {args.repeat}, alternating the two paths")
        settings = ServerSettings(home=root / "home", port=PORT, token=TOKEN)
        for name, source in STRATEGIES.items():
            direct_s: list[float] = []
            web_s: list[float] = []
            polled = 0
            for _ in range(args.repeat):
                direct_s.append(direct(root / "home", source))
                with TestClient(create_app(settings), base_url=f"http://127.0.0.1:{PORT}") as c:
                    c.headers["X-Backtestr-Token"] = TOKEN
                    seconds, polled = through_web(c, source)
                    web_s.append(seconds)
            best_direct, best_web = min(direct_s), min(web_s)
            print(
                f"{name:22s} direct {best_direct:7.2f} s   web {best_web:7.2f} s   "
                f"ratio web/direct {best_web / best_direct:5.2f}   "
                f"progress seen {polled} times"
            )


if __name__ == "__main__":
    main()
