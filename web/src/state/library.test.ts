import { describe, expect, it } from "vitest";
import type { Dataset } from "../api/types";
import { groupBySymbol, guessSymbol, pickTimeframe, timeframeSeconds } from "./library";

const STANDARD = ["M1", "M5", "M15", "M30", "H1", "H4", "D1", "W1", "MN1"];

function row(symbol: string, kind: string, first: string, last: string, side = "bid"): Dataset {
  return { symbol, kind, side, rows: 10, first, last, partitions: 1 };
}

describe("timeframeSeconds", () => {
  it("reads MetaTrader-style names", () => {
    expect(timeframeSeconds("M15")).toBe(900);
    expect(timeframeSeconds("h4")).toBe(14_400);
    expect(timeframeSeconds("MN1")).toBe(31 * 86_400);
    expect(timeframeSeconds("ticks")).toBeNull();
  });
});

describe("groupBySymbol", () => {
  it("merges a symbol's datasets into one range", () => {
    const [entry, ...rest] = groupBySymbol(
      [
        row("EURUSD", "H1", "2019-01-01T00:00:00Z", "2019-02-28T23:00:00Z"),
        row("EURUSD", "M1", "2019-02-04T00:00:00Z", "2019-03-05T23:59:00Z"),
      ],
      STANDARD,
    );
    expect(rest).toEqual([]);
    expect(entry?.first).toBe("2019-01-01T00:00:00Z");
    expect(entry?.last).toBe("2019-03-05T23:59:00Z");
    expect(entry?.timeframes).toEqual(STANDARD);
  });

  it("offers only timeframes at or above the finest stored bars, all for ticks", () => {
    const [bars, ticks] = groupBySymbol(
      [row("GBPUSD", "H1", "a", "b"), row("USDJPY", "ticks", "a", "b", "quote")],
      STANDARD,
    );
    expect(bars?.timeframes).toEqual(["H1", "H4", "D1", "W1", "MN1"]);
    expect(ticks?.timeframes).toEqual(STANDARD);
  });

  it("sorts symbols", () => {
    const symbols = groupBySymbol(
      [row("USDJPY", "M1", "a", "b"), row("EURUSD", "M1", "a", "b")],
      STANDARD,
    );
    expect(symbols.map((entry) => entry.symbol)).toEqual(["EURUSD", "USDJPY"]);
  });
});

describe("pickTimeframe", () => {
  const [entry] = groupBySymbol([row("EURUSD", "H4", "a", "b")], STANDARD);
  it("keeps the current timeframe when possible, else H1, else the finest", () => {
    expect(entry).toBeDefined();
    if (entry === undefined) return;
    expect(pickTimeframe(entry, "D1")).toBe("D1");
    expect(pickTimeframe(entry, "M5")).toBe("H4");
    expect(pickTimeframe({ ...entry, timeframes: ["M1", "H1"] }, null)).toBe("H1");
  });
});

describe("guessSymbol", () => {
  it.each([
    ["EURUSD_ticks_20190204-20190205_UTC.csv", "EURUSD"],
    ["fxcm_gbpusd-m1-bid-2012.csv", "GBPUSD"],
    ["FOREX_EURUSD_1H_ASK.csv", "EURUSD"],
    ["valid.csv", null],
    ["prices_abcdef.csv", null],
  ])("%s → %s", (name, symbol) => {
    expect(guessSymbol(name)).toBe(symbol);
  });
});
