import { attemptHooks, type AttemptHook } from './attempt-hook.js';
import {
  abortableAttempt,
  Attempt,
  enterAttempt,
  firstAttempt,
  leaveAttempt,
  unabortableAttempt,
  type AttemptContext,
} from './attempt.js';
import { ABORTED, CallGuard, DEADLINE, ERROR, TIMEOUT, VALUE, type Outcome } from './call-guard.js';
import { getDefaultClock, isClock, type Clock, type TimerHandle } from './clock.js';
import { AttemptTimeoutError, DeadlineExceededError, type TimeoutError } from './errors.js';
import { Events, type Listener, type Unsubscribe } from './events.js';
import { closeHandOff, enterHandOff, openHandOff, settleHandedOff } from './handoff.js';
import { invoke, isNativePromise, isThenable, promiseOf } from './hot-path.js';
import { StatisticsRecorder, type PolicyStatistics } from './statistics.js';
import type { RetryBudget } from './retry-budget.js';
import { invalidOption, signalProblem } from './validation.js';

/** Which engine a policy runs; also the `kind` decorators record in metadata. */
export type PolicyKind = 'poll' | 'retry' | 'asyncBackoff' | 'asyncRetry' | 'timeout';

/** The option every policy takes: where time comes from (default: `getDefaultClock()`, read per call). */
export interface ClockOption {
  /** The clock for this policy only; without it the default clock is read on every call. */
  readonly clock?: Clock | undefined;
}

/** The per-call option of the one-shot shortcuts (`retry(fn, on, { signal })`). */
export interface SignalOption {
  /** Aborting it stops the call at once; the call rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
}

/** An attempt is starting. */
export interface AttemptEvent {
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/** Another attempt follows after `delay` ms, because of `error` (`failed`) or an unsatisfying `value` (poll). */
export type RetryEvent =
  | { readonly attempt: number; readonly delay: number; readonly failed: true; readonly error: unknown }
  | { readonly attempt: number; readonly delay: number; readonly failed: false; readonly value: unknown };

/** The call resolved with `value` after `attempts` attempts. */
export interface SuccessEvent {
  readonly attempts: number;
  readonly value: unknown;
  /**
   * How long the call took, in ms on the policy's clock. Read only while
   * someone listens to `success` or `giveUp`: 0 for a call already running
   * when the first of them subscribed.
   */
  readonly elapsed: number;
}

/** One attempt failed: it threw, rejected, or ran past `attemptTimeout` (`timedOut`). */
export interface FailureEvent {
  readonly attempt: number;
  readonly error: unknown;
  readonly timedOut: boolean;
}

/** A time limit expired: an attempt's `attemptTimeout`, the call's `deadline` or poll's `timeout`. */
export interface TimeoutEvent {
  /** The attempt running (or last run) when it expired. */
  readonly attempt: number;
  readonly error: TimeoutError;
}

/** Why a call rejected. */
export type GiveUpReason =
  | 'not-retryable'
  | 'exhausted'
  | 'giveup'
  | 'deadline'
  | 'timeout'
  | 'aborted'
  /** The rule allowed another attempt, but the retry budget had none left. */
  | 'budget';

/** The call rejected with `error` after `attempts` attempts. */
export interface GiveUpEvent {
  readonly attempts: number;
  readonly error: unknown;
  readonly reason: GiveUpReason;
  /** How long the call took, in ms on the policy's clock (see {@link SuccessEvent.elapsed}). */
  readonly elapsed: number;
}

/** Every event an attempt policy emits, by name. */
export interface AttemptPolicyEvents {
  attempt: AttemptEvent;
  retry: RetryEvent;
  success: SuccessEvent;
  failure: FailureEvent;
  timeout: TimeoutEvent;
  giveUp: GiveUpEvent;
}

/**
 * A rule's answer after an outcome: a wait in ms (>= 0) then another attempt,
 * or one of the negative codes below (tenacity-style: the rule decides, the loop acts).
 */
export type Decision = number;
/** Resolve with the value. */
export const DONE: Decision = -1;
/** Reject: the error is not one the policy handles. */
export const NOT_RETRYABLE: Decision = -2;
/** Reject: no attempts left. */
export const EXHAUSTED: Decision = -3;
/** Reject: `giveup(error)` said stop. */
export const GIVE_UP: Decision = -4;

/** The time limits a rule asks the loop to enforce, resolved once at creation. */
export interface LoopLimits {
  readonly clock: Clock | undefined;
  /** Bound of one attempt, ms; Infinity for none. */
  readonly attemptTimeout: number;
  /** Bound of the whole call, ms; Infinity for none. */
  readonly deadline: number;
  /** Poll's rule: after a wait, if more than `after` ms passed since the start, reject with `error(…)`. */
  readonly expiry?: { readonly after: number; error(attempts: number, lastValue: unknown): TimeoutError } | undefined;
  /**
   * Zero waits still go through the clock. Set for loops bounded only by
   * time or not at all, so an always-failing attempt cannot spin in the
   * microtask queue and starve timers (and a virtual clock).
   */
  readonly yieldOnZeroWait: boolean;
  /**
   * The rule resolves with every value (`afterValue` always says {@link DONE}):
   * retry and asyncBackoff, not poll. Such a policy's first attempt runs on a
   * lean path, and only a failure enters the full loop.
   */
  readonly resolvesEveryValue?: boolean | undefined;
  /**
   * The error an attempt that ran past `attemptTimeout` rejects with (and its
   * signal aborts with); default {@link AttemptTimeoutError}. `@Timeout` makes
   * a `CallTimeoutError`: the same limit, named for what the caller set.
   */
  readonly timeoutError?: ((attemptTimeout: number, attempt: number) => TimeoutError) | undefined;
  /** Every call deposits in it, every retry withdraws from it; a retry it refuses ends the call (`'budget'`). */
  readonly budget?: RetryBudget | undefined;
}

// Set in AttemptPolicy's static block, where its private loop is in reach: a
// one-shot call whose first attempt failed continues in `policy`'s loop.
let resumeAfterFirst: (
  policy: AttemptPolicy,
  fn: (context: AttemptContext) => unknown,
  error: unknown,
) => Promise<unknown>;
// Likewise: a lean timed first attempt failed or timed out: the call continues in its policy's loop
// (a one-shot call's policy is made now).
let continueTimed: (race: TimedAttempt, outcome: Outcome, result: unknown) => Promise<unknown>;
// A lean timed first attempt succeeded: its policy, if any, counts it.
let succeedTimed: (policy: AttemptPolicy, value: unknown) => void;

/** A policy's counters as they are, for the registry: reading `statistics` would turn timing on. */
export let countersOf: (policy: AttemptPolicy) => Readonly<StatisticsRecorder>;

/**
 * The one attempt loop every policy runs (poll, retry, asyncBackoff,
 * asyncRetry). A subclass is only a decision rule: after each outcome it says
 * "resolve", "reject" or "wait N ms and try again"; the loop owns attempts,
 * time limits, cancellation, events and statistics.
 */
export abstract class AttemptPolicy<V = unknown> {
  /** Which engine this is. */
  abstract readonly kind: PolicyKind;
  /** The resolved, frozen options (what decorators record in metadata). */
  abstract readonly options: object;

  readonly #events = new Events<AttemptPolicyEvents>();
  readonly #stats = new StatisticsRecorder();
  readonly #clock: Clock | undefined;
  readonly #attemptTimeout: number;
  readonly #deadline: number;
  readonly #expiry: LoopLimits['expiry'];
  readonly #yieldOnZeroWait: boolean;
  readonly #timeoutError: (attemptTimeout: number, attempt: number) => TimeoutError;
  readonly #budget: RetryBudget | undefined;
  /** Which lean first-attempt path this policy can take, decided once from its limits. */
  readonly #firstPath: FirstPath;
  /** Someone listens to `attempt`: the only event the lean first-attempt paths cannot emit. */
  #attemptListened = false;
  /** Someone listens to `success` or `giveUp`: calls read the clock when they start, for `elapsed`. */
  #endListened = false;
  /** What a lean timed first attempt needs to arm its timer, made once. */
  readonly #timedLimits: TimedLimits;

  protected constructor(limits: LoopLimits) {
    this.#clock = limits.clock;
    this.#attemptTimeout = limits.attemptTimeout;
    this.#deadline = limits.deadline;
    this.#expiry = limits.expiry;
    this.#yieldOnZeroWait = limits.yieldOnZeroWait;
    this.#timeoutError = limits.timeoutError ?? attemptTimeoutError;
    this.#budget = limits.budget;
    const lean = limits.resolvesEveryValue === true && limits.deadline === Infinity && limits.expiry === undefined;
    this.#firstPath = !lean
      ? LOOP
      : limits.attemptTimeout === Infinity
        ? PLAIN
        : limits.attemptTimeout > 0
          ? TIMED
          : LOOP;
    this.#timedLimits = { clock: limits.clock, timeout: limits.attemptTimeout, factory: undefined, options: undefined };
  }

  /** Runs `fn` under the policy; `fn` gets the attempt's `{ signal, attempt }`. */
  execute<T extends V>(fn: (context: AttemptContext) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    return this.#run(fn as AnyFunction, undefined, undefined, signal) as Promise<T>;
  }

  /**
   * Runs `fn.apply(thisArg, args)` under the policy: the allocation-free entry
   * used by the decorators (`attemptSignal()` gives the attempt's signal).
   * Unlike `execute`, `R` is not checked against a poll's value type: the
   * decorator types do that where the method is declared.
   */
  call<This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
    thisArg: This,
    args: Args,
    signal?: AbortSignal,
  ): Promise<Awaited<R>> {
    return this.#run(fn as AnyFunction, thisArg, args, signal) as Promise<Awaited<R>>;
  }

  /** Calls `listener` for every `type` event; returns the function that stops it. */
  on<K extends keyof AttemptPolicyEvents>(type: K, listener: Listener<AttemptPolicyEvents[K]>): Unsubscribe {
    const off = this.#events.on(type, listener);
    if (type !== 'attempt' && type !== 'success' && type !== 'giveUp') return off;
    this.#listened();
    return () => {
      off();
      this.#listened();
    };
  }

  // The flags the call path reads instead of asking the listener map.
  #listened(): void {
    this.#attemptListened = this.#events.has('attempt');
    this.#endListened = this.#events.has('success') || this.#events.has('giveUp');
  }

  /** Counters so far (a frozen snapshot). The first read turns on timing (`totalTime`). */
  get statistics(): PolicyStatistics {
    return this.#stats.snapshot();
  }

  /** After attempt `attempt` returned `value`: {@link DONE} to resolve with it, or a wait in ms. */
  protected abstract afterValue(
    value: unknown,
    attempt: number,
    previousDelay: number,
  ): Decision | PromiseLike<Decision>;

  /** After attempt `attempt` failed with `error` (`timedOut`: it ran past `attemptTimeout`): a negative code to reject, or a wait. */
  protected abstract afterError(error: unknown, attempt: number, timedOut: boolean, previousDelay: number): Decision;

  // The call path. A retry or asyncBackoff call whose first attempt succeeds
  // takes a lean path: a `then` on the attempt's promise (or, with an attempt
  // timeout, one promise settled by the attempt or its timer), no option
  // objects, no controller; the full loop below runs only once an attempt
  // fails, or when a signal, a deadline, listeners or timing need it. The loop
  // is a large async function, which is not free: V8 keeps its whole register
  // file alive across every `await` (~0.9 kB per call, sampled).
  // `args === undefined` means `fn` takes the attempt context.
  #run(
    fn: AnyFunction,
    thisArg: unknown,
    args: unknown[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    // An outer policy's open hand-off is not for a breaker nested in this one.
    enterHandOff();
    if (signal !== undefined) {
      const problem = signalProblem(this.kind, signal);

      if (problem !== undefined) return Promise.reject(problem);
    }
    this.#budget?.deposit();
    const path = this.#firstPath;
    const outer = abortableAttempt();
    // Only an 'attempt' listener, or one that wants `elapsed` (the lean paths read no clock), needs the loop
    // from the first attempt on: a failed first attempt continues in the loop, which emits the rest.
    if (
      path !== LOOP &&
      signal === undefined &&
      outer === undefined &&
      !this.#stats.timed &&
      !this.#attemptListened &&
      !this.#endListened &&
      attemptHooks.current === undefined
    ) {
      return path === PLAIN ? this.#first(fn, thisArg, args) : this.#firstTimed(fn, thisArg, args);
    }
    return this.#loop(fn, thisArg, args, signal, outer, undefined);
  }

  // First attempt, nothing to guard: the promise returned is the attempt's own,
  // followed by one shared success handler and one closure for the failure path
  // (cheaper than an async function, whose frame is kept across the await). A
  // breaker right inside may hand over its bookkeeping (handoff.ts).
  #first(fn: AnyFunction, thisArg: unknown, args: unknown[] | undefined): Promise<unknown> {
    const stats = this.#stats;
    stats.calls++;
    stats.attempts++;
    let result: unknown;
    const previous = enterAttempt(firstAttempt);
    openHandOff();
    try {
      result = args === undefined ? (fn as ContextFunction)(firstAttempt) : invoke(fn, thisArg, args);
    } catch (error) {
      closeHandOff(undefined);
      leaveAttempt(previous);
      return this.#loop(fn, thisArg, args, undefined, undefined, { outcome: ERROR, result: error, state: undefined });
    }
    const breaker = closeHandOff(result);
    leaveAttempt(previous);
    // A plain native promise first: the usual result, checked without the generic thenable test.
    const native = isNativePromise(result);
    if (!native && !isThenable(result)) {
      this.#succeeded(1, result);
      return Promise.resolve(result);
    }
    if (breaker !== undefined) {
      // A breaker right inside handed its bookkeeping over: one reaction records for both.
      return (result as Promise<unknown>).then(
        (value) => {
          breaker[settleHandedOff](true, value);
          this.#succeeded(1, value);
          return value;
        },
        (error: unknown) => {
          breaker[settleHandedOff](false, error);
          return this.#loop(fn, thisArg, args, undefined, undefined, {
            outcome: ERROR,
            result: error,
            state: undefined,
          });
        },
      );
    }
    const promise = native ? (result as Promise<unknown>) : Promise.resolve(result);
    return promise.then(this.#firstValue, (error: unknown) =>
      this.#loop(fn, thisArg, args, undefined, undefined, { outcome: ERROR, result: error, state: undefined }),
    );
  }

  // Made once per policy, so a successful first attempt allocates no closure for it.
  readonly #firstValue = (value: unknown): unknown => {
    this.#succeeded(1, value);
    return value;
  };

  // First attempt under `attemptTimeout`: see `runTimedFirst`.
  #firstTimed(fn: AnyFunction, thisArg: unknown, args: unknown[] | undefined): Promise<unknown> {
    const stats = this.#stats;
    stats.calls++;
    stats.attempts++;
    return runTimedFirst(new TimedAttempt(this, this.#timedLimits, fn, thisArg, args));
  }

  // `elapsed` is 0 on the lean paths: they run only while nobody listens to `success`.
  #succeeded(attempts: number, value: unknown, elapsed = 0): void {
    this.#stats.successes++;
    if (this.#events.has('success')) this.#events.emit('success', { attempts, value, elapsed });
  }

  // The full loop: every limit, the signal, events and statistics. `resume` is
  // the outcome of a first attempt that ran on a lean path (already counted).
  async #loop(
    fn: AnyFunction,
    thisArg: unknown,
    args: unknown[] | undefined,
    signal: AbortSignal | undefined,
    outer: Attempt | undefined,
    resume: Resume | undefined,
  ): Promise<unknown> {
    const clock = this.#clock ?? getDefaultClock();
    const stats = this.#stats;
    const events = this.#events;
    const attemptTimeout = this.#attemptTimeout;
    const deadline = this.#deadline;
    const expiry = this.#expiry;
    // A resumed call started untimed: timing it from here would under-count.
    const timed = resume === undefined && stats.timed;
    // Someone wants `elapsed`: a call already running when they subscribed reports 0.
    const measured = this.#endListened;
    const start = timed || deadline !== Infinity || expiry !== undefined || measured ? clock.now() : 0;
    const deadlineAt = start + deadline;
    // Unguarded (nothing can end a wait early), attempts need no controller, waits no timer race.
    const guard =
      signal !== undefined || outer !== undefined || attemptTimeout !== Infinity || deadline !== Infinity
        ? new CallGuard(signal, outer)
        : undefined;
    if (resume === undefined) stats.calls++;

    let attempt = 0;
    let previousDelay = 0;
    let lastValue: unknown;
    let lastError: unknown;
    let failed = false;
    let reason: GiveUpReason = 'not-retryable';
    // The attempt hook in force for the attempt running, and what it returned (set only while one is open).
    let hook: AttemptHook | undefined;
    let hooked: unknown;
    try {
      for (;;) {
        let outcome: Outcome = VALUE;
        let result: unknown;
        let state: Attempt | undefined;
        if (resume !== undefined) {
          attempt = 1;
          ({ outcome, result, state } = resume);
          resume = undefined;
        } else {
          if (guard?.aborted === true) {
            reason = 'aborted';
            throw guard.reason;
          }
          if (deadline !== Infinity && clock.now() >= deadlineAt) {
            reason = 'deadline';
            throw this.#deadlinePassed(attempt, failed, lastError, undefined);
          }
          attempt++;
          stats.attempts++;
          if (events.has('attempt')) events.emit('attempt', { attempt });
          hook = attemptHooks.current;
          if (hook !== undefined) hooked = hook.start(this, this.kind, attempt);

          if (guard !== undefined) guard.attempt = state = new Attempt(attempt, true);
          const context = state ?? (args === undefined ? new Attempt(attempt, false) : unabortableAttempt);
          let limit = Infinity;
          let late: Outcome = TIMEOUT;
          if (guard !== undefined) {
            const remaining = deadline === Infinity ? Infinity : deadlineAt - clock.now();
            // Decided up front, not by re-reading the clock when the timer fires.
            const deadlineFirst = remaining <= attemptTimeout;
            limit = deadlineFirst ? remaining : attemptTimeout;
            late = deadlineFirst ? DEADLINE : TIMEOUT;
            if (limit <= 0) outcome = late; // `attemptTimeout: 0`: the body never runs
          }
          if (outcome === VALUE) {
            const previous = enterAttempt(context);
            try {
              if (hook === undefined)
                result = args === undefined ? (fn as ContextFunction)(context) : invoke(fn, thisArg, args);
              else
                result = hook.run(hooked, () =>
                  args === undefined ? (fn as ContextFunction)(context) : invoke(fn, thisArg, args),
                );
            } catch (error) {
              result = error;
              outcome = ERROR;
            } finally {
              leaveAttempt(previous);
            }
          }
          // The attempt may have aborted the call synchronously (its caller's signal, say).
          if (guard?.abortedNow() === true) {
            if (outcome === VALUE && isThenable(result)) promiseOf(result).then(undefined, ignore);
            outcome = ABORTED;
          } else if (outcome === VALUE && isThenable(result)) {
            if (guard !== undefined) {
              outcome = await guard.wait(result, clock, limit, late);
              result = guard.result;
            } else {
              try {
                result = await result;
              } catch (error) {
                result = error;
                outcome = ERROR;
              }
            }
          }
        }

        let delay: Decision;
        if (outcome === VALUE) {
          if (hook !== undefined) {
            hook.end(hooked, false, undefined);
            hook = undefined;
          }
          lastValue = result;
          const decision = this.afterValue(result, attempt, previousDelay);
          if (typeof decision === 'number') delay = decision;
          else if (guard === undefined) delay = await decision;
          else {
            // An async predicate (poll): the call still ends at once when aborted, and its promise is observed.
            const waited = await guard.wait(decision, clock, Infinity, VALUE);
            if (waited === ABORTED) {
              reason = 'aborted';
              throw guard.reason;
            }
            if (waited === ERROR) throw guard.result;
            delay = guard.result as Decision;
          }
          if (delay < 0) {
            this.#succeeded(attempt, result, measured ? clock.now() - start : 0);
            return result;
          }
        } else if (outcome === ERROR || outcome === TIMEOUT) {
          const timedOut = outcome === TIMEOUT;
          if (timedOut) {
            // The one place a timed-out attempt's error is made, for the lean timed path too (it resumes here).
            const error = this.#timeoutError(attemptTimeout, attempt);
            state?.abort(error);
            this.#timedOut(attempt, error);
            result = error;
          } else {
            stats.errors++;
          }
          if (hook !== undefined) {
            hook.end(hooked, true, result);
            hook = undefined;
          }
          if (events.has('failure')) events.emit('failure', { attempt, error: result, timedOut });
          failed = true;
          lastError = result;
          delay = this.afterError(result, attempt, timedOut, previousDelay);
          if (delay >= 0 && this.#budget?.tryWithdraw() === false) {
            stats.budgetExhausted++;
            reason = 'budget';
            throw result;
          }
          if (delay < 0) {
            reason =
              delay === EXHAUSTED
                ? 'exhausted'
                : delay === GIVE_UP
                  ? 'giveup'
                  : timedOut // a time limit the rule does not retry (`@Timeout`) ends the call as a timeout
                    ? 'timeout'
                    : 'not-retryable';
            throw result;
          }
        } else if (outcome === DEADLINE) {
          reason = 'deadline';
          throw this.#deadlinePassed(attempt, failed, lastError, state);
        } else {
          // The guard aborted the attempt already, in the same turn as the signal.
          reason = 'aborted';
          throw (guard as CallGuard).reason;
        }

        if (events.has('retry')) {
          events.emit(
            'retry',
            outcome === VALUE
              ? { attempt, delay, failed: false, value: result }
              : { attempt, delay, failed: true, error: result },
          );
        }
        // The deadline bounds pauses too: a pause that would overrun it is cut
        // short, then the deadline rule applies (no attempt can start any more).
        let sleep = delay;
        let deadlinePassesDuringWait = false;
        if (deadline !== Infinity) {
          const remaining = deadlineAt - clock.now();
          if (delay >= remaining) {
            sleep = remaining > 0 ? remaining : 0;
            deadlinePassesDuringWait = true;
          }
        }
        if (sleep > 0 || this.#yieldOnZeroWait) {
          if (guard === undefined) await clock.sleep(sleep);
          else if ((await guard.wait(undefined, clock, sleep, VALUE)) === ABORTED) {
            reason = 'aborted';
            throw guard.reason;
          }
        }
        if (deadlinePassesDuringWait) {
          reason = 'deadline';
          throw this.#deadlinePassed(attempt, failed, lastError, undefined);
        }
        if (expiry !== undefined && clock.now() - start > expiry.after) {
          const error = expiry.error(attempt, lastValue);
          this.#timedOut(attempt, error);
          reason = 'timeout';
          throw error;
        }
        previousDelay = delay;
      }
    } catch (error) {
      // An attempt ended by the deadline or an abort.
      if (hook !== undefined) hook.end(hooked, true, error);
      stats.failures++;
      if (events.has('giveUp'))
        events.emit('giveUp', { attempts: attempt, error, reason, elapsed: measured ? clock.now() - start : 0 });
      throw error;
    } finally {
      guard?.release();
      if (timed) stats.totalTime += clock.now() - start;
    }
  }

  static {
    countersOf = (policy) => policy.#stats;
    resumeAfterFirst = (policy, fn, error) => {
      policy.#stats.calls++;
      policy.#stats.attempts++;
      return policy.#loop(fn as AnyFunction, undefined, undefined, undefined, undefined, {
        outcome: ERROR,
        result: error,
        state: undefined,
      });
    };
    continueTimed = (race, outcome, result) => {
      let policy = race.policy;
      if (policy === undefined) {
        const { factory, options } = race.limits;
        policy = (factory as (options: unknown) => AttemptPolicy)(options);
        policy.#stats.calls++;
        policy.#stats.attempts++;
      }
      return policy.#loop(race.fn, race.thisArg, race.args, undefined, undefined, { outcome, result, state: race });
    };
    succeedTimed = (policy, value) => {
      policy.#succeeded(1, value);
    };
  }

  // The deadline rule: DeadlineExceededError if no attempt failed yet, else the last attempt's own error.
  #deadlinePassed(attempt: number, failed: boolean, lastError: unknown, running: Attempt | undefined): unknown {
    const error = new DeadlineExceededError(this.#deadline);
    running?.abort(error);
    this.#timedOut(attempt, error);
    return failed ? lastError : error;
  }

  #timedOut(attempt: number, error: TimeoutError): void {
    this.#stats.timeouts++;
    if (this.#events.has('timeout')) this.#events.emit('timeout', { attempt, error });
  }
}

/**
 * The first attempt of a one-shot shortcut (`retry(fn, …)`), run before any
 * policy exists: `makePolicy(options)` is called only if the attempt fails,
 * and the call continues in that policy's loop. Nothing can observe a one-shot
 * policy's events or statistics, so a call that succeeds at once needs none.
 */
export function runOnce<O>(
  fn: (context: AttemptContext) => unknown,
  makePolicy: (options: O) => AttemptPolicy,
  options: O,
): Promise<unknown> {
  enterHandOff(); // as in AttemptPolicy.#run: not for a breaker nested in this call
  if (abortableAttempt() !== undefined) return makePolicy(options).execute(fn);
  let result: unknown;
  const previous = enterAttempt(firstAttempt);
  try {
    result = fn(firstAttempt);
  } catch (error) {
    leaveAttempt(previous);
    return resumeAfterFirst(makePolicy(options), fn, error);
  }
  leaveAttempt(previous);
  if (!isThenable(result)) return Promise.resolve(result);
  return promiseOf(result).then(undefined, (error: unknown) => resumeAfterFirst(makePolicy(options), fn, error));
}

/**
 * {@link runOnce} for a one-shot call with an `attemptTimeout` (and nothing
 * else that needs the full loop): the first attempt runs on the lean timed
 * path, and the policy is made only if it fails or times out.
 */
export function runOnceTimed<O>(
  fn: (context: AttemptContext) => unknown,
  makePolicy: (options: O) => AttemptPolicy,
  options: O,
  attemptTimeout: number,
  clock: Clock | undefined,
): Promise<unknown> {
  enterHandOff(); // as in AttemptPolicy.#run
  if (!(attemptTimeout > 0) || abortableAttempt() !== undefined) return makePolicy(options).execute(fn);
  const limits: TimedLimits = {
    clock,
    timeout: attemptTimeout,
    factory: makePolicy as (options: unknown) => AttemptPolicy,
    options,
  };
  return runTimedFirst(new TimedAttempt(undefined, limits, fn as AnyFunction, undefined, undefined));
}

// A first attempt under `attemptTimeout`. The promise returned is settled by the
// attempt or by its timeout, whichever comes first. No AbortController unless
// the attempt reads its signal, and no timer unless the attempt is still
// pending once the current microtask checkpoint is done (see `armPending`).
// The two small closures capture only `race`.
function runTimedFirst(race: TimedAttempt): Promise<unknown> {
  const fn = race.fn;
  const args = race.args;
  let result: unknown;
  const previous = enterAttempt(race);
  try {
    result = args === undefined ? (fn as ContextFunction)(race) : invoke(fn, race.thisArg, args);
  } catch (error) {
    leaveAttempt(previous);
    race.state = DECIDED;
    return continueTimed(race, ERROR, error);
  }
  leaveAttempt(previous);
  let pending: Promise<unknown>;
  // A plain native promise first: the usual result, checked without the generic thenable test.
  if (isNativePromise(result)) pending = result;
  else if (isThenable(result)) pending = Promise.resolve(result);
  else {
    race.state = DECIDED;
    if (race.policy !== undefined) succeedTimed(race.policy, result);
    return Promise.resolve(result);
  }
  capturing = race;
  const promise = new Promise(captureResolve);
  pending.then(
    (value) => {
      settleFirst(race, VALUE, value);
    },
    (error: unknown) => {
      settleFirst(race, ERROR, error);
    },
  );
  // Checked at the end of the checkpoint, with the other calls started in this turn: one check per batch.
  // A promise job, not queueMicrotask: test frameworks' fake timers replace the latter.
  guardSoon(race);
  return promise;
}

// The timed first attempt settled (VALUE, ERROR) or timed out (TIMEOUT), unless already decided.
function settleFirst(race: TimedAttempt, outcome: Outcome, result: unknown): void {
  if (race.state === DECIDED) return;
  race.state = DECIDED;
  if (race.timer !== undefined) {
    race.clock.cancel(race.timer);
    race.timer = undefined;
  }
  if (outcome === VALUE) {
    if (race.policy !== undefined) succeedTimed(race.policy, result);
    race.resolve(result);
  } else {
    race.resolve(continueTimed(race, outcome, result));
  }
}

/** Validates the `clock` option once, at creation. */
export function toClock(policy: string, value: unknown): Clock | undefined {
  if (value === undefined) return undefined;
  if (!isClock(value)) invalidOption(policy, 'clock', 'a Clock (now, sleep, schedule, cancel)', value);
  return value;
}

/** A time limit option: `undefined`, `null` or `Infinity` mean none (Infinity), else a number >= 0. */
export function toLimit(policy: string, option: string, value: unknown): number {
  if (value === undefined || value === null) return Infinity;
  if (typeof value !== 'number' || Number.isNaN(value))
    invalidOption(policy, option, 'a number of milliseconds', value);
  if (value < 0) invalidOption(policy, option, 'a number >= 0', value, RangeError);
  return value;
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
type ContextFunction = (context: AttemptContext) => unknown;

/** Which lean path a policy's first attempt may take. */
type FirstPath = 0 | 1 | 2;
const LOOP: FirstPath = 0;
const PLAIN: FirstPath = 1;
const TIMED: FirstPath = 2;

/** How a first attempt on a lean path ended, handed to the full loop. */
interface Resume {
  readonly outcome: Outcome;
  readonly result: unknown;
  readonly state: Attempt | undefined;
}

/**
 * What a lean timed first attempt needs besides its function: its limit, its
 * clock (`undefined`: the default clock, read when the call starts), and
 * for a one-shot call the policy to make if the attempt fails or times out.
 * A policy makes one of these once; a one-shot call, one per call.
 */
interface TimedLimits {
  readonly clock: Clock | undefined;
  readonly timeout: number;
  readonly factory: ((options: unknown) => AttemptPolicy) | undefined;
  readonly options: unknown;
}

/** A timed call's state (a first attempt's, a hedged call's): running, given one more turn by `armPending`, or decided. */
export type RaceState = 0 | 1 | 2;
export const RUNNING: RaceState = 0;
const DEFERRED: RaceState = 1;
export const DECIDED: RaceState = 2;

/**
 * A first attempt under an attempt timeout, and the settling of its call's
 * promise. Its fields are assigned in the constructor (`declare`: no field
 * definitions run first), one object per call, as small as the path allows.
 */
class TimedAttempt extends Attempt implements ArmedSoon {
  /** The policy running the call; for a one-shot call, none until `limits.factory` makes it. */
  declare readonly policy: AttemptPolicy | undefined;
  declare readonly limits: TimedLimits;
  declare readonly fn: AnyFunction;
  declare readonly thisArg: unknown;
  declare readonly args: unknown[] | undefined;
  declare resolve: (value: unknown) => void;
  declare timer: TimerHandle | undefined;
  /** The clock the call started under: it arms `timer` and cancels it, even if the default clock changes meanwhile. */
  declare readonly clock: Clock;
  declare state: RaceState;

  constructor(
    policy: AttemptPolicy | undefined,
    limits: TimedLimits,
    fn: AnyFunction,
    thisArg: unknown,
    args: unknown[] | undefined,
  ) {
    super(1, true);
    this.policy = policy;
    this.limits = limits;
    this.fn = fn;
    this.thisArg = thisArg;
    this.args = args;
    this.resolve = ignore;
    this.timer = undefined;
    // The default clock is read when the call starts, as every policy reads it: a test that swaps it
    // back before this call's checkpoint still has the call timed by the clock it started under.
    this.clock = limits.clock ?? getDefaultClock();
    this.state = RUNNING;
  }

  arm(): void {
    armTimer(this);
  }
}

// `new Promise(captureResolve)` hands the resolver to `capturing` without a closure per call.
let capturing: TimedAttempt | undefined;
function captureResolve(resolve: (value: unknown) => void): void {
  (capturing as TimedAttempt).resolve = resolve;
  capturing = undefined;
}

/** A call that needs a timer only if it is still pending once the current microtask checkpoint is done. */
export interface ArmedSoon {
  /** `RUNNING`; `DEFERRED` once given one more turn by `armPending` (armed at the next check); `DECIDED`: settled, no timer. */
  state: RaceState;
  /** Still pending: sets its timer now. */
  arm(): void;
}

// Timed attempts (and hedged calls) started since the last checkpoint (the first `startedCount` slots),
// and a spare list. Slots are cleared, not the length reset: setting `length` is a runtime call, costly
// once per call.
let started: (ArmedSoon | undefined)[] = [];
let startedCount = 0;
let spare: (ArmedSoon | undefined)[] = [];
const checkpoint = Promise.resolve();

/**
 * Arms the timeout of every attempt started in this turn that is still pending
 * at the end of the current microtask checkpoint (calls started in one turn are
 * checked together, each after its own settling had its turn). An attempt that
 * settles without waiting for I/O or timers costs no timer and no clock read (a
 * timer costs ~0.5 µs to set and clear on Node 20, `performance.now()` ~75 ns).
 * The timeout counts from the checkpoint rather than from the call: the two
 * differ only by the synchronous work done in between, which no timer could
 * interrupt anyway, and Node's own timers likewise count from the start of the
 * loop iteration.
 */
export function guardSoon(race: ArmedSoon): void {
  started[startedCount++] = race;
  // One check per batch. A promise job, not queueMicrotask: test frameworks' fake timers replace the latter.
  if (startedCount === 1) void checkpoint.then(armPending);
}

function armPending(): void {
  const races = started;
  const count = startedCount;
  started = spare;
  startedCount = 0;
  // A burst of many concurrent calls leaves a long list behind: it is not kept.
  spare = races.length > 1024 ? [] : races;
  for (let i = 0; i < count; i++) {
    const race = races[i] as ArmedSoon;
    races[i] = undefined;
    if (race.state === DECIDED) continue;
    // This check was queued by the batch's first call, so a later call's own settling (queued when it
    // started) has not run yet: such a call gets one more turn before it costs a timer.
    if (i > 0 && race.state === RUNNING) {
      race.state = DEFERRED;
      started[startedCount++] = race;
      if (startedCount === 1) void checkpoint.then(armPending);
    } else {
      race.arm();
    }
  }
}

// Still pending after the checkpoint: from now on, the attempt has `limits.timeout` ms.
function armTimer(race: TimedAttempt): void {
  race.timer = race.clock.schedule(race.limits.timeout, () => {
    race.timer = undefined;
    settleFirst(race, TIMEOUT, undefined);
  });
}

function attemptTimeoutError(attemptTimeout: number, attempt: number): TimeoutError {
  return new AttemptTimeoutError(attemptTimeout, attempt);
}

function ignore(): void {
  // observed, so that a rejection nobody waits for any more is not reported as unhandled
}
