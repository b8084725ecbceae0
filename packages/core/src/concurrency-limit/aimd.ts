import type { LatencyWindow, LimitAlgorithm } from './window.js';

/** The options of `adaptive({ algorithm: 'aimd' })`, after defaults. */
export interface AimdSettings {
  /** The factor the limit is multiplied by on congestion, in (0, 1). */
  readonly backoff: number;
  /** A window whose average latency exceeds this many ms counts as congestion (Infinity: only drops do). */
  readonly latency: number;
}

/**
 * Additive increase, multiplicative decrease (TCP Reno's rule, as Netflix's
 * AIMD limit applies it to concurrency): a window with a drop, or slower than
 * `latency`, multiplies the limit by `backoff`; any other window adds 1, but
 * only when the limit was actually used (at least half of it in flight), so a
 * quiet period does not inflate it.
 */
export class Aimd implements LimitAlgorithm {
  constructor(readonly settings: AimdSettings) {}

  next(limit: number, window: LatencyWindow): number {
    if (window.dropped || window.latency > this.settings.latency) return limit * this.settings.backoff;
    return window.inflight * 2 >= limit ? limit + 1 : limit;
  }
}
