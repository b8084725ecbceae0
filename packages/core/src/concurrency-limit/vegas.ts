import type { LatencyWindow, LimitAlgorithm } from './window.js';

/** The options of `adaptive({ algorithm: 'vegas' })`, after defaults. */
export interface VegasSettings {
  /** Below this many queued calls (estimated) the limit grows. */
  readonly alpha: number;
  /** Above this many queued calls (estimated) the limit shrinks. */
  readonly beta: number;
  /** After this many windows in a row at `min`, the no-load latency is measured afresh (it may have moved). */
  readonly probe: number;
  /** The lowest the limit goes. */
  readonly min: number;
}

/**
 * Delay-based, after TCP Vegas: the lowest latency seen is the dependency's
 * latency without load, so a window's excess over it tells how many of the
 * calls in flight were queueing rather than served:
 * `queue = limit × (1 − noLoad / latency)`. Fewer than `alpha` queued: the
 * dependency has room, the limit grows (by `log10(limit)`, at least 1, and
 * only when it was used); more than `beta`: it shrinks by as much. A drop
 * shrinks it too. The no-load latency is re-measured only when the limit has
 * sat at `min` for `probe` windows (as Envoy's gradient controller does): a
 * dependency whose latency rose for good is not held to its old best, yet a
 * sustained queue, which also raises latency, is never mistaken for a new
 * normal (periodic re-measuring under load lets the limit drift upward).
 */
export class Vegas implements LimitAlgorithm {
  #noLoad = Infinity;
  #atMin = 0;

  constructor(readonly settings: VegasSettings) {}

  next(limit: number, window: LatencyWindow): number {
    const step = Math.max(1, Math.log10(limit));
    if (window.dropped) return limit - step;
    const latency = window.latency;
    if (limit > this.settings.min) this.#atMin = 0;
    else if (++this.#atMin >= this.settings.probe) {
      this.#atMin = 0;
      this.#noLoad = latency;
    }
    if (latency < this.#noLoad) this.#noLoad = latency;
    const queue = latency > 0 ? limit * (1 - this.#noLoad / latency) : 0;
    if (queue > this.settings.beta) return limit - step;
    if (queue < this.settings.alpha && window.inflight * 2 >= limit) return limit + step;
    return limit;
  }
}
