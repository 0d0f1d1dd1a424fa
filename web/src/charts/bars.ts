// Bars from the server's columns into the chart's rows, and the merging of pages of history.

import type { CandlestickData, HistogramData, UTCTimestamp } from "lightweight-charts";
import type { BarsPage } from "../api/types";

/** Bars in columns, as the server sends them (a page of history, a replay's history). */
export type BarColumns = Pick<BarsPage, "time" | "open" | "high" | "low" | "close" | "volume">;

export interface ChartBars {
  candles: CandlestickData<UTCTimestamp>[];
  volumes: HistogramData<UTCTimestamp>[];
}

const UP_VOLUME = "rgba(38, 166, 154, 0.45)";
const DOWN_VOLUME = "rgba(239, 83, 80, 0.45)";

export function emptyBars(): ChartBars {
  return { candles: [], volumes: [] };
}

/** One bar as the chart's candle and volume rows (the volume coloured by the bar's direction). */
export function barRow(
  time: number,
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
): { candle: CandlestickData<UTCTimestamp>; volume: HistogramData<UTCTimestamp> } {
  const stamp = time as UTCTimestamp;
  return {
    candle: { time: stamp, open, high, low, close },
    volume: { time: stamp, value: volume, color: close >= open ? UP_VOLUME : DOWN_VOLUME },
  };
}

/** Rows for lightweight-charts; times stay UTC epoch seconds as sent. */
export function toChartBars(page: BarColumns): ChartBars {
  const candles: CandlestickData<UTCTimestamp>[] = [];
  const volumes: HistogramData<UTCTimestamp>[] = [];
  for (let i = 0; i < page.time.length; i += 1) {
    const time = page.time[i] as UTCTimestamp;
    const open = page.open[i] ?? Number.NaN;
    const close = page.close[i] ?? Number.NaN;
    candles.push({ time, open, high: page.high[i] ?? open, low: page.low[i] ?? open, close });
    volumes.push({
      time,
      value: page.volume[i] ?? 0,
      color: close >= open ? UP_VOLUME : DOWN_VOLUME,
    });
  }
  return { candles, volumes };
}

/**
 * Put an older page in front of the bars shown. Rows of `older` at or after the first shown time
 * are dropped, so overlapping pages never produce duplicate or unordered times (which the chart
 * library refuses).
 */
export function prependBars(shown: ChartBars, older: ChartBars): ChartBars {
  const first = shown.candles[0]?.time;
  if (first === undefined) return older;
  const keep = older.candles.findIndex((bar) => bar.time >= first);
  const cut = keep === -1 ? older.candles.length : keep;
  return {
    candles: older.candles.slice(0, cut).concat(shown.candles),
    volumes: older.volumes.slice(0, cut).concat(shown.volumes),
  };
}

/** The newest bar's close, or null when there are no bars. */
export function lastPrice(bars: ChartBars): number | null {
  const last = bars.candles[bars.candles.length - 1];
  return last === undefined ? null : last.close;
}

/** The open time of the bar holding `time` (the last bar opening at or before it), or null. */
export function barTimeAt(candles: readonly { time: number }[], time: number): number | null {
  let low = 0;
  let high = candles.length - 1;
  let found: number | null = null;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const candle = candles[middle];
    if (candle === undefined) break;
    if (candle.time <= time) {
      found = candle.time;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}
