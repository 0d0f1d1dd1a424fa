import { describe, expect, it } from "vitest";
import type { ReplayBar, ReplayCommand, ReplayMessage, ReplayStart } from "../api/replay";
import type { ChartBars } from "../charts/bars";
import type { OpenExit } from "../charts/candle-chart";
import type { TradeMark } from "../state/results";
import { byTestId } from "./dom";
import { jumpNotice, ReplayControls } from "./replay-controls";

/** `frame()` runs what was scheduled for the next frame. */
function manualFrames() {
  let due: (() => void)[] = [];
  return {
    schedule: (callback: () => void) => due.push(callback),
    frame: () => {
      const now = due;
      due = [];
      for (const callback of now) callback();
    },
  };
}

function setup(schedule: (callback: () => void) => void = (callback) => callback()) {
  const sent: ReplayCommand[] = [];
  const starts: ReplayStart[] = [];
  const seen = {
    history: [] as ChartBars[],
    bars: [] as ReplayBar[],
    pushes: 0,
    marks: [] as TradeMark[],
    exits: [] as OpenExit[][],
  };
  let deliver: (message: ReplayMessage) => void = () => undefined;
  let closed: () => void = () => undefined;
  const controls = new ReplayControls(
    {
      selection: () => ({ symbol: "EURUSD", timeframe: "M5" }),
      begin: (history) => seen.history.push(history),
      push: (bars) => {
        seen.pushes += 1;
        seen.bars.push(...bars);
      },
      mark: (mark) => seen.marks.push(mark),
      exits: (exits) => seen.exits.push(exits),
      strategy: () => "def handle_data(context, data):\n    pass\n",
    },
    (start, onMessage, onClose) => {
      starts.push(start);
      deliver = onMessage;
      closed = onClose;
      return { send: (command) => sent.push(command), close: () => closed() };
    },
    schedule,
  );
  const click = (id: string): void => byTestId<HTMLButtonElement>(controls.element, id).click();
  return { controls, sent, starts, seen, click, deliver: (m: ReplayMessage) => deliver(m) };
}

describe("ReplayControls", () => {
  it("starts a replay of the chart's selection at the chosen speed and plays it", () => {
    const { controls, sent, starts, click } = setup();
    const speed = byTestId<HTMLSelectElement>(controls.element, "replay-speed-select");
    expect([...speed.options].map((option) => option.value)).toEqual([
      "1",
      "2",
      "5",
      "10",
      "50",
      "100",
    ]);
    speed.value = "50";
    click("replay-play-button");
    expect(starts).toEqual([
      { symbol: "EURUSD", timeframe: "M5", start: undefined, speed: 50, history: 200 },
    ]);
    expect(sent).toEqual([{ type: "play" }]);
    speed.value = "10";
    speed.dispatchEvent(new Event("change"));
    expect(sent.at(-1)).toEqual({ type: "speed", speed: 10 });
  });

  it("draws the history, each bar and each fill; trades by hand with the units given", () => {
    const { controls, sent, seen, click, deliver } = setup();
    click("replay-step-button");
    deliver({
      type: "history",
      time: [60],
      open: [1],
      high: [2],
      low: [0.5],
      close: [1.5],
      volume: [3],
    });
    deliver({ type: "bar", step: 1, time: 120, open: 1.5, high: 2, low: 1, close: 1.8, volume: 1 });
    deliver({ type: "fill", time: 180, order_id: 1, units: -5000, price: 1.81 });
    deliver({ type: "position", time: 180, symbol: "EURUSD", units: -5000, average_price: 1.81 });
    expect(seen.history[0]?.candles).toEqual([
      { time: 60, open: 1, high: 2, low: 0.5, close: 1.5 },
    ]);
    expect(seen.bars.map((bar) => bar.close)).toEqual([1.8]);
    expect(seen.marks).toEqual([{ time: 180, kind: "sell", text: "sell 5000 @ 1.81" }]);
    expect(byTestId(controls.element, "replay-position").textContent).toBe("short 5000 @ 1.81000");
    byTestId<HTMLInputElement>(controls.element, "replay-units").value = "2000";
    click("replay-buy-button");
    byTestId<HTMLInputElement>(controls.element, "replay-sl-pips").value = "15";
    click("replay-sell-button");
    expect(sent).toEqual([
      { type: "step" },
      { type: "order", units: 2000 },
      { type: "order", units: -2000, stop_loss_pips: 15 },
    ]);
  });

  it("reports the saved run when the replay ends, and can start again after closing", () => {
    const { controls, starts, click, deliver } = setup();
    click("replay-play-button");
    deliver({
      type: "finished",
      run_id: "replay-1",
      stats: { total_return_pct: -0.5, total_trades: 2 },
    });
    expect(byTestId(controls.element, "replay-status").textContent).toBe(
      "Replay saved as run replay-1: -0.50%, 2 trades",
    );
    controls.close();
    click("replay-play-button");
    expect(starts).toHaveLength(2);
  });
});

describe("ReplayControls with the strategy", () => {
  it("sends the editor's code when asked to replay with the strategy", () => {
    const { controls, starts, click } = setup();
    byTestId<HTMLInputElement>(controls.element, "replay-with-strategy").checked = true;
    click("replay-play-button");
    expect(starts[0]?.source).toContain("def handle_data");
  });
});

describe("ReplayControls jump", () => {
  it("jumps to the time typed, read as UTC", () => {
    const { controls, sent, click } = setup();
    click("replay-step-button");
    byTestId<HTMLInputElement>(controls.element, "replay-jump-to").value = "2019-02-05T10:30";
    click("replay-jump-button");
    expect(sent.at(-1)).toEqual({ type: "jump", to: "2019-02-05T10:30Z" });
  });
});

describe("ReplayControls exit levels and jumps back", () => {
  it("hands the open position's SL/TP to the chart, and clears them when flat", () => {
    const { seen, click, deliver } = setup();
    click("replay-step-button");
    const levels: OpenExit[] = [
      { kind: "stop_loss", price: 1.1385 },
      { kind: "take_profit", price: 1.142 },
    ];
    deliver({ type: "exits", time: 120, exits: levels });
    deliver({ type: "exits", time: 180, exits: [] });
    expect(seen.exits).toEqual([levels, []]);
  });

  it("says what a jump back discarded", () => {
    const { controls, click, deliver } = setup();
    click("replay-step-button");
    deliver({ type: "jumped", time: 1549274400, backwards: true, discarded_orders: 2 });
    expect(byTestId(controls.element, "replay-status").textContent).toBe(
      "Jumped back to 2019-02-04 10:00 UTC: the replay restarted from there; " +
        "2 hand orders placed after it were discarded",
    );
  });

  it("words forward jumps and jumps back without discarded orders plainly", () => {
    expect(jumpNotice({ time: 1549274400, backwards: false, discarded_orders: 0 })).toBe(
      "Jumped to 2019-02-04 10:00 UTC",
    );
    expect(jumpNotice({ time: 1549274400, backwards: true, discarded_orders: 1 })).toContain(
      "1 hand order placed after it was discarded",
    );
  });
});

describe("ReplayControls applies a frame's messages together", () => {
  const bar = (time: number, close: number): ReplayMessage => ({
    type: "bar",
    step: time / 60,
    time,
    open: 1,
    high: 2,
    low: 0.5,
    close,
    volume: 1,
  });
  const equity = (value: number): ReplayMessage => ({
    type: "equity",
    time: 0,
    equity: value,
    balance: value,
  });

  it("hands the bars between two frames to the chart in one call, in order", () => {
    const frames = manualFrames();
    const { controls, seen, click, deliver } = setup(frames.schedule);
    click("replay-play-button");
    deliver(bar(60, 1.1));
    deliver(equity(1000));
    deliver(bar(120, 1.2));
    deliver(equity(1001.5));
    expect(seen.bars).toEqual([]); // nothing drawn before the frame
    frames.frame();
    expect(seen.pushes).toBe(1);
    expect(seen.bars.map((pushed) => pushed.close)).toEqual([1.1, 1.2]);
    expect(byTestId(controls.element, "replay-equity").textContent).toBe("1,001.50");
    deliver(bar(180, 1.3));
    frames.frame();
    expect(seen.pushes).toBe(2);
    expect(seen.bars.map((pushed) => pushed.time)).toEqual([60, 120, 180]);
  });

  it("puts a fill's bar on the chart before its mark", () => {
    const frames = manualFrames();
    const order: string[] = [];
    const controls = new ReplayControls(
      {
        selection: () => ({ symbol: "EURUSD", timeframe: "M1" }),
        begin: () => order.push("history"),
        push: (bars) => order.push(`bars ${bars.map((pushed) => pushed.time).join(",")}`),
        mark: (mark) => order.push(`mark ${mark.time}`),
        exits: () => order.push("exits"),
        strategy: () => null,
      },
      (_start, onMessage) => {
        onMessage({
          type: "history",
          time: [0],
          open: [1],
          high: [1],
          low: [1],
          close: [1],
          volume: [1],
        });
        onMessage(bar(60, 1.1));
        onMessage(bar(120, 1.2));
        onMessage({ type: "fill", time: 120, order_id: 1, units: 1000, price: 1.2 });
        onMessage(bar(180, 1.3));
        return { send: () => undefined, close: () => undefined };
      },
      frames.schedule,
    );
    byTestId<HTMLButtonElement>(controls.element, "replay-step-button").click();
    frames.frame();
    expect(order).toEqual(["history", "bars 60,120", "mark 120", "bars 180"]);
  });

  it("drops what was queued when the replay is closed", () => {
    const frames = manualFrames();
    const { controls, seen, click, deliver } = setup(frames.schedule);
    click("replay-play-button");
    deliver(bar(60, 1.1));
    controls.close();
    frames.frame();
    expect(seen.bars).toEqual([]);
  });
});
