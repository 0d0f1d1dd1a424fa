import { describe, expect, it } from "vitest";
import type { ImportSummary } from "../api/types";
import { formatRange, importCompletedText, progressPercent, progressText } from "./format";

const SUMMARY: ImportSummary = {
  import_id: "x",
  source: "EURUSD.csv",
  symbol: "EURUSD",
  format: "generic-ticks",
  kind: "ticks",
  rows_read: 266219,
  rows_kept: 266219,
  rows_added: 266219,
  rows_replaced: 0,
  duplicates_dropped: 0,
  first: "2019-02-04T00:00:00.994Z",
  last: "2019-02-05T23:59:59.765Z",
  unchanged: false,
};

describe("formatting", () => {
  it("says import completed with rows and the UTC range", () => {
    expect(importCompletedText(SUMMARY)).toBe(
      "Import completed: EURUSD, 266,219 ticks, 2019-02-04 00:00:00 → 2019-02-05 23:59:59 UTC",
    );
    expect(importCompletedText({ ...SUMMARY, kind: "M1", unchanged: true })).toContain(
      "266,219 M1 bars",
    );
    expect(importCompletedText({ ...SUMMARY, unchanged: true })).toContain("nothing changed");
  });

  it("keeps progress within 0-100 %", () => {
    expect(progressPercent({ phase: "read", done: 5, total: 0 })).toBe(0);
    expect(progressPercent({ phase: "read", done: 15, total: 10 })).toBe(100);
    expect(progressText({ phase: "read", done: 1, total: 4 })).toBe("Reading… 25%");
  });

  it("shows a missing bound as a dash", () => {
    expect(formatRange(null, "2019-02-04T00:00:00Z")).toBe("– → 2019-02-04 00:00:00 UTC");
  });
});
