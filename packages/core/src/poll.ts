import type { AttemptContext } from './attempt.js';
import {
  AttemptPolicy,
  DONE,
  NOT_RETRYABLE,
  toClock,
  type ClockOption,
  type Decision,
  type SignalOption,
} from './attempt-loop.js';
import { toWait, waitBefore, type Wait } from './backoff.js';
import type { Clock } from './clock.js';
import { PollTimeoutError } from './errors.js';
import { isThenable } from './hot-path.js';
import { invalidOption, nonNegative } from './validation.js';
import { registered } from './registry.js';

/** Options of {@link poll} / {@link pollPolicy}. */
export interface PollOptions extends ClockOption {
  /** Give up once more than this many ms passed since the start, checked after each wait (default 15,000; Infinity: never). */
  readonly timeout?: number | undefined;
  /** Wait between calls: ms or a {@link Backoff} (default 1,000). */
  readonly interval?: Wait | undefined;
}

/** A poll policy's resolved, frozen options. */
export interface ResolvedPollOptions<T = unknown> {
  /** The predicate (method syntax keeps options of any `T` assignable to `ResolvedPollOptions<unknown>`). */
  until(value: T): unknown;
  readonly timeout: number;
  readonly interval: Wait;
  readonly clock: Clock | undefined;
}

/** The defaults of {@link poll}, stated once. */
export const pollDefaults = Object.freeze({ timeout: 15_000, interval: 1_000 });

/**
 * Calls `fn` at once and then every `interval` ms until `until(value)` (which
 * may be async) is truthy, and resolves with that value. Once more than
 * `timeout` ms have passed after a wait, rejects with `PollTimeoutError`.
 * Errors from `fn` or `until` propagate at once.
 *
 * @example
 * const job = await poll(() => getJob(id), (job) => job.state === 'done', { timeout: 15_000, interval: 1_000 });
 */
export async function poll<T>(
  fn: (context: AttemptContext) => T | PromiseLike<T>,
  until: (value: NoInference<T>) => unknown,
  options?: PollOptions & SignalOption,
): Promise<T> {
  return await new PollPolicy(until, options).execute(fn, options?.signal);
}

/** A reusable poll policy for values of type `T`: options resolved and validated once, here. */
export function pollPolicy<T>(until: (value: T) => unknown, options?: PollOptions): PollPolicy<T> {
  return registered(new PollPolicy(until, options), 'poll');
}

/** Polls until a predicate holds; see {@link pollPolicy}. */
export class PollPolicy<T = unknown> extends AttemptPolicy<T> {
  readonly kind = 'poll';
  readonly options: ResolvedPollOptions<T>;
  readonly #until: (value: T) => unknown;
  readonly #interval: Wait;

  constructor(until: (value: T) => unknown, options?: PollOptions) {
    const resolved = resolvePollOptions(until, options);
    const { timeout } = resolved;
    super({
      clock: resolved.clock,
      attemptTimeout: Infinity,
      deadline: Infinity,
      expiry:
        timeout === Infinity
          ? undefined
          : { after: timeout, error: (attempts, lastValue) => new PollTimeoutError(timeout, attempts, lastValue) },
      // Poll ends only by time: even a zero interval must let the clock move.
      yieldOnZeroWait: true,
    });
    this.options = resolved;
    this.#until = until;
    this.#interval = resolved.interval;
  }

  protected afterValue(value: unknown, attempt: number, previousDelay: number): Decision | PromiseLike<Decision> {
    const verdict = this.#until(value as T);
    if (isThenable(verdict)) {
      return Promise.resolve(verdict).then((holds) =>
        holds ? DONE : waitBefore(this.#interval, attempt, previousDelay),
      );
    }
    return verdict ? DONE : waitBefore(this.#interval, attempt, previousDelay);
  }

  protected afterError(): Decision {
    return NOT_RETRYABLE;
  }
}

function resolvePollOptions<T>(until: (value: T) => unknown, options: PollOptions | undefined): ResolvedPollOptions<T> {
  if (typeof until !== 'function') invalidOption('poll', 'until', 'a predicate function', until);
  if (options !== undefined && (typeof options !== 'object' || (options as unknown) === null)) {
    invalidOption('poll', 'options', 'an object', options);
  }
  const opts = options ?? {};
  return Object.freeze({
    until,
    timeout: nonNegative('poll', 'timeout', opts.timeout ?? pollDefaults.timeout),
    interval: toWait('poll', 'interval', opts.interval ?? pollDefaults.interval),
    clock: toClock('poll', opts.clock),
  });
}

// TypeScript's own NoInfer needs 5.4; the published types must work from 5.2. Deferring the
// index keeps `T` from being inferred from the predicate, so `fn` alone decides it.
type NoInference<T> = [T][T extends unknown ? 0 : never];
