import type { AttemptContext } from './attempt.js';
import {
  AttemptPolicy,
  DONE,
  EXHAUSTED,
  GIVE_UP,
  NOT_RETRYABLE,
  runOnce,
  runOnceTimed,
  toClock,
  toLimit,
  type ClockOption,
  type Decision,
  type SignalOption,
} from './attempt-loop.js';
import { toWait, waitBefore, type Wait } from './backoff.js';
import type { Clock } from './clock.js';
import { anyError, noError, toErrorMatcher, type ErrorFilter, type ErrorMatcher } from './error-filter.js';
import { toBudget, type RetryBudget } from './retry-budget.js';
import { integerAtLeast, invalidOption, optionalErrorFilter, optionalFunction } from './validation.js';
import { registered } from './registry.js';

/** Options of {@link asyncRetry} / {@link asyncRetryPolicy}. */
export interface AsyncRetryOptions extends ClockOption {
  /** Which errors are retried (asyncRetry: every error by default; asyncBackoff: none, only attempt timeouts). */
  readonly on?: ErrorFilter | undefined;
  /** Wait between attempts: ms or a {@link Backoff} (default 0). Never after the last attempt. */
  readonly pause?: Wait | undefined;
  /** Consulted for every retryable error (attempt timeouts included) once `maxTries` allows another attempt; truthy → stop and throw it. */
  readonly giveup?: ((error: unknown) => unknown) | undefined;
  /**
   * A {@link retryBudget} shared with other policies: every call deposits, every retry withdraws, and a
   * retry it refuses ends the call with the last error (give-up reason `'budget'`).
   */
  readonly budget?: RetryBudget | undefined;
}

/** Options of {@link asyncBackoff} / {@link asyncBackoffPolicy}. */
export interface AsyncBackoffOptions extends AsyncRetryOptions {
  /** Bound of one attempt, ms; past it the attempt is abandoned and retried. `null`/`undefined`/`Infinity`: none. */
  readonly attemptTimeout?: number | null | undefined;
  /** Bound of the whole call, attempts and pauses included, ms. `null`/`undefined`/`Infinity`: none. */
  readonly deadline?: number | null | undefined;
  /** Most attempts in all, timed-out ones included (>= 1; default Infinity). */
  readonly maxTries?: number | undefined;
}

/** An asyncBackoff / asyncRetry policy's resolved, frozen options (`undefined` limits mean none). */
export interface ResolvedAsyncBackoffOptions {
  readonly attemptTimeout: number | undefined;
  readonly deadline: number | undefined;
  readonly pause: Wait;
  /** As given (an array copied and frozen); `undefined` means every error for asyncRetry and none (timeouts only) for asyncBackoff. */
  readonly on: ErrorFilter | undefined;
  readonly maxTries: number;
  readonly giveup: ((error: unknown) => unknown) | undefined;
  readonly clock: Clock | undefined;
  readonly budget: RetryBudget | undefined;
}

/** The defaults of {@link asyncBackoff} and {@link asyncRetry}, stated once. */
export const asyncBackoffDefaults = Object.freeze({ pause: 0, maxTries: Infinity });

/**
 * aiomisc's `asyncbackoff`: bounds each attempt by `attemptTimeout` and the
 * whole call by `deadline`, waits `pause` between attempts, retries errors
 * matching `on` and always attempt timeouts, at most `maxTries` attempts,
 * unless `giveup(error)` says stop.
 *
 * @example
 * const rows = await asyncBackoff(({ signal }) => db.fetch({ signal }), {
 *   attemptTimeout: 500, deadline: 2_000, pause: 100, on: [ConnectionError],
 * });
 */
export function asyncBackoff<T>(
  fn: (context: AttemptContext) => T | PromiseLike<T>,
  options?: AsyncBackoffOptions & SignalOption,
): Promise<T> {
  return once('asyncBackoff', fn, options, undefined) as Promise<T>;
}

/** A reusable asyncBackoff policy: options resolved and validated once, here. */
export function asyncBackoffPolicy(options?: AsyncBackoffOptions): AsyncBackoffPolicy {
  const resolved = resolveAsyncBackoffOptions('asyncBackoff', options, undefined);
  return registered(new AsyncBackoffPolicy('asyncBackoff', resolved), 'asyncBackoff');
}

/**
 * aiomisc's `asyncretry`: asyncBackoff without `attemptTimeout` or `deadline`.
 * Retries every error by default; `maxTries` omitted or `Infinity` retries forever.
 *
 * @example
 * const file = await asyncRetry(() => download(url), 5, { on: ConnectionError, pause: 100 });
 */
export function asyncRetry<T>(
  fn: (context: AttemptContext) => T | PromiseLike<T>,
  maxTries?: number,
  options?: AsyncRetryOptions & SignalOption,
): Promise<T> {
  return once('asyncRetry', fn, options, maxTries) as Promise<T>;
}

/** A reusable asyncRetry policy: options resolved and validated once, here. */
export function asyncRetryPolicy(maxTries?: number, options?: AsyncRetryOptions): AsyncRetryPolicy {
  checkNoLimits(options);
  const resolved = resolveAsyncBackoffOptions('asyncRetry', options, maxTries);
  return registered(new AsyncBackoffPolicy('asyncRetry', resolved), 'asyncRetry');
}

/**
 * `options` validated and resolved as {@link asyncBackoffPolicy} does (`maxTries` as
 * {@link asyncRetryPolicy}'s argument for `'asyncRetry'`), without making (or listing) a policy:
 * for code that makes `new AsyncBackoffPolicy(kind, resolved)` itself and lists it its own way.
 *
 * @example
 * import { AsyncBackoffPolicy, resolveAsyncBackoff } from '@staunch/core';
 *
 * const policy = new AsyncBackoffPolicy('asyncRetry', resolveAsyncBackoff('asyncRetry', { pause: 100 }, 5));
 * console.log(policy.options.maxTries); // 5
 */
export function resolveAsyncBackoff(
  kind: 'asyncBackoff' | 'asyncRetry',
  options?: AsyncBackoffOptions | AsyncRetryOptions,
  maxTries?: number,
): ResolvedAsyncBackoffOptions {
  if (kind === 'asyncRetry') checkNoLimits(options);
  return resolveAsyncBackoffOptions(kind, options, maxTries);
}

/** An asyncRetry policy: the same engine as asyncBackoff, with `kind: 'asyncRetry'`. */
export type AsyncRetryPolicy = AsyncBackoffPolicy;

/** Runs attempts bounded by `attemptTimeout` and `deadline`; see {@link asyncBackoffPolicy}. */
export class AsyncBackoffPolicy extends AttemptPolicy {
  readonly kind: 'asyncBackoff' | 'asyncRetry';
  readonly options: ResolvedAsyncBackoffOptions;
  readonly #matches: ErrorMatcher;
  readonly #maxTries: number;
  readonly #pause: Wait;
  readonly #giveup: ((error: unknown) => unknown) | undefined;

  constructor(kind: 'asyncBackoff' | 'asyncRetry', options: ResolvedAsyncBackoffOptions) {
    super({
      clock: options.clock,
      attemptTimeout: options.attemptTimeout ?? Infinity,
      deadline: options.deadline ?? Infinity,
      // Unbounded attempts with a zero pause must still let timers (and a virtual clock) run.
      yieldOnZeroWait: options.maxTries === Infinity,
      resolvesEveryValue: true,
      budget: options.budget,
    });
    this.kind = kind;
    this.options = options;
    this.#matches = toErrorMatcher(options.on, kind === 'asyncRetry' ? anyError : noError);
    this.#maxTries = options.maxTries;
    this.#pause = options.pause;
    this.#giveup = options.giveup;
  }

  protected afterValue(): Decision {
    return DONE;
  }

  protected afterError(error: unknown, attempt: number, timedOut: boolean, previousDelay: number): Decision {
    if (!timedOut && !this.#matches(error)) return NOT_RETRYABLE;
    if (attempt >= this.#maxTries) return EXHAUSTED;
    if (this.#giveup !== undefined) {
      try {
        if (this.#giveup(error)) return GIVE_UP;
      } catch {
        // The seed's rule: a failing giveup predicate means "give up with the original error".
        return GIVE_UP;
      }
    }
    return waitBefore(this.#pause, attempt, previousDelay);
  }
}

// The one-shot shortcuts: options validated now, the policy built only when a
// limit, a signal or a failure needs it.
function once(
  kind: 'asyncBackoff' | 'asyncRetry',
  fn: (context: AttemptContext) => unknown,
  options: (AsyncBackoffOptions & SignalOption) | undefined,
  maxTries: number | undefined,
): Promise<unknown> {
  let resolved: ResolvedAsyncBackoffOptions;
  try {
    if (kind === 'asyncRetry') checkNoLimits(options);
    resolved = resolveAsyncBackoffOptions(kind, options, maxTries, false);
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a validation TypeError/RangeError, as thrown
    return Promise.reject(error);
  }
  const signal = options?.signal;
  // A budget counts every call: such a call runs in a policy from the start.
  if (signal !== undefined || resolved.deadline !== undefined || resolved.budget !== undefined) {
    return new AsyncBackoffPolicy(kind, Object.freeze(resolved)).execute(fn, signal);
  }
  const make = kind === 'asyncRetry' ? asyncRetryFromResolved : asyncBackoffFromResolved;
  const { attemptTimeout } = resolved;
  // An attempt timeout alone still runs the first attempt on the lean path: one timer at most, no policy.
  if (attemptTimeout !== undefined) return runOnceTimed(fn, make, resolved, attemptTimeout, resolved.clock);
  return runOnce(fn, make, resolved);
}

// A one-shot call's options are frozen only if its first attempt fails and a policy is made from them.
function asyncBackoffFromResolved(resolved: ResolvedAsyncBackoffOptions): AsyncBackoffPolicy {
  return new AsyncBackoffPolicy('asyncBackoff', Object.freeze(resolved));
}

function asyncRetryFromResolved(resolved: ResolvedAsyncBackoffOptions): AsyncBackoffPolicy {
  return new AsyncBackoffPolicy('asyncRetry', Object.freeze(resolved));
}

function checkNoLimits(options: AsyncRetryOptions | undefined): void {
  const limits = options as AsyncBackoffOptions | undefined;
  if (limits?.attemptTimeout != null || limits?.deadline != null) {
    invalidOption('asyncRetry', 'options', 'free of attemptTimeout and deadline (use asyncBackoff)', options);
  }
}

function resolveAsyncBackoffOptions(
  policy: 'asyncBackoff' | 'asyncRetry',
  options: AsyncBackoffOptions | undefined,
  maxTriesArgument: number | undefined,
  frozen = true,
): ResolvedAsyncBackoffOptions {
  if (options !== undefined && (typeof options !== 'object' || (options as unknown) === null)) {
    invalidOption(policy, 'options', 'an object', options);
  }
  const opts = options ?? {};
  const on = optionalErrorFilter(policy, 'on', opts.on);
  const attemptTimeout = toLimit(policy, 'attemptTimeout', opts.attemptTimeout);
  const deadline = toLimit(policy, 'deadline', opts.deadline);
  const maxTries = maxTriesArgument ?? opts.maxTries ?? asyncBackoffDefaults.maxTries;
  const resolved: ResolvedAsyncBackoffOptions = {
    attemptTimeout: attemptTimeout === Infinity ? undefined : attemptTimeout,
    deadline: deadline === Infinity ? undefined : deadline,
    pause: toWait(policy, 'pause', opts.pause ?? asyncBackoffDefaults.pause),
    on,
    maxTries: integerAtLeast(policy, 'maxTries', maxTries, 1, true),
    giveup: optionalFunction(policy, 'giveup', opts.giveup),
    clock: toClock(policy, opts.clock),
    budget: toBudget(policy, opts.budget),
  };
  // A one-shot call keeps its copy private, so it skips the (measurably slow) freeze.
  return frozen ? Object.freeze(resolved) : resolved;
}
