import { enterCall, leaveAttempt, type Follower } from './attempt.js';
import { WaitQueue, type QueueNode } from './bulkhead-queue.js';
import { getDefaultClock, isClock, type Clock, type TimerHandle } from './clock.js';
import { RateLimitedError, type RateLimitRejectionReason } from './errors.js';
import { Events, type Listener, type Unsubscribe } from './events.js';
import { followSignal, unfollowSignal } from './follow-signal.js';
import { enterHandOff } from './handoff.js';
import { invoke, isNativePromise, isThenable, promiseOf, rejectSoon } from './hot-path.js';
import {
  memoryRateLimitStore,
  period,
  rateLimitAlgorithm,
  type RateLimitAlgorithm,
  type RateLimitStore,
  type RateLimitStoreProvider,
} from './rate-limit-store.js';
import { integerAtLeast, invalidOption, nonNegative, signalProblem } from './validation.js';
import { registered } from './registry.js';

/** Options of {@link rateLimit} / {@link rateLimitPolicy}: `permits` is required, the rest have defaults ({@link rateLimitDefaults}). */
export interface RateLimitOptions {
  /** How many calls may start per `per` ms: an integer >= 1 (the bucket's capacity: its largest burst). */
  readonly permits: number;
  /** The period, in ms: a finite number > 0 (default 1000). */
  readonly per?: number | undefined;
  /**
   * `'token-bucket'` (default): up to `permits` at once, then one every
   * `per / permits` ms. `'sliding-window'`: at most `permits` in any `per`
   * ms, exactly (keeps `permits` admission times).
   */
  readonly algorithm?: RateLimitAlgorithm | undefined;
  /** How many more calls may wait for a permit, first come first served: an integer >= 0 or Infinity (default 0). */
  readonly queue?: number | undefined;
  /**
   * How long a call may wait in the queue, in ms, before it is rejected with
   * `RateLimitedError` (default Infinity: as long as it takes). With 0, a
   * call that would have to wait is rejected at once.
   */
  readonly maxWait?: number | undefined;
  /** Where the permits live, by name (e.g. `@staunch/redis`'s, shared by a fleet). Default: this limiter's own memory. */
  readonly store?: RateLimitStoreProvider | undefined;
  /** The limit's name in a `store` (default `'rate-limit'`): limiters of one name share one limit. */
  readonly name?: string | undefined;
  /** The clock for this policy only; without it the default clock is read on every call. */
  readonly clock?: Clock | undefined;
}

/** A rate limiter's resolved, frozen options. */
export interface ResolvedRateLimitOptions {
  readonly permits: number;
  readonly per: number;
  readonly algorithm: RateLimitAlgorithm;
  readonly queue: number;
  readonly maxWait: number;
  readonly store: RateLimitStoreProvider | undefined;
  readonly name: string;
  readonly clock: Clock | undefined;
}

/** The defaults of {@link rateLimit}, stated once. */
export const rateLimitDefaults = Object.freeze({
  per: 1000,
  algorithm: 'token-bucket',
  queue: 0,
  maxWait: Infinity,
  name: 'rate-limit',
} as const);

/**
 * What a rate limiter has done so far, and holds now; read with
 * `policy.statistics` (a frozen snapshot). Every call is counted in `calls`
 * and ends up in exactly one of `admitted`, `rejected` or `aborted`, or is
 * still `queued` (or, with a shared store, waiting for the store's answer).
 */
export interface RateLimitStatistics {
  /** Calls made through the limiter. */
  readonly calls: number;
  /** Calls that got a permit and ran (at once or after waiting). */
  readonly admitted: number;
  /** Calls rejected with `RateLimitedError` without running. */
  readonly rejected: number;
  /** Calls their caller's signal abandoned before they ran (already aborted, or aborted while waiting). */
  readonly aborted: number;
  /** Calls waiting for a permit now. */
  readonly queued: number;
}

/** Payload of the `queued` event: a call found no permit and waits. */
export interface RateLimitQueuedEvent {
  /** How many calls wait now, this one included. */
  readonly queued: number;
}

/** Payload of the `rejected` event: a call was rejected without running. */
export interface RateLimitRejectedEvent {
  /** `'limit'`, `'full'` or `'maxWait'`. */
  readonly reason: RateLimitRejectionReason;
  /** The error the call rejects with. */
  readonly error: RateLimitedError;
}

/** The events of a {@link RateLimitPolicy}, for `policy.on(type, listener)`. */
export interface RateLimitEvents {
  /** A call waits for a permit. */
  queued: RateLimitQueuedEvent;
  /** A call was rejected without running. */
  rejected: RateLimitRejectedEvent;
}

/**
 * Limits how often `fn` starts: returns a function that calls `fn` through one
 * rate limiter shared by all its calls (with the same `this` and arguments).
 * Always returns a promise; a call over the limit waits in the queue (if
 * `queue` allows) or rejects with `RateLimitedError`.
 *
 * @example
 * const search = rateLimit((q: string) => api.search(q), { permits: 10, per: 1000, queue: 50 });
 * await search('staunch');
 */
export function rateLimit<This, Args extends unknown[], R>(
  fn: (this: This, ...args: Args) => R,
  options: RateLimitOptions,
): (this: This, ...args: Args) => Promise<Awaited<R>> {
  if (typeof fn !== 'function') invalidOption('rateLimit', 'fn', 'a function', fn);
  const policy = registered(new RateLimitPolicy(options), 'rateLimit');
  return function (this: This, ...args: Args): Promise<Awaited<R>> {
    return policy.call(fn, this, args);
  };
}

/** A reusable rate limiter: options resolved and validated once, here. */
export function rateLimitPolicy(options: RateLimitOptions): RateLimitPolicy {
  return registered(new RateLimitPolicy(options), 'rateLimit');
}

// Set by RateLimitPolicy's static block: how a waiter told of its caller's abort reaches the policy's queue.
let leaveQueue: (policy: RateLimitPolicy, waiter: Waiter, reason: unknown) => void;

/**
 * A rate limit: at most `permits` calls start per `per` ms; up to `queue`
 * more wait for a permit in arrival order, and the rest are rejected with
 * `RateLimitedError`; see {@link rateLimitPolicy}. While calls wait, one timer
 * is armed, for the head of the queue; an idle limiter holds none.
 */
export class RateLimitPolicy {
  /** What `policyOf(…, 'rateLimit')` and the descriptors call it. */
  readonly kind = 'rateLimit';
  /** The limits, as resolved (frozen). */
  readonly options: ResolvedRateLimitOptions;
  readonly #store: RateLimitStore;
  readonly #queue: number;
  readonly #maxWait: number;
  // Made when the first call has to wait: a limiter that never queues holds no queue.
  #waiting: WaitQueue<Waiter> | undefined;
  // The one timer of the queue: armed while calls wait and no answer for the head is awaited from the store.
  #timer: TimerHandle | undefined;
  #timerClock: Clock | undefined;
  // True while a shared store is asked for the head's permit (the timer is then unarmed).
  #askingForHead = false;
  // Set while the queue is being admitted from: a timer or answer arriving meanwhile leaves it to that loop.
  #pumping = false;
  // When the store said the next permit frees (clock time), for the `retryAfter` of a call that cannot queue.
  #nextPermitAt = 0;
  // Arrivals waiting for a shared store's answer (not yet queued, admitted or rejected).
  #asking = 0;
  #calls = 0;
  #admitted = 0;
  #rejected = 0;
  #aborted = 0;
  #events: Events<RateLimitEvents> | undefined;

  constructor(options: RateLimitOptions) {
    // Another limiter's resolved options (a keyed scope makes one limiter per key from them): shared, not copied.
    if (resolvedOptions.has(options)) {
      const resolved = options as ResolvedRateLimitOptions;
      this.options = resolved;
    } else {
      this.options = resolve(options);
      resolvedOptions.add(this.options);
    }
    const { queue, maxWait, store, name } = this.options;
    this.#queue = queue;
    this.#maxWait = maxWait;
    this.#store = store === undefined ? memoryRateLimitStore(this.options) : ownStore(store, name, this.options);
  }

  /** Counters so far, and the calls waiting now (a frozen snapshot). */
  get statistics(): RateLimitStatistics {
    return Object.freeze({
      calls: this.#calls,
      admitted: this.#admitted,
      rejected: this.#rejected,
      aborted: this.#aborted,
      queued: this.#waiting?.size ?? 0,
    });
  }

  /** True when nothing waits and the store holds nothing recent: a new limiter would act the same (keyed scopes forget idle ones). */
  get idle(): boolean {
    return (
      (this.#waiting === undefined || this.#waiting.size === 0) &&
      this.#asking === 0 &&
      !this.#askingForHead &&
      this.#store.idle(this.#clock().now())
    );
  }

  /** Calls `listener` for every `type` event; returns the function that stops it. */
  on<K extends keyof RateLimitEvents>(type: K, listener: Listener<RateLimitEvents[K]>): Unsubscribe {
    return (this.#events ??= new Events()).on(type, listener);
  }

  /**
   * Runs `fn` when it gets a permit: at once, or after waiting its turn.
   * Always returns a promise. `signal` abandons the call while it waits (it
   * leaves the queue at once and rejects with the signal's reason); once `fn`
   * runs, the signal is `fn`'s business.
   */
  execute<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    return this.call(fn, undefined, noArgs, signal);
  }

  /** Runs `fn.apply(thisArg, args)` under the limit, as {@link RateLimitPolicy.execute}: the decorators' entry point. */
  call<This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
    thisArg: This,
    args: Args,
    signal?: AbortSignal,
  ): Promise<Awaited<R>> {
    // An outer policy's open hand-off (handoff.ts) is not for a breaker nested in this call: this call
    // returns its method's promise as it is, to a caller that may be a method body.
    enterHandOff();
    if (signal !== undefined) {
      const problem = signalProblem('rateLimit', signal);
      if (problem !== undefined) return Promise.reject(problem);
    }
    this.#calls++;
    if (signal?.aborted === true) {
      this.#aborted++;
      return rejectSoon(signal.reason);
    }
    const f = fn as unknown as AnyFunction;
    const clock = this.#clock();
    const now = clock.now();
    // First come, first served: nobody overtakes a call that waits.
    if (this.#waiting !== undefined && this.#waiting.size > 0) {
      return this.#refused(f, thisArg, args, signal, clock, now, this.#nextPermitAt - now) as Promise<Awaited<R>>;
    }
    const wait = this.#store.acquire(now);
    if (wait === 0) return this.#run(f, thisArg, args) as Promise<Awaited<R>>;
    if (typeof wait === 'number')
      return this.#refused(f, thisArg, args, signal, clock, now, wait) as Promise<Awaited<R>>;
    return this.#ask(wait, f, thisArg, args, signal) as Promise<Awaited<R>>;
  }

  #clock(): Clock {
    return this.options.clock ?? getDefaultClock();
  }

  // Runs an admitted call. Never throws.
  #run(fn: AnyFunction, thisArg: unknown, args: readonly unknown[]): Promise<unknown> {
    this.#admitted++;
    // The limiter makes no attempts of its own: outside any, `attemptSignal()` gets the never-aborting
    // signal; inside another policy's attempt, that attempt's.
    const previous = enterCall();
    let result: unknown;
    try {
      result = invoke(fn, thisArg, args);
    } catch (error) {
      leaveAttempt(previous);
      return rejectSoon(error);
    }
    leaveAttempt(previous);
    if (isNativePromise(result)) return result;
    return isThenable(result) ? promiseOf(result) : Promise.resolve(result);
  }

  // A shared store answers later: the call is admitted, queued or rejected then.
  #ask(
    answer: PromiseLike<number>,
    fn: AnyFunction,
    thisArg: unknown,
    args: readonly unknown[],
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    this.#asking++;
    return Promise.resolve(answer).then(
      (wait) => {
        this.#asking--;
        if (signal?.aborted === true) {
          this.#aborted++;
          throw signal.reason;
        }
        if (wait === 0) return this.#run(fn, thisArg, args);
        const clock = this.#clock();
        const now = clock.now();
        const waiting = this.#waiting;
        const behind = waiting !== undefined && waiting.size > 0;
        return this.#refused(fn, thisArg, args, signal, clock, now, behind ? this.#nextPermitAt - now : wait);
      },
      (error: unknown) => {
        // A store broke its promise never to reject: the call gets the error.
        this.#asking--;
        this.#rejected++;
        throw error;
      },
    );
  }

  // No permit now (the next frees in `wait` ms): the call waits if the queue has room, else is rejected.
  #refused(
    fn: AnyFunction,
    thisArg: unknown,
    args: readonly unknown[],
    signal: AbortSignal | undefined,
    clock: Clock,
    now: number,
    wait: number,
  ): Promise<unknown> {
    const retryAfter = wait > 0 ? wait : 0;
    const waiting = this.#waiting;
    const size = waiting === undefined ? 0 : waiting.size;
    if (size === 0) this.#nextPermitAt = now + retryAfter;
    if (this.#queue === 0 || this.#maxWait === 0) return rejectSoon(this.#rejection('limit', retryAfter));
    if (size >= this.#queue) return rejectSoon(this.#rejection('full', retryAfter));
    return this.#wait(fn, thisArg, args, signal, clock, now, retryAfter);
  }

  #wait(
    fn: AnyFunction,
    thisArg: unknown,
    args: readonly unknown[],
    signal: AbortSignal | undefined,
    clock: Clock,
    now: number,
    retryAfter: number,
  ): Promise<unknown> {
    const waiting = (this.#waiting ??= new WaitQueue());
    // One shared executor, not a closure per waiting call: it hands over the settle functions at once.
    const promise = new Promise<unknown>(captureSettlers);
    const waiter = new Waiter(this, fn, thisArg, args, signal, now + this.#maxWait, capturedResolve, capturedReject);
    waiting.push(waiter);
    if (signal !== undefined) followSignal(signal, waiter);
    // The first to wait arms the queue's one timer: for its permit, or its deadline if that comes first.
    if (waiting.size === 1 && !this.#askingForHead && !this.#pumping)
      this.#arm(clock, Math.min(retryAfter, this.#maxWait));
    const events = this.#events;
    if (events?.has('queued') === true) events.emit('queued', { queued: waiting.size });
    return promise;
  }

  #arm(clock: Clock, delay: number): void {
    if (this.#timer !== undefined) (this.#timerClock as Clock).cancel(this.#timer);
    this.#timerClock = clock;
    this.#timer = clock.schedule(delay, this.#onTimer);
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    (this.#timerClock as Clock).cancel(this.#timer);
    this.#timer = undefined;
  }

  // One bound function for the life of the policy, made when it first queues: no closure per timer.
  get #onTimer(): () => void {
    return (this.#timerCallback ??= () => {
      this.#timer = undefined;
      this.#pump();
    });
  }
  #timerCallback: (() => void) | undefined;

  // Admits the head of the queue while permits are free; rejects heads whose `maxWait` has passed; then
  // arms the timer for the new head, or asks a shared store and continues when it answers.
  #pump(): void {
    const waiting = this.#waiting as WaitQueue<Waiter>;
    if (this.#pumping || this.#askingForHead) return;
    this.#pumping = true;
    const clock = this.#clock();
    try {
      for (let head = waiting.peek(); head !== undefined; head = waiting.peek()) {
        const now = clock.now();
        // Past its deadline: not worth a shared store's round trip. At its deadline, a permit still counts.
        if (head.deadline < now) {
          this.#leave(head, undefined);
          continue;
        }
        const wait = this.#store.acquire(now);
        if (wait === 0) {
          this.#admit(head);
          continue;
        }
        if (typeof wait !== 'number') {
          this.#askingForHead = true;
          Promise.resolve(wait).then(this.#onHeadAnswer, this.#onHeadError);
          return;
        }
        this.#nextPermitAt = now + wait;
        if (head.deadline <= now) {
          this.#leave(head, undefined);
          continue;
        }
        this.#arm(clock, Math.min(wait, head.deadline - now));
        return;
      }
    } finally {
      this.#pumping = false;
    }
  }

  // A shared store answered for the head: the permit goes to whoever is the head now (the one asked for may
  // have left meanwhile; a permit nobody is left to take is lost).
  get #onHeadAnswer(): (wait: number) => void {
    return (this.#headAnswer ??= (wait: number) => {
      this.#askingForHead = false;
      const waiting = this.#waiting as WaitQueue<Waiter>;
      const head = waiting.peek();
      if (head === undefined) return;
      if (wait === 0) {
        this.#admit(head);
        this.#pump();
        return;
      }
      const clock = this.#clock();
      const now = clock.now();
      this.#nextPermitAt = now + wait;
      this.#arm(clock, Math.max(0, Math.min(wait, head.deadline - now)));
    });
  }
  #headAnswer: ((wait: number) => void) | undefined;

  // A store broke its promise never to reject: the head gets the error, the rest go on.
  get #onHeadError(): (error: unknown) => void {
    return (this.#headError ??= (error: unknown) => {
      this.#askingForHead = false;
      const waiting = this.#waiting as WaitQueue<Waiter>;
      const head = waiting.shift();
      if (head !== undefined) {
        this.#stopWaiting(head);
        this.#rejected++;
        head.reject(error);
      }
      this.#pump();
    });
  }
  #headError: ((error: unknown) => void) | undefined;

  // The head got its permit: it leaves the queue and runs, settling the promise its caller holds.
  #admit(waiter: Waiter): void {
    (this.#waiting as WaitQueue<Waiter>).shift();
    this.#stopWaiting(waiter);
    this.#admitted++;
    const previous = enterCall();
    let result: unknown;
    try {
      result = invoke(waiter.fn, waiter.thisArg, waiter.args);
    } catch (error) {
      leaveAttempt(previous);
      waiter.reject(error);
      return;
    }
    leaveAttempt(previous);
    waiter.resolve(result);
  }

  // A waiting call leaves the queue without running: its caller aborted (`abortReason`), or its `maxWait`
  // passed. A no-op for a call no longer waiting.
  #leave(waiter: Waiter, abortReason: { readonly reason: unknown } | undefined): void {
    const waiting = this.#waiting as WaitQueue<Waiter>;
    if (!waiting.remove(waiter)) return;
    this.#stopWaiting(waiter);
    // Nothing left to wait for: the queue's timer goes too.
    if (waiting.size === 0) this.#disarm();
    if (abortReason !== undefined) {
      this.#aborted++;
      waiter.reject(abortReason.reason);
    } else {
      const retryAfter = this.#nextPermitAt - this.#clock().now();
      waiter.reject(this.#rejection('maxWait', retryAfter > 0 ? retryAfter : 0));
    }
  }

  #stopWaiting(waiter: Waiter): void {
    if (waiter.signal !== undefined) unfollowSignal(waiter.signal, waiter);
  }

  #rejection(reason: RateLimitRejectionReason, retryAfter: number): RateLimitedError {
    this.#rejected++;
    const error = new RateLimitedError(this.options.permits, this.options.per, reason, retryAfter);
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

// One waiting call: its place in the queue, what to run, when it gives up, how to settle its caller's promise.
class Waiter implements QueueNode, Follower {
  next: QueueNode | undefined = undefined;
  previous: QueueNode | undefined = undefined;

  constructor(
    readonly policy: RateLimitPolicy,
    readonly fn: AnyFunction,
    readonly thisArg: unknown,
    readonly args: readonly unknown[],
    readonly signal: AbortSignal | undefined,
    /** Clock time after which it is rejected (`Infinity`: never). */
    readonly deadline: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (reason: unknown) => void,
  ) {}

  // The caller's signal aborted while the call waited.
  abort(reason: unknown): void {
    leaveQueue(this.policy, this, reason);
  }
}

function resolve(options: RateLimitOptions): ResolvedRateLimitOptions {
  const label = 'rateLimit';
  if (typeof options !== 'object' || (options as unknown) === null)
    invalidOption(label, 'options', 'an object', options);
  const d = rateLimitDefaults;
  const permits = integerAtLeast(label, 'permits', options.permits, 1);
  const per = period(label, options.per ?? d.per);
  const algorithm = rateLimitAlgorithm(label, options.algorithm ?? d.algorithm);
  const queue = integerAtLeast(label, 'queue', options.queue ?? d.queue, 0, true);
  const maxWait = nonNegative(label, 'maxWait', options.maxWait ?? d.maxWait);
  const store = options.store;
  if (store !== undefined && typeof (store as Partial<RateLimitStoreProvider> | null)?.rateLimit !== 'function') {
    invalidOption(label, 'store', 'a RateLimitStoreProvider (an object with rateLimit(name, options))', store);
  }
  const name = options.name ?? d.name;
  if (typeof name !== 'string' || name === '') invalidOption(label, 'name', 'a non-empty string', name);
  const clock = options.clock;
  if (clock !== undefined && !isClock(clock))
    invalidOption(label, 'clock', 'a Clock (now, sleep, schedule, cancel)', clock);
  return Object.freeze({ permits, per, algorithm, queue, maxWait, store, name, clock });
}

function ownStore(provider: RateLimitStoreProvider, name: string, options: ResolvedRateLimitOptions): RateLimitStore {
  const store = provider.rateLimit(name, options);
  if (typeof (store as Partial<RateLimitStore> | null)?.acquire !== 'function' || typeof store.idle !== 'function') {
    invalidOption('rateLimit', 'store', 'a provider whose rateLimit() returns a RateLimitStore (acquire, idle)', store);
  }
  return store;
}

const noArgs: [] = [];

// Every options object a limiter resolved: frozen and valid, so another limiter may share it as it is.
const resolvedOptions = new WeakSet();

// What `captureSettlers` was last given: read right after `new Promise(captureSettlers)`, which calls it
// synchronously, so no value is ever read from another call.
let capturedResolve: (value: unknown) => void;
let capturedReject: (reason: unknown) => void;

function captureSettlers(resolve: (value: unknown) => void, reject: (reason: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}
