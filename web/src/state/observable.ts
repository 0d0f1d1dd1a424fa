// A value that tells its subscribers when it changes; every subscribe returns its unsubscribe.

export type Listener<T> = (value: T, previous: T) => void;

export class Observable<T extends object> {
  private value: T;
  private readonly listeners = new Set<Listener<T>>();

  constructor(initial: T) {
    this.value = initial;
  }

  get(): T {
    return this.value;
  }

  /** Merge `changes` into the value; listeners run only when something actually changed. */
  update(changes: Partial<T>): void {
    const previous = this.value;
    const next = { ...previous, ...changes };
    const changed = (Object.keys(changes) as (keyof T)[]).some(
      (key) => previous[key] !== next[key],
    );
    if (!changed) return;
    this.value = next;
    for (const listener of [...this.listeners]) listener(next, previous);
  }

  subscribe(listener: Listener<T>): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
