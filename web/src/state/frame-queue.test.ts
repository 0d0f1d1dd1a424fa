import { afterEach, describe, expect, it, vi } from "vitest";
import { FrameQueue, nextFrame } from "./frame-queue";

function manualFrames() {
  let due: (() => void)[] = [];
  return {
    scheduled: () => due.length,
    schedule: (callback: () => void) => due.push(callback),
    frame: () => {
      const now = due;
      due = [];
      for (const callback of now) callback();
    },
  };
}

describe("FrameQueue", () => {
  it("applies everything pushed between two frames once, in arrival order", () => {
    const frames = manualFrames();
    const applied: number[][] = [];
    const queue = new FrameQueue<number>((items) => applied.push(items), frames.schedule);
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(frames.scheduled()).toBe(1); // one flush per frame, however many items
    expect(applied).toEqual([]);
    frames.frame();
    expect(applied).toEqual([[1, 2, 3]]);
    queue.push(4);
    frames.frame();
    frames.frame(); // nothing queued: nothing applied
    expect(applied).toEqual([[1, 2, 3], [4]]);
  });

  it("forgets what was queued when cleared, and a flush scheduled before does nothing", () => {
    const frames = manualFrames();
    const applied: string[][] = [];
    const queue = new FrameQueue<string>((items) => applied.push(items), frames.schedule);
    queue.push("old");
    queue.clear();
    queue.push("new");
    expect(queue.pending).toBe(1);
    frames.frame();
    expect(applied).toEqual([["new"]]);
  });

  it("applies items pushed while it applies in the next frame", () => {
    const frames = manualFrames();
    const applied: number[][] = [];
    const queue: FrameQueue<number> = new FrameQueue((items) => {
      applied.push(items);
      if (items[0] === 1) queue.push(2);
    }, frames.schedule);
    queue.push(1);
    frames.frame();
    expect(applied).toEqual([[1]]);
    frames.frame();
    expect(applied).toEqual([[1], [2]]);
  });
});

describe("nextFrame", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs the callback once: on the animation frame or, in a hidden tab, on the timer", () => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "requestAnimationFrame", "cancelAnimationFrame"],
    });
    const calls: string[] = [];
    nextFrame(() => calls.push("a"));
    vi.advanceTimersByTime(20); // a frame passes
    expect(calls).toEqual(["a"]);
    vi.advanceTimersByTime(500); // the timer was cancelled
    expect(calls).toEqual(["a"]);
  });
});
