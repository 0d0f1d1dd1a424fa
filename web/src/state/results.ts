// A run's tables turned into what the results panel and the charts show. Pure functions.

import type { RunStats, RunTable } from "../api/types";

export interface Trade {
  side: "long" | "short";
  units: number;
  entryTime: number; // UTC epoch seconds
  exitTime: number;
  entryPrice: number;
  exitPrice: number;
  pnl: number;
  returnPct: number;
  stopLoss: number; // the level attached at entry; NaN without one
  takeProfit: number;
}

export interface EquityPoint {
  time: number; // UTC epoch seconds
  value: number;
}

/** A chart marker, before the chart snaps it to a bar. */
export interface TradeMark {
  time: number;
  kind: "buy" | "sell";
  text: string;
}

export function epochSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

function numbers(table: RunTable, column: string): number[] {
  return (table.data[column] ?? []).map((value) => (typeof value === "number" ? value : NaN));
}

function texts(table: RunTable, column: string): string[] {
  return (table.data[column] ?? []).map((value) => (value === null ? "" : String(value)));
}

export function tradesOf(table: RunTable): Trade[] {
  const side = texts(table, "side");
  const units = numbers(table, "size_units");
  const entryTime = texts(table, "entry_time");
  const exitTime = texts(table, "exit_time");
  const entryPrice = numbers(table, "entry_price");
  const exitPrice = numbers(table, "exit_price");
  const pnl = numbers(table, "pnl");
  const returnPct = numbers(table, "return_pct");
  // runs saved before the trade list carried exit levels have no such columns
  const stopLoss = numbers(table, "stop_loss");
  const takeProfit = numbers(table, "take_profit");
  return side.map((value, i) => ({
    side: value === "short" ? "short" : "long",
    units: units[i] ?? NaN,
    entryTime: epochSeconds(entryTime[i] ?? ""),
    exitTime: epochSeconds(exitTime[i] ?? ""),
    entryPrice: entryPrice[i] ?? NaN,
    exitPrice: exitPrice[i] ?? NaN,
    pnl: pnl[i] ?? NaN,
    returnPct: returnPct[i] ?? NaN,
    stopLoss: stopLoss[i] ?? NaN,
    takeProfit: takeProfit[i] ?? NaN,
  }));
}

/** The equity curve: the table's first column is the bar time, `equity` the value. */
export function equityOf(table: RunTable): EquityPoint[] {
  const timeColumn = table.columns[0] ?? "time";
  const times = texts(table, timeColumn);
  const values = numbers(table, "equity");
  const points: EquityPoint[] = [];
  let last = -Infinity;
  times.forEach((iso, i) => {
    const time = epochSeconds(iso);
    const value = values[i] ?? NaN;
    // the chart needs strictly increasing times and finite values
    if (Number.isFinite(time) && Number.isFinite(value) && time > last) {
      points.push({ time, value });
      last = time;
    }
  });
  return points;
}

/** Drawdown from the running peak, in percent (0 at a new high, negative below it). */
export function drawdownOf(points: EquityPoint[]): EquityPoint[] {
  let peak = -Infinity;
  return points.map((point) => {
    peak = Math.max(peak, point.value);
    return { time: point.time, value: peak > 0 ? (100 * (point.value - peak)) / peak : 0 };
  });
}

/** Entry and exit marks of the trades, in time order. */
export function tradeMarks(trades: Trade[]): TradeMark[] {
  const marks: TradeMark[] = [];
  for (const trade of trades) {
    const opens: TradeMark["kind"] = trade.side === "long" ? "buy" : "sell";
    const closes: TradeMark["kind"] = trade.side === "long" ? "sell" : "buy";
    if (Number.isFinite(trade.entryTime))
      marks.push({ time: trade.entryTime, kind: opens, text: `${trade.side} ${trade.units}` });
    if (Number.isFinite(trade.exitTime))
      marks.push({ time: trade.exitTime, kind: closes, text: `close ${formatMoney(trade.pnl)}` });
  }
  return marks.sort((a, b) => a.time - b.time);
}

/** Percent with two decimals, as the seed's test reads it: `12.34%`, `-1.23%`. */
export function formatPercent(value: number | string | null | undefined): string {
  const number = typeof value === "string" ? Number(value) : value;
  if (number === null || number === undefined || !Number.isFinite(number)) return "–";
  return `${number.toFixed(2)}%`;
}

// One formatter for every call: toLocaleString with options builds a new one each time, which
// showed in the replay's profile (the equity is formatted for every bar).
const MONEY = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

export function formatMoney(value: number): string {
  if (!Number.isFinite(value)) return "–";
  return MONEY.format(value);
}

export function formatRatio(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "string") return value; // "Infinity", durations, times
  return Number.isFinite(value) ? value.toFixed(2) : "–";
}

export interface StatLine {
  key: string;
  label: string;
  text: string;
}

const STAT_LABELS: readonly [string, string, (value: RunStats[string]) => string][] = [
  ["total_return_pct", "Total return", formatPercent],
  ["total_trades", "Trades", (value) => (typeof value === "number" ? String(value) : "0")],
  [
    "win_rate",
    "Win rate",
    (value) => (typeof value === "number" ? formatPercent(value * 100) : "–"),
  ],
  ["profit_factor", "Profit factor", formatRatio],
  ["sharpe_ratio", "Sharpe", formatRatio],
  ["sortino_ratio", "Sortino", formatRatio],
  ["max_drawdown_pct", "Max drawdown", formatPercent],
  ["cagr_pct", "CAGR", formatPercent],
  ["exposure_pct", "Exposure", formatPercent],
  ["expectancy", "Expectancy", formatRatio],
  ["sqn", "SQN", formatRatio],
  [
    "final_equity",
    "Final equity",
    (value) => (typeof value === "number" ? formatMoney(value) : "–"),
  ],
  [
    "commissions_paid",
    "Commissions",
    (value) => (typeof value === "number" ? formatMoney(value) : "–"),
  ],
];

/** The statistics in the panel's order; the key becomes the element's test id. */
export function statLines(stats: RunStats): StatLine[] {
  return STAT_LABELS.map(([key, label, format]) => ({
    key: key.replace(/_pct$/, "").replace(/_/g, "-"),
    label,
    text: format(stats[key] ?? null),
  }));
}
