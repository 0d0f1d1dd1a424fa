// One module owns the CodeMirror editor: created once, read and replaced through this API,
// disposed with the page. The editable element carries the test id, so a test can type or fill.

import { python } from "@codemirror/lang-python";
import { EditorState } from "@codemirror/state";
import { oneDark } from "@codemirror/theme-one-dark";
import { EditorView } from "@codemirror/view";
import { basicSetup } from "codemirror";

export type ChangeListener = (text: string) => void;

export class CodeEditor {
  private readonly view: EditorView;
  private readonly listeners = new Set<ChangeListener>();

  constructor(parent: HTMLElement, initial: string, testId: string) {
    this.view = new EditorView({
      parent,
      state: EditorState.create({
        doc: initial,
        extensions: [
          basicSetup,
          python(),
          oneDark,
          EditorView.contentAttributes.of({ "data-testid": testId, "aria-label": "Strategy code" }),
          EditorView.updateListener.of((update) => {
            if (!update.docChanged) return;
            const text = update.state.doc.toString();
            for (const listener of this.listeners) listener(text);
          }),
        ],
      }),
    });
  }

  get text(): string {
    return this.view.state.doc.toString();
  }

  get lineCount(): number {
    return this.view.state.doc.lines;
  }

  setText(text: string): void {
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: text } });
  }

  /** Put the cursor on a line (1-based) and scroll to it: where the strategy failed. */
  goToLine(line: number): void {
    const doc = this.view.state.doc;
    const target = doc.line(Math.min(Math.max(1, line), doc.lines));
    this.view.dispatch({
      selection: { anchor: target.from, head: target.to },
      scrollIntoView: true,
    });
    this.view.focus();
  }

  /** Be told of every change to the text; returns the unsubscribe. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    this.listeners.clear();
    this.view.destroy();
  }
}
