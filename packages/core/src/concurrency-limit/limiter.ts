import { limitAlgorithm, type ResolvedAdaptiveLimit } from './adaptive.js';
import type { LimitAlgorithm } from './window.js';

/**
 * One bulkhead's adaptive limit, live: it folds the timed calls that settle
 * into windows of `window` calls and, after each, asks the algorithm for the
 * next limit, kept within [`min`, `max`]. The limit the bulkhead enforces is
 * the whole part of it (the algorithms move it in fractions). One call in
 * `sample` is timed; a drop (timeout, overload rejection) counts for its
 * window whether its call was timed or not.
 */
export class ConcurrencyLimiter {
  /** The whole limit now, what the bulkhead admits against. */
  limit: number;
  readonly #settings: ResolvedAdaptiveLimit;
  readonly #algorithm: LimitAlgorithm;
  #estimate: number;
  #calls = 0;
  #measured = 0;
  #latencySum = 0;
  #inflight = 0;
  #dropped = false;
  // Calls until the next one is timed: the first call is.
  #untilTimed = 1;

  constructor(settings: ResolvedAdaptiveLimit) {
    this.#settings = settings;
    this.#algorithm = limitAlgorithm(settings);
    this.#estimate = settings.initial;
    this.limit = settings.initial;
  }

  /** Whether the call starting now is timed: one in `sample` (a count, so no clock is read to decide). */
  timesNext(): boolean {
    if (--this.#untilTimed > 0) return false;
    this.#untilTimed = this.#settings.sample;
    return true;
  }

  /** An untimed call failed; `dropped`: it timed out or was rejected for overload, which the window keeps. */
  noteDrop(dropped: boolean): void {
    if (dropped) this.#dropped = true;
  }

  /**
   * One call settled after `latency` ms, having started with `inflight` calls
   * in flight (itself included); `dropped`: it timed out or was rejected for
   * overload (its latency says nothing then). Returns true when `limit` changed.
   */
  record(latency: number, inflight: number, dropped: boolean): boolean {
    this.#calls++;
    if (inflight > this.#inflight) this.#inflight = inflight;
    if (dropped) this.#dropped = true;
    else {
      this.#measured++;
      this.#latencySum += latency;
    }
    if (this.#calls < this.#settings.window) return false;
    const window = {
      latency: this.#measured > 0 ? this.#latencySum / this.#measured : NaN,
      inflight: this.#inflight,
      dropped: this.#dropped,
    };
    this.#calls = this.#measured = this.#latencySum = this.#inflight = 0;
    this.#dropped = false;
    const { min, max } = this.#settings;
    const next = this.#algorithm.next(this.#estimate, window);
    // NaN (a window of no measurable latency) leaves the estimate where it was.
    this.#estimate = next >= max ? max : next <= min ? min : Number.isNaN(next) ? this.#estimate : next;
    // A tiny margin, so that 9.999999999 (10 × 0.9 ÷ 0.9) counts as 10.
    const whole = Math.floor(this.#estimate + 1e-9);
    if (whole === this.limit) return false;
    this.limit = whole;
    return true;
  }
}
