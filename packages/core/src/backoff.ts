import type { RandomSource } from './random.js';
import { invalidOption, nonNegative } from './validation.js';

/**
 * A wait strategy: how long to wait before retry number `retry` (1 for the
 * wait after the first attempt), given the previous wait (0 before the first).
 * Positional arguments keep the per-retry path allocation-free. Any object
 * with a `kind` and a `delay` method will do.
 */
export interface Backoff {
  /** What kind of backoff this is, for metadata readers (`'constant'`, `'exponential'`, …). */
  readonly kind: string;
  /** Milliseconds to wait before retry number `retry`. */
  delay(retry: number, previousDelay: number): number;
}

/** A wait option: a fixed number of milliseconds (the fast path) or a {@link Backoff}. */
export type Wait = number | Backoff;

/** The same wait every time. */
export interface ConstantBackoff extends Backoff {
  readonly kind: 'constant';
  readonly ms: number;
}

/** `initial`, then `step` more for each retry, at most `max`. */
export interface LinearBackoff extends Backoff {
  readonly kind: 'linear';
  readonly initial: number;
  readonly step: number;
  readonly max: number;
}

/** `initial × factor^(retry − 1)`, at most `max`. */
export interface ExponentialBackoff extends Backoff {
  readonly kind: 'exponential';
  readonly initial: number;
  readonly factor: number;
  readonly max: number;
}

/** A uniformly random wait between 0 and what `base` says ("full jitter"). */
export interface FullJitterBackoff extends Backoff {
  readonly kind: 'fullJitter';
  readonly base: Backoff;
  readonly random: RandomSource;
}

/** AWS "decorrelated jitter": random between `initial` and 3 × the previous wait, at most `max`. */
export interface DecorrelatedJitterBackoff extends Backoff {
  readonly kind: 'decorrelatedJitter';
  readonly initial: number;
  readonly max: number;
  readonly random: RandomSource;
}

/** Options of {@link linearBackoff}. */
export interface LinearBackoffOptions {
  /** First wait, ms (default 1,000). */
  readonly initial?: number | undefined;
  /** Added for each further retry, ms (default `initial`). */
  readonly step?: number | undefined;
  /** Cap, ms (default 30,000). */
  readonly max?: number | undefined;
}

/** Options of {@link exponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /** First wait, ms (default 100). */
  readonly initial?: number | undefined;
  /** Growth per retry (default 2, must be >= 1). */
  readonly factor?: number | undefined;
  /** Cap, ms (default 30,000). */
  readonly max?: number | undefined;
}

/** Options of {@link decorrelatedJitter}. */
export interface DecorrelatedJitterOptions {
  /** Smallest wait, ms (default 100). */
  readonly initial?: number | undefined;
  /** Cap, ms (default 30,000). */
  readonly max?: number | undefined;
  /** Uniform source in [0, 1) (default `Math.random`; `seededRandom(n)` for reproducible tests). */
  readonly random?: RandomSource | undefined;
}

/** The defaults of every backoff, stated once. */
export const backoffDefaults = Object.freeze({
  linear: Object.freeze({ initial: 1_000, max: 30_000 }),
  exponential: Object.freeze({ initial: 100, factor: 2, max: 30_000 }),
  decorrelatedJitter: Object.freeze({ initial: 100, max: 30_000 }),
});

/** Waits `ms` before every retry (the same as passing the number). */
export function constantBackoff(ms: number): ConstantBackoff {
  const wait = nonNegative('constantBackoff', 'ms', ms, false);
  return Object.freeze({ kind: 'constant', ms: wait, delay: () => wait });
}

/** Waits `initial`, `initial + step`, `initial + 2 × step`, … capped at `max`. */
export function linearBackoff(options: LinearBackoffOptions = {}): LinearBackoff {
  const initial = nonNegative('linearBackoff', 'initial', options.initial ?? backoffDefaults.linear.initial, false);
  const step = nonNegative('linearBackoff', 'step', options.step ?? initial, false);
  const max = nonNegative('linearBackoff', 'max', options.max ?? backoffDefaults.linear.max);
  return Object.freeze({
    kind: 'linear',
    initial,
    step,
    max,
    delay: (retry: number) => Math.min(max, initial + step * (retry - 1)),
  });
}

/** Waits `initial`, `initial × factor`, `initial × factor²`, … capped at `max`. */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): ExponentialBackoff {
  const defaults = backoffDefaults.exponential;
  const initial = nonNegative('exponentialBackoff', 'initial', options.initial ?? defaults.initial, false);
  const factor = nonNegative('exponentialBackoff', 'factor', options.factor ?? defaults.factor, false);
  if (factor < 1) invalidOption('exponentialBackoff', 'factor', 'a number >= 1', factor, RangeError);
  const max = nonNegative('exponentialBackoff', 'max', options.max ?? defaults.max);
  return Object.freeze({
    kind: 'exponential',
    initial,
    factor,
    max,
    // `initial × Infinity` is NaN when initial is 0, hence the guard; NaN < max is false, so overflow caps.
    delay: (retry: number) => {
      if (initial === 0) return 0;
      const wait = initial * factor ** (retry - 1);
      return wait < max ? wait : max;
    },
  });
}

/** Waits a uniformly random time between 0 and what `base` says (AWS "full jitter"). */
export function fullJitter(base: Backoff, random: RandomSource = Math.random): FullJitterBackoff {
  if (!isBackoff(base)) invalidOption('fullJitter', 'base', 'a Backoff', base);
  if (typeof random !== 'function') invalidOption('fullJitter', 'random', 'a function', random);
  return Object.freeze({
    kind: 'fullJitter',
    base,
    random,
    delay: (retry: number, previousDelay: number) => random() * base.delay(retry, previousDelay),
  });
}

/**
 * AWS "decorrelated jitter": each wait is random between `initial` and three
 * times the previous wait, capped at `max`. Spreads retries of many clients
 * while still growing.
 */
export function decorrelatedJitter(options: DecorrelatedJitterOptions = {}): DecorrelatedJitterBackoff {
  const defaults = backoffDefaults.decorrelatedJitter;
  const initial = nonNegative('decorrelatedJitter', 'initial', options.initial ?? defaults.initial, false);
  const max = nonNegative('decorrelatedJitter', 'max', options.max ?? defaults.max);
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') invalidOption('decorrelatedJitter', 'random', 'a function', random);
  return Object.freeze({
    kind: 'decorrelatedJitter',
    initial,
    max,
    random,
    delay: (_retry: number, previousDelay: number) => {
      const previous = previousDelay > initial ? previousDelay : initial;
      return Math.min(max, initial + random() * (previous * 3 - initial));
    },
  });
}

/** True for an object usable as a {@link Backoff}. */
export function isBackoff(value: unknown): value is Backoff {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Backoff>).delay === 'function';
}

/** Validates a wait option once, at policy creation. */
export function toWait(policy: string, option: string, value: unknown): Wait {
  if (isBackoff(value)) return value;
  if (typeof value !== 'number') invalidOption(policy, option, 'a number of milliseconds or a Backoff', value);
  return nonNegative(policy, option, value, false);
}

/**
 * The wait before retry number `retry`: `ms` when the option was a number (no
 * call at all), else what the backoff says; a negative or NaN answer counts as 0.
 */
export function waitBefore(wait: Wait, retry: number, previousDelay: number): number {
  if (typeof wait === 'number') return wait;
  const ms = wait.delay(retry, previousDelay);
  return ms > 0 ? ms : 0;
}
