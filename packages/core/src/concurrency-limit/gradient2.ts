import type { LatencyWindow, LimitAlgorithm } from './window.js';

/** The options of `adaptive({ algorithm: 'gradient2' })`, after defaults. */
export interface Gradient2Settings {
  /** How much slower than the long-term latency a window may be before the limit shrinks (e.g. 1.5: 50 %). */
  readonly tolerance: number;
  /** How far the limit moves toward its new estimate per window, in (0, 1]. */
  readonly smoothing: number;
  /** Headroom added to the estimate: how many calls may queue at the dependency. */
  readonly queue: number;
  /** How many windows the long-term average spans. */
  readonly longWindow: number;
  /** After this many windows in a row at `min`, the long-term latency is taken afresh (it may have moved). */
  readonly probe: number;
  /** The lowest the limit goes. */
  readonly min: number;
}

/**
 * Gradient-based, after Netflix's Gradient2: it compares the latency of the
 * last window (short term) with an exponential average over `longWindow`
 * windows (long term) rather than with a single minimum, which one outlier
 * sets. `gradient = clamp(tolerance × long / short, 0.5, 1)`: 1 while the
 * dependency keeps up, down to 0.5 when a queue builds. The new estimate is
 * `limit × gradient + queue`, approached by `smoothing` per window; it grows
 * only when the limit was used. Under load the limit settles where latency is
 * about `tolerance` times the long-term one (plus `queue`).
 *
 * Unlike Netflix's, the long-term average learns only from windows no slower
 * than itself: one that also averaged congested windows would follow the
 * queue it should detect, and the limit would drift upward under sustained
 * load. It is taken afresh when the limit has sat at `min` for `probe`
 * windows (the dependency's normal latency moved), and it falls fast when a
 * slowdown ends (the short term is under half of it), so the limit recovers.
 */
export class Gradient2 implements LimitAlgorithm {
  #long = NaN;
  #windows = 0;
  #atMin = 0;

  constructor(readonly settings: Gradient2Settings) {}

  next(limit: number, window: LatencyWindow): number {
    const { tolerance, smoothing, queue, longWindow } = this.settings;
    if (window.dropped) return limit * (1 - smoothing) + limit * 0.5 * smoothing;
    const short = window.latency;
    if (limit > this.settings.min) this.#atMin = 0;
    else if (++this.#atMin >= this.settings.probe) {
      this.#atMin = 0;
      this.#long = NaN;
      this.#windows = 0;
    }
    // The long-term average: a plain mean over the first windows, then exponential; fed by the
    // windows no slower than itself.
    if (Number.isNaN(this.#long)) {
      this.#long = short;
      this.#windows = 1;
    } else if (short <= this.#long) {
      this.#windows++;
      const weight = this.#windows <= longWindow ? 1 / this.#windows : 2 / (longWindow + 1);
      this.#long += (short - this.#long) * weight;
      // A slowdown that ended: the long term is more than twice the short term; let it catch up.
      if (this.#long > short * 2) this.#long = (this.#long + short) / 2;
    }
    const gradient = Math.max(0.5, Math.min(1, (tolerance * this.#long) / short));
    const estimate = limit * gradient + queue;
    if (estimate > limit && window.inflight * 2 < limit) return limit;
    return limit * (1 - smoothing) + estimate * smoothing;
  }
}
