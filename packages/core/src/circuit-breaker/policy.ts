import type { Listener, Unsubscribe } from '../events.js';
import { registered } from '../registry.js';
import { Breaker } from './breaker.js';
import type { CircuitBreakerEvents } from './events.js';
import {
  resolveCircuitBreakerOptions,
  type CircuitBreakerOptions,
  type CircuitMode,
  type ResolvedCircuitBreakerOptions,
} from './options.js';
import type { CircuitSnapshot, CircuitState } from './state-machine.js';
import type { CircuitBreakerStats } from './statistics.js';

// The circuit breaker's public face: what a breaker offers, and the two functions that make one. The
// implementation is breaker.ts.

/**
 * `T`, unless it is a promise or another thenable: then `never`, so that
 * {@link CircuitBreakerPolicy.executeSync} does not compile for a function
 * that returns one (or may return one).
 */
export type SyncValue<T> = T extends PromiseLike<unknown> ? never : T;

/**
 * What `JSON.stringify(breaker)` writes. Parsed, it is a {@link CircuitRestore}:
 * `circuitBreaker({ ...options, restore })` starts a circuit from it, in any
 * process; `snapshot` alone can seed `memoryCircuitStore()` on the same clock.
 */
export interface CircuitBreakerJSON {
  /** The circuit's name. */
  readonly name: string;
  /** The state, computed from the clock when serialised. */
  readonly state: CircuitState;
  /** The state machine's snapshot, as a store keeps it. */
  readonly snapshot: CircuitSnapshot;
  /** The clock time it was serialised at, which `restore` measures the snapshot's times from. */
  readonly savedAt: number;
  /** The counters. */
  readonly stats: CircuitBreakerStats;
}

/**
 * A circuit breaker: runs functions while closed, rejects them at once while
 * open, and lets trial calls through while half-open. Made by
 * {@link circuitBreaker} or a {@link circuitBreakerFactory}.
 */
export interface CircuitBreakerPolicy {
  /** The options it runs with, defaults filled in. */
  readonly options: ResolvedCircuitBreakerOptions;
  /** The circuit's name, as in `CircuitOpenError.circuit`. */
  readonly name: string;
  /** `'closed'`, `'open'` or `'half-open'`, computed from the clock now (an isolated circuit reads `'open'`). */
  readonly state: CircuitState;
  /** True while held open by {@link CircuitBreakerPolicy.isolate}. */
  readonly isolated: boolean;
  /**
   * How the circuit acts on its state (see {@link CircuitMode}); set it to
   * change it at once, e.g. `'disabled'` to take the breaker out of the path
   * during an incident. Starts as `options.mode`. Belongs to this breaker, not to its store.
   */
  mode: CircuitMode;
  /** Counters, read now: the same name as on every other policy (`retryPolicy(…).statistics`, …). */
  readonly statistics: CircuitBreakerStats;
  /** @deprecated The same as {@link CircuitBreakerPolicy.statistics}, under the name it had first. */
  readonly stats: CircuitBreakerStats;
  /**
   * True when the circuit holds nothing worth keeping: closed, no failure on
   * record that may still count, no call running. A new circuit in its place
   * would act the same (but for a count window's successes, forgotten with it),
   * so a keyed scope may forget it (see the decorators' `maxKeys`).
   */
  readonly idle: boolean;
  /**
   * Runs `fn` through the circuit, the async way: always returns a promise,
   * settled with `fn`'s value or error (thrown or rejected), or rejected with
   * `CircuitOpenError` without running `fn` while the circuit is open. The
   * outcome is recorded when it settles.
   *
   * `signal` is the caller's: already aborted, the call rejects with its
   * reason at once, without running `fn`, counting nothing but `aborted` and
   * taking no trial slot. Aborted while `fn` runs, the call rejects with its
   * reason at once and `fn`'s later outcome is not recorded (a trial slot it
   * held is freed).
   */
  execute<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<T>;
  /**
   * Runs a sync `fn` through the circuit: returns its value or throws its
   * error, synchronously, and throws `CircuitOpenError` while the circuit is
   * open. A function returning a promise is a compile error (use `execute`);
   * if one does anyway (untyped code), its promise is returned and its outcome
   * still recorded when it settles.
   */
  executeSync<T>(fn: () => SyncValue<T>): T;
  /**
   * Runs `fn.apply(thisArg, args)` through the circuit, allocation-free on the
   * closed path: the decorators' entry point. It returns what `fn` returns
   * (recording a promise's outcome when it settles). While the circuit is
   * open, `fn` itself decides how it is rejected: an `async` function gets a
   * rejected promise, any other function a synchronous throw.
   *
   * `consumed: true` is for a policy that wraps this one and always handles the
   * promise it gets back (a retry around the breaker): the breaker then returns
   * `fn`'s own promise and records the outcome beside it, one promise step
   * fewer. Never pass it when the promise may go unhandled: the breaker's own
   * handler would hide the rejection.
   */
  call<This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
    thisArg: This,
    args: Args,
    consumed?: boolean,
  ): R;
  /**
   * Holds the circuit open (calls get `retryAfter: Infinity`) until every
   * handle returned is released, or {@link CircuitBreakerPolicy.reset}.
   * Isolations are counted, so two isolators never release each other's.
   */
  isolate(): CircuitIsolation;
  /** Closes the circuit and forgets its failure record (counters are kept). */
  reset(): void;
  /** Starts calling `listener` for every `type` event; returns the function that stops it. */
  on<K extends keyof CircuitBreakerEvents>(type: K, listener: Listener<CircuitBreakerEvents[K]>): Unsubscribe;
  /** A plain, serialisable view of the circuit. */
  toJSON(): CircuitBreakerJSON;
}

/** What {@link CircuitBreakerPolicy.isolate} returns: the circuit stays isolated until every handle is released. */
export interface CircuitIsolation {
  /**
   * Ends this isolation; the last one released closes the circuit (reason
   * `'released'`). Idempotent, and a no-op once `reset()` ended the isolation.
   */
  release(): void;
}

/** Makes circuits that share one resolved configuration. */
export interface CircuitBreakerFactory {
  /** A new, independent circuit; `name` overrides the options' name (e.g. to add a key). */
  (name?: string): CircuitBreakerPolicy;
  /** The options every circuit it makes runs with. */
  readonly options: ResolvedCircuitBreakerOptions;
}

/**
 * A circuit breaker (seed: poll's `circuitbreaker`): after `threshold` failures
 * matching `on` within `resetTimeout` ms it opens and rejects calls with
 * `CircuitOpenError`; after `resetTimeout` it lets `halfOpenCalls` trial calls
 * through, which close it again or re-open it. It sets no timer: every change
 * is computed from the clock when a call arrives or `state` is read.
 *
 * @example
 * import { circuitBreaker, isCircuitOpenError } from '@staunch/core';
 *
 * class Unavailable extends Error {}
 * const inventory = circuitBreaker({ on: Unavailable, threshold: 2, resetTimeout: 10_000, name: 'inventory' });
 * const lookUp = (sku: string): number => {
 *   throw new Unavailable(`inventory is down (${sku})`);
 * };
 *
 * for (let call = 1; call <= 3; call++) {
 *   try {
 *     inventory.executeSync(() => lookUp('A-1'));
 *   } catch (error) {
 *     // calls 1 and 2 fail with their own error; call 3 is rejected without running
 *     if (isCircuitOpenError(error)) console.log(call, `rejected, retry after ${Math.ceil(error.retryAfter)} ms`);
 *     else console.log(call, String(error));
 *   }
 * }
 * console.log(inventory.state); // 'open'
 */
export function circuitBreaker(options?: CircuitBreakerOptions): CircuitBreakerPolicy {
  return registered(new Breaker(resolveCircuitBreakerOptions(options), undefined), 'circuitBreaker');
}

/**
 * Validates and resolves `options` once, and returns a function that makes
 * many small circuits sharing them (one per object or per key, say). An idle
 * circuit holds no failure record, listeners or timers: one object of about
 * 140 bytes (benchmarks/idle-circuit-memory.mjs).
 *
 * @example
 * import { circuitBreakerFactory, type CircuitBreakerPolicy } from '@staunch/core';
 *
 * // One circuit per host; the options are validated once and shared by all of them.
 * const perHost = circuitBreakerFactory({ threshold: 5, resetTimeout: 30_000, name: 'http' });
 * const circuits = new Map<string, CircuitBreakerPolicy>();
 * function circuitFor(host: string): CircuitBreakerPolicy {
 *   let circuit = circuits.get(host);
 *   if (circuit === undefined) circuits.set(host, (circuit = perHost(`http[${host}]`)));
 *   return circuit;
 * }
 *
 * const status = await circuitFor('example.com').execute(async () => 200);
 * console.log(status, circuitFor('example.com').name); // 200 'http[example.com]'
 */
export function circuitBreakerFactory(options?: CircuitBreakerOptions): CircuitBreakerFactory {
  const resolved = resolveCircuitBreakerOptions(options);
  return Object.assign((name?: string) => new Breaker(resolved, name), { options: resolved });
}
