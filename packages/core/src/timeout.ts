import type { AttemptContext } from './attempt.js';
import {
  AttemptPolicy,
  DONE,
  NOT_RETRYABLE,
  runOnce,
  runOnceTimed,
  toClock,
  type ClockOption,
  type Decision,
  type SignalOption,
} from './attempt-loop.js';
import type { Clock } from './clock.js';
import { CallTimeoutError, type TimeoutError } from './errors.js';
import { invalidOption } from './validation.js';
import { registered } from './registry.js';

/** Options of {@link timeout} / {@link timeoutPolicy} (the limit itself is the `ms` argument). */
export type TimeoutOptions = ClockOption;

/** A timeout policy's resolved, frozen options. */
export interface ResolvedTimeoutOptions {
  /** The limit of each call, ms (`Infinity`: none). */
  readonly timeout: number;
  readonly clock: Clock | undefined;
}

/**
 * Runs `fn` with a time limit of `ms`: past it, the call rejects with a
 * {@link CallTimeoutError} at once and `fn`'s signal (`context.signal`) aborts
 * with that error; whatever `fn` does afterwards is observed and ignored. A
 * `signal` in the options is followed: aborting it ends the call too.
 *
 * @example
 * const user = await timeout(({ signal }) => fetchUser(id, { signal }), 2_000);
 */
export function timeout<T>(
  fn: (context: AttemptContext) => T | PromiseLike<T>,
  ms: number,
  options?: TimeoutOptions & SignalOption,
): Promise<T> {
  let resolved: ResolvedTimeoutOptions;
  try {
    resolved = resolveTimeoutOptions(ms, options, false);
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a validation TypeError/RangeError, as thrown
    return Promise.reject(error);
  }
  const signal = options?.signal;
  if (signal !== undefined) return new TimeoutPolicy(Object.freeze(resolved)).execute(fn, signal);
  // `Infinity`: no limit, the plain lean path (no timer ever).
  if (resolved.timeout === Infinity) return runOnce(fn, timeoutFromResolved, resolved) as Promise<T>;
  // The lean timed path: no policy unless the call fails or times out, no timer if it settles at once.
  return runOnceTimed(fn, timeoutFromResolved, resolved, resolved.timeout, resolved.clock) as Promise<T>;
}

/** A reusable timeout policy: `ms` and the options validated once, here. */
export function timeoutPolicy(ms: number, options?: TimeoutOptions): TimeoutPolicy {
  return registered(new TimeoutPolicy(resolveTimeoutOptions(ms, options, true)), 'timeout');
}

/**
 * `ms` and `options` validated and resolved as {@link timeoutPolicy} does, without making
 * (or listing) a policy: for code that makes `new TimeoutPolicy(resolved)` itself and lists
 * it its own way (the decorators list theirs under the decorated method).
 *
 * @example
 * import { TimeoutPolicy, resolveTimeout } from '@staunch/core';
 *
 * const policy = new TimeoutPolicy(resolveTimeout(2_000));
 * console.log(policy.options.timeout); // 2000
 */
export function resolveTimeout(ms: number, options?: TimeoutOptions): ResolvedTimeoutOptions {
  return resolveTimeoutOptions(ms, options, true);
}

/**
 * Bounds each call by `options.timeout` ms; see {@link timeoutPolicy}. It is
 * the attempt loop with one attempt that is never retried: the per-attempt
 * limit of `asyncBackoff`'s `attemptTimeout`, named for the call, with the
 * same signal, events and statistics.
 */
export class TimeoutPolicy extends AttemptPolicy {
  readonly kind = 'timeout';
  readonly options: ResolvedTimeoutOptions;

  constructor(options: ResolvedTimeoutOptions) {
    super({
      clock: options.clock,
      attemptTimeout: options.timeout,
      deadline: Infinity,
      yieldOnZeroWait: false,
      resolvesEveryValue: true,
      timeoutError: callTimeoutError,
    });
    this.options = options;
  }

  protected afterValue(): Decision {
    return DONE;
  }

  protected afterError(): Decision {
    // One attempt only: an error, the timeout included, ends the call.
    return NOT_RETRYABLE;
  }
}

function callTimeoutError(ms: number): TimeoutError {
  return new CallTimeoutError(ms);
}

// A one-shot call's options are frozen only if it fails or times out and a policy is made from them.
function timeoutFromResolved(resolved: ResolvedTimeoutOptions): TimeoutPolicy {
  return new TimeoutPolicy(Object.freeze(resolved));
}

function resolveTimeoutOptions(
  ms: unknown,
  options: TimeoutOptions | undefined,
  frozen: boolean,
): ResolvedTimeoutOptions {
  if (typeof ms !== 'number' || Number.isNaN(ms)) {
    invalidOption('timeout', 'ms', 'a number of milliseconds > 0 (or Infinity)', ms);
  }
  if (ms <= 0) invalidOption('timeout', 'ms', 'a number > 0 (or Infinity)', ms, RangeError);
  if (options !== undefined && (typeof options !== 'object' || (options as unknown) === null)) {
    invalidOption('timeout', 'options', 'an object', options);
  }
  const resolved: ResolvedTimeoutOptions = { timeout: ms, clock: toClock('timeout', options?.clock) };
  return frozen ? Object.freeze(resolved) : resolved;
}
