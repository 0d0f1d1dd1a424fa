// The strategy tab: the code editor with examples to start from. Running a strategy (the run
// button, settings and results) joins this panel with the backtest engine.

import type { CodeEditor } from "../editor/code-editor";
import { EXAMPLES } from "../state/examples";
import { h } from "./dom";

export class StrategyPanel {
  readonly element: HTMLElement;
  private readonly host: HTMLElement;
  private readonly status: HTMLElement;
  private editor: CodeEditor | null = null;

  constructor() {
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
    this.status = h("span", { class: "muted", testid: "strategy-status" });
    this.host = h("div", { class: "editor-host" });
    this.element = h(
      "section",
      { class: "strategy-panel", testid: "strategy-panel" },
      h(
        "div",
        { class: "toolbar" },
        h("span", {}, "Example: "),
        examples,
        h("span", { class: "spacer" }),
        this.status,
      ),
      this.host,
    );
  }

  /** Create the editor when the tab is first shown (CodeMirror measures its container, and is
   * loaded only then, so that the data screen paints without it). */
  show(): Promise<CodeEditor> {
    return this.ensureEditor();
  }

  get code(): string {
    return this.editor?.text ?? "";
  }

  dispose(): void {
    this.editor?.dispose();
    this.editor = null;
  }

  private loading: Promise<CodeEditor> | null = null;

  private ensureEditor(): Promise<CodeEditor> {
    this.loading ??= import("../editor/code-editor").then(({ CodeEditor }) => {
      const editor = new CodeEditor(this.host, EXAMPLES[0]?.code ?? "", "strategy-editor");
      const describe = (): void => {
        this.status.textContent = `${editor.lineCount} lines`;
      };
      editor.onChange(describe);
      describe();
      this.editor = editor;
      return editor;
    });
    return this.loading;
  }
}
