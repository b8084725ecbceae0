/**
 * Real I/O in flight, by id: what a test on a virtual clock waits for before it moves time.
 *
 * The examples talk to real servers (an HTTP server on 127.0.0.1, PostgreSQL) while their
 * policies sleep on a clock. In the demo that clock is the system clock and nothing reads this.
 * In tests the clock is virtual, and it may only move once no request or query is travelling;
 * otherwise a timer could fire "before" a response that is really a few microseconds away.
 * A client marks a request `start` → `finish`; the in-process server `park`s it while it sleeps
 * on the clock (injected latency: it waits for time, not for I/O) and `resume`s it to answer.
 */
export class Activity {
  readonly #parked = new Set<string>();
  readonly #busy = new Set<string>();
  readonly #finished = new Set<string>();
  #waiters: (() => void)[] = [];

  /** A request or query started travelling. */
  start(id: string): void {
    if (!this.#finished.has(id)) this.#busy.add(id);
  }

  /** The server holds the request on the clock. */
  park(id: string): void {
    if (this.#busy.delete(id)) this.#parked.add(id);
    this.#wake();
  }

  /** The server answers a parked request: its response is travelling now. */
  resume(id: string): void {
    if (this.#parked.delete(id)) this.#busy.add(id);
  }

  /** The request settled (answered, failed or abandoned); later calls about it are ignored. */
  finish(id: string): void {
    this.#finished.add(id);
    this.#parked.delete(id);
    this.#busy.delete(id);
    this.#wake();
  }

  /** True when nothing is travelling. */
  get idle(): boolean {
    return this.#busy.size === 0;
  }

  /** Resolves once nothing is travelling (at once if nothing is). */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    if (this.idle) for (const wake of this.#waiters.splice(0)) wake();
  }
}

/** Tracks nothing: what the examples use outside tests. */
export const untracked: Pick<Activity, 'start' | 'park' | 'resume' | 'finish'> = {
  start: () => undefined,
  park: () => undefined,
  resume: () => undefined,
  finish: () => undefined,
};

/** What an example needs from an {@link Activity}. */
export type ActivityTracker = Pick<Activity, 'start' | 'park' | 'resume' | 'finish'>;
