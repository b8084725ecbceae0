import { sleepWith, type Clock, type TimerHandle } from '../clock.js';

interface VirtualTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
}

/**
 * A clock that only moves when told to. Give it to a policy (`{ clock }`) or
 * to every policy (`setDefaultClock`), then drive time with {@link VirtualClock.advance}.
 *
 * @example
 * const clock = new VirtualClock();
 * const result = retry(flaky, Error, { times: 3, interval: 1_000, clock });
 * await clock.advance(2_000);
 * await result;
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: VirtualTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith(this, ms, signal);
  }

  schedule(ms: number, callback: () => void): TimerHandle {
    const timer: VirtualTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, callback };
    this.#timers.push(timer);
    return timer;
  }

  cancel(timer: TimerHandle): void {
    const index = this.#timers.indexOf(timer as VirtualTimer);
    if (index !== -1) this.#timers.splice(index, 1);
  }

  /** How many timers are waiting: zero once every policy has settled. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order (ties in the order
   * they were set) and letting promise callbacks run after each one, so code
   * that sleeps in a loop makes progress.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advance: expected ms >= 0, got ${ms}`);
    const target = this.#now + ms;
    await settle();
    for (let next = this.#nextDue(target); next !== undefined; next = this.#nextDue(target)) {
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#now = next.at;
      next.callback();
      await settle();
    }
    this.#now = target;
  }

  /** Advances to the last pending timer (and any it sets), at most `limit` ms. */
  async runAll(limit = 3_600_000): Promise<void> {
    const end = this.#now + limit;
    await settle();
    while (this.#timers.length > 0) {
      const next = this.#nextDue(end);
      if (next === undefined) break;
      await this.advance(next.at - this.#now);
    }
  }

  /** Lets pending promise callbacks run without moving time. */
  flush(): Promise<void> {
    return settle();
  }

  #nextDue(limit: number): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    for (const timer of this.#timers) {
      if (
        timer.at <= limit &&
        (best === undefined || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq))
      ) {
        best = timer;
      }
    }
    return best;
  }
}

// A macrotask turn drains every queued microtask, however deep the await chain.
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
