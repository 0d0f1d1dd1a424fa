// The chart panel: symbol and timeframe switchers, the candle chart, the candle count. Older
// history is paged in when the user scrolls back to the oldest loaded bar.

import { ApiError, type ApiClient } from "../api/client";
import { barRow, toChartBars, type ChartBars } from "../charts/bars";
import { CandleChart, type OpenExit } from "../charts/candle-chart";
import { tradeMarks, type Trade } from "../state/results";
import { h } from "./dom";
import { ReplayControls } from "./replay-controls";

/**
 * Bars per page of history. Intraday pages hold 2 000 bars; larger bars are built from the stored
 * minutes, so their pages are kept to about a year of data (a page of 2 000 daily bars would read
 * eight years of M1 bars before the chart shows anything). Scrolling back pages in the rest.
 */
export function pageBars(timeframe: string): number {
  const sizes: Record<string, number> = { H4: 1_500, D1: 300, W1: 60, MN1: 24 };
  return sizes[timeframe] ?? 2_000;
}

export interface ChartSelection {
  symbol: string;
  timeframe: string;
  timeframes: string[];
}

export class ChartPanel {
  readonly element: HTMLElement;
  private readonly symbolSelect: HTMLSelectElement;
  private readonly switcher: HTMLElement;
  private readonly countLabel: HTMLElement;
  private readonly message: HTMLElement;
  private readonly canvas: HTMLElement;
  private chart: CandleChart | null = null;
  private selection: ChartSelection | null = null;
  private hasMore = false;
  private loading = false;
  private generation = 0; // answers to an older selection are dropped
  private readonly trades = new Map<string, Trade[]>(); // a run's trades per symbol
  private readonly replay: ReplayControls;

  constructor(
    private readonly api: ApiClient,
    private readonly onChoose: (symbol: string, timeframe: string) => void,
    private readonly strategyCode: () => string | null = () => null,
  ) {
    this.symbolSelect = h("select", { testid: "symbol-select", "aria-label": "Symbol" });
    this.symbolSelect.addEventListener("change", () => {
      this.onChoose(this.symbolSelect.value, this.selection?.timeframe ?? "H1");
    });
    this.switcher = h("div", { class: "timeframes", role: "group", testid: "timeframe-switcher" });
    this.countLabel = h("span", { testid: "candle-count" }, "0");
    this.message = h("span", { class: "muted", testid: "chart-message" });
    this.canvas = h("div", { class: "chart-canvas", testid: "chart-canvas" });
    this.element = h(
      "section",
      { class: "chart-panel" },
      h(
        "div",
        { class: "toolbar" },
        this.symbolSelect,
        this.switcher,
        h("span", { class: "spacer" }),
        this.message,
        h("span", { class: "muted" }, "Candles: ", this.countLabel),
      ),
      this.canvas,
    );
    this.replay = new ReplayControls({
      selection: () => this.selection,
      begin: (history) => this.beginReplay(history),
      push: (bars) => {
        this.ensureChart().pushBars(
          bars.map((bar) => barRow(bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume)),
        );
        this.updateCount();
      },
      mark: (mark) => this.ensureChart().addMark(mark),
      exits: (exits: OpenExit[]) => this.ensureChart().setOpenExits(exits),
      strategy: () => this.strategyCode(),
    });
    this.element.append(this.replay.element);
  }

  /** Mark a run's trades, with their SL/TP levels, on the chart of `symbol` (shown now or when
   * it is chosen). */
  setTrades(symbol: string, trades: Trade[]): void {
    this.trades.set(symbol, trades);
    if (this.selection?.symbol === symbol && this.chart !== null)
      this.drawTrades(this.chart, trades);
  }

  private drawTrades(chart: CandleChart, trades: Trade[]): void {
    chart.setMarks(tradeMarks(trades));
    chart.setTradeLevels(trades);
  }

  /** Show the bars around `time` (UTC epoch seconds), e.g. a trade picked in the list. */
  scrollTo(time: number): void {
    this.chart?.scrollTo(time);
  }

  private beginReplay(history: ChartBars): void {
    this.generation += 1; // pages of the full history must not land in a replay
    this.hasMore = false;
    const chart = this.ensureChart();
    this.drawTrades(chart, []);
    chart.setOpenExits([]);
    chart.setHistory(history, precisionOf(history.candles.map((candle) => candle.close)));
    this.message.textContent = "";
    this.updateCount();
  }

  /** The symbols offered by the symbol switcher. */
  setSymbols(symbols: string[], selected: string | null): void {
    this.symbolSelect.replaceChildren(
      ...symbols.map((symbol) => h("option", { value: symbol }, symbol)),
    );
    if (selected !== null) this.symbolSelect.value = selected;
  }

  /** Show `symbol` in `timeframe`; loads the newest page of bars. */
  async show(selection: ChartSelection | null): Promise<void> {
    this.replay.close();
    this.selection = selection;
    this.renderSwitcher();
    const generation = ++this.generation;
    if (selection === null) {
      this.chart?.setHistory({ candles: [], volumes: [] });
      this.updateCount();
      this.message.textContent = "Import data to see a chart.";
      return;
    }
    this.message.textContent = "Loading…";
    try {
      const page = await this.api.bars({
        symbol: selection.symbol,
        timeframe: selection.timeframe,
        limit: pageBars(selection.timeframe),
      });
      if (generation !== this.generation) return;
      this.hasMore = page.has_more;
      const chart = this.ensureChart();
      this.drawTrades(chart, this.trades.get(selection.symbol) ?? []);
      chart.setOpenExits([]);
      chart.setHistory(toChartBars(page), precisionOf(page.close));
      this.message.textContent = "";
    } catch (error) {
      if (generation !== this.generation) return;
      this.message.textContent = error instanceof ApiError ? error.body.message : String(error);
    }
    this.updateCount();
  }

  dispose(): void {
    this.replay.close();
    this.generation += 1;
    this.chart?.dispose();
    this.chart = null;
  }

  private ensureChart(): CandleChart {
    if (this.chart === null) {
      this.chart = new CandleChart(this.canvas);
      this.chart.onNearStart(() => void this.loadOlder());
    }
    return this.chart;
  }

  private async loadOlder(): Promise<void> {
    const chart = this.chart;
    const selection = this.selection;
    const first = chart?.firstTime ?? null;
    if (this.loading || !this.hasMore || chart === null || selection === null || first === null)
      return;
    this.loading = true;
    const generation = this.generation;
    try {
      const limit = pageBars(selection.timeframe);
      const page = await this.api.bars({ ...selection, to: first, limit });
      if (generation !== this.generation) return;
      this.hasMore = page.has_more;
      chart.prependHistory(toChartBars(page));
      this.updateCount();
    } finally {
      this.loading = false;
    }
  }

  private renderSwitcher(): void {
    const selection = this.selection;
    this.switcher.replaceChildren(
      ...(selection?.timeframes ?? []).map((timeframe) => {
        const button = h(
          "button",
          {
            type: "button",
            testid: `timeframe-${timeframe}`,
            class: timeframe === selection?.timeframe ? "active" : undefined,
            "aria-pressed": timeframe === selection?.timeframe ? "true" : "false",
          },
          timeframe,
        );
        button.addEventListener("click", () => {
          if (selection !== null) this.onChoose(selection.symbol, timeframe);
        });
        return button;
      }),
    );
  }

  private updateCount(): void {
    const text = String(this.chart?.count ?? 0);
    if (this.countLabel.textContent !== text) this.countLabel.textContent = text;
  }
}

/** Decimals needed to show the prices (at most 5, the FX fractional pip). */
export function precisionOf(prices: number[]): number {
  let decimals = 2;
  for (const price of prices.slice(-200)) {
    const text = String(price);
    const dot = text.indexOf(".");
    if (dot >= 0) decimals = Math.max(decimals, Math.min(5, text.length - dot - 1));
  }
  return decimals;
}
