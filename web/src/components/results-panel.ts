// A run's results: the key statistics, the equity curve and the trade list (a click on a trade
// asks the chart to show it).

import { EquityChart } from "../charts/equity-chart";
import type { RunStats } from "../api/types";
import {
  formatMoney,
  formatPercent,
  statLines,
  type EquityPoint,
  type Trade,
} from "../state/results";
import { h } from "./dom";

const SHOWN_TRADES = 500;

export class ResultsPanel {
  readonly element: HTMLElement;
  private readonly stats: HTMLElement;
  private readonly equityHost: HTMLElement;
  private readonly tradeRows: HTMLElement;
  private readonly tradeNote: HTMLElement;
  private equity: EquityChart | null = null;
  private readonly report: HTMLAnchorElement;
  private readonly comparison: HTMLElement;
  private current: { runId: string; stats: RunStats } | null = null;

  constructor(private readonly onTrade: (trade: Trade) => void) {
    this.stats = h("dl", { class: "stats", testid: "run-stats" });
    this.equityHost = h("div", { class: "equity-chart", testid: "equity-chart" });
    this.tradeRows = h("tbody", {});
    this.tradeNote = h("p", { class: "muted" });
    this.comparison = h("table", { class: "comparison", testid: "comparison-table" });
    this.comparison.hidden = true;
    this.report = h(
      "a",
      { class: "button", testid: "download-report", download: "" },
      "Download report",
    );
    this.element = h(
      "section",
      { class: "results", testid: "results-panel" },
      h("div", { class: "results-head" }, this.report),
      this.stats,
      this.comparison,
      this.equityHost,
      h(
        "table",
        { class: "trades", testid: "trade-list" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...[
              "#",
              "Side",
              "Units",
              "Entry (UTC)",
              "Exit (UTC)",
              "Entry",
              "Exit",
              "P&L",
              "Return",
            ].map((title) => h("th", {}, title)),
          ),
        ),
        this.tradeRows,
      ),
      this.tradeNote,
    );
    this.element.hidden = true;
  }

  showStats(runId: string, stats: RunStats): void {
    this.element.hidden = false;
    this.current = { runId, stats };
    this.showComparison(null);
    // one self-contained HTML file, served with the page's own access cookie
    this.report.href = `/api/runs/${encodeURIComponent(runId)}/report`;
    this.stats.replaceChildren(
      ...statLines(stats).flatMap((line) => [
        h("dt", {}, line.label),
        h("dd", { testid: line.key }, line.text),
      ]),
    );
  }

  /** Two runs side by side: every statistic of the run shown and of `other`; its equity too. */
  showComparison(other: { runId: string; stats: RunStats; equity: EquityPoint[] } | null): void {
    this.equity?.setComparison(other?.equity ?? []);
    const current = this.current;
    if (other === null || current === null) {
      this.comparison.hidden = true;
      this.comparison.replaceChildren();
      return;
    }
    const mine = statLines(current.stats);
    const theirs = statLines(other.stats);
    this.comparison.replaceChildren(
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, ""), h("th", {}, current.runId), h("th", {}, other.runId)),
      ),
      h(
        "tbody",
        {},
        ...mine.map((line, index) =>
          h(
            "tr",
            {},
            h("th", {}, line.label),
            h("td", {}, line.text),
            h("td", { testid: `compare-${line.key}` }, theirs[index]?.text ?? "–"),
          ),
        ),
      ),
    );
    this.comparison.hidden = false;
  }

  showEquity(points: EquityPoint[]): void {
    this.equity ??= new EquityChart(this.equityHost);
    this.equity.setPoints(points);
  }

  showTrades(trades: Trade[]): void {
    this.tradeRows.replaceChildren(
      ...trades.slice(0, SHOWN_TRADES).map((trade, index) => {
        const row = h(
          "tr",
          { class: trade.pnl >= 0 ? "win" : "loss", testid: `trade-${index + 1}` },
          h("td", {}, String(index + 1)),
          h("td", {}, trade.side),
          h("td", {}, trade.units.toLocaleString("en-US")),
          h("td", {}, timeText(trade.entryTime)),
          h("td", {}, timeText(trade.exitTime)),
          h("td", {}, String(trade.entryPrice)),
          h("td", {}, String(trade.exitPrice)),
          h("td", {}, formatMoney(trade.pnl)),
          h("td", {}, formatPercent(trade.returnPct)),
        );
        row.addEventListener("click", () => this.onTrade(trade));
        return row;
      }),
    );
    this.tradeNote.textContent =
      trades.length > SHOWN_TRADES ? `First ${SHOWN_TRADES} of ${trades.length} trades.` : "";
  }

  clear(): void {
    this.element.hidden = true;
    this.stats.replaceChildren();
    this.tradeRows.replaceChildren();
    this.equity?.setPoints([]);
  }

  dispose(): void {
    this.equity?.dispose();
    this.equity = null;
  }
}

function timeText(seconds: number): string {
  if (!Number.isFinite(seconds)) return "–";
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
}
