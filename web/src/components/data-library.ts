// The data library: each stored symbol with its range, what is stored, and a remove action.

import type { SymbolEntry } from "../state/library";
import { formatCount, formatRange } from "../state/format";
import { h } from "./dom";

export interface LibraryActions {
  select(symbol: string): void;
  remove(symbol: string): void;
}

export class DataLibrary {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private armed: string | null = null; // the symbol whose remove button asks for confirmation

  constructor(private readonly actions: LibraryActions) {
    this.list = h("ul", { class: "library-list", testid: "library-list" });
    this.element = h(
      "section",
      { class: "library", testid: "data-library" },
      h("h2", {}, "Data library"),
      this.list,
    );
  }

  render(entries: SymbolEntry[], selected: string | null): void {
    this.list.replaceChildren();
    if (entries.length === 0) {
      this.list.append(
        h("li", { class: "empty muted", testid: "library-empty" }, "No data yet: import a file."),
      );
      return;
    }
    for (const entry of entries) this.list.append(this.item(entry, entry.symbol === selected));
  }

  private item(entry: SymbolEntry, selected: boolean): HTMLElement {
    const open = h(
      "button",
      { type: "button", class: "symbol-button", testid: `library-symbol-${entry.symbol}` },
      entry.symbol,
    );
    open.addEventListener("click", () => this.actions.select(entry.symbol));
    const armed = this.armed === entry.symbol;
    const remove = h(
      "button",
      {
        type: "button",
        class: armed ? "danger armed" : "danger",
        testid: `remove-dataset-${entry.symbol}`,
        title: "Delete all stored data of this symbol",
      },
      armed ? "Click again to delete" : "Remove",
    );
    remove.addEventListener("click", () => {
      if (this.armed === entry.symbol) {
        this.armed = null;
        this.actions.remove(entry.symbol);
      } else {
        this.armed = entry.symbol;
        remove.textContent = "Click again to delete";
        remove.classList.add("armed");
      }
    });
    const stored = entry.datasets.map((row) =>
      h(
        "li",
        { testid: `dataset-${row.symbol}-${row.kind}-${row.side}` },
        `${row.kind === "ticks" ? "ticks" : `${row.kind} ${row.side}`}: ${formatCount(row.rows)} rows`,
      ),
    );
    return h(
      "li",
      { class: selected ? "entry selected" : "entry", testid: `library-entry-${entry.symbol}` },
      h("div", { class: "entry-head" }, open, remove),
      h(
        "div",
        { class: "muted range", testid: `library-range-${entry.symbol}` },
        formatRange(entry.first, entry.last),
      ),
      h("ul", { class: "stored" }, ...stored),
      h("div", { class: "muted timeframes" }, `Charts: ${entry.timeframes.join(" ")}`),
    );
  }
}
