"""Chart paging: one page of bars from the web API vs shipping the whole history at once.

The chart asks for the newest 2 000 bars and pages further back as the user scrolls. The yardstick
measured in the same run is what a non-paging server would do: read every stored M1 bar and
serialise it all to JSON. Both go through the same store over the same synthetic M1 history
(weekdays only, a random walk on the 0.1-pip grid).

    ./dev bench web_bars                # 2 years of M1 bars (~750 k)
    ./dev bench web_bars --years 10     # ~3.7 M bars
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from fastapi.testclient import TestClient

from backtestr.data.store import Store
from backtestr.server import ServerSettings, create_app
from backtestr.server.payloads import bars_payload

PORT = 8765
TOKEN = "bench-token-0123456789abcdef"


def write_m1_csv(path: Path, years: float, seed: int = 7) -> int:
    start = np.datetime64("2015-01-05T00:00", "m")
    minutes = np.arange(int(years * 365.25 * 1440), dtype=np.int64)
    stamps = start + minutes.astype("timedelta64[m]")
    weekday = (stamps.astype("datetime64[D]").astype(np.int64) - 4) % 7  # 0 = Monday
    stamps = stamps[weekday < 5]
    rng = np.random.default_rng(seed)
    close = np.round(1.1 + np.cumsum(rng.normal(0, 0.00012, len(stamps))), 5)
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = np.abs(rng.normal(0, 0.00008, len(stamps)))
    table = pa.table(
        {
            "timestamp": pa.array(stamps.astype("datetime64[s]")),
            "open": open_,
            "high": np.round(np.maximum(open_, close) + spread, 5),
            "low": np.round(np.minimum(open_, close) - spread, 5),
            "close": close,
            "volume": rng.integers(1, 200, len(stamps)).astype(np.float64),
        }
    )
    pacsv.write_csv(table, path)
    return len(stamps)


def best_of(repeat: int, work: Callable[[], int]) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rows = write_m1_csv(root / "EURUSD_M1_bid.csv", args.years)
        with Store.open(root / "home") as store:
            store.import_file(root / "EURUSD_M1_bid.csv", symbol="EURUSD")
        settings = ServerSettings(home=root / "home", port=PORT, token=TOKEN)
        with TestClient(create_app(settings), base_url=f"http://127.0.0.1:{PORT}") as client:
            client.headers["X-Backtestr-Token"] = TOKEN
            params = {"symbol": "EURUSD", "timeframe": "M1", "limit": 2000}

            def newest_page() -> int:
                return len(client.get("/api/bars", params=params).content)

            middle = client.get("/api/bars", params=params).json()["time"][0] - 86_400 * 365

            def older_page() -> int:
                return len(client.get("/api/bars", params={**params, "to": middle}).content)

            def h1_page() -> int:
                return len(client.get("/api/bars", params={**params, "timeframe": "H1"}).content)

            def everything() -> int:
                with client.app.state.store.use() as held:  # type: ignore[attr-defined]
                    bars = held.bars("EURUSD", "M1")
                payload = bars_payload(
                    bars, symbol="EURUSD", timeframe="M1", side="bid", has_more=False
                )
                return len(json.dumps(payload))

            page_s, page_bytes = best_of(args.repeat, newest_page)
            older_s, _ = best_of(args.repeat, older_page)
            h1_s, _ = best_of(args.repeat, h1_page)
            all_s, all_bytes = best_of(max(1, args.repeat // 2), everything)
    print(f"M1 history: {rows:,} bars ({args.years:g} years)")
    print(f"newest page (2 000 M1 bars): {page_s * 1e3:8.1f} ms, {page_bytes / 1e3:8.1f} kB")
    print(f"older page (1 year back):    {older_s * 1e3:8.1f} ms")
    print(f"newest page of H1 bars:      {h1_s * 1e3:8.1f} ms")
    print(f"whole history at once:       {all_s * 1e3:8.1f} ms, {all_bytes / 1e6:8.1f} MB")
    print(f"ratio whole / page: time x{all_s / page_s:.1f}, bytes x{all_bytes / page_bytes:.0f}")


if __name__ == "__main__":
    main()
