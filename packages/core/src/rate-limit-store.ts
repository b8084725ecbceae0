import { integerAtLeast, invalidOption } from './validation.js';

/** How a rate limiter counts: a token bucket (bursts up to `permits`, refilled evenly) or a sliding window. */
export type RateLimitAlgorithm = 'token-bucket' | 'sliding-window';

/**
 * Where a rate limiter's permits live. The limiter asks for one permit per
 * call; all queueing, timing and rejecting stay in the limiter, so a store
 * only has to be atomic about taking one permit.
 *
 * An in-memory store answers at once; a store shared between processes (see
 * `@staunch/redis`, given to limiters through a {@link RateLimitStoreProvider})
 * answers with a promise, one round trip later. Either way it never throws or
 * rejects: a store that cannot reach its server decides itself (fail open to a
 * local share, or closed) and answers as if it had.
 *
 * @example
 * import { memoryRateLimitStore, rateLimitPolicy, type RateLimitStore } from '@staunch/core';
 *
 * // Around the in-memory store: count the calls it refused.
 * const inner = memoryRateLimitStore({ permits: 2, per: 1000 });
 * let refused = 0;
 * const counted: RateLimitStore = {
 *   acquire(now) {
 *     const wait = inner.acquire(now);
 *     if (wait !== 0) refused++;
 *     return wait;
 *   },
 *   idle: (now) => inner.idle(now),
 * };
 * const limiter = rateLimitPolicy({ permits: 2, per: 1000, store: { rateLimit: () => counted } });
 * await limiter.execute(async () => 'ok');
 * console.log(refused); // 0
 */
export interface RateLimitStore {
  /**
   * Takes one permit at clock time `now` (ms, the limiter's clock): answers
   * 0 when it did, else how many ms until one may free (> 0; the limiter
   * asks again then). A shared store may answer with a promise, and may read
   * its own server's time instead of `now`.
   */
  acquire(now: number): number | PromiseLike<number>;
  /** True when a new store would act the same at `now` (nothing taken recently): keyed limiters forget idle ones. */
  idle(now: number): boolean;
}

/**
 * A store of many named limits, such as a Redis server's: a limiter given one
 * asks it, once, for the {@link RateLimitStore} of the limit called by its
 * `name`, so limiters of the same name (in any process sharing the server)
 * share one limit.
 *
 * @example
 * import { memoryRateLimitStore, rateLimitPolicy, type RateLimitStore, type RateLimitStoreProvider } from '@staunch/core';
 *
 * // One in-memory limit per name: limiters that share a name share their permits.
 * const limits = new Map<string, RateLimitStore>();
 * const byName: RateLimitStoreProvider = {
 *   rateLimit(name, options) {
 *     let store = limits.get(name);
 *     if (store === undefined) limits.set(name, (store = memoryRateLimitStore(options)));
 *     return store;
 *   },
 * };
 * const search = rateLimitPolicy({ permits: 1, per: 1000, name: 'api', store: byName });
 * const lookup = rateLimitPolicy({ permits: 1, per: 1000, name: 'api', store: byName });
 * await search.execute(async () => 'first');
 * await lookup.execute(async () => 'second').catch((error: unknown) => console.log(error)); // RateLimitedError
 */
export interface RateLimitStoreProvider {
  /** The store of the limit called `name`, for a limiter running with `options`; asked once per limiter. */
  rateLimit(name: string, options: RateLimitStoreOptions): RateLimitStore;
}

/** What a store needs to know of the limit it keeps. */
export interface RateLimitStoreOptions {
  /** Permits per `per` ms: an integer >= 1. */
  readonly permits: number;
  /** The period, in ms: a finite number > 0. */
  readonly per: number;
  /** `'token-bucket'` (default) or `'sliding-window'`. */
  readonly algorithm?: RateLimitAlgorithm | undefined;
}

/**
 * An in-memory store, as a limiter makes for itself without a `store` option:
 * a token bucket (GCRA) or an exact sliding window; see {@link TokenBucket}
 * and {@link SlidingWindow}.
 *
 * @example
 * import { memoryRateLimitStore } from '@staunch/core';
 *
 * const bucket = memoryRateLimitStore({ permits: 2, per: 1000 });
 * bucket.acquire(0); // 0: taken
 * bucket.acquire(0); // 0: taken
 * bucket.acquire(0); // 500: the next permit frees in 500 ms
 */
export function memoryRateLimitStore(options: RateLimitStoreOptions): RateLimitStore {
  if (typeof options !== 'object' || (options as unknown) === null) {
    invalidOption('memoryRateLimitStore', 'options', 'an object', options);
  }
  const permits = integerAtLeast('memoryRateLimitStore', 'permits', options.permits, 1);
  const per = period('memoryRateLimitStore', options.per);
  const algorithm = rateLimitAlgorithm('memoryRateLimitStore', options.algorithm ?? 'token-bucket');
  return algorithm === 'token-bucket' ? new TokenBucket(permits, per) : new SlidingWindow(permits, per);
}

/**
 * A token bucket of `permits` tokens refilled at `permits` per `per` ms, kept
 * as GCRA (the generic cell rate algorithm): one number, the theoretical
 * arrival time, computed from the clock on each call, so an idle bucket holds
 * no timer. Exact: in any interval of length `t`, it admits at most
 * `permits + floor(t × permits / per)` calls (for integer clock times; the
 * arithmetic is scaled by `permits` so that it stays in integers).
 */
export class TokenBucket implements RateLimitStore {
  readonly #permits: number;
  readonly #per: number;
  // The theoretical arrival time of the next call, in ms × permits: the bucket is full when it is <= now.
  #tat = -Infinity;

  constructor(permits: number, per: number) {
    this.#permits = permits;
    this.#per = per;
  }

  /** Takes a token at `now`: 0, or the ms until one is back. */
  acquire(now: number): number {
    const permits = this.#permits;
    const scaled = now * permits;
    const tat = this.#tat > scaled ? this.#tat : scaled;
    // The bucket holds `permits` tokens: a call may run ahead of the even pace by `permits - 1` intervals.
    const ahead = tat - scaled - this.#per * (permits - 1);
    if (ahead <= 0) {
      this.#tat = tat + this.#per;
      return 0;
    }
    return ahead / permits;
  }

  /** True when the bucket is full at `now`. */
  idle(now: number): boolean {
    return this.#tat <= now * this.#permits;
  }
}

/**
 * An exact sliding window: admits a call when fewer than `permits` calls were
 * admitted in the last `per` ms, so no window of length `per` (anywhere on the
 * timeline) ever holds more than `permits` admissions. Keeps the times of the
 * last `permits` admissions (8 bytes each, made as they come): for large
 * limits with no need of this strictness, the token bucket holds one number.
 */
export class SlidingWindow implements RateLimitStore {
  readonly #permits: number;
  readonly #per: number;
  // The admission times, a ring once full: `#next` is the oldest of the last `permits`.
  readonly #times: number[] = [];
  #next = 0;

  constructor(permits: number, per: number) {
    this.#permits = permits;
    this.#per = per;
  }

  /** Takes a permit at `now`: 0, or the ms until the oldest admission leaves the window. */
  acquire(now: number): number {
    const times = this.#times;
    if (times.length < this.#permits) {
      times.push(now);
      return 0;
    }
    const wait = (times[this.#next] as number) + this.#per - now;
    if (wait > 0) return wait;
    times[this.#next] = now;
    this.#next = this.#next + 1 === times.length ? 0 : this.#next + 1;
    return 0;
  }

  /** True when no admission is left in the window at `now`. */
  idle(now: number): boolean {
    const times = this.#times;
    if (times.length === 0) return true;
    const newest = times.length < this.#permits ? times.length - 1 : (this.#next + times.length - 1) % times.length;
    return (times[newest] as number) + this.#per <= now;
  }
}

/** `value` when it is a finite number of ms > 0, else an option error naming `policy`'s `per`. */
export function period(policy: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) invalidOption(policy, 'per', 'a number of ms', value);
  if (!(value > 0) || value === Infinity) invalidOption(policy, 'per', 'a finite number of ms > 0', value, RangeError);
  return value;
}

/** `value` when it names an algorithm, else an option error naming `policy`'s `algorithm`. */
export function rateLimitAlgorithm(policy: string, value: unknown): RateLimitAlgorithm {
  if (value !== 'token-bucket' && value !== 'sliding-window') {
    invalidOption(policy, 'algorithm', "'token-bucket' or 'sliding-window'", value);
  }
  return value;
}
