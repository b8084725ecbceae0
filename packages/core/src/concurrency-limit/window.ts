/**
 * What an adaptive limit learns from: the calls that settled since its last
 * update, summarised. The bulkhead measures each call (on its own clock) and
 * the limiter folds the samples into one window of `size` calls.
 */
export interface LatencyWindow {
  /** Average latency of the window's calls that were not dropped, ms (NaN when all were dropped). */
  readonly latency: number;
  /** The most calls in flight when one of the window's calls started (its own included). */
  readonly inflight: number;
  /** True when a call of the window was dropped: it timed out or was rejected for overload. */
  readonly dropped: boolean;
}

/**
 * One algorithm's rule: given the current limit (a real number, kept between
 * `min` and `max` by the caller) and the last window, the next limit.
 */
export interface LimitAlgorithm {
  next(limit: number, window: LatencyWindow): number;
}
