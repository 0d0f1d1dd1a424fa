import { describe, expect, it } from "vitest";
import { exitLanes, type TradeLevels } from "./exit-lines";

const times = [0, 60, 120, 180, 240, 300, 360, 420, 480, 540];

function trade(entryTime: number, exitTime: number, stopLoss = 1.1, takeProfit = NaN): TradeLevels {
  return { entryTime, exitTime, stopLoss, takeProfit };
}

describe("exitLanes", () => {
  it("draws one segment from the entry bar to the exit bar at the level", () => {
    const drawn = exitLanes([trade(65, 250)], times, "stop_loss");
    expect(drawn.segments).toBe(1);
    expect(drawn.lanes).toEqual([
      [
        { time: 60, value: 1.1 },
        { time: 240, value: 1.1 },
      ],
    ]);
  });

  it("draws each trade's segment as its own line, so that no line joins two trades", () => {
    const drawn = exitLanes([trade(300, 420, 1.2), trade(0, 120, 1.1)], times, "stop_loss");
    expect(drawn.lanes).toEqual([
      [
        { time: 0, value: 1.1 },
        { time: 120, value: 1.1 },
      ],
      [
        { time: 300, value: 1.2 },
        { time: 420, value: 1.2 },
      ],
    ]);
  });

  it("draws only the newest segments beyond the cap", () => {
    const many = [0, 60, 120, 180, 240].map((entry) => trade(entry, entry + 60, entry));
    const drawn = exitLanes(many, times, "stop_loss", 2);
    expect(drawn.segments).toBe(2);
    expect(drawn.lanes.map((lane) => lane[0]?.time)).toEqual([180, 240]);
  });

  it("puts a trade that starts right after another in a second lane (no joined lines)", () => {
    const drawn = exitLanes([trade(0, 120), trade(180, 300), trade(120, 240)], times, "stop_loss");
    expect(drawn.segments).toBe(3);
    for (const lane of drawn.lanes) {
      const stamps = lane.map((point) => point.time as number);
      expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
      expect(new Set(stamps).size).toBe(stamps.length);
    }
    expect(drawn.lanes.length).toBeGreaterThan(1);
  });

  it("skips trades without the level and trades that closed before the loaded bars", () => {
    const levels = [trade(0, 120, NaN, 1.3), trade(-500, -100, 1.1, 1.3)];
    expect(exitLanes(levels, times, "stop_loss").segments).toBe(0);
    const profits = exitLanes(levels, times, "take_profit");
    expect(profits.segments).toBe(1);
    expect(profits.lanes[0]?.[0]).toEqual({ time: 0, value: 1.3 });
  });

  it("clips a trade opened before the first bar and widens a one-bar trade", () => {
    expect(exitLanes([trade(-300, 130)], times, "stop_loss").lanes[0]?.[0]?.time).toBe(0);
    const oneBar = exitLanes([trade(200, 230)], times, "stop_loss").lanes[0];
    expect(oneBar?.map((point) => point.time)).toEqual([180, 240]);
  });
});
