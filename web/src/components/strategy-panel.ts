// The strategy tab: the code editor with examples to start from, the run settings, the run
// itself (progress, cancel, status) and its results. Errors in the user's code are shown with
// their line, and the editor moves there.

import { ApiError, type ApiClient } from "../api/client";
import type { RunRequest, RunStats, SavedRun } from "../api/types";
import type { CodeEditor } from "../editor/code-editor";
import { EXAMPLES } from "../state/examples";
import type { SymbolEntry } from "../state/library";
import { equityOf, formatPercent, tradesOf, type Trade } from "../state/results";
import { h } from "./dom";
import { ResultsPanel } from "./results-panel";

export interface RunListener {
  /** A run finished: its symbol and trades (the chart marks them). */
  completed(symbol: string, trades: Trade[]): void;
  /** The user picked a trade in the list. */
  showTrade(symbol: string, trade: Trade): void;
}

const MODES = [
  ["ohlc", "M1 OHLC"],
  ["ticks", "Real ticks"],
  ["open", "Open prices"],
] as const;

export class StrategyPanel {
  readonly element: HTMLElement;
  private readonly host: HTMLElement;
  private readonly status: HTMLElement;
  private readonly runStatus: HTMLElement;
  private readonly progress: HTMLProgressElement;
  private readonly runButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;
  private readonly symbol: HTMLSelectElement;
  private readonly timeframe: HTMLSelectElement;
  private readonly from: HTMLInputElement;
  private readonly to: HTMLInputElement;
  private readonly cash: HTMLInputElement;
  private readonly leverage: HTMLInputElement;
  private readonly commission: HTMLInputElement;
  private readonly slippage: HTMLInputElement;
  private readonly spread: HTMLInputElement;
  private readonly mode: HTMLSelectElement;
  private readonly results: ResultsPanel;
  private readonly pastRuns: HTMLSelectElement;
  private readonly compareRuns: HTMLSelectElement;
  private readonly savedStrategies: HTMLSelectElement;
  private readonly strategyName: HTMLInputElement;
  private readonly paramsHost: HTMLElement;
  private params: Record<string, number | string | boolean> = {};
  private editor: CodeEditor | null = null;
  private entries: SymbolEntry[] = [];
  private jobId: string | null = null;

  constructor(
    private readonly api: ApiClient,
    private readonly listener: RunListener,
  ) {
    const examples = h(
      "select",
      { testid: "strategy-example-select", "aria-label": "Start from an example" },
      ...EXAMPLES.map((example, index) => h("option", { value: index }, example.name)),
    );
    examples.addEventListener("change", () => {
      const chosen = EXAMPLES[Number(examples.value)];
      if (chosen !== undefined)
        void this.ensureEditor().then((editor) => editor.setText(chosen.code));
    });
    this.savedStrategies = h("select", {
      testid: "saved-strategy-select",
      "aria-label": "Open a saved strategy",
    });
    this.savedStrategies.addEventListener(
      "change",
      () => void this.open(this.savedStrategies.value),
    );
    this.strategyName = h("input", {
      placeholder: "name",
      class: "narrow",
      testid: "strategy-name",
      "aria-label": "Save as",
    });
    const save = h("button", { type: "button", testid: "strategy-save-button" }, "Save");
    save.addEventListener("click", () => void this.save());
    const check = h("button", { type: "button", testid: "strategy-check-button" }, "Check");
    check.addEventListener("click", () => void this.check());
    this.status = h("span", { class: "muted", testid: "strategy-status" });
    this.host = h("div", { class: "editor-host" });

    this.symbol = h("select", { testid: "run-symbol", "aria-label": "Symbol" });
    this.symbol.addEventListener("change", () => this.renderTimeframes());
    this.timeframe = h("select", { testid: "run-timeframe", "aria-label": "Timeframe" });
    this.from = h("input", { type: "date", testid: "run-from", "aria-label": "From (UTC)" });
    this.to = h("input", { type: "date", testid: "run-to", "aria-label": "To (UTC, included)" });
    this.cash = h("input", {
      type: "number",
      min: 1,
      step: "any",
      value: 100000,
      class: "narrow",
      testid: "run-cash",
      "aria-label": "Cash",
    });
    this.leverage = h("input", {
      type: "number",
      min: 1,
      step: "any",
      placeholder: "per instrument",
      class: "narrow",
      testid: "run-leverage",
      "aria-label": "Leverage",
    });
    this.commission = h("input", {
      value: "0",
      class: "narrow",
      testid: "run-commission",
      "aria-label": "Commission per side, e.g. 3.5/lot",
      title: "Per side: 3.5/lot, 35/m, 0.1%, 2/trade",
    });
    this.slippage = h("input", {
      type: "number",
      min: 0,
      step: "any",
      value: 0,
      class: "pips",
      testid: "run-slippage",
      "aria-label": "Slippage in pips",
    });
    this.spread = h("input", {
      type: "number",
      min: 0,
      step: "any",
      value: 0,
      class: "pips",
      testid: "run-spread",
      "aria-label": "Spread in pips where the data has none",
    });
    this.mode = h(
      "select",
      { testid: "run-mode", "aria-label": "Price modelling" },
      ...MODES.map(([value, label]) => h("option", { value }, label)),
    );
    this.runButton = h(
      "button",
      { type: "button", class: "primary", testid: "run-backtest-button" },
      "Run backtest",
    );
    this.runButton.addEventListener("click", () => void this.run());
    this.cancelButton = h("button", { type: "button", testid: "cancel-backtest-button" }, "Cancel");
    this.cancelButton.hidden = true;
    this.cancelButton.addEventListener("click", () => {
      if (this.jobId !== null) void this.api.cancelRun(this.jobId);
    });
    this.progress = h("progress", { max: 100, value: 0, testid: "backtest-progress" });
    this.progress.hidden = true;
    this.runStatus = h("span", { class: "run-status", testid: "backtest-status", role: "status" });
    this.paramsHost = h("div", { class: "toolbar params", testid: "strategy-params" });
    this.paramsHost.hidden = true;
    this.pastRuns = h("select", { testid: "past-runs-select", "aria-label": "Saved runs" });
    this.pastRuns.addEventListener("change", () => void this.showSaved(this.pastRuns.value));
    this.compareRuns = h("select", { testid: "compare-run-select", "aria-label": "Compare with" });
    this.compareRuns.addEventListener("change", () => void this.compare(this.compareRuns.value));
    this.results = new ResultsPanel((trade) => this.listener.showTrade(this.symbol.value, trade));

    const field = (label: string, control: HTMLElement): HTMLElement =>
      h("label", { class: "field" }, h("span", {}, label), control);
    this.element = h(
      "section",
      { class: "strategy-panel", testid: "strategy-panel" },
      h(
        "div",
        { class: "toolbar" },
        h("span", {}, "Example: "),
        examples,
        this.savedStrategies,
        this.strategyName,
        save,
        check,
        this.status,
        h("span", { class: "spacer" }),
        h("span", { class: "muted" }, "Saved runs: "),
        this.pastRuns,
        h("span", { class: "muted" }, "Compare with: "),
        this.compareRuns,
      ),
      h(
        "div",
        { class: "toolbar run-settings" },
        field("Symbol", this.symbol),
        field("Timeframe", this.timeframe),
        field("From", this.from),
        field("To", this.to),
        field("Cash", this.cash),
        field("Leverage", this.leverage),
        field("Commission", this.commission),
        field("Slippage (pips)", this.slippage),
        field("Spread (pips)", this.spread),
        field("Prices", this.mode),
        this.runButton,
        this.cancelButton,
        this.progress,
        this.runStatus,
      ),
      this.paramsHost,
      h("div", { class: "strategy-body" }, this.host, this.results.element),
    );
  }

  /** Create the editor when the tab is first shown (CodeMirror measures its container, and is
   * loaded only then, so that the data screen paints without it). */
  show(): Promise<CodeEditor> {
    void this.listRuns(null);
    void this.listStrategies(null);
    return this.ensureEditor();
  }

  get code(): string {
    return this.editor?.text ?? "";
  }

  /** The symbols with data, offered to run on; keeps the choice when it is still there. */
  setSymbols(entries: SymbolEntry[], preferred: string | null): void {
    this.entries = entries;
    const current = this.symbol.value || preferred;
    this.symbol.replaceChildren(
      ...entries.map((entry) => h("option", { value: entry.symbol }, entry.symbol)),
    );
    const keep = entries.find((entry) => entry.symbol === current) ?? entries[0];
    if (keep !== undefined) this.symbol.value = keep.symbol;
    this.renderTimeframes();
  }

  dispose(): void {
    this.editor?.dispose();
    this.editor = null;
    this.results.dispose();
  }

  private renderTimeframes(): void {
    const entry = this.entries.find((item) => item.symbol === this.symbol.value);
    const previous = this.timeframe.value;
    const timeframes = entry?.timeframes ?? [];
    this.timeframe.replaceChildren(...timeframes.map((tf) => h("option", { value: tf }, tf)));
    const chosen = timeframes.includes(previous) ? previous : (timeframes[0] ?? "");
    this.timeframe.value = chosen;
  }

  private request(source: string): RunRequest {
    const leverage = Number(this.leverage.value);
    const request: RunRequest = {
      source,
      name: "strategy",
      symbol: this.symbol.value,
      timeframe: this.timeframe.value || "M1",
      cash: Number(this.cash.value) || 100_000,
      params: { ...this.params },
      leverage: this.leverage.value && leverage > 0 ? leverage : null,
      commission: this.commission.value.trim() || "0",
      slippage: String(Number(this.slippage.value) || 0),
      spread_pips: Number(this.spread.value) || 0,
      mode: this.mode.value,
    };
    if (this.from.value) request.start = this.from.value;
    if (this.to.value) request.end = this.to.value;
    return request;
  }

  private async run(): Promise<void> {
    const editor = await this.ensureEditor();
    if (!this.symbol.value) {
      this.setRunStatus("Import data first: there is nothing to run on.", "error");
      return;
    }
    const symbol = this.symbol.value;
    this.runButton.disabled = true;
    this.cancelButton.hidden = false;
    this.progress.hidden = false;
    this.progress.value = 0;
    this.setRunStatus("Running…", "");
    this.results.clear();
    try {
      const outcome = await this.api.runBacktest(
        this.request(editor.text),
        (progress) => {
          if (progress.total > 0) this.progress.value = (100 * progress.done) / progress.total;
        },
        (jobId) => {
          this.jobId = jobId;
        },
      );
      this.setRunStatus(`Completed: run ${outcome.run_id}`, "ok");
      await this.showRun(outcome.run_id, symbol, outcome.stats);
      void this.listRuns(outcome.run_id);
    } catch (error) {
      this.showError(error, editor);
    } finally {
      this.jobId = null;
      this.runButton.disabled = false;
      this.cancelButton.hidden = true;
      this.progress.hidden = true;
    }
  }

  private async showRun(runId: string, symbol: string, stats: RunStats): Promise<void> {
    this.results.showStats(runId, stats);
    const [equity, trades] = await Promise.all([
      this.api.runTable(runId, "equity"),
      this.api.runTable(runId, "trades"),
    ]);
    const tradeList = tradesOf(trades);
    this.results.showEquity(equityOf(equity));
    this.results.showTrades(tradeList);
    this.listener.completed(symbol, tradeList);
  }

  private saved: SavedRun[] = [];

  private async listRuns(selected: string | null): Promise<void> {
    try {
      this.saved = (await this.api.runs()).reverse(); // newest first
    } catch {
      return; // the list is a convenience: the run itself reported any problem
    }
    this.pastRuns.replaceChildren(
      h("option", { value: "" }, this.saved.length ? "Open a saved run…" : "none yet"),
      ...this.saved.map((run) =>
        h(
          "option",
          { value: run.run_id },
          `${run.run_id} (${formatPercent(run.manifest.stats?.total_return_pct)})`,
        ),
      ),
    );
    this.pastRuns.value = selected ?? "";
    this.compareRuns.replaceChildren(
      h("option", { value: "" }, "—"),
      ...this.saved.map((run) => h("option", { value: run.run_id }, run.run_id)),
    );
  }

  private async compare(runId: string): Promise<void> {
    const run = this.saved.find((item) => item.run_id === runId);
    if (run === undefined) {
      this.results.showComparison(null);
      return;
    }
    try {
      const equity = equityOf(await this.api.runTable(runId, "equity"));
      this.results.showComparison({ runId, stats: run.manifest.stats ?? {}, equity });
    } catch (error) {
      this.setRunStatus(
        `Error: ${error instanceof ApiError ? error.body.message : String(error)}`,
        "error",
      );
    }
  }

  private async showSaved(runId: string): Promise<void> {
    const run = this.saved.find((item) => item.run_id === runId);
    if (run === undefined) return;
    this.results.clear();
    try {
      await this.showRun(runId, run.manifest.symbols?.[0] ?? "", run.manifest.stats ?? {});
      this.setRunStatus(`Saved run ${runId}`, "");
    } catch (error) {
      this.setRunStatus(
        `Error: ${error instanceof ApiError ? error.body.message : String(error)}`,
        "error",
      );
    }
  }

  private async listStrategies(selected: string | null): Promise<void> {
    let names: string[];
    try {
      names = await this.api.strategies();
    } catch {
      return;
    }
    this.savedStrategies.replaceChildren(
      h("option", { value: "" }, names.length ? "Open a saved strategy…" : "no saved strategies"),
      ...names.map((name) => h("option", { value: name }, name)),
    );
    this.savedStrategies.value = selected ?? "";
  }

  private async open(name: string): Promise<void> {
    if (!name) return;
    const editor = await this.ensureEditor();
    try {
      const saved = await this.api.strategy(name);
      editor.setText(saved.source);
      this.strategyName.value = saved.name;
    } catch (error) {
      this.showError(error, editor, this.status);
    }
  }

  private async save(): Promise<void> {
    const editor = await this.ensureEditor();
    const name = this.strategyName.value.trim();
    if (!name) {
      this.status.textContent = "Give the strategy a name to save it under.";
      return;
    }
    try {
      await this.api.saveStrategy(name, editor.text);
      this.status.textContent = `Saved as ${name}`;
      await this.listStrategies(name);
    } catch (error) {
      this.showError(error, editor, this.status);
    }
  }

  private async check(): Promise<void> {
    const editor = await this.ensureEditor();
    try {
      const checked = await this.api.checkStrategy(editor.text);
      const names = Object.keys(checked.parameters);
      this.renderParams(checked.parameters);
      this.status.textContent = names.length
        ? `OK — parameters: ${names.join(", ")}`
        : "OK — no parameters";
    } catch (error) {
      this.showError(error, editor, this.status);
    }
  }

  /** A field per entry of the strategy's PARAMETERS; what is typed overrides the default. */
  private renderParams(parameters: Record<string, unknown>): void {
    this.params = {};
    const fields = Object.entries(parameters).flatMap(([name, value]) => {
      if (typeof value !== "number" && typeof value !== "string" && typeof value !== "boolean")
        return [];
      this.params[name] = value;
      const input = h("input", {
        type:
          typeof value === "boolean" ? "checkbox" : typeof value === "number" ? "number" : "text",
        step: "any",
        class: "narrow",
        testid: `param-${name}`,
        "aria-label": name,
      });
      if (typeof value === "boolean") input.checked = value;
      else input.value = String(value);
      input.addEventListener("change", () => {
        this.params[name] =
          typeof value === "boolean"
            ? input.checked
            : typeof value === "number"
              ? Number(input.value)
              : input.value;
      });
      return [h("label", { class: "field" }, h("span", {}, name), input)];
    });
    this.paramsHost.replaceChildren(h("span", { class: "muted" }, "Parameters"), ...fields);
    this.paramsHost.hidden = fields.length === 0;
  }

  private showError(error: unknown, editor: CodeEditor, where = this.runStatus): void {
    if (error instanceof ApiError) {
      const cancelled = error.status === 409;
      const text = cancelled ? "Cancelled" : `Error: ${error.body.message}`;
      if (where === this.runStatus) this.setRunStatus(text, cancelled ? "" : "error");
      else where.textContent = text;
      if (typeof error.body.line === "number") editor.goToLine(error.body.line);
    } else {
      this.setRunStatus(`Error: ${String(error)}`, "error");
    }
  }

  private setRunStatus(text: string, kind: "ok" | "error" | ""): void {
    this.runStatus.textContent = text;
    this.runStatus.className = `run-status ${kind}`;
  }

  private loading: Promise<CodeEditor> | null = null;

  private ensureEditor(): Promise<CodeEditor> {
    this.loading ??= import("../editor/code-editor").then(({ CodeEditor }) => {
      const editor = new CodeEditor(this.host, EXAMPLES[0]?.code ?? "", "strategy-editor");
      const describe = (): void => {
        this.status.textContent = `${editor.lineCount} lines`;
      };
      editor.onChange(describe);
      // parameters read from older code may no longer exist: check again to see them
      editor.onChange(() => {
        if (Object.keys(this.params).length === 0) return;
        this.params = {};
        this.paramsHost.replaceChildren();
        this.paramsHost.hidden = true;
      });
      describe();
      this.editor = editor;
      return editor;
    });
    return this.loading;
  }
}
