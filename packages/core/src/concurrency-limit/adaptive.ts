import { integerAtLeast, invalidOption, nonNegative } from '../validation.js';
import { Aimd } from './aimd.js';
import { Gradient2 } from './gradient2.js';
import { Vegas } from './vegas.js';
import type { LimitAlgorithm } from './window.js';

/** What every adaptive limit takes. */
export interface AdaptiveLimitBaseOptions {
  /** The lowest the limit goes: an integer >= 1 (default 1). */
  readonly min?: number | undefined;
  /** The highest the limit goes: an integer >= `min` (default 100). */
  readonly max?: number | undefined;
  /** The limit before anything is measured: an integer in [`min`, `max`] (default 10, brought into that range). */
  readonly initial?: number | undefined;
  /** How many timed calls make one window: the limit moves at most once per window (an integer >= 1, default 10). */
  readonly window?: number | undefined;
  /**
   * Time one call in this many (an integer >= 1, default 16): reading a clock
   * costs more than a whole call through a bulkhead (~0.1–0.3 µs on Node 20),
   * and the latency of a sample tells as much as that of every call.
   */
  readonly sample?: number | undefined;
}

/** `adaptive({ algorithm: 'aimd' })`: additive increase, multiplicative decrease. */
export interface AimdLimitOptions extends AdaptiveLimitBaseOptions {
  readonly algorithm: 'aimd';
  /** What the limit is multiplied by on congestion, in (0, 1) (default 0.9). */
  readonly backoff?: number | undefined;
  /** A window slower than this many ms on average counts as congestion (default Infinity: only drops count). */
  readonly latency?: number | undefined;
}

/** `adaptive({ algorithm: 'vegas' })`: grows while few calls queue at the dependency, shrinks when many do. */
export interface VegasLimitOptions extends AdaptiveLimitBaseOptions {
  readonly algorithm: 'vegas';
  /** Fewer calls than this queueing (estimated): the limit grows (default 3). */
  readonly alpha?: number | undefined;
  /** More calls than this queueing (estimated): the limit shrinks; > `alpha` (default 6). */
  readonly beta?: number | undefined;
  /** After this many windows in a row at `min`, the latency without load is measured afresh (an integer >= 1, default 10). */
  readonly probe?: number | undefined;
}

/** `adaptive({ algorithm: 'gradient2' })`: follows the ratio of long-term to short-term latency. */
export interface Gradient2LimitOptions extends AdaptiveLimitBaseOptions {
  readonly algorithm: 'gradient2';
  /** How much slower than usual a window may be before the limit shrinks, >= 1 (default 1.5: 50 % slower). */
  readonly tolerance?: number | undefined;
  /** How far the limit moves toward its new estimate per window, in (0, 1] (default 0.2). */
  readonly smoothing?: number | undefined;
  /** Headroom: how many calls may queue at the dependency, >= 0 (default 4). */
  readonly queue?: number | undefined;
  /** How many windows the long-term latency averages over (an integer >= 1, default 100). */
  readonly longWindow?: number | undefined;
  /** After this many windows in a row at `min`, the long-term latency is taken afresh (an integer >= 1, default 10). */
  readonly probe?: number | undefined;
}

/** The options of {@link adaptive}, by algorithm. */
export type AdaptiveLimitOptions = AimdLimitOptions | VegasLimitOptions | Gradient2LimitOptions;

/** The algorithms {@link adaptive} offers. */
export type AdaptiveAlgorithm = AdaptiveLimitOptions['algorithm'];

/**
 * A concurrency limit that follows measured latency, for a bulkhead's
 * `limit`: made by {@link adaptive}. A description, not state: every bulkhead
 * given it (one per instance or key, with a scope) learns its own limit.
 */
export interface AdaptiveLimit {
  readonly kind: 'adaptive';
  /** The options as given (frozen); checked by the bulkhead that uses them. */
  readonly options: AdaptiveLimitOptions;
}

/** An adaptive limit's options, checked and completed with defaults (frozen). */
export type ResolvedAdaptiveLimit = {
  readonly kind: 'adaptive';
  readonly min: number;
  readonly max: number;
  readonly initial: number;
  readonly window: number;
  readonly sample: number;
} & (
  | { readonly algorithm: 'aimd'; readonly backoff: number; readonly latency: number }
  | { readonly algorithm: 'vegas'; readonly alpha: number; readonly beta: number; readonly probe: number }
  | {
      readonly algorithm: 'gradient2';
      readonly tolerance: number;
      readonly smoothing: number;
      readonly queue: number;
      readonly longWindow: number;
      readonly probe: number;
    }
);

/** The defaults of {@link adaptive}, stated once. */
export const adaptiveDefaults = Object.freeze({
  min: 1,
  max: 100,
  initial: 10,
  window: 10,
  sample: 16,
  aimd: Object.freeze({ backoff: 0.9, latency: Infinity }),
  vegas: Object.freeze({ alpha: 3, beta: 6, probe: 10 }),
  gradient2: Object.freeze({ tolerance: 1.5, smoothing: 0.2, queue: 4, longWindow: 100, probe: 10 }),
});

/**
 * A bulkhead limit that adapts to the dependency's latency (Netflix's
 * concurrency-limits algorithms, re-derived): the bulkhead times one call
 * in `sample` on its clock and moves its limit between `min` and `max` once
 * per `window` timed calls. The options are checked by the bulkhead that uses them (for
 * `@Bulkhead`, when the class is defined, naming the method).
 *
 * @example
 * const search = bulkheadPolicy({ limit: adaptive({ algorithm: 'vegas', min: 2, max: 50 }), queue: 100 });
 * const hits = await search.execute(() => index.query('staunch'));
 * search.statistics.limit; // where the limit stands now
 */
export function adaptive(options: AdaptiveLimitOptions): AdaptiveLimit {
  const own = typeof options === 'object' && (options as unknown) !== null ? Object.freeze({ ...options }) : options;
  return Object.freeze({ kind: 'adaptive', options: own });
}

/** True for what {@link adaptive} made (by shape: from either build of the package). */
export function isAdaptiveLimit(value: unknown): value is AdaptiveLimit {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'adaptive';
}

/** Checks `limit`'s options for `policy` (errors name `limit.<option>`), completing them with defaults. */
export function resolveAdaptiveLimit(
  policy: string,
  limit: AdaptiveLimit | ResolvedAdaptiveLimit,
): ResolvedAdaptiveLimit {
  // Another bulkhead's resolved limit (`policy.options.limit`) is checked as options too.
  const options: unknown = 'options' in limit ? limit.options : limit;
  if (typeof options !== 'object' || options === null) {
    invalidOption(policy, 'limit', 'adaptive({ algorithm, … }) with an options object', options);
  }
  const o = options as Partial<Record<string, unknown>>;
  const name = (option: string): string => `limit.${option}`;
  const min = integerAtLeast(policy, name('min'), o.min ?? adaptiveDefaults.min, 1);
  const max = integerAtLeast(policy, name('max'), o.max ?? Math.max(adaptiveDefaults.max, min), min);
  const initial = integerAtLeast(
    policy,
    name('initial'),
    o.initial ?? Math.min(max, Math.max(min, adaptiveDefaults.initial)),
    min,
  );
  if (initial > max) invalidOption(policy, name('initial'), `an integer in [${min}, ${max}]`, initial, RangeError);
  const window = integerAtLeast(policy, name('window'), o.window ?? adaptiveDefaults.window, 1);
  const sample = integerAtLeast(policy, name('sample'), o.sample ?? adaptiveDefaults.sample, 1);
  const base = { kind: 'adaptive', min, max, initial, window, sample } as const;
  switch (o.algorithm) {
    case 'aimd': {
      const backoff = fraction(policy, name('backoff'), o.backoff ?? adaptiveDefaults.aimd.backoff, false);
      const latency = nonNegative(policy, name('latency'), o.latency ?? adaptiveDefaults.aimd.latency);
      return Object.freeze({ ...base, algorithm: 'aimd', backoff, latency });
    }
    case 'vegas': {
      const alpha = nonNegative(policy, name('alpha'), o.alpha ?? adaptiveDefaults.vegas.alpha, false);
      const beta = nonNegative(policy, name('beta'), o.beta ?? Math.max(adaptiveDefaults.vegas.beta, alpha + 1), false);
      if (beta <= alpha) invalidOption(policy, name('beta'), `a number > alpha (${alpha})`, beta, RangeError);
      const probe = integerAtLeast(policy, name('probe'), o.probe ?? adaptiveDefaults.vegas.probe, 1);
      return Object.freeze({ ...base, algorithm: 'vegas', alpha, beta, probe });
    }
    case 'gradient2': {
      const defaults = adaptiveDefaults.gradient2;
      const tolerance = nonNegative(policy, name('tolerance'), o.tolerance ?? defaults.tolerance, false);
      if (tolerance < 1) invalidOption(policy, name('tolerance'), 'a number >= 1', tolerance, RangeError);
      const smoothing = fraction(policy, name('smoothing'), o.smoothing ?? defaults.smoothing, true);
      const queue = nonNegative(policy, name('queue'), o.queue ?? defaults.queue, false);
      const longWindow = integerAtLeast(policy, name('longWindow'), o.longWindow ?? defaults.longWindow, 1);
      const probe = integerAtLeast(policy, name('probe'), o.probe ?? defaults.probe, 1);
      return Object.freeze({ ...base, algorithm: 'gradient2', tolerance, smoothing, queue, longWindow, probe });
    }
    default:
      return invalidOption(policy, name('algorithm'), "'aimd', 'gradient2' or 'vegas'", o.algorithm);
  }
}

/** The algorithm a resolved adaptive limit names, with its settings. */
export function limitAlgorithm(resolved: ResolvedAdaptiveLimit): LimitAlgorithm {
  switch (resolved.algorithm) {
    case 'aimd':
      return new Aimd(resolved);
    case 'vegas':
      return new Vegas(resolved);
    case 'gradient2':
      return new Gradient2(resolved);
  }
}

// A number in (0, 1), or (0, 1] when `oneAllowed`.
function fraction(policy: string, option: string, value: unknown, oneAllowed: boolean): number {
  if (typeof value !== 'number' || Number.isNaN(value)) invalidOption(policy, option, 'a number', value);
  if (!(value > 0) || value > 1 || (value === 1 && !oneAllowed)) {
    invalidOption(policy, option, oneAllowed ? 'a number in (0, 1]' : 'a number in (0, 1)', value, RangeError);
  }
  return value;
}
