/** How many recent latencies a window keeps. */
export const LATENCY_SAMPLES = 128;
/** Fewer samples than this say nothing yet: the percentile is not used before. */
export const MIN_LATENCY_SAMPLES = 16;
// The percentile is sorted out again after this many new samples, not on every call (a sort of the
// window costs a few µs): it follows the latencies with a lag of at most this many calls.
const RESORT_EVERY = 16;

/**
 * The latencies of the last {@link LATENCY_SAMPLES} calls, in a fixed ring (bounded memory, nothing
 * allocated per sample), and a percentile of them, recomputed every few samples.
 */
export class LatencyWindow {
  readonly #ring = new Float64Array(LATENCY_SAMPLES);
  readonly #sorted = new Float64Array(LATENCY_SAMPLES);
  readonly #percentile: number;
  #count = 0;
  #next = 0;
  #sinceSort = 0;
  #value = NaN;

  /** `percentile` in (0, 100]. */
  constructor(percentile: number) {
    this.#percentile = percentile;
  }

  /** Records one latency, ms. */
  add(ms: number): void {
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % LATENCY_SAMPLES;
    if (this.#count < LATENCY_SAMPLES) this.#count++;
    if (++this.#sinceSort >= RESORT_EVERY || this.#count === MIN_LATENCY_SAMPLES) this.#sort();
  }

  /** The percentile of the recent latencies, ms; NaN while fewer than {@link MIN_LATENCY_SAMPLES} were recorded. */
  get value(): number {
    return this.#value;
  }

  #sort(): void {
    this.#sinceSort = 0;
    const count = this.#count;
    if (count < MIN_LATENCY_SAMPLES) return;
    const sorted = this.#sorted.subarray(0, count);
    sorted.set(this.#ring.subarray(0, count));
    sorted.sort();
    // The nearest-rank percentile: the smallest sample at least `percentile` % of the samples do not exceed.
    const rank = Math.ceil((this.#percentile / 100) * count);
    this.#value = sorted[Math.min(Math.max(rank, 1), count) - 1] as number;
  }
}
