// What the data library shows, computed from the server's dataset rows.

import type { Dataset } from "../api/types";

export interface SymbolEntry {
  symbol: string;
  first: string | null;
  last: string | null;
  datasets: Dataset[];
  /** Timeframes the chart can draw for this symbol (from its finest stored data upwards). */
  timeframes: string[];
}

const UNIT_SECONDS: Record<string, number> = {
  S: 1,
  M: 60,
  H: 3600,
  D: 86_400,
  W: 7 * 86_400,
  MN: 31 * 86_400,
};

/** Length of a timeframe name in seconds (`MN1` counted as 31 days), or null if not one. */
export function timeframeSeconds(name: string): number | null {
  const match = /^(MN|S|M|H|D|W)(\d+)$/.exec(name.toUpperCase());
  if (match === null) return null;
  const unit = UNIT_SECONDS[match[1] ?? ""];
  return unit === undefined ? null : unit * Number(match[2]);
}

/** One entry per symbol, sorted by symbol, with its overall range and chartable timeframes. */
export function groupBySymbol(datasets: Dataset[], standard: string[]): SymbolEntry[] {
  const bySymbol = new Map<string, Dataset[]>();
  for (const row of datasets) bySymbol.set(row.symbol, [...(bySymbol.get(row.symbol) ?? []), row]);
  return [...bySymbol.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([symbol, rows]) => ({
      symbol,
      first: minText(rows.map((row) => row.first)),
      last: maxText(rows.map((row) => row.last)),
      datasets: rows,
      timeframes: chartableTimeframes(rows, standard),
    }));
}

function chartableTimeframes(rows: Dataset[], standard: string[]): string[] {
  if (rows.some((row) => row.kind === "ticks")) return standard;
  const finest = Math.min(...rows.map((row) => timeframeSeconds(row.kind) ?? Infinity));
  return standard.filter((name) => (timeframeSeconds(name) ?? 0) >= finest);
}

// ISO-8601 UTC text sorts like the times it names
function minText(values: (string | null)[]): string | null {
  const present = values.filter((value): value is string => value !== null).sort();
  return present[0] ?? null;
}

function maxText(values: (string | null)[]): string | null {
  const present = values.filter((value): value is string => value !== null).sort();
  return present[present.length - 1] ?? null;
}

/** The timeframe to show first: the current one if the symbol has it, else H1, else the finest. */
export function pickTimeframe(entry: SymbolEntry, current: string | null): string | null {
  if (current !== null && entry.timeframes.includes(current)) return current;
  if (entry.timeframes.includes("H1")) return "H1";
  return entry.timeframes[0] ?? null;
}

/** A six-letter FX pair named in a file name (`EURUSD_ticks.csv` → `EURUSD`), or null. */
export function guessSymbol(fileName: string): string | null {
  const match = /(?:^|[^A-Za-z])([A-Za-z]{6})(?=[^A-Za-z]|$)/.exec(fileName);
  const candidate = match?.[1]?.toUpperCase() ?? null;
  const currencies = ["EUR", "USD", "GBP", "JPY", "CHF", "AUD", "NZD", "CAD", "XAU", "XAG"];
  if (candidate === null) return null;
  const isPair =
    currencies.includes(candidate.slice(0, 3)) && currencies.includes(candidate.slice(3));
  return isPair ? candidate : null;
}
