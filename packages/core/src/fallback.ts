import { anyError, toErrorMatcher, type ErrorFilter, type ErrorMatcher } from './error-filter.js';
import { Events, type Listener, type Unsubscribe } from './events.js';
import { invoke, isNativePromise, isThenable, promiseOf } from './hot-path.js';
import { invalidOption, optionalErrorFilter } from './validation.js';
import { registered } from './registry.js';

/** Options of {@link fallback} / {@link fallbackPolicy}. */
export interface FallbackOptions {
  /** Which errors the fallback answers (default: every error); any other error propagates unchanged. */
  readonly on?: ErrorFilter | undefined;
}

/**
 * A fallback computed from the error: called with the caller's `this`, the
 * error and (for a decorated method) the method's arguments.
 */
export type FallbackFunction<This, Args extends unknown[], R> = (this: This, error: unknown, ...args: Args) => R;

/**
 * What a call whose result is `R` may fall back to: for a promise of `U`, a
 * `U` or a promise of one; for anything else, an `R` itself (a sync call stays
 * sync, so not a promise). A function is always called, never returned: to
 * fall back to a function, return it from one.
 */
export type FallbackResult<R> = R extends PromiseLike<infer U> ? U | PromiseLike<U> : R;

/**
 * True when the fallback `F` fits a call of `fn(this: This, ...args: Args): R`:
 * a function must return a {@link FallbackResult} of `R` from
 * `(error, ...args)` with that `this`; anything else must be one.
 */
export type FallbackFits<F, This, Args extends unknown[], R> = [F] extends [(...args: never[]) => unknown]
  ? [F] extends [FallbackFunction<This, Args, FallbackResult<R>>]
    ? true
    : false
  : [F] extends [FallbackResult<R>]
    ? true
    : false;

/**
 * Nothing (`unknown`) when the fallback fits (see {@link FallbackFits}), else
 * a property no value has, whose name says why the code does not compile.
 */
export type FallbackCheck<F, This, Args extends unknown[], R> =
  FallbackFits<F, This, Args, R> extends true ? unknown : FallbackMismatch<R>;

/** The compile error of a fallback that does not fit: its one property names the rule. */
export interface FallbackMismatch<R> {
  readonly 'the fallback must give the return type (for a Promise<T>: a T or a Promise<T>; a sync call: no promise)': R;
}

/** What `execute(fn)` returns: `fn`'s result, or the fallback's value in its place. */
export type WithFallback<T, V> = T extends PromiseLike<infer U> ? Promise<U | Awaited<V>> : T | V;

/** A fallback policy's resolved, frozen options. */
export interface ResolvedFallbackOptions<V = unknown> {
  /** The constant, or the function called for it, as given. */
  readonly fallback: V | FallbackFunction<never, never[], V>;
  /** As given (an array copied and frozen); `undefined` answers every error. */
  readonly on: ErrorFilter | undefined;
}

/** Payload of the `'fallback'` event: the error the fallback answers. */
export interface FallbackEvent {
  readonly error: unknown;
}

/** The events of a {@link FallbackPolicy}. */
export interface FallbackPolicyEvents {
  /** A call failed with an error matching `on`; the fallback is about to answer it. */
  fallback: FallbackEvent;
}

/** What a fallback policy has done so far; read with `policy.statistics` (a frozen snapshot). */
export interface FallbackStatistics {
  /** Calls made through the policy. */
  readonly calls: number;
  /** Calls that returned (or resolved to) their own value. */
  readonly successes: number;
  /** Calls answered with the fallback's value. */
  readonly fallbacks: number;
  /** Calls that ended with an error: one not matching `on`, or the fallback's own. */
  readonly failures: number;
}

/**
 * Calls `fn`; when it fails with an error matching `on` (every error when
 * omitted), returns the fallback instead: `valueOrFn` itself, or what
 * `valueOrFn(error)` returns. Sync stays sync: a function that returns a value
 * or throws gets the fallback at once; one that returns a promise gets a
 * promise, settled with the fallback on rejection. The fallback's own error
 * propagates, with the original error as its `cause` when it has none.
 *
 * @example
 * const user = await fallback(() => api.user(id), (error) => cache.user(id), { on: HttpError });
 */
export function fallback<T>(
  fn: () => T,
  fallbackFn: (error: unknown) => FallbackResult<Fixed<T>>,
  options?: FallbackOptions,
): T;
export function fallback<T, V>(
  fn: () => T,
  value: V & FallbackCheck<V, unknown, [], Fixed<T>>,
  options?: FallbackOptions,
): T;
export function fallback<T>(fn: () => T, valueOrFn: unknown, options?: FallbackOptions): T {
  return new FallbackPolicy<unknown>(valueOrFn, options).execute(fn) as T;
}

/** A reusable fallback policy: options resolved and validated once, here. */
export function fallbackPolicy<V>(fn: (error: unknown) => V, options?: FallbackOptions): FallbackPolicy<V>;
// Two signatures, not one union: a union with a bare `V` would not type an unannotated `(error) => …`.
// eslint-disable-next-line @typescript-eslint/unified-signatures
export function fallbackPolicy<V>(value: V, options?: FallbackOptions): FallbackPolicy<V>;
export function fallbackPolicy<V>(valueOrFn: V, options?: FallbackOptions): FallbackPolicy<V> {
  return registered(new FallbackPolicy<V>(valueOrFn, options), 'fallback');
}

/** Answers matching errors with a fallback value; see {@link fallbackPolicy}. */
export class FallbackPolicy<V = unknown> {
  /** What `policyOf(…, 'fallback')` and the descriptors call it. */
  readonly kind = 'fallback';
  /** The fallback and `on`, as resolved (frozen). */
  readonly options: ResolvedFallbackOptions<V>;
  readonly #matches: ErrorMatcher;
  readonly #events = new Events<FallbackPolicyEvents>();
  readonly #stats = { calls: 0, successes: 0, fallbacks: 0, failures: 0 };
  // One shared handler per policy: the happy async path allocates no closure of its own.
  readonly #succeeded = (value: unknown): unknown => {
    this.#stats.successes++;
    return value;
  };
  readonly #recoverWithConstant: ((error: unknown) => unknown) | undefined;

  constructor(valueOrFn: V | FallbackFunction<never, never[], V>, options?: FallbackOptions) {
    if (options !== undefined && (typeof options !== 'object' || (options as unknown) === null)) {
      invalidOption('fallback', 'options', 'an object', options);
    }
    const on = optionalErrorFilter('fallback', 'on', options?.on);
    this.options = Object.freeze({ fallback: valueOrFn, on });
    this.#matches = toErrorMatcher(on, anyError);
    // A constant needs neither `this` nor the arguments: one handler serves every call.
    this.#recoverWithConstant =
      typeof valueOrFn === 'function' ? undefined : (error) => this.#recover(error, undefined, noArgs);
  }

  /** Counters so far (a frozen snapshot). */
  get statistics(): FallbackStatistics {
    const { calls, successes, fallbacks, failures } = this.#stats;
    return Object.freeze({ calls, successes, fallbacks, failures });
  }

  /** Calls `listener` for every `type` event; returns the function that stops it. */
  on<K extends keyof FallbackPolicyEvents>(type: K, listener: Listener<FallbackPolicyEvents[K]>): Unsubscribe {
    return this.#events.on(type, listener);
  }

  /**
   * Runs `fn` under the policy: returns what it returns, sync or a promise,
   * or the fallback in place of a matching error (see {@link fallback}).
   */
  execute<T>(fn: () => T): WithFallback<T, V> {
    return this.call(fn, undefined, noArgs as []) as WithFallback<T, V>;
  }

  /**
   * Runs `fn.apply(thisArg, args)` under the policy: the decorators' entry
   * point. A fallback function gets the same `this` and `(error, ...args)`.
   * Decided from this call's result only: a promise (or thenable) gets the
   * fallback on rejection, a throw gets it at once, a value is returned as is.
   */
  call<This, Args extends unknown[]>(fn: (this: This, ...args: Args) => unknown, thisArg: This, args: Args): unknown {
    const stats = this.#stats;
    stats.calls++;
    let result: unknown;
    try {
      result = invoke(fn, thisArg, args);
    } catch (error) {
      return this.#recover(error, thisArg, args);
    }
    if (!isNativePromise(result) && !isThenable(result)) {
      stats.successes++;
      return result;
    }
    return promiseOf(result).then(
      this.#succeeded,
      this.#recoverWithConstant ?? ((error: unknown) => this.#recover(error, thisArg, args)),
    );
  }

  // The call failed with `error`: the fallback's value, or a throw (a rejection inside `then`).
  #recover(error: unknown, thisArg: unknown, args: readonly unknown[]): unknown {
    const stats = this.#stats;
    if (!this.#matches(error)) {
      stats.failures++;
      throw error;
    }
    if (this.#events.has('fallback')) this.#events.emit('fallback', { error });
    const source = this.options.fallback;
    if (typeof source !== 'function') {
      stats.fallbacks++;
      return source;
    }
    let value: unknown;
    try {
      value = (source as (this: unknown, ...args: unknown[]) => unknown).call(thisArg, error, ...args);
    } catch (own) {
      stats.failures++;
      throw withCause(own, error);
    }
    if (!isNativePromise(value) && !isThenable(value)) {
      stats.fallbacks++;
      return value;
    }
    return promiseOf(value).then(
      (resolved) => {
        stats.fallbacks++;
        return resolved;
      },
      (own: unknown) => {
        stats.failures++;
        throw withCause(own, error);
      },
    );
  }
}

// `T`, but not a place to infer it from (TypeScript 5.4's `NoInfer`, for older compilers too):
// `fallback(fn, value)` takes its type from `fn` and checks the value against it.
type Fixed<T> = [T][T extends unknown ? 0 : never];

const noArgs: unknown[] = Object.freeze([]) as unknown as unknown[];

/**
 * The fallback's own error, linked to the error it was answering: `cause` is
 * set as native errors have it (own, non-enumerable) unless the error already
 * has one of its own, is the original error itself, is not an object, or
 * cannot take a new property (frozen) — then it propagates as it is.
 */
function withCause(own: unknown, original: unknown): unknown {
  if (
    own !== original &&
    ((typeof own === 'object' && own !== null) || typeof own === 'function') &&
    !Object.prototype.hasOwnProperty.call(own, 'cause') &&
    Object.isExtensible(own)
  ) {
    Object.defineProperty(own, 'cause', { value: original, writable: true, configurable: true, enumerable: false });
  }
  return own;
}
