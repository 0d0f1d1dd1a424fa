import { describe, expect, it } from "vitest";
import type { RunTable } from "../api/types";
import { drawdownOf, equityOf, formatPercent, statLines, tradeMarks, tradesOf } from "./results";

function table(columns: string[], data: RunTable["data"]): RunTable {
  return { run_id: "r", table: "t", total: 0, offset: 0, columns, data };
}

describe("results", () => {
  it("reads each trade's stop-loss and take-profit, NaN when the run has none", () => {
    const columns = ["side", "entry_time", "exit_time", "stop_loss", "take_profit"];
    const withLevels = tradesOf(
      table(columns, {
        side: ["long", "short"],
        entry_time: ["2019-02-04T00:00:00Z", "2019-02-04T01:00:00Z"],
        exit_time: ["2019-02-04T00:30:00Z", "2019-02-04T02:00:00Z"],
        stop_loss: [1.1395, null],
        take_profit: [1.141, 1.1375],
      }),
    );
    expect(withLevels.map((trade) => [trade.stopLoss, trade.takeProfit])).toEqual([
      [1.1395, 1.141],
      [NaN, 1.1375],
    ]);
    const older = tradesOf(table(["side"], { side: ["long"] }));
    expect(older[0]?.stopLoss).toBeNaN();
  });

  it("formats percentages with two decimals as the seed expects", () => {
    expect(formatPercent(-1.234)).toBe("-1.23%");
    expect(formatPercent(12)).toBe("12.00%");
    expect(formatPercent(null)).toBe("–");
    expect(formatPercent(Number.NaN)).toBe("–");
    expect(formatPercent(-1.234)).toMatch(/^-?\d+\.\d+%$/);
  });

  it("names the stats so the total return and trades carry their test ids", () => {
    const lines = statLines({ total_return_pct: 3.14159, total_trades: 7, win_rate: 0.5 });
    expect(lines.find((line) => line.key === "total-return")?.text).toBe("3.14%");
    expect(lines.find((line) => line.key === "total-trades")?.text).toBe("7");
    expect(lines.find((line) => line.key === "win-rate")?.text).toBe("50.00%");
  });

  it("reads trades and marks their entries and exits in time order", () => {
    const trades = tradesOf(
      table(["side", "size_units", "entry_time", "exit_time", "pnl"], {
        side: ["short", "long"],
        size_units: [1000, 2000],
        entry_time: ["2019-02-04T01:00:00.000Z", "2019-02-04T00:00:00.000Z"],
        exit_time: ["2019-02-04T02:00:00.000Z", "2019-02-04T00:30:00.000Z"],
        pnl: [-5, 12.5],
      }),
    );
    expect(trades.map((trade) => trade.side)).toEqual(["short", "long"]);
    const marks = tradeMarks(trades);
    expect(marks.map((mark) => [mark.time - 1549238400, mark.kind])).toEqual([
      [0, "buy"],
      [1800, "sell"],
      [3600, "sell"],
      [7200, "buy"],
    ]);
  });

  it("keeps only increasing, finite equity points", () => {
    const points = equityOf(
      table(["time", "equity"], {
        time: ["2019-02-04T00:00:00Z", "2019-02-04T00:00:00Z", "2019-02-04T00:01:00Z"],
        equity: [100, 101, null],
      }),
    );
    expect(points).toEqual([{ time: 1549238400, value: 100 }]);
  });
});

describe("drawdownOf", () => {
  it("measures each point against the highest equity so far", () => {
    const points = [100, 110, 99, 121].map((value, time) => ({ time, value }));
    expect(drawdownOf(points).map((point) => Number(point.value.toFixed(6)))).toEqual([
      0, 0, -10, 0,
    ]);
  });
});
