import { describe, expect, it } from "vitest";
import { pageBars } from "./chart-panel";

describe("pageBars", () => {
  it("keeps pages of large bars to about a year of stored minutes", () => {
    expect(pageBars("M1")).toBe(2_000);
    expect(pageBars("H1")).toBe(2_000);
    expect(pageBars("D1") * 1).toBeLessThanOrEqual(366);
    expect(pageBars("W1") * 7).toBeLessThanOrEqual(2 * 366);
    expect(pageBars("MN1")).toBeGreaterThan(0);
  });
});
