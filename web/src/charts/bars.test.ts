import { describe, expect, it } from "vitest";
import type { BarsPage } from "../api/types";
import { barTimeAt, lastPrice, prependBars, toChartBars } from "./bars";

function page(times: number[], start = 1.1): BarsPage {
  return {
    symbol: "EURUSD",
    timeframe: "M1",
    side: "bid",
    count: times.length,
    has_more: false,
    time: times,
    open: times.map((_, i) => start + i * 0.001),
    high: times.map((_, i) => start + i * 0.001 + 0.002),
    low: times.map((_, i) => start + i * 0.001 - 0.002),
    close: times.map((_, i) => start + i * 0.001 + (i % 2 === 0 ? 0.0005 : -0.0005)),
    volume: times.map((_, i) => i + 1),
  };
}

describe("toChartBars", () => {
  it("keeps UTC epoch seconds and OHLC per bar", () => {
    const bars = toChartBars(page([60, 120]));
    expect(bars.candles.map((bar) => bar.time)).toEqual([60, 120]);
    expect(bars.candles[1]).toMatchObject({ open: 1.101, high: 1.103, low: 1.099, close: 1.1005 });
    expect(bars.volumes.map((bar) => bar.value)).toEqual([1, 2]);
  });

  it("colours volume by the bar's direction", () => {
    const [up, down] = toChartBars(page([60, 120])).volumes;
    expect(up?.color).not.toEqual(down?.color);
  });
});

describe("prependBars", () => {
  it("puts older bars first and drops the overlap", () => {
    const shown = toChartBars(page([180, 240]));
    const older = toChartBars(page([60, 120, 180, 240]));
    const merged = prependBars(shown, older);
    expect(merged.candles.map((bar) => bar.time)).toEqual([60, 120, 180, 240]);
    expect(merged.volumes.map((bar) => bar.time)).toEqual([60, 120, 180, 240]);
    // the shown bars win over the page's copies
    expect(merged.candles[2]).toBe(shown.candles[0]);
  });

  it("returns the older page when nothing is shown", () => {
    const older = toChartBars(page([60]));
    expect(prependBars({ candles: [], volumes: [] }, older)).toBe(older);
  });

  it("keeps times strictly increasing for any overlap", () => {
    for (let cut = 0; cut < 10; cut += 1) {
      const all = Array.from({ length: 10 }, (_, i) => (i + 1) * 60);
      const merged = prependBars(
        toChartBars(page(all.slice(cut))),
        toChartBars(page(all.slice(0, cut + 3))),
      );
      const times = merged.candles.map((bar) => bar.time as number);
      expect(times).toEqual(all);
    }
  });
});

describe("lastPrice", () => {
  it("is the newest close or null", () => {
    expect(lastPrice({ candles: [], volumes: [] })).toBeNull();
    expect(lastPrice(toChartBars(page([60, 120])))).toBeCloseTo(1.1005);
  });
});

describe("barTimeAt", () => {
  const candles = [{ time: 60 }, { time: 120 }, { time: 180 }];
  it("finds the bar holding a time, none before the first", () => {
    expect(barTimeAt(candles, 59)).toBeNull();
    expect(barTimeAt(candles, 60)).toBe(60);
    expect(barTimeAt(candles, 179)).toBe(120);
    expect(barTimeAt(candles, 10_000)).toBe(180);
  });
});
