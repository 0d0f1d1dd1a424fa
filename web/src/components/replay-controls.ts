// Replay: the market bar by bar at a chosen speed, with buy/sell by hand. The bars come from the
// engine over a WebSocket; this module turns the controls into commands and the messages into
// chart updates through a small view interface that the chart panel implements.

import {
  ReplayConnection,
  type ReplayBar,
  type ReplayCommand,
  type ReplayMessage,
} from "../api/replay";
import { toChartBars, type ChartBars } from "../charts/bars";
import type { OpenExit } from "../charts/candle-chart";
import { FrameQueue, nextFrame, type Schedule } from "../state/frame-queue";
import { formatMoney, formatPercent, type TradeMark } from "../state/results";
import { h } from "./dom";

export const REPLAY_SPEEDS = [1, 2, 5, 10, 50, 100] as const;

export interface ReplayView {
  /** What to replay: the chart's symbol and timeframe, or null without data. */
  selection(): { symbol: string; timeframe: string } | null;
  begin(history: ChartBars): void;
  /** The bars that arrived since the last frame, oldest first (never empty). */
  push(bars: ReplayBar[]): void;
  mark(mark: TradeMark): void;
  /** The open position's stop-loss / take-profit levels (empty: none, or flat). */
  exits(exits: OpenExit[]): void;
  /** The strategy's code to replay with (its trades appear as they happen), or null. */
  strategy(): string | null;
}

type Connect = (
  start: ConstructorParameters<typeof ReplayConnection>[0],
  onMessage: (message: ReplayMessage) => void,
  onClose: () => void,
) => Pick<ReplayConnection, "send" | "close">;

export class ReplayControls {
  readonly element: HTMLElement;
  private readonly from: HTMLInputElement;
  private readonly speed: HTMLSelectElement;
  private readonly units: HTMLInputElement;
  private readonly stopLoss: HTMLInputElement;
  private readonly takeProfit: HTMLInputElement;
  private readonly withStrategy: HTMLInputElement;
  private readonly jumpTo: HTMLInputElement;
  private readonly status: HTMLElement;
  private readonly position: HTMLElement;
  private readonly equity: HTMLElement;
  private readonly buttons: Record<string, HTMLButtonElement>;
  private connection: Pick<ReplayConnection, "send" | "close"> | null = null;
  private playing = false;
  // messages are applied once per frame: at 100 bars/s several arrive between two frames
  private readonly inbox: FrameQueue<ReplayMessage>;

  constructor(
    private readonly view: ReplayView,
    private readonly connect: Connect = (start, onMessage, onClose) =>
      new ReplayConnection(start, onMessage, onClose),
    schedule: Schedule = nextFrame,
  ) {
    this.inbox = new FrameQueue((messages) => this.receiveAll(messages), schedule);
    this.from = h("input", { type: "date", testid: "replay-from", "aria-label": "Replay from" });
    this.speed = h(
      "select",
      { testid: "replay-speed-select", "aria-label": "Bars per second" },
      ...REPLAY_SPEEDS.map((speed) => h("option", { value: speed }, `${speed}×`)),
    );
    this.speed.addEventListener("change", () =>
      this.connection?.send({ type: "speed", speed: Number(this.speed.value) }),
    );
    this.units = h("input", {
      type: "number",
      min: 1,
      step: 1000,
      value: 10000,
      class: "narrow",
      testid: "replay-units",
      "aria-label": "Units to trade",
    });
    const pips = (id: string, label: string): HTMLInputElement =>
      h("input", {
        type: "number",
        min: 0,
        step: "any",
        placeholder: label,
        class: "pips",
        testid: `replay-${id}`,
        "aria-label": `${label} (pips)`,
      });
    this.stopLoss = pips("sl-pips", "SL pips");
    this.takeProfit = pips("tp-pips", "TP pips");
    this.withStrategy = h("input", {
      type: "checkbox",
      testid: "replay-with-strategy",
      "aria-label": "Replay with the strategy",
    });
    this.jumpTo = h("input", {
      type: "datetime-local",
      testid: "replay-jump-to",
      "aria-label": "Jump to (UTC)",
    });
    const button = (id: string, label: string, action: () => void): HTMLButtonElement => {
      const made = h("button", { type: "button", testid: `replay-${id}-button` }, label);
      made.addEventListener("click", action);
      return made;
    };
    this.buttons = {
      play: button("play", "▶ Play", () => this.play()),
      pause: button("pause", "❚❚ Pause", () => this.connection?.send({ type: "pause" })),
      step: button("step", "Step", () => this.step()),
      buy: button("buy", "Buy", () => this.order(1)),
      sell: button("sell", "Sell", () => this.order(-1)),
      stop: button("stop", "■ End", () => this.connection?.send({ type: "stop" })),
      jump: button("jump", "Jump", () => {
        // the input holds a wall-clock time without a zone: it is read as UTC, like every time here
        if (this.jumpTo.value) this.connection?.send({ type: "jump", to: `${this.jumpTo.value}Z` });
      }),
    };
    this.status = h("span", { class: "muted", testid: "replay-status" });
    this.position = h("span", { testid: "replay-position" }, "flat");
    this.equity = h("span", { testid: "replay-equity" }, "–");
    this.element = h(
      "div",
      { class: "toolbar replay", testid: "replay-controls" },
      h("span", { class: "muted" }, "Replay from"),
      this.from,
      h("label", { class: "check" }, this.withStrategy, "with strategy"),
      this.buttons.play ?? null,
      this.buttons.pause ?? null,
      this.buttons.step ?? null,
      this.speed,
      this.jumpTo,
      this.buttons.jump ?? null,
      h("span", { class: "gap" }),
      this.units,
      this.stopLoss,
      this.takeProfit,
      this.buttons.buy ?? null,
      this.buttons.sell ?? null,
      this.buttons.stop ?? null,
      h("span", { class: "muted" }, "Position: "),
      this.position,
      h("span", { class: "muted" }, "Equity: "),
      this.equity,
      this.status,
    );
    this.render();
  }

  /** Close the replay (the chart is about to show something else). */
  close(): void {
    this.inbox.clear();
    this.connection?.close();
    this.connection = null;
    this.playing = false;
    this.render();
  }

  private play(): void {
    this.ensureConnection()?.send({ type: "play" });
  }

  private step(): void {
    this.ensureConnection()?.send({ type: "step" });
  }

  private order(sign: 1 | -1): void {
    const units = Math.abs(Number(this.units.value));
    if (!(units > 0)) return;
    const command: ReplayCommand = { type: "order", units: sign * units };
    const stopLoss = Number(this.stopLoss.value);
    const takeProfit = Number(this.takeProfit.value);
    if (this.stopLoss.value && stopLoss > 0) command.stop_loss_pips = stopLoss;
    if (this.takeProfit.value && takeProfit > 0) command.take_profit_pips = takeProfit;
    this.connection?.send(command);
  }

  private ensureConnection(): Pick<ReplayConnection, "send" | "close"> | null {
    if (this.connection !== null) return this.connection;
    const selection = this.view.selection();
    if (selection === null) {
      this.status.textContent = "Import data to replay it.";
      return null;
    }
    this.status.textContent = "Starting…";
    this.position.textContent = "flat";
    const connection = this.connect(
      {
        symbol: selection.symbol,
        timeframe: selection.timeframe,
        start: this.from.value || undefined,
        speed: Number(this.speed.value),
        history: 200,
        ...(this.withStrategy.checked ? { source: this.view.strategy() ?? undefined } : {}),
      },
      (message) => this.inbox.push(message),
      () => {
        if (this.connection === connection) {
          this.connection = null;
          this.playing = false;
          this.render();
        }
      },
    );
    this.connection = connection;
    this.render();
    return connection;
  }

  /** A frame's messages in arrival order: consecutive bars go to the chart together, the
   * position and equity texts are written once, with their newest values. */
  private receiveAll(messages: ReplayMessage[]): void {
    let bars: ReplayBar[] = [];
    const texts: { position?: string; equity?: string } = {};
    for (const message of messages) {
      if (message.type === "bar") {
        bars.push(message);
        continue;
      }
      // a fill's mark needs its bar on the chart; a history replaces the bars before it
      if (bars.length > 0 && (message.type === "fill" || message.type === "history")) {
        this.view.push(bars);
        bars = [];
      }
      this.receive(message, texts);
    }
    if (bars.length > 0) this.view.push(bars);
    if (texts.position !== undefined) setText(this.position, texts.position);
    if (texts.equity !== undefined) setText(this.equity, texts.equity);
  }

  private receive(
    message: Exclude<ReplayMessage, { type: "bar" }>,
    texts: { position?: string; equity?: string },
  ): void {
    switch (message.type) {
      case "history":
        this.view.begin(toChartBars(message));
        this.status.textContent = "";
        break;
      case "fill":
        this.view.mark({
          time: message.time,
          kind: message.units > 0 ? "buy" : "sell",
          text: `${message.units > 0 ? "buy" : "sell"} ${Math.abs(message.units)} @ ${message.price}`,
        });
        break;
      case "position":
        texts.position =
          message.units === 0
            ? "flat"
            : `${message.units > 0 ? "long" : "short"} ${Math.abs(message.units)} @ ${message.average_price.toFixed(5)}`;
        break;
      case "exits":
        this.view.exits(message.exits);
        break;
      case "jumped":
        this.status.textContent = jumpNotice(message);
        break;
      case "equity":
        texts.equity = formatMoney(message.equity);
        break;
      case "state":
        this.playing = message.playing;
        this.render();
        break;
      case "finished":
        this.status.textContent = `Replay saved as run ${message.run_id}: ${formatPercent(message.stats.total_return_pct)}, ${String(message.stats.total_trades ?? 0)} trades`;
        this.playing = false;
        this.render();
        break;
      case "error":
        this.status.textContent = `Error: ${message.message}`;
        break;
      default:
        break;
    }
  }

  private render(): void {
    const live = this.connection !== null;
    const set = (name: string, disabled: boolean): void => {
      const target = this.buttons[name];
      if (target !== undefined) target.disabled = disabled;
    };
    set("play", live && this.playing);
    set("pause", !live || !this.playing);
    set("buy", !live);
    set("sell", !live);
    set("stop", !live);
    set("jump", !live);
    this.from.disabled = live;
    this.withStrategy.disabled = live;
  }
}

/** Writes only a changed text: an unchanged one would still cost a layout. */
function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/** What the trader is told after a jump; a jump back says what it undid. */
export function jumpNotice(message: {
  time: number;
  backwards: boolean;
  discarded_orders: number;
}): string {
  const at = new Date(message.time * 1000).toISOString().slice(0, 16).replace("T", " ");
  if (!message.backwards) return `Jumped to ${at} UTC`;
  const undone = message.discarded_orders;
  return (
    `Jumped back to ${at} UTC: the replay restarted from there` +
    (undone > 0
      ? `; ${undone} hand order${undone === 1 ? "" : "s"} placed after it ${undone === 1 ? "was" : "were"} discarded`
      : "")
  );
}
