// Items that arrive between two frames, handed over together once per frame. A replay at
// 100 bars/s sends a few WebSocket messages per bar; drawing each one as it comes repaints the
// chart and relays the toolbar several times per frame. Applying them in one batch per frame
// keeps the main thread's work per frame bounded. Pure: the scheduler is injected.

/** Runs `callback` once, soon: before the next frame in a page (see `nextFrame`). */
export type Schedule = (callback: () => void) => void;

/**
 * Before the next frame; a timer as well, because hidden tabs run no animation frames and the
 * items would otherwise pile up until the tab is shown again. Whichever fires first flushes.
 */
export const nextFrame: Schedule = (callback) => {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    window.cancelAnimationFrame(frame);
    window.clearTimeout(timer);
    callback();
  };
  const frame = window.requestAnimationFrame(once);
  const timer = window.setTimeout(once, 250);
};

export class FrameQueue<T> {
  private items: T[] = [];
  private scheduled = false;
  private generation = 0; // a flush scheduled before clear() must not apply later items early

  constructor(
    private readonly apply: (items: T[]) => void,
    private readonly schedule: Schedule = nextFrame,
  ) {}

  /** Queue `item`; the first item of a frame schedules the flush. */
  push(item: T): void {
    this.items.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    const generation = this.generation;
    this.schedule(() => {
      if (generation === this.generation) this.flush();
    });
  }

  /** Apply what is queued now (in arrival order). */
  flush(): void {
    this.scheduled = false;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.apply(items);
  }

  /** Drop what is queued (the replay closed); a pending flush does nothing. */
  clear(): void {
    this.items = [];
    this.scheduled = false;
    this.generation += 1;
  }

  get pending(): number {
    return this.items.length;
  }
}
