// The import dialog: file, symbol, format (detected unless chosen), then progress and outcome.
// It stays open after a failure so that another file can be chosen and imported straight away.

import { ApiError, type ApiClient } from "../api/client";
import type { ImportSummary, SourceFormat } from "../api/types";
import { importCompletedText, progressPercent, progressText } from "../state/format";
import { guessSymbol } from "../state/library";
import { h } from "./dom";

export class ImportDialog {
  readonly element: HTMLDialogElement;
  private readonly fileInput: HTMLInputElement;
  private readonly symbolInput: HTMLInputElement;
  private readonly formatSelect: HTMLSelectElement;
  private readonly sideSelect: HTMLSelectElement;
  private readonly confirmButton: HTMLButtonElement;
  private readonly progress: HTMLProgressElement;
  private readonly progressLabel: HTMLElement;
  private readonly detected: HTMLElement;
  private readonly status: HTMLElement;
  private readonly error: HTMLElement;
  private busy = false;

  constructor(
    private readonly api: ApiClient,
    private readonly onImported: (summary: ImportSummary) => void,
  ) {
    this.fileInput = h("input", { type: "file", testid: "file-input", id: "import-file" });
    this.symbolInput = h("input", {
      type: "text",
      testid: "import-symbol",
      id: "import-symbol",
      placeholder: "EURUSD",
      autocomplete: "off",
      spellcheck: "false",
    });
    this.formatSelect = h(
      "select",
      { testid: "import-format", id: "import-format" },
      h("option", { value: "" }, "Detect from the content"),
    );
    this.sideSelect = h(
      "select",
      { testid: "import-side", id: "import-side" },
      h("option", { value: "" }, "From the file (bid if unknown)"),
      h("option", { value: "bid" }, "Bid"),
      h("option", { value: "ask" }, "Ask"),
      h("option", { value: "mid" }, "Mid"),
    );
    this.confirmButton = h(
      "button",
      { type: "submit", testid: "import-confirm", class: "primary" },
      "Import",
    );
    const cancel = h("button", { type: "button", testid: "import-close" }, "Close");
    this.progress = h("progress", { testid: "import-progress", max: 100, value: 0, hidden: true });
    this.progressLabel = h("span", { testid: "import-progress-label", class: "muted" });
    this.detected = h("p", { testid: "import-detected", class: "muted detected" });
    this.status = h("p", { testid: "import-status", class: "status ok", role: "status" });
    this.error = h("p", {
      testid: "error-message",
      class: "status error",
      role: "alert",
      hidden: true,
    });

    const form = h(
      "form",
      { method: "dialog", class: "import-form" },
      h("h2", {}, "Import market data"),
      h("label", { for: "import-file" }, "File (CSV, .gz, .zip or Parquet)"),
      this.fileInput,
      h("label", { for: "import-symbol" }, "Symbol"),
      this.symbolInput,
      h("label", { for: "import-format" }, "Format"),
      this.formatSelect,
      this.detected,
      h("label", { for: "import-side" }, "Price side of bar files"),
      this.sideSelect,
      h("div", { class: "progress-row" }, this.progress, this.progressLabel),
      this.status,
      this.error,
      h("div", { class: "actions" }, cancel, this.confirmButton),
    );
    this.element = h("dialog", { testid: "import-dialog", class: "import-dialog" }, form);

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    cancel.addEventListener("click", () => this.element.close());
    this.fileInput.addEventListener("change", () => this.fileChosen());
  }

  setFormats(formats: SourceFormat[]): void {
    for (const format of formats) {
      this.formatSelect.append(
        h(
          "option",
          { value: format.name, title: format.description },
          `${format.name} (${format.kind})`,
        ),
      );
    }
  }

  open(defaultSymbol: string): void {
    if (!this.symbolInput.value) this.symbolInput.value = defaultSymbol;
    this.clearOutcome();
    if (!this.element.open) this.element.showModal();
  }

  private fileChosen(): void {
    this.clearOutcome();
    this.formatSelect.value = "";
    this.detected.textContent = "";
    const file = this.fileInput.files?.[0];
    if (!file) return;
    const guessed = guessSymbol(file.name);
    if (guessed !== null) this.symbolInput.value = guessed;
    void this.detect(file);
  }

  /** Preselect the detected format (the user may still change it); a failure is only a hint. */
  private async detect(file: File): Promise<void> {
    try {
      const found = await this.api.detectFormat(file, this.symbolInput.value.trim().toUpperCase());
      if (found === null || this.fileInput.files?.[0] !== file) return;
      this.formatSelect.value = found.format;
      const details = [found.timeframe, found.side].filter((part) => part !== null).join(" ");
      this.detected.textContent = `Detected: ${found.format}${details ? ` (${details})` : ""}`;
    } catch (error) {
      if (this.fileInput.files?.[0] !== file) return;
      const reason = error instanceof ApiError ? error.body.message : String(error);
      this.detected.textContent = `Not recognised yet: ${reason}`;
    }
  }

  private clearOutcome(): void {
    this.status.textContent = "";
    this.error.textContent = "";
    this.error.hidden = true;
    this.progress.hidden = true;
    this.progressLabel.textContent = "";
  }

  private async submit(): Promise<void> {
    if (this.busy) return;
    const file = this.fileInput.files?.[0];
    this.clearOutcome();
    if (!file) return this.showError("Choose a file to import.");
    const symbol = this.symbolInput.value.trim().toUpperCase();
    if (!symbol) return this.showError("Give the symbol the file holds, e.g. EURUSD.");
    this.busy = true;
    this.confirmButton.disabled = true;
    this.progress.hidden = false;
    this.progress.value = 0;
    this.progressLabel.textContent = "Uploading…";
    try {
      const summary = await this.api.importFile(
        file,
        { symbol, format: this.formatSelect.value, side: this.sideSelect.value },
        (progress) => {
          this.progress.value = progressPercent(progress);
          this.progressLabel.textContent = progressText(progress);
        },
      );
      this.progress.value = 100;
      this.progressLabel.textContent = "";
      this.status.textContent = importCompletedText(summary);
      this.onImported(summary);
    } catch (error) {
      this.progress.hidden = true;
      this.progressLabel.textContent = "";
      this.showError(error instanceof ApiError ? error.body.message : String(error));
    } finally {
      this.busy = false;
      this.confirmButton.disabled = false;
    }
  }

  private showError(message: string): void {
    this.error.textContent = message;
    this.error.hidden = false;
  }
}
