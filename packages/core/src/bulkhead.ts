import { enterCall, leaveAttempt, type Follower } from './attempt.js';
import { admission, mayAdmitNext, WaitQueue, type QueueNode } from './bulkhead-queue.js';
import { getDefaultClock, isClock, type Clock, type TimerHandle } from './clock.js';
import {
  isAdaptiveLimit,
  resolveAdaptiveLimit,
  type AdaptiveLimit,
  type ResolvedAdaptiveLimit,
} from './concurrency-limit/adaptive.js';
import { ConcurrencyLimiter } from './concurrency-limit/limiter.js';
import {
  BulkheadRejectedError,
  isBulkheadRejectedError,
  isTimeoutError,
  type BulkheadRejectionReason,
} from './errors.js';
import { Events, type Listener, type Unsubscribe } from './events.js';
import { followSignal, unfollowSignal } from './follow-signal.js';
import { invoke, isNativePromise, isThenable, promiseOf, rejectSoon } from './hot-path.js';
import { integerAtLeast, invalidOption, nonNegative, signalProblem } from './validation.js';
import { registered } from './registry.js';

/** Options of {@link bulkhead} / {@link bulkheadPolicy}. Every one has a default ({@link bulkheadDefaults}). */
export interface BulkheadOptions {
  /**
   * How many calls may run at once: an integer >= 1 (default 10), or
   * `adaptive({ algorithm, min, max, … })` for a limit that follows the
   * latency the bulkhead measures.
   */
  readonly limit?: number | AdaptiveLimit | undefined;
  /** How many more calls may wait for a slot, first come first served: an integer >= 0 or Infinity (default 0). */
  readonly queue?: number | undefined;
  /**
   * How long a call may wait in the queue, in ms, before it is rejected with
   * `BulkheadRejectedError` (default Infinity: as long as it takes). With 0,
   * a call that would have to wait is rejected at once.
   */
  readonly maxWait?: number | undefined;
  /** The clock for this policy only; without it the default clock is read whenever a wait is timed. */
  readonly clock?: Clock | undefined;
}

/** A bulkhead's resolved, frozen options. */
export interface ResolvedBulkheadOptions {
  /** The fixed limit, or the adaptive limit's checked options. */
  readonly limit: number | ResolvedAdaptiveLimit;
  readonly queue: number;
  readonly maxWait: number;
  readonly clock: Clock | undefined;
}

/** The defaults of {@link bulkhead}, stated once. */
export const bulkheadDefaults = Object.freeze({ limit: 10, queue: 0, maxWait: Infinity });

/**
 * What a bulkhead has done so far, and holds now; read with
 * `policy.statistics` (a frozen snapshot). Every call is counted in `calls`
 * and ends up in exactly one of `admitted`, `rejected` or `aborted`, or is
 * still `queued`: `calls === admitted + rejected + aborted + queued`.
 */
export interface BulkheadStatistics {
  /** Calls made through the bulkhead. */
  readonly calls: number;
  /** Calls that got a slot and ran (at once or after waiting). */
  readonly admitted: number;
  /** Calls rejected with `BulkheadRejectedError` without running (queue full, or `maxWait` passed). */
  readonly rejected: number;
  /** Calls their caller's signal abandoned before they ran (already aborted, or aborted while queued). */
  readonly aborted: number;
  /** Calls running now. */
  readonly active: number;
  /** Calls waiting for a slot now. */
  readonly queued: number;
  /** The limit now: the fixed one, or where an adaptive limit stands. */
  readonly limit: number;
}

/** Payload of the `queued` event: a call found every slot taken and waits. */
export interface BulkheadQueuedEvent {
  /** How many calls wait now, this one included. */
  readonly queued: number;
}

/** Payload of the `rejected` event: a call was rejected without running. */
export interface BulkheadRejectedEvent {
  /** `'full'` or `'maxWait'`. */
  readonly reason: BulkheadRejectionReason;
  /** The error the call rejects with. */
  readonly error: BulkheadRejectedError;
}

/** Payload of the `limit` event: an adaptive limit moved. */
export interface BulkheadLimitEvent {
  /** The limit now. */
  readonly limit: number;
  /** The limit before. */
  readonly previous: number;
}

/** The events of a {@link BulkheadPolicy}, for `policy.on(type, listener)`. */
export interface BulkheadEvents {
  /** A call waits for a slot. */
  queued: BulkheadQueuedEvent;
  /** A call was rejected without running. */
  rejected: BulkheadRejectedEvent;
  /** An adaptive limit moved (after a window of calls); a fixed limit never does. */
  limit: BulkheadLimitEvent;
}

/**
 * Limits `fn` to `limit` calls at once: returns a function that calls `fn`
 * through one bulkhead shared by all its calls (with the same `this` and
 * arguments), queueing up to `queue` more. Always returns a promise.
 *
 * @example
 * const fetchUser = bulkhead((id: string) => api.user(id), { limit: 5, queue: 100 });
 * await fetchUser('42');
 */
export function bulkhead<This, Args extends unknown[], R>(
  fn: (this: This, ...args: Args) => R,
  options?: BulkheadOptions,
): (this: This, ...args: Args) => Promise<Awaited<R>> {
  if (typeof fn !== 'function') invalidOption('bulkhead', 'fn', 'a function', fn);
  const policy = registered(new BulkheadPolicy(options), 'bulkhead');
  return function (this: This, ...args: Args): Promise<Awaited<R>> {
    return policy.call(fn, this, args);
  };
}

/** A reusable bulkhead: options resolved and validated once, here. */
export function bulkheadPolicy(options?: BulkheadOptions): BulkheadPolicy {
  return registered(new BulkheadPolicy(options), 'bulkhead');
}

// Set by BulkheadPolicy's static block: how a waiter told of its caller's abort reaches the policy's queue.
let leaveQueue: (policy: BulkheadPolicy, waiter: Waiter, reason: unknown) => void;

/**
 * A concurrency limit: at most `limit` calls run at once, up to `queue` more
 * wait in arrival order, and the rest are rejected with
 * `BulkheadRejectedError`; see {@link bulkheadPolicy}.
 */
export class BulkheadPolicy {
  /** What `policyOf(…, 'bulkhead')` and the descriptors call it. */
  readonly kind = 'bulkhead';
  /** The limits, as resolved (frozen). */
  readonly options: ResolvedBulkheadOptions;
  // The limit admissions are checked against: fixed, or the adaptive limiter's current one.
  #limit: number;
  // Only with an adaptive limit: a fixed-limit bulkhead reads no clock.
  readonly #limiter: ConcurrencyLimiter | undefined;
  readonly #queue: number;
  readonly #maxWait: number;
  #active = 0;
  // Made when the first call has to wait: a bulkhead that never queues holds no queue.
  #waiting: WaitQueue<Waiter> | undefined;
  // Set while the queue is being admitted from: a release inside it leaves the admitting to that loop.
  #admitting = false;
  #calls = 0;
  #admitted = 0;
  #rejected = 0;
  #aborted = 0;
  #events: Events<BulkheadEvents> | undefined;

  constructor(options?: BulkheadOptions | ResolvedBulkheadOptions) {
    // Another bulkhead's resolved options (a keyed scope makes one bulkhead per key from them): shared, not
    // copied, so an idle keyed bulkhead stays small.
    if (resolvedOptions.has(options as object)) {
      const resolved = options as ResolvedBulkheadOptions;
      this.options = resolved;
      this.#limiter = typeof resolved.limit === 'number' ? undefined : new ConcurrencyLimiter(resolved.limit);
      this.#limit = this.#limiter?.limit ?? (resolved.limit as number);
      this.#queue = resolved.queue;
      this.#maxWait = resolved.maxWait;
      return;
    }
    if (options !== undefined && (typeof options !== 'object' || (options as unknown) === null)) {
      invalidOption('bulkhead', 'options', 'an object', options);
    }
    const given = options?.limit ?? bulkheadDefaults.limit;
    const limit = isAdaptiveLimit(given)
      ? resolveAdaptiveLimit('bulkhead', given)
      : typeof given === 'number'
        ? integerAtLeast('bulkhead', 'limit', given, 1)
        : invalidOption('bulkhead', 'limit', 'an integer >= 1 or adaptive({ algorithm, … })', given);
    const queue = integerAtLeast('bulkhead', 'queue', options?.queue ?? bulkheadDefaults.queue, 0, true);
    const maxWait = nonNegative('bulkhead', 'maxWait', options?.maxWait ?? bulkheadDefaults.maxWait);
    const clock = options?.clock;
    if (clock !== undefined && !isClock(clock)) {
      invalidOption('bulkhead', 'clock', 'a Clock (now, sleep, schedule, cancel)', clock);
    }
    this.options = Object.freeze({ limit, queue, maxWait, clock });
    resolvedOptions.add(this.options);
    this.#limiter = typeof limit === 'number' ? undefined : new ConcurrencyLimiter(limit);
    this.#limit = this.#limiter?.limit ?? (limit as number);
    this.#queue = queue;
    this.#maxWait = maxWait;
  }

  /** Counters so far, and the calls running and waiting now (a frozen snapshot). */
  get statistics(): BulkheadStatistics {
    return Object.freeze({
      calls: this.#calls,
      admitted: this.#admitted,
      rejected: this.#rejected,
      aborted: this.#aborted,
      active: this.#active,
      queued: this.#waiting?.size ?? 0,
      limit: this.#limit,
    });
  }

  /** True when no call is running or waiting: a new bulkhead would act the same (keyed scopes forget idle ones). */
  get idle(): boolean {
    return this.#active === 0 && (this.#waiting === undefined || this.#waiting.size === 0);
  }

  /** Calls `listener` for every `type` event; returns the function that stops it. */
  on<K extends keyof BulkheadEvents>(type: K, listener: Listener<BulkheadEvents[K]>): Unsubscribe {
    return (this.#events ??= new Events()).on(type, listener);
  }

  /**
   * Runs `fn` when a slot is free: at once, or after waiting its turn. Always
   * returns a promise. `signal` abandons the call while it waits (it leaves the
   * queue at once and rejects with the signal's reason); once `fn` runs, the
   * signal is `fn`'s business.
   */
  execute<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    return this.call(fn, undefined, noArgs, signal);
  }

  /** Runs `fn.apply(thisArg, args)` under the bulkhead, as {@link BulkheadPolicy.execute}: the decorators' entry point. */
  call<This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
    thisArg: This,
    args: Args,
    signal?: AbortSignal,
  ): Promise<Awaited<R>> {
    if (signal !== undefined) {
      const problem = signalProblem('bulkhead', signal);
      if (problem !== undefined) return Promise.reject(problem);
    }
    this.#calls++;
    if (signal?.aborted === true) {
      this.#aborted++;
      return rejectSoon(signal.reason);
    }
    const waiting = this.#waiting === undefined ? 0 : this.#waiting.size;
    const decision = admission(this.#active, waiting, this.#limit, this.#queue, this.#maxWait);
    const f = fn as unknown as AnyFunction;
    if (decision === 'run') return this.#run(f, thisArg, args) as Promise<Awaited<R>>;
    if (decision === 'wait') return this.#wait(f, thisArg, args, signal) as Promise<Awaited<R>>;
    return rejectSoon(this.#rejection(decision));
  }

  // Runs an admitted call; its slot is released when it settles. Never throws.
  #run(fn: AnyFunction, thisArg: unknown, args: readonly unknown[]): Promise<unknown> {
    // An adaptive limit times one call in `sample` (a clock read can cost more than the whole call).
    if (this.#limiter?.timesNext() === true) return this.#runMeasured(fn, thisArg, args, undefined) as Promise<unknown>;
    this.#active++;
    this.#admitted++;
    // The bulkhead makes no attempts of its own: outside any, `attemptSignal()` gets the never-aborting
    // signal; inside another policy's attempt, that attempt's.
    const previous = enterCall();
    let result: unknown;
    try {
      result = invoke(fn, thisArg, args);
    } catch (error) {
      leaveAttempt(previous);
      this.#release();
      return rejectSoon(error);
    }
    leaveAttempt(previous);
    if (isNativePromise(result) || isThenable(result)) {
      // Two small closures per call, not a pair of handlers kept by the policy: those would keep ~150
      // bytes alive in every bulkhead (a keyed scope may hold thousands), for a few ns per call.
      return promiseOf(result).then(
        (value) => {
          this.#release();
          return value;
        },
        (error: unknown) => {
          this.#limiter?.noteDrop(isDrop(error));
          this.#release();
          throw error;
        },
      );
    }
    this.#release();
    return Promise.resolve(result);
  }

  // #run for a call that waited: settles the promise its caller already holds, directly (resolving it with
  // #run's promise would cost two more promise jobs per call, measured as a third of a queued call's cost).
  #runWaiter(waiter: Waiter): void {
    if (this.#limiter?.timesNext() === true) {
      // Settles `waiter` itself: nothing is returned to observe.
      void this.#runMeasured(waiter.fn, waiter.thisArg, waiter.args, waiter);
      return;
    }
    this.#active++;
    this.#admitted++;
    const previous = enterCall();
    let result: unknown;
    try {
      result = invoke(waiter.fn, waiter.thisArg, waiter.args);
    } catch (error) {
      leaveAttempt(previous);
      this.#release();
      waiter.reject(error);
      return;
    }
    leaveAttempt(previous);
    if (isNativePromise(result) || isThenable(result)) {
      promiseOf(result).then(
        (value) => {
          this.#release();
          waiter.resolve(value);
        },
        (error: unknown) => {
          this.#limiter?.noteDrop(isDrop(error));
          this.#release();
          waiter.reject(error);
        },
      );
      return;
    }
    this.#release();
    waiter.resolve(result);
  }

  #wait(
    fn: AnyFunction,
    thisArg: unknown,
    args: readonly unknown[],
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const waiting = (this.#waiting ??= new WaitQueue());
    // One shared executor, not a closure per waiting call: it hands over the settle functions at once.
    const promise = new Promise<unknown>(captureSettlers);
    const waiter = new Waiter(this, fn, thisArg, args, signal, capturedResolve, capturedReject);
    waiting.push(waiter);
    const maxWait = this.#maxWait;
    if (maxWait !== Infinity) {
      // The clock that set the timer cancels it, even if the default clock changes meanwhile.
      const clock = (waiter.clock = this.options.clock ?? getDefaultClock());
      waiter.timer = clock.schedule(maxWait, () => {
        this.#leave(waiter, undefined);
      });
    }
    if (signal !== undefined) followSignal(signal, waiter);
    const events = this.#events;
    if (events?.has('queued') === true) events.emit('queued', { queued: waiting.size });
    return promise;
  }

  // #run and #runWaiter with an adaptive limit: the call is timed on the bulkhead's clock, and its
  // latency (or its drop: a timeout, or an overload rejection from further in) is recorded before its
  // slot is released, so a limit that moved applies to the admissions that release makes.
  #runMeasured(
    fn: AnyFunction,
    thisArg: unknown,
    args: readonly unknown[],
    waiter: Waiter | undefined,
  ): Promise<unknown> | undefined {
    const inflight = ++this.#active;
    this.#admitted++;
    const clock = this.options.clock ?? getDefaultClock();
    const start = clock.now();
    const previous = enterCall();
    let result: unknown;
    try {
      result = invoke(fn, thisArg, args);
    } catch (error) {
      leaveAttempt(previous);
      this.#measured(clock, start, inflight, error, true);
      if (waiter === undefined) return rejectSoon(error);
      waiter.reject(error);
      return undefined;
    }
    leaveAttempt(previous);
    if (!isNativePromise(result) && !isThenable(result)) {
      this.#measured(clock, start, inflight, undefined, false);
      if (waiter === undefined) return Promise.resolve(result);
      waiter.resolve(result);
      return undefined;
    }
    const settled = promiseOf(result).then(
      (value) => {
        this.#measured(clock, start, inflight, undefined, false);
        if (waiter === undefined) return value;
        waiter.resolve(value);
        return undefined;
      },
      (error: unknown) => {
        this.#measured(clock, start, inflight, error, true);
        if (waiter === undefined) throw error;
        waiter.reject(error);
        return undefined;
      },
    );
    return waiter === undefined ? settled : undefined;
  }

  // A measured call settled: its sample goes to the limiter (errors other than drops say nothing about
  // load and are not sampled), the limit follows, then the slot is released.
  #measured(clock: Clock, start: number, inflight: number, error: unknown, failed: boolean): void {
    const limiter = this.#limiter as ConcurrencyLimiter;
    const dropped = failed && isDrop(error);
    if ((!failed || dropped) && limiter.record(clock.now() - start, inflight, dropped)) {
      const previous = this.#limit;
      this.#limit = limiter.limit;
      const events = this.#events;
      if (events?.has('limit') === true) events.emit('limit', { limit: this.#limit, previous });
    }
    this.#release();
  }

  // A call frees its slot: the calls waiting longest take the free slots, in order.
  #release(): void {
    this.#active--;
    const waiting = this.#waiting;
    if (waiting === undefined || this.#admitting || !mayAdmitNext(this.#active, waiting.size, this.#limit)) return;
    // A loop, not recursion: an admitted call that fails synchronously releases its slot inside it.
    this.#admitting = true;
    while (mayAdmitNext(this.#active, waiting.size, this.#limit)) {
      const waiter = waiting.shift() as Waiter;
      this.#stopWaiting(waiter);
      this.#runWaiter(waiter);
    }
    this.#admitting = false;
  }

  // A waiting call leaves the queue without running: its caller aborted (`reason`), or its `maxWait`
  // passed (`reason` undefined, `aborted` false). A no-op for a call no longer waiting.
  #leave(waiter: Waiter, abortReason: { readonly reason: unknown } | undefined): void {
    if (!(this.#waiting as WaitQueue<Waiter>).remove(waiter)) return;
    this.#stopWaiting(waiter);
    if (abortReason !== undefined) {
      this.#aborted++;
      waiter.reject(abortReason.reason);
    } else {
      waiter.reject(this.#rejection('maxWait'));
    }
  }

  // Nothing of a call's wait outlives it: its timer is cancelled and its signal no longer followed.
  #stopWaiting(waiter: Waiter): void {
    if (waiter.timer !== undefined) {
      (waiter.clock as Clock).cancel(waiter.timer);
      waiter.timer = undefined;
    }
    if (waiter.signal !== undefined) unfollowSignal(waiter.signal, waiter);
  }

  #rejection(reason: BulkheadRejectionReason): BulkheadRejectedError {
    this.#rejected++;
    const error = new BulkheadRejectedError(this.#limit, this.#queue, reason, this.#maxWait);
    const events = this.#events;
    if (events?.has('rejected') === true) events.emit('rejected', { reason, error });
    return error;
  }

  static {
    leaveQueue = (policy, waiter, reason) => {
      policy.#leave(waiter, { reason });
    };
  }
}

type AnyFunction = (this: unknown, ...args: readonly unknown[]) => unknown;

// A call that says the dependency is overloaded: it timed out, or a bulkhead further in rejected it.
function isDrop(error: unknown): boolean {
  return isTimeoutError(error) || isBulkheadRejectedError(error);
}

// One waiting call: its place in the queue, what to run, how to settle its caller's promise. Its fields
// are assigned in the constructor (`declare`: no field definitions run first), one object per waiting call.
class Waiter implements QueueNode, Follower {
  declare next: QueueNode | undefined;
  declare previous: QueueNode | undefined;
  declare timer: TimerHandle | undefined;
  declare clock: Clock | undefined;
  declare readonly policy: BulkheadPolicy;
  declare readonly fn: AnyFunction;
  declare readonly thisArg: unknown;
  declare readonly args: readonly unknown[];
  declare readonly signal: AbortSignal | undefined;
  declare readonly resolve: (value: unknown) => void;
  declare readonly reject: (reason: unknown) => void;

  constructor(
    policy: BulkheadPolicy,
    fn: AnyFunction,
    thisArg: unknown,
    args: readonly unknown[],
    signal: AbortSignal | undefined,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
  ) {
    this.next = undefined;
    this.previous = undefined;
    this.timer = undefined;
    this.clock = undefined;
    this.policy = policy;
    this.fn = fn;
    this.thisArg = thisArg;
    this.args = args;
    this.signal = signal;
    this.resolve = resolve;
    this.reject = reject;
  }

  // The caller's signal aborted while the call waited.
  abort(reason: unknown): void {
    leaveQueue(this.policy, this, reason);
  }
}

const noArgs: [] = [];

// Every options object a bulkhead resolved: frozen and valid, so another bulkhead may share it as it is.
const resolvedOptions = new WeakSet();

// What `captureSettlers` was last given: read right after `new Promise(captureSettlers)`, which calls it
// synchronously, so no value is ever read from another call.
let capturedResolve: (value: unknown) => void;
let capturedReject: (reason: unknown) => void;

function captureSettlers(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}
