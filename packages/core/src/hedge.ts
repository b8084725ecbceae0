import {
  abortableAttempt,
  Attempt,
  enterAttempt,
  leaveAttempt,
  type AttemptContext,
  type Follower,
} from './attempt.js';
import {
  DECIDED,
  RUNNING,
  guardSoon,
  toClock,
  type ArmedSoon,
  type RaceState,
  type GiveUpReason,
  type SignalOption,
} from './attempt-loop.js';
import { getDefaultClock, type Clock, type TimerHandle } from './clock.js';
import { anyError, toErrorMatcher, type ErrorFilter, type ErrorMatcher } from './error-filter.js';
import { HedgeAbandonedError } from './errors.js';
import { registered } from './registry.js';
import { Events, type Listener, type Unsubscribe } from './events.js';
import { followSignal, unfollowSignal } from './follow-signal.js';
import { invoke, isThenable, promiseOf } from './hot-path.js';
import { LatencyWindow } from './latency-window.js';
import { toBudget, type RetryBudget } from './retry-budget.js';
import { integerAtLeast, invalidOption, nonNegative, optionalErrorFilter, signalProblem } from './validation.js';

/** Options of {@link hedge} / {@link hedgePolicy}. Every one has a default ({@link hedgeDefaults}). */
export interface HedgeOptions {
  /**
   * How long an attempt may run before the next one starts alongside it, ms (default 2,000). With
   * `percentile`, only until enough latencies were seen. 0 starts every attempt at once.
   */
  readonly delay?: number | undefined;
  /**
   * Hedge after this percentile of the latencies of recent successful attempts (e.g. 95): a number in
   * (0, 100]. Needs the policy's history, so not for the one-shot {@link hedge}.
   */
  readonly percentile?: number | undefined;
  /** How many attempts may start besides the first: an integer >= 1 (default 1). */
  readonly maxHedged?: number | undefined;
  /**
   * Errors that start the next attempt at once instead of waiting for `delay` (default: every error).
   * An error it does not match ends the call with that error at once, abandoning the other attempts.
   */
  readonly on?: ErrorFilter | undefined;
  /** A {@link retryBudget}: every call deposits, every hedged attempt withdraws; a refused one is not started. */
  readonly budget?: RetryBudget | undefined;
  /** The clock for this policy only; without it the default clock is read on every call. */
  readonly clock?: Clock | undefined;
}

/** A hedge policy's resolved, frozen options. */
export interface ResolvedHedgeOptions {
  readonly delay: number;
  readonly percentile: number | undefined;
  readonly maxHedged: number;
  /** As given (an array copied and frozen); `undefined` means every error. */
  readonly on: ErrorFilter | undefined;
  readonly budget: RetryBudget | undefined;
  readonly clock: Clock | undefined;
}

/** The defaults of {@link hedge} (Polly's), stated once. */
export const hedgeDefaults = Object.freeze({ delay: 2_000, maxHedged: 1 });

/** What a hedge policy has done so far; read with `policy.statistics` (a frozen snapshot). */
export interface HedgeStatistics {
  /** Calls made through the policy. */
  readonly calls: number;
  /** Attempts started, the first ones included. */
  readonly attempts: number;
  /** Attempts started besides the first (`attempts − calls`). */
  readonly hedges: number;
  /** Calls that resolved. */
  readonly successes: number;
  /** Calls that rejected (caller aborts included). */
  readonly failures: number;
  /** Hedged attempts the retry budget refused. */
  readonly budgetExhausted: number;
  /** The delay a call starting now waits before its first hedge, ms (the percentile, once known). */
  readonly delay: number;
}

/** Payload of the `hedge` event: another attempt starts, after the delay or because one failed. */
export interface HedgeEvent {
  /** Its number: 2 for the first hedge. */
  readonly attempt: number;
  /** `'delay'`: the attempts before it ran too long; `'error'`: one failed with an error matching `on`. */
  readonly trigger: 'delay' | 'error';
}

/** Payload of the `giveUp` event: the call rejected with `error` after `attempts` attempts. */
export interface HedgeGiveUpEvent {
  readonly attempts: number;
  readonly error: unknown;
  /** `'not-retryable'`, `'exhausted'` (every attempt failed), `'budget'` (a hedge was refused) or `'aborted'`. */
  readonly reason: GiveUpReason;
}

/** The events of a {@link HedgePolicy}, for `policy.on(type, listener)`. */
export interface HedgeEvents {
  hedge: HedgeEvent;
  giveUp: HedgeGiveUpEvent;
}

/**
 * Hedges a one-shot call: if `fn` has not settled after `delay` ms, calls it
 * again alongside, up to `maxHedged` more times; the first success wins and
 * the other attempts are abandoned (their signal aborts). `fn` must be
 * idempotent: several attempts may run, and complete, at once.
 *
 * @example
 * const user = await hedge(({ signal }) => fetchUser(id, { signal }), { delay: 50, maxHedged: 2 });
 */
export function hedge<T>(
  fn: (context: AttemptContext) => T | PromiseLike<T>,
  options?: HedgeOptions & SignalOption,
): Promise<T> {
  let policy: HedgePolicy;
  try {
    if (options?.percentile !== undefined) {
      invalidOption(
        'hedge',
        'percentile',
        'left out of a one-shot call (it needs earlier calls: use hedgePolicy)',
        options.percentile,
      );
    }
    policy = new HedgePolicy(options);
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a validation TypeError/RangeError, as thrown
    return Promise.reject(error);
  }
  return policy.execute(fn, options?.signal);
}

/** A reusable hedge policy: options resolved and validated once, here; it keeps the latencies `percentile` reads. */
export function hedgePolicy(options?: HedgeOptions): HedgePolicy {
  return registered(new HedgePolicy(options), 'hedge');
}

/** Hedges calls; see {@link hedgePolicy}. */
export class HedgePolicy {
  readonly kind = 'hedge';
  /** The resolved, frozen options. */
  readonly options: ResolvedHedgeOptions;
  readonly #engine: Engine;

  constructor(options?: HedgeOptions) {
    this.options = resolveHedgeOptions(options);
    this.#engine = new Engine(this.options);
  }

  /** Runs `fn` under the policy; `fn` gets its attempt's `{ signal, attempt }`. */
  execute<T>(fn: (context: AttemptContext) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    return this.#engine.run(fn as AnyFunction, undefined, undefined, signal) as Promise<T>;
  }

  /** Runs `fn.apply(thisArg, args)` under the policy: the entry the decorator uses (`attemptSignal()` gives the attempt's signal). */
  call<This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
    thisArg: This,
    args: Args,
    signal?: AbortSignal,
  ): Promise<Awaited<R>> {
    return this.#engine.run(fn as AnyFunction, thisArg, args, signal) as Promise<Awaited<R>>;
  }

  /** Calls `listener` for every `type` event; returns the function that stops it. */
  on<K extends keyof HedgeEvents>(type: K, listener: Listener<HedgeEvents[K]>): Unsubscribe {
    return this.#engine.events.on(type, listener);
  }

  /** Counters so far (a frozen snapshot). */
  get statistics(): HedgeStatistics {
    const e = this.#engine;
    return Object.freeze({
      calls: e.calls,
      attempts: e.attempts,
      hedges: e.attempts - e.calls,
      successes: e.successes,
      failures: e.failures,
      budgetExhausted: e.refused,
      delay: e.delayNow(),
    });
  }

  /** True while no call runs: a keyed policy in this state may be forgotten. */
  get idle(): boolean {
    return this.#engine.running === 0;
  }
}

// The policy's state, shared by its calls (the public class keeps it private).
class Engine {
  readonly events = new Events<HedgeEvents>();
  readonly matches: ErrorMatcher;
  readonly maxHedged: number;
  readonly delay: number;
  readonly window: LatencyWindow | undefined;
  readonly budget: RetryBudget | undefined;
  readonly clock: Clock | undefined;
  calls = 0;
  attempts = 0;
  successes = 0;
  failures = 0;
  refused = 0;
  /** Calls running now. */
  running = 0;

  constructor(options: ResolvedHedgeOptions) {
    this.matches = toErrorMatcher(options.on, anyError);
    this.maxHedged = options.maxHedged;
    this.delay = options.delay;
    this.window = options.percentile === undefined ? undefined : new LatencyWindow(options.percentile);
    this.budget = options.budget;
    this.clock = options.clock;
  }

  delayNow(): number {
    const percentile = this.window?.value;
    return percentile === undefined || Number.isNaN(percentile) ? this.delay : percentile;
  }

  run(
    fn: AnyFunction,
    thisArg: unknown,
    args: unknown[] | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    if (signal !== undefined) {
      const problem = signalProblem('hedge', signal);
      if (problem !== undefined) return Promise.reject(problem);
      if (signal.aborted) {
        this.calls++;
        this.failures++;
        this.gaveUp(0, signal.reason, 'aborted');
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the caller's reason, as given
        return Promise.reject(signal.reason);
      }
    }
    this.calls++;
    this.running++;
    this.budget?.deposit();
    const call = new HedgeCall(this, fn, thisArg, args, signal, abortableAttempt());
    capturing = call;
    const promise = new Promise(capture);
    call.begin();
    return promise;
  }

  gaveUp(attempts: number, error: unknown, reason: GiveUpReason): void {
    if (this.events.has('giveUp')) this.events.emit('giveUp', { attempts, error, reason });
  }
}

/** One attempt of a hedged call. */
class HedgeAttempt extends Attempt {
  declare settled: boolean;
  /** When it started, for the latency window (percentile mode only). */
  declare startedAt: number;

  constructor(attempt: number) {
    super(attempt, true);
    this.settled = false;
    this.startedAt = 0;
  }
}

/**
 * One hedged call, which is also its first attempt (one object for a call that needs no hedge): its
 * attempts, its hedge timer and the settling of its promise.
 */
class HedgeCall extends HedgeAttempt implements ArmedSoon {
  // Fields are assigned in the constructor (`declare`) and members are TypeScript-private, not
  // `#private`: either of those makes every `new` run a separate initializer function (see Attempt).
  declare state: RaceState;
  declare resolve: (value: unknown) => void;
  declare reject: (reason: unknown) => void;
  declare private readonly engine: Engine;
  declare private readonly fn: AnyFunction;
  declare private readonly thisArg: unknown;
  declare private readonly args: unknown[] | undefined;
  /** Follows the caller's signal and the outer attempt, when there is either (most calls have neither). */
  declare private follower: CallFollower | undefined;
  declare private others: HedgeAttempt[] | undefined;
  declare private started: number;
  declare private running: number;
  declare private timer: TimerHandle | undefined;
  declare private clock: Clock | undefined;
  declare private refused: boolean;

  constructor(
    engine: Engine,
    fn: AnyFunction,
    thisArg: unknown,
    args: unknown[] | undefined,
    signal: AbortSignal | undefined,
    outer: Attempt | undefined,
  ) {
    super(1);
    this.state = RUNNING;
    this.resolve = ignore;
    this.reject = ignore;
    this.engine = engine;
    this.fn = fn;
    this.thisArg = thisArg;
    this.args = args;
    this.follower = signal !== undefined || outer !== undefined ? new CallFollower(this, signal, outer) : undefined;
    this.others = undefined;
    this.started = 0;
    this.running = 0;
    this.timer = undefined;
    this.clock = undefined;
    this.refused = false;
  }

  begin(): void {
    const engine = this.engine;
    const follower = this.follower;
    if (follower !== undefined) {
      const { signal, outer } = follower;
      if (signal !== undefined) followSignal(signal, follower);
      if (outer !== undefined) {
        if (outer.aborted) {
          this.abortCall(outer.reason);
          return;
        }
        outer.follow(follower);
      }
    }
    if (engine.window !== undefined) this.clock = engine.clock ?? getDefaultClock();
    this.start();
    if (this.state === DECIDED || !this.mayHedge()) return;
    if (this.parallel()) {
      // Parallel hedging: every attempt at once.
      while (this.hedge('delay'));
    } else {
      // No timer for a call that settles within the current microtask checkpoint (attempt-loop.ts).
      guardSoon(this);
    }
  }

  /** Still pending after the checkpoint: the next hedge is due `delay` ms from now. */
  arm(): void {
    this.scheduleNext();
  }

  /** The caller's signal, or the attempt this call runs in, aborted: the call ends with `reason`. */
  abortCall(reason: unknown): void {
    if (this.state === DECIDED) return;
    this.finish(reason);
    this.engine.failures++;
    this.engine.gaveUp(this.started, reason, 'aborted');
    this.reject(reason);
  }

  // `delay: 0` without `percentile`: every attempt starts at once, no timer.
  private parallel(): boolean {
    const engine = this.engine;
    return engine.delay === 0 && engine.window === undefined;
  }

  private mayHedge(): boolean {
    return !this.refused && this.started <= this.engine.maxHedged;
  }

  private schedule(): void {
    const clock = (this.clock ??= this.engine.clock ?? getDefaultClock());
    // Read when the timer is set: with `percentile`, the latencies known by then.
    this.timer = clock.schedule(this.engine.delayNow(), () => {
      this.timer = undefined;
      this.hedge('delay');
    });
  }

  // Starts the next attempt if one may start and the budget pays for it; schedules the one after.
  private hedge(trigger: 'delay' | 'error'): boolean {
    if (this.state === DECIDED || !this.mayHedge()) return false;
    const engine = this.engine;
    if (engine.budget !== undefined && !engine.budget.tryWithdraw()) {
      this.refused = true;
      engine.refused++;
      return false;
    }
    if (this.timer !== undefined) {
      (this.clock as Clock).cancel(this.timer);
      this.timer = undefined;
    }
    if (engine.events.has('hedge')) engine.events.emit('hedge', { attempt: this.started + 1, trigger });
    this.start();
    this.scheduleNext();
    return true;
  }

  // Unless the call is settled, or no hedge is left: the next one is due `delay` ms from now.
  private scheduleNext(): void {
    if (this.state !== DECIDED && !this.parallel() && this.timer === undefined && this.mayHedge()) this.schedule();
  }

  private start(): void {
    const engine = this.engine;
    // The first attempt is the call itself; a hedge is an attempt of its own.
    const attempt = this.started++ === 0 ? (this as HedgeAttempt) : new HedgeAttempt(this.started);
    if (attempt !== this) (this.others ??= []).push(attempt);
    engine.attempts++;
    if (this.clock !== undefined && engine.window !== undefined) attempt.startedAt = this.clock.now();
    this.running++;
    const args = this.args;
    let result: unknown;
    const previous = enterAttempt(attempt);
    try {
      result = args === undefined ? (this.fn as ContextFunction)(attempt) : invoke(this.fn, this.thisArg, args);
    } catch (error) {
      leaveAttempt(previous);
      this.settle(attempt, false, error);
      return;
    }
    leaveAttempt(previous);
    if (!isThenable(result)) {
      this.settle(attempt, true, result);
      return;
    }
    promiseOf(result).then(
      (value) => {
        this.settle(attempt, true, value);
      },
      (error: unknown) => {
        this.settle(attempt, false, error);
      },
    );
  }

  private settle(attempt: HedgeAttempt, ok: boolean, result: unknown): void {
    attempt.settled = true;
    this.running--;
    if (this.state === DECIDED) return; // a loser: observed, and ignored
    const engine = this.engine;
    if (ok) {
      if (engine.window !== undefined) engine.window.add((this.clock as Clock).now() - attempt.startedAt);
      this.finish(undefined);
      engine.successes++;
      this.resolve(result);
      return;
    }
    if (!engine.matches(result)) {
      this.fail(result, 'not-retryable');
      return;
    }
    if (this.hedge('error')) return;
    if (this.running === 0) this.fail(result, this.refused ? 'budget' : 'exhausted');
  }

  private fail(error: unknown, reason: GiveUpReason): void {
    this.finish(undefined);
    this.engine.failures++;
    this.engine.gaveUp(this.started, error, reason);
    this.reject(error);
  }

  // The call is settled: its timer goes, it stops following, and the attempts still running are abandoned.
  private finish(reason: unknown): void {
    this.state = DECIDED;
    this.engine.running--;
    if (this.timer !== undefined) {
      (this.clock as Clock).cancel(this.timer);
      this.timer = undefined;
    }
    const follower = this.follower;
    if (follower !== undefined) {
      if (follower.signal !== undefined) unfollowSignal(follower.signal, follower);
      follower.outer?.unfollow(follower);
    }
    if (this.running === 0) return;
    abandon(this, reason);
    const others = this.others;
    if (others !== undefined) for (const attempt of others) abandon(attempt, reason);
  }
}

/** What a call with a caller's signal or an outer attempt follows them with. */
class CallFollower implements Follower {
  constructor(
    readonly call: HedgeCall,
    readonly signal: AbortSignal | undefined,
    readonly outer: Attempt | undefined,
  ) {}

  abort(reason: unknown): void {
    this.call.abortCall(reason);
  }
}

function ignore(): void {
  // replaced by the promise's own settling functions as soon as the call starts
}

function abandon(attempt: HedgeAttempt, reason: unknown): void {
  if (!attempt.settled) attempt.abort(reason ?? new HedgeAbandonedError(attempt.attempt));
}

// `new Promise(capture)` hands the settling functions to `capturing` without a closure per call.
let capturing: HedgeCall | undefined;
function capture(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  const call = capturing as HedgeCall;
  call.resolve = resolve;
  call.reject = reject;
  capturing = undefined;
}

function resolveHedgeOptions(options: HedgeOptions | undefined): ResolvedHedgeOptions {
  if (options !== undefined && (typeof options !== 'object' || (options as unknown) === null)) {
    invalidOption('hedge', 'options', 'an object', options);
  }
  const opts = options ?? {};
  const percentile = opts.percentile;
  if (percentile !== undefined && (typeof percentile !== 'number' || !(percentile > 0 && percentile <= 100))) {
    invalidOption('hedge', 'percentile', 'a number in (0, 100], such as 95', percentile, RangeError);
  }
  return Object.freeze({
    delay: nonNegative('hedge', 'delay', opts.delay ?? hedgeDefaults.delay, false),
    percentile,
    maxHedged: integerAtLeast('hedge', 'maxHedged', opts.maxHedged ?? hedgeDefaults.maxHedged, 1),
    on: optionalErrorFilter('hedge', 'on', opts.on),
    budget: toBudget('hedge', opts.budget),
    clock: toClock('hedge', opts.clock),
  });
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
type ContextFunction = (context: AttemptContext) => unknown;
