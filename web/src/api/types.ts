// The server's JSON, as TypeScript sees it. Times are UTC: ISO text or epoch seconds.

export interface Dataset {
  symbol: string;
  kind: string; // "ticks" or a timeframe such as "M1"
  side: string; // "quote" for ticks, else "bid" | "ask" | "mid"
  rows: number;
  first: string | null;
  last: string | null;
  partitions: number;
}

export interface SourceFormat {
  name: string;
  kind: "ticks" | "bars";
  description: string;
}

export interface ImportSummary {
  import_id: string;
  source: string;
  symbol: string;
  format: string;
  kind: string;
  rows_read: number;
  rows_kept: number;
  rows_added: number;
  rows_replaced: number;
  duplicates_dropped: number;
  first: string | null;
  last: string | null;
  unchanged: boolean;
}

export interface ImportProgress {
  phase: string;
  done: number;
  total: number;
}

/** Bars in columns; `time` holds each bar's open time in UTC epoch seconds. */
export interface BarsPage {
  symbol: string;
  timeframe: string;
  side: string;
  count: number;
  has_more: boolean;
  time: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: number[];
}

/** Every error the server sends: what failed and a message meant for people. */
export interface ErrorBody {
  error: string;
  message: string;
  file?: string | null;
  line?: number | null;
  column?: string | null;
}

export interface ImportOptions {
  symbol: string;
  format?: string; // "" or absent: detect from the content
  side?: string;
  timeframe?: string;
}

/** What the importer makes of a file's first lines. */
export interface DetectedFormat {
  format: string;
  kind: "ticks" | "bars";
  description: string;
  side: string | null;
  timeframe: string | null;
}

/** The run form: a strategy's code and what to run it on. */
export interface RunRequest {
  source: string;
  name?: string;
  symbol: string;
  timeframe: string;
  start?: string; // ISO date, UTC
  end?: string; // ISO date, the whole day included
  cash: number;
  leverage?: number | null;
  commission: string;
  slippage?: string; // adverse slippage in pips
  spread_pips?: number; // where the data carries no spread
  mode: string;
  params?: Record<string, number | string | boolean>;
}

/** A run's statistics: numbers, ISO times and durations as text, null where undefined. */
export type RunStats = Record<string, number | string | null>;

export interface RunOutcome {
  run_id: string;
  stats: RunStats;
}

export interface RunProgress {
  phase: string;
  done: number;
  total: number;
}

/** A page of one of a saved run's tables, in columns (times as ISO text, UTC). */
export interface RunTable {
  run_id: string;
  table: string;
  total: number;
  offset: number;
  columns: string[];
  data: Record<string, (number | string | null)[]>;
}

/** A saved run as listed: its manifest holds the strategy, settings, data and stats. */
export interface SavedRun {
  run_id: string;
  created: string;
  manifest: { stats?: RunStats; symbols?: string[]; timeframe?: string };
}
