// Numbers and times as people read them. Times stay in UTC and say so.

import type { ImportProgress, ImportSummary } from "../api/types";

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** `2019-02-04T00:00:30Z` → `2019-02-04 00:00:30`; null → `–`. */
export function formatTime(iso: string | null): string {
  if (iso === null) return "–";
  return iso.replace("T", " ").replace(/(\.\d+)?Z$/, "");
}

export function formatRange(first: string | null, last: string | null): string {
  return `${formatTime(first)} → ${formatTime(last)} UTC`;
}

export function progressPercent(progress: ImportProgress): number {
  if (progress.total <= 0) return 0;
  return Math.min(100, Math.max(0, (100 * progress.done) / progress.total));
}

export function progressText(progress: ImportProgress): string {
  const percent = progressPercent(progress).toFixed(0);
  const what =
    progress.phase === "upload"
      ? "Uploading"
      : progress.phase === "read"
        ? "Reading"
        : progress.phase === "store"
          ? "Storing"
          : progress.phase;
  return `${what}… ${percent}%`;
}

/** The line shown when an import has finished. */
export function importCompletedText(summary: ImportSummary): string {
  const rows = `${formatCount(summary.rows_kept)} ${summary.kind === "ticks" ? "ticks" : `${summary.kind} bars`}`;
  const note = summary.unchanged ? " (already stored, nothing changed)" : "";
  return `Import completed: ${summary.symbol}, ${rows}, ${formatRange(summary.first, summary.last)}${note}`;
}
