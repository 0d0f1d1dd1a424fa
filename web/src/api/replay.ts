// The replay socket: commands to the server, its messages to the page. The access cookie travels
// with the WebSocket handshake, as with every request of this page.

import type { BarsPage, ErrorBody, RunStats } from "./types";

export interface ReplayStart {
  symbol: string;
  timeframe: string;
  start?: string | undefined;
  end?: string | undefined;
  source?: string | undefined;
  cash?: number;
  speed?: number;
  history?: number;
}

export type ExitLevelKind = "stop_loss" | "take_profit" | "trailing_stop";

export interface ReplayBar {
  time: number; // the bar's open time, UTC epoch seconds
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export type ReplayMessage =
  | { type: "ready"; symbol: string; timeframe: string; bars: number; position: number }
  | ({ type: "history" } & Pick<BarsPage, "time" | "open" | "high" | "low" | "close" | "volume">)
  | ({ type: "bar"; step: number } & ReplayBar)
  | { type: "equity"; time: number; equity: number; balance: number }
  | { type: "fill"; time: number; order_id: number; units: number; price: number }
  | { type: "order"; time: number; order_id: number; units: number; order_type: string }
  | { type: "cancelled"; time: number; order_id: number; status: string; reason: string }
  | { type: "position"; time: number; symbol: string; units: number; average_price: number }
  | { type: "exits"; time: number; exits: { kind: ExitLevelKind; price: number }[] }
  | { type: "jumped"; time: number; backwards: boolean; discarded_orders: number }
  | { type: "state"; playing: boolean; speed: number; position: number }
  | { type: "finished"; run_id: string; stats: RunStats }
  | ({ type: "error" } & ErrorBody);

export type ReplayCommand =
  | { type: "play" }
  | { type: "pause" }
  | { type: "step" }
  | { type: "stop" }
  | { type: "speed"; speed: number }
  | { type: "jump"; to: string }
  | { type: "order"; units: number; stop_loss_pips?: number; take_profit_pips?: number };

export class ReplayConnection {
  private readonly socket: WebSocket;
  private readonly queued: string[] = [];

  constructor(
    start: ReplayStart,
    onMessage: (message: ReplayMessage) => void,
    onClose: () => void,
    url = replayUrl(),
  ) {
    this.socket = new WebSocket(url);
    this.socket.addEventListener("open", () => {
      this.socket.send(JSON.stringify(start));
      for (const text of this.queued.splice(0)) this.socket.send(text);
    });
    this.socket.addEventListener("message", (event: MessageEvent<string>) => {
      onMessage(JSON.parse(event.data) as ReplayMessage);
    });
    this.socket.addEventListener("close", () => onClose());
  }

  send(command: ReplayCommand): void {
    const text = JSON.stringify(command);
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(text);
    else this.queued.push(text);
  }

  close(): void {
    this.socket.close();
  }
}

export function replayUrl(): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/api/replay`;
}
