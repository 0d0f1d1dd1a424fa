// The workstation's page: header with the import action, data library, chart.

import { ApiError, type ApiClient } from "../api/client";
import type { Dataset, ImportSummary } from "../api/types";
import { groupBySymbol, pickTimeframe, type SymbolEntry } from "../state/library";
import { Observable } from "../state/observable";
import { ChartPanel } from "./chart-panel";
import { DataLibrary } from "./data-library";
import { h } from "./dom";
import { ImportDialog } from "./import-dialog";
import { StrategyPanel } from "./strategy-panel";

type Tab = "data" | "strategy";

interface AppState {
  datasets: Dataset[];
  standardTimeframes: string[];
  symbol: string | null;
  timeframe: string | null;
  notice: string;
}

export class App {
  readonly element: HTMLElement;
  private readonly state = new Observable<AppState>({
    datasets: [],
    standardTimeframes: [],
    symbol: null,
    timeframe: null,
    notice: "",
  });
  private readonly library: DataLibrary;
  private readonly chart: ChartPanel;
  private readonly dialog: ImportDialog;
  private readonly strategy: StrategyPanel;
  private readonly dataView: HTMLElement;
  private readonly tabs: Record<Tab, HTMLButtonElement>;
  private readonly notice: HTMLElement;
  private readonly unsubscribe: () => void;

  constructor(private readonly api: ApiClient) {
    this.library = new DataLibrary({
      select: (symbol) => this.choose(symbol, this.state.get().timeframe),
      remove: (symbol) => void this.remove(symbol),
    });
    this.chart = new ChartPanel(
      api,
      (symbol, timeframe) => this.choose(symbol, timeframe),
      () => this.strategy.code || null,
    );
    this.dialog = new ImportDialog(api, (summary) => void this.imported(summary));
    this.strategy = new StrategyPanel(api, {
      completed: (symbol, trades) => this.chart.setTrades(symbol, trades),
      showTrade: (symbol, trade) => {
        this.choose(symbol, this.state.get().timeframe);
        this.showTab("data");
        this.chart.scrollTo(trade.entryTime);
      },
    });
    const importButton = h(
      "button",
      { type: "button", class: "primary", testid: "import-data-button" },
      "Import data",
    );
    importButton.addEventListener("click", () =>
      this.dialog.open(this.state.get().symbol ?? "EURUSD"),
    );
    this.notice = h("span", { class: "notice", testid: "app-notice", role: "status" });
    this.tabs = {
      data: h(
        "button",
        { type: "button", class: "tab active", testid: "data-tab" },
        "Data & chart",
      ),
      strategy: h("button", { type: "button", class: "tab", testid: "strategy-tab" }, "Strategy"),
    };
    this.tabs.data.addEventListener("click", () => this.showTab("data"));
    this.tabs.strategy.addEventListener("click", () => this.showTab("strategy"));
    this.dataView = h("main", { class: "app-main" }, this.library.element, this.chart.element);
    this.strategy.element.hidden = true;
    this.element = h(
      "div",
      { class: "app" },
      h(
        "header",
        { class: "app-header" },
        h("span", { class: "brand" }, "BackTestr"),
        h("nav", { class: "tabs", role: "tablist" }, this.tabs.data, this.tabs.strategy),
        this.notice,
        h("span", { class: "spacer" }),
        importButton,
      ),
      this.dataView,
      this.strategy.element,
      this.dialog.element,
    );
    this.unsubscribe = this.state.subscribe((state, previous) => this.render(state, previous));
  }

  async start(): Promise<void> {
    try {
      const [datasets, formats, timeframes] = await Promise.all([
        this.api.datasets(),
        this.api.formats(),
        this.api.timeframes(),
      ]);
      this.dialog.setFormats(formats);
      this.state.update({ standardTimeframes: timeframes });
      this.setDatasets(datasets, null);
    } catch (error) {
      this.state.update({ notice: messageOf(error) });
    }
  }

  dispose(): void {
    this.unsubscribe();
    this.chart.dispose();
    this.strategy.dispose();
  }

  private showTab(tab: Tab): void {
    this.dataView.hidden = tab !== "data";
    this.strategy.element.hidden = tab !== "strategy";
    for (const [name, button] of Object.entries(this.tabs)) {
      button.classList.toggle("active", name === tab);
      button.setAttribute("aria-selected", String(name === tab));
    }
    if (tab === "strategy") void this.strategy.show();
  }

  private entries(): SymbolEntry[] {
    const { datasets, standardTimeframes } = this.state.get();
    return groupBySymbol(datasets, standardTimeframes);
  }

  private setDatasets(datasets: Dataset[], prefer: string | null): void {
    const entries = groupBySymbol(datasets, this.state.get().standardTimeframes);
    const current = prefer ?? this.state.get().symbol;
    const entry = entries.find((item) => item.symbol === current) ?? entries[0] ?? null;
    this.state.update({
      datasets,
      symbol: entry?.symbol ?? null,
      timeframe: entry === null ? null : pickTimeframe(entry, this.state.get().timeframe),
    });
  }

  private choose(symbol: string, timeframe: string | null): void {
    const entry = this.entries().find((item) => item.symbol === symbol);
    if (entry === undefined) return;
    this.state.update({ symbol, timeframe: pickTimeframe(entry, timeframe) });
  }

  private async imported(summary: ImportSummary): Promise<void> {
    this.setDatasets(await this.api.datasets(), summary.symbol);
    // the same symbol and timeframe may hold new bars now
    void this.chart.show(this.selection());
  }

  private async remove(symbol: string): Promise<void> {
    try {
      await this.api.removeDataset(symbol);
      this.state.update({ notice: `Removed ${symbol}.` });
      this.setDatasets(await this.api.datasets(), null);
    } catch (error) {
      this.state.update({ notice: messageOf(error) });
    }
  }

  private selection(): { symbol: string; timeframe: string; timeframes: string[] } | null {
    const { symbol, timeframe } = this.state.get();
    const entry = this.entries().find((item) => item.symbol === symbol);
    if (entry === undefined || timeframe === null) return null;
    return { symbol: entry.symbol, timeframe, timeframes: entry.timeframes };
  }

  private render(state: AppState, previous: AppState): void {
    this.notice.textContent = state.notice;
    if (state.datasets !== previous.datasets || state.symbol !== previous.symbol) {
      this.library.render(this.entries(), state.symbol);
      this.chart.setSymbols(
        this.entries().map((entry) => entry.symbol),
        state.symbol,
      );
      this.strategy.setSymbols(this.entries(), state.symbol);
    }
    if (
      state.symbol !== previous.symbol ||
      state.timeframe !== previous.timeframe ||
      state.datasets !== previous.datasets
    ) {
      void this.chart.show(this.selection());
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.body.message : String(error);
}
