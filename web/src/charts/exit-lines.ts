// Stop-loss and take-profit levels drawn as horizontal segments from a trade's entry bar to its
// exit bar. lightweight-charts joins the points of a line series across whitespace, so each
// segment is its own two-point line ("lane"); only the newest segments are drawn, which bounds
// the number of series. Pure functions.

import type { LineData, UTCTimestamp, WhitespaceData } from "lightweight-charts";

export type ExitKind = "stop_loss" | "take_profit";

/** A closed trade's exit levels (NaN: none) and its entry and exit (UTC epoch seconds). */
export interface TradeLevels {
  entryTime: number;
  exitTime: number;
  stopLoss: number;
  takeProfit: number;
}

/** At most this many segments of each kind are drawn (the newest), one line series each. */
export const MAX_SEGMENTS = 150;

export type LanePoint = LineData<UTCTimestamp> | WhitespaceData<UTCTimestamp>;

export interface ExitLanes {
  kind: ExitKind;
  lanes: LanePoint[][];
  segments: number;
}

/** Index of the last bar opening at or before `time`, or -1 when `time` is before every bar. */
function barIndexAt(times: readonly number[], time: number): number {
  let low = 0;
  let high = times.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if ((times[middle] ?? Infinity) <= time) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

/**
 * The segments of one kind of level, one lane each, on the bars `times` (sorted open times).
 * A trade that closed before the first bar is left out; one that opened before it starts at the
 * first bar. A trade opened and closed in one bar still spans to the next bar, so that it shows.
 */
export function exitLanes(
  trades: readonly TradeLevels[],
  times: readonly number[],
  kind: ExitKind,
  maxSegments = MAX_SEGMENTS,
): ExitLanes {
  const lanes: LanePoint[][] = [];
  const sorted = trades
    .filter((trade) => Number.isFinite(kind === "stop_loss" ? trade.stopLoss : trade.takeProfit))
    .sort((a, b) => a.entryTime - b.entryTime);
  for (const trade of sorted) {
    const value = kind === "stop_loss" ? trade.stopLoss : trade.takeProfit;
    const exit = barIndexAt(times, trade.exitTime);
    if (exit < 0 || !Number.isFinite(trade.exitTime)) continue;
    const entry = Math.max(0, barIndexAt(times, trade.entryTime));
    const end = Math.min(Math.max(exit, entry + 1), times.length - 1);
    if (end <= entry) continue; // a single bar loaded: nothing to draw a segment on
    lanes.push([
      { time: times[entry] as UTCTimestamp, value },
      { time: times[end] as UTCTimestamp, value },
    ]);
  }
  const newest = lanes.slice(Math.max(0, lanes.length - maxSegments));
  return { kind, lanes: newest, segments: newest.length };
}
