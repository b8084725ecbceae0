import type { AttemptContext } from './attempt.js';
import {
  AttemptPolicy,
  DONE,
  EXHAUSTED,
  NOT_RETRYABLE,
  runOnce,
  toClock,
  type ClockOption,
  type Decision,
  type SignalOption,
} from './attempt-loop.js';
import { toWait, waitBefore, type Wait } from './backoff.js';
import type { Clock } from './clock.js';
import { anyError, toErrorMatcher, type ErrorFilter, type ErrorMatcher } from './error-filter.js';
import { reportCallbackError } from './report-callback-error.js';
import { toBudget, type RetryBudget } from './retry-budget.js';
import { invalidOption, optionalErrorFilter, optionalFunction } from './validation.js';
import { registered } from './registry.js';

/** Options of {@link retry} / {@link retryPolicy}. */
export interface RetryOptions extends ClockOption {
  /** Total number of calls, the first included; `<= 1` means exactly one call (default 3). */
  readonly times?: number | undefined;
  /** Wait between calls: ms or a {@link Backoff} (default 1,000). */
  readonly interval?: Wait | undefined;
  /**
   * Called for every error `fn` throws, retried or not, with the number of previous attempts (0 for the first).
   * An error it throws is reported as a process warning and changes nothing for the call.
   */
  readonly onError?: ((error: unknown, previousAttempts: number) => void) | undefined;
  /**
   * A {@link retryBudget} shared with other policies: every call deposits, every retry withdraws, and a
   * retry it refuses ends the call with the last error (give-up reason `'budget'`).
   */
  readonly budget?: RetryBudget | undefined;
}

/** {@link RetryOptions} with the error filter inside: `retryPolicy({ on, times })`. */
export interface RetryOptionsWithFilter extends RetryOptions {
  /** Which errors are retried (default: every error). */
  readonly on?: ErrorFilter | undefined;
}

/** A retry policy's resolved, frozen options. */
export interface ResolvedRetryOptions {
  /** As given (an array copied and frozen); `undefined` retries every error. */
  readonly on: ErrorFilter | undefined;
  readonly times: number;
  readonly interval: Wait;
  readonly onError: ((error: unknown, previousAttempts: number) => void) | undefined;
  readonly clock: Clock | undefined;
  readonly budget: RetryBudget | undefined;
}

/** The defaults of {@link retry}, stated once. */
export const retryDefaults = Object.freeze({ times: 3, interval: 1_000 });

/**
 * Calls `fn` until it succeeds, up to `times` calls `interval` ms apart,
 * retrying errors that match `on` (every error when omitted); then re-throws
 * the last error unchanged. A non-matching error is re-thrown at once.
 *
 * @example
 * const receipt = await retry(() => charge(id), HttpError, { times: 3, interval: 200 });
 */
export function retry<T>(
  fn: (context: AttemptContext) => T | PromiseLike<T>,
  on?: ErrorFilter | (RetryOptionsWithFilter & SignalOption),
  options?: RetryOptions & SignalOption,
): Promise<T> {
  let resolved: ResolvedRetryOptions;
  try {
    resolved = resolveRetryOptions(on, options, false);
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a validation TypeError/RangeError, as thrown
    return Promise.reject(error);
  }
  const signal = isOptions(on) ? on.signal : options?.signal;
  // Options are validated either way; the policy itself is only built when a signal or a failure needs it.
  // A budget counts every call: such a call runs in a policy from the start.
  if (signal !== undefined || resolved.budget !== undefined) return new RetryPolicy(resolved).execute(fn, signal);
  return runOnce(fn, retryFromResolved, resolved) as Promise<T>;
}

/** A reusable retry policy: options resolved and validated once, here. */
export function retryPolicy(on?: ErrorFilter | RetryOptionsWithFilter, options?: RetryOptions): RetryPolicy {
  return registered(new RetryPolicy(on, options), 'retry');
}

/** Retries matching errors up to `times` calls in all; see {@link retryPolicy}. */
export class RetryPolicy extends AttemptPolicy {
  readonly kind = 'retry';
  readonly options: ResolvedRetryOptions;
  readonly #matches: ErrorMatcher;
  readonly #times: number;
  readonly #interval: Wait;
  readonly #onError: ((error: unknown, previousAttempts: number) => void) | undefined;

  constructor(on?: ErrorFilter | RetryOptionsWithFilter, options?: RetryOptions) {
    const resolved = resolveRetryOptions(on, options);
    super({
      clock: resolved.clock,
      attemptTimeout: Infinity,
      deadline: Infinity,
      yieldOnZeroWait: resolved.times === Infinity,
      resolvesEveryValue: true,
      budget: resolved.budget,
    });
    this.options = resolved;
    this.#matches = toErrorMatcher(resolved.on, anyError);
    this.#times = resolved.times;
    this.#interval = resolved.interval;
    this.#onError = resolved.onError;
  }

  protected afterValue(): Decision {
    return DONE;
  }

  protected afterError(error: unknown, attempt: number, _timedOut: boolean, previousDelay: number): Decision {
    const onError = this.#onError;
    if (onError !== undefined) {
      try {
        onError(error, attempt - 1);
      } catch (hookError) {
        // A broken hook must not replace the caller's error nor change the decision: reported, as a listener's.
        reportCallbackError(hookError, 'staunch: the `onError` hook of retry');
      }
    }
    if (!this.#matches(error)) return NOT_RETRYABLE;
    // No wait after the last call: the loop only waits when the rule asks for another attempt.
    if (attempt >= this.#times) return EXHAUSTED;
    return waitBefore(this.#interval, attempt, previousDelay);
  }
}

// A resolved options object is itself a valid `RetryOptionsWithFilter` (resolved again, and frozen, here).
function retryFromResolved(resolved: ResolvedRetryOptions): RetryPolicy {
  return new RetryPolicy(resolved);
}

function resolveRetryOptions(
  on: ErrorFilter | RetryOptionsWithFilter | undefined,
  options: RetryOptions | undefined,
  frozen = true,
): ResolvedRetryOptions {
  let filter: unknown = on;
  let opts: RetryOptionsWithFilter = options ?? {};
  if (isOptions(on)) {
    if (options !== undefined) invalidOption('retry', 'on', 'an error filter when options follow', on);
    opts = on;
    filter = on.on;
  } else if (options !== undefined && (typeof options !== 'object' || (options as unknown) === null)) {
    invalidOption('retry', 'options', 'an object', options);
  }
  // The usual call (no filter, a plain number of ms, no hook, clock or budget) skips the validators: never
  // reached, they stay out of the one-shot `retry()`'s optimized code, whose inlining budget they would
  // otherwise spend, leaving the first attempt's calls out of line in about half the processes (~8% per call).
  if (filter !== undefined) filter = optionalErrorFilter('retry', 'on', filter);
  const times: unknown = opts.times ?? retryDefaults.times;
  if (typeof times !== 'number' || !(Number.isInteger(times) || times === Infinity)) {
    invalidOption('retry', 'times', 'an integer (the total number of calls) or Infinity', times, RangeError);
  }
  const interval: unknown = opts.interval ?? retryDefaults.interval;
  const onError = opts.onError;
  const clock = opts.clock;
  const budget = opts.budget;
  const resolved: ResolvedRetryOptions = {
    on: filter as ErrorFilter | undefined,
    times: times,
    interval: isPlainWait(interval) ? interval : toWait('retry', 'interval', interval),
    onError: onError === undefined ? undefined : optionalFunction('retry', 'onError', onError),
    clock: clock === undefined ? undefined : toClock('retry', clock),
    budget: budget === undefined ? undefined : toBudget('retry', budget),
  };
  // A one-shot `retry()` keeps its copy private, so it skips the (measurably slow) freeze.
  return frozen ? Object.freeze(resolved) : resolved;
}

/** A finite number of ms >= 0: what {@link toWait} accepts as a number, checked inline. */
function isPlainWait(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value < Infinity;
}

/** A plain options object, as opposed to an error filter (a class, an array or a predicate). */
export function isOptions<O extends object>(value: ErrorFilter | O | null | undefined): value is O {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
