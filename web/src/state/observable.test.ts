import { describe, expect, it } from "vitest";
import { Observable } from "./observable";

describe("Observable", () => {
  it("notifies on change only, with the previous value, until unsubscribed", () => {
    const state = new Observable({ symbol: "EURUSD", timeframe: "H1" });
    const seen: string[] = [];
    const stop = state.subscribe((value, previous) =>
      seen.push(`${previous.timeframe}->${value.timeframe}`),
    );
    state.update({ timeframe: "H1" });
    state.update({ timeframe: "M5" });
    stop();
    state.update({ timeframe: "D1" });
    expect(seen).toEqual(["H1->M5"]);
    expect(state.get()).toEqual({ symbol: "EURUSD", timeframe: "D1" });
  });
});
