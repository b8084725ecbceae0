import { toWait, waitBefore, type Backoff, type Wait } from '../backoff.js';
import type { Clock } from '../clock.js';
import {
  describeInvalidFilter,
  ownFilter,
  toErrorMatcher,
  anyError,
  type ErrorFilter,
  type ErrorMatcher,
} from '../error-filter.js';
import { integerAtLeast, invalidOption, nonNegative, optionalFunction } from '../validation.js';
import type { CircuitCounting, ResolvedCircuitCounting } from './counting.js';
import type { CircuitSnapshot } from './state-machine.js';
import { checkSnapshot, type CircuitStore, type CircuitStoreProvider } from './store.js';

/**
 * How a circuit acts on its state: `'enforcing'` rejects calls while open
 * (the default); `'metrics-only'` records outcomes, changes state and emits
 * events as usual but never rejects (a call it would have rejected runs, its
 * outcome unrecorded); `'disabled'` steps aside: calls run as if there were
 * no breaker, nothing is recorded (but a call `execute` finds already
 * aborted), the state does not change, and a caller's signal is checked only
 * before the call.
 */
export type CircuitMode = 'enforcing' | 'metrics-only' | 'disabled';

/** A saved circuit to start from: what `breaker.toJSON()` returns will do (its other fields are ignored). */
export interface CircuitRestore {
  /** The snapshot, as `toJSON().snapshot`. */
  readonly snapshot: CircuitSnapshot;
  /** The saving circuit's clock time when it was saved, as `toJSON().savedAt`. */
  readonly savedAt: number;
}

/** Options of {@link circuitBreaker}; every one has a default (see {@link circuitBreakerDefaults}). */
export interface CircuitBreakerOptions {
  /** Which errors count as failures. Default: every error. Others pass through and change nothing. */
  readonly on?: ErrorFilter;
  /**
   * Which returned (or resolved) values count as failures, e.g. an HTTP
   * response with status 503 that was not thrown: `failOn: (res) => res.status >= 500`.
   * The caller still gets the value. A `failOn` that throws counts as no
   * failure, and its error is reported as a warning. Default: no value fails.
   */
  readonly failOn?: (value: unknown) => boolean;
  /** Failures (within `resetTimeout`, in the default leaky-bucket mode) that open the circuit. Default 3. */
  readonly threshold?: number;
  /**
   * Milliseconds the circuit stays open before trial calls; also the leaky
   * bucket's memory, and how long trial calls may run before new ones are let
   * through in their place. Default 60 000.
   *
   * A {@link Backoff} makes the break grow: the circuit stays open for the
   * backoff's first wait when the counting rule opens it, and for wait number
   * `n + 1` after `n` trials in a row failed (e.g. `exponentialBackoff({ initial:
   * 10_000, max: 300_000 })`: 10 s, 20 s, 40 s, …); a close starts it over.
   * The backoff's first wait is then the leaky bucket's memory and a trial's
   * time limit.
   */
  readonly resetTimeout?: Wait;
  /**
   * Trial calls a half-open circuit lets through; all must succeed to close
   * it (unless `halfOpenFailureRate` says otherwise). Default 1.
   */
  readonly halfOpenCalls?: number;
  /**
   * Decides the `halfOpenCalls` trials by their failure rate, as resilience4j
   * does, instead of requiring all of them to succeed: the circuit re-opens
   * as soon as `failed trials / halfOpenCalls` reaches this rate (without
   * waiting for the trials left, which could no longer bring it below), and
   * closes once every trial has finished below it. E.g. `halfOpenCalls: 10,
   * halfOpenFailureRate: 0.3`: the third failure re-opens it, ten trials with
   * at most two failures close it. A number > 0 and <= 1, with `halfOpenCalls`
   * of 2 or more. Default: none (any failed trial re-opens the circuit).
   */
  readonly halfOpenFailureRate?: number;
  /**
   * Milliseconds a call arriving while every trial slot is taken may wait for
   * the trials' outcome instead of being rejected at once: admitted when they
   * close the circuit (or free a slot), rejected with `CircuitOpenError` when
   * they re-open it or the wait ends. Only calls answered with a promise wait
   * (`execute`, an `async` function through `call`). Default 0: no waiting, no timer.
   */
  readonly halfOpenWait?: number;
  /** How failures are counted while closed. Default `'leaky-bucket'`. */
  readonly counting?: CircuitCounting;
  /** Names the circuit in `CircuitOpenError` messages and events. Default `'circuit'`. */
  readonly name?: string;
  /** How the circuit acts on its state (see {@link CircuitMode}); `breaker.mode` changes it later. Default `'enforcing'`. */
  readonly mode?: CircuitMode;
  /** Called with every error the function throws, counted or not (after the circuit has recorded it). */
  readonly onError?: (error: unknown) => void;
  /** Where time comes from. Default: the global default clock, read at each use. */
  readonly clock?: Clock;
  /**
   * Where the state lives. Default: in memory, in the circuit itself. Every
   * breaker given the same {@link CircuitStore} is one circuit (so are all the
   * circuits of a factory given one). A {@link CircuitStoreProvider} (such as
   * `@staunch/redis`) keeps many circuits and gives each breaker the one
   * called by its `name`.
   */
  readonly store?: CircuitStore | CircuitStoreProvider;
  /**
   * Starts the circuit from a saved one (`JSON.parse` of `JSON.stringify(breaker)`
   * in an earlier process, say) instead of closed: its state, break and
   * isolations, each time keeping its age (the time between saving and
   * restoring does not count). The failure record and counters start empty,
   * trials that were running are forgotten, and a restored isolation has no
   * handles left to release: `reset()` ends it. Not with `store` (seed the store
   * instead). Default: start closed.
   */
  readonly restore?: CircuitRestore;
}

/**
 * The options a circuit runs with, defaults filled in: plain and frozen, for
 * `policiesOf` and tools. It is all the configuration a circuit holds: the
 * circuits of one {@link circuitBreakerFactory} share a single object.
 */
export interface ResolvedCircuitBreakerOptions {
  /** The circuit's name (a factory may give each circuit its own). */
  readonly name: string;
  /** The error filter as given (an array copied and frozen); `undefined` counts every error. */
  readonly on: ErrorFilter | undefined;
  /** The result filter, if any: values it accepts count as failures. */
  readonly failOn: ((value: unknown) => boolean) | undefined;
  /** Failures that open the circuit (leaky-bucket and consecutive modes). */
  readonly threshold: number;
  /**
   * Milliseconds open before trial calls (with a backoff: its first wait); the
   * leaky bucket's memory; a trial's time limit.
   */
  readonly resetTimeout: number;
  /** The backoff given as `resetTimeout`, which makes the break grow; `undefined` when a number was given. */
  readonly resetBackoff: Backoff | undefined;
  /** Trial calls a half-open circuit lets through. */
  readonly halfOpenCalls: number;
  /** The trials' failure rate that re-opens the circuit; `undefined`: any failed trial does. */
  readonly halfOpenFailureRate: number | undefined;
  /** Milliseconds a call may wait for running trials' outcome (0: rejected at once). */
  readonly halfOpenWait: number;
  /** The counting mode with its defaults filled in. */
  readonly counting: ResolvedCircuitCounting;
  /** The mode each circuit starts in. */
  readonly mode: CircuitMode;
  /** The error hook, if any. */
  readonly onError: ((error: unknown) => void) | undefined;
  /** The clock given, if any (`undefined` reads the default clock at each use). */
  readonly clock: Clock | undefined;
  /** The store given, if any (`undefined`: the circuit keeps its snapshot itself). */
  readonly store: CircuitStore | CircuitStoreProvider | undefined;
  /** The saved circuit to start from (checked and frozen), if any. */
  readonly restore: CircuitRestore | undefined;
}

/** Every default of the circuit breaker, stated once (the README's table is copied from here). */
export const circuitBreakerDefaults = Object.freeze({
  /** The seed's example (poll's `circuitbreaker(threshold=3)`), as Spring Retry's `maxAttempts`. */
  threshold: 3,
  /** The seed's example (60 s) and resilience4j's `waitDurationInOpenState`. */
  resetTimeout: 60_000,
  /** The seed: one trial call (as opossum and Polly). */
  halfOpenCalls: 1,
  /** None: every trial must succeed (the seed, opossum, Polly, cockatiel); resilience4j decides by rate. */
  halfOpenFailureRate: undefined,
  /** Fail fast while trials run, as every peer does (cockatiel queues without a bound). */
  halfOpenWait: 0,
  /** Names the circuit in errors and events. */
  name: 'circuit',
  /** A breaker rejects while open unless asked not to. */
  mode: 'enforcing',
  /** The seed's rule: failures within `resetTimeout`, successes change nothing. */
  counting: 'leaky-bucket',
  /** resilience4j's and opossum's 50 %. */
  rate: 0.5,
  /** resilience4j's count-based window of 100 calls. */
  windowCalls: 100,
  /** resilience4j's and Polly's minimum of 100 calls before deciding. */
  minimumCalls: 100,
  /** Slow-call counting is off unless asked for. */
  slowCallDuration: Infinity,
} as const);

/**
 * Validates `options` (throwing "circuitBreaker: `x` must be …, got …") and
 * resolves them once. The result is the only configuration object a circuit
 * keeps: limits, counting rule and filter are all read from it.
 */
export function resolveCircuitBreakerOptions(
  options: CircuitBreakerOptions | undefined,
): ResolvedCircuitBreakerOptions {
  const given: CircuitBreakerOptions = options ?? {};
  if (typeof given !== 'object') invalidOption(policy, 'options', 'an object', given);
  const d = circuitBreakerDefaults;
  validateFilter(given.on);
  const failOn = optionalFunction(policy, 'failOn', given.failOn);
  const threshold = integerAtLeast(policy, 'threshold', given.threshold ?? d.threshold, 1);
  const resetWait = toWait(policy, 'resetTimeout', given.resetTimeout ?? d.resetTimeout);
  const resetBackoff = typeof resetWait === 'number' ? undefined : resetWait;
  const resetTimeout = typeof resetWait === 'number' ? resetWait : waitBefore(resetWait, 1, 0);
  const halfOpenCalls = integerAtLeast(policy, 'halfOpenCalls', given.halfOpenCalls ?? d.halfOpenCalls, 1);
  const halfOpenFailureRate = resolveHalfOpenFailureRate(given.halfOpenFailureRate, halfOpenCalls);
  const halfOpenWait = nonNegative(policy, 'halfOpenWait', given.halfOpenWait ?? d.halfOpenWait, false);
  const name = given.name ?? d.name;
  if (typeof name !== 'string') invalidOption(policy, 'name', 'a string', name);
  const mode = checkMode(given.mode ?? d.mode, 'mode');
  const onError = optionalFunction(policy, 'onError', given.onError);
  const { clock, store } = given;
  if (clock !== undefined && typeof (clock as Partial<Clock> | null)?.now !== 'function') {
    invalidOption(policy, 'clock', 'a Clock (an object with now())', clock);
  }
  if (halfOpenWait > 0 && clock !== undefined && typeof (clock as Partial<Clock>).schedule !== 'function') {
    invalidOption(policy, 'clock', 'a Clock with schedule() and cancel() when `halfOpenWait` is given', clock);
  }
  if (store !== undefined && !isStore(store) && !isCircuitStoreProvider(store)) {
    invalidOption(
      policy,
      'store',
      'a CircuitStore (an object with read() and compareAndSet()) or a CircuitStoreProvider (with circuit())',
      store,
    );
  }
  const restore = given.restore === undefined ? undefined : resolveRestore(given.restore, store);
  const resolved: Writable<ResolvedCircuitBreakerOptions> = {
    name,
    on: ownFilter(given.on),
    threshold,
    resetTimeout,
    halfOpenCalls,
    halfOpenWait,
    counting: resolveCounting(given.counting ?? d.counting),
    mode,
  } as Writable<ResolvedCircuitBreakerOptions>;
  // Options not given are left out rather than stored as `undefined` (they read as `undefined` all the
  // same): a class-scope circuit keeps its own resolved copy, and each field would cost every circuit.
  if (failOn !== undefined) resolved.failOn = failOn;
  if (resetBackoff !== undefined) resolved.resetBackoff = resetBackoff;
  if (halfOpenFailureRate !== undefined) resolved.halfOpenFailureRate = halfOpenFailureRate;
  if (onError !== undefined) resolved.onError = onError;
  if (clock !== undefined) resolved.clock = clock;
  if (store !== undefined) resolved.store = store;
  if (restore !== undefined) resolved.restore = restore;
  return Object.freeze(resolved);
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The matcher of `options.on`, made on the first error and then shared by
 * every circuit holding the same options: a circuit that never saw an error
 * pays nothing for its filter.
 */
export function errorMatcherOf(options: ResolvedCircuitBreakerOptions): ErrorMatcher {
  if (options.on === undefined) return anyError;
  let matcher = matchers.get(options);
  if (matcher === undefined) matchers.set(options, (matcher = toErrorMatcher(options.on, anyError)));
  return matcher;
}

const matchers = new WeakMap<ResolvedCircuitBreakerOptions, ErrorMatcher>();

// The untimed leaky-bucket and consecutive modes resolve to these shared values: nothing to allocate.
const untimed = {
  'leaky-bucket': Object.freeze({ mode: 'leaky-bucket', slowCallDuration: Infinity }),
  consecutive: Object.freeze({ mode: 'consecutive', slowCallDuration: Infinity }),
} as const;

const policy = 'circuitBreaker';

const modes: readonly unknown[] = ['enforcing', 'metrics-only', 'disabled'];

/** `mode` if it is a {@link CircuitMode}; else a TypeError naming `option` (the option, or the `mode` property). */
export function checkMode(mode: unknown, option: string): CircuitMode {
  if (!modes.includes(mode)) invalidOption(policy, option, "'enforcing', 'metrics-only' or 'disabled'", mode);
  return mode as CircuitMode;
}

function validateFilter(on: unknown): void {
  if (describeInvalidFilter(on) === undefined) return;
  if (Array.isArray(on)) {
    const index = on.findIndex((item) => typeof item !== 'function');
    invalidOption(policy, `on[${index}]`, 'an error class', on[index]);
  }
  invalidOption(policy, 'on', 'an error class, an array of error classes or a predicate', on);
}

/**
 * True for a {@link CircuitStoreProvider}: an object with `circuit(name, options)`
 * and no `read` (a store with both is used as one plain store).
 *
 * @example
 * import { isCircuitStoreProvider, memoryCircuitStore } from '@staunch/core';
 *
 * console.log(isCircuitStoreProvider(memoryCircuitStore())); // false
 * console.log(isCircuitStoreProvider({ circuit: () => memoryCircuitStore() })); // true
 */
export function isCircuitStoreProvider(value: unknown): value is CircuitStoreProvider {
  const provider = value as Partial<CircuitStoreProvider & CircuitStore> | null;
  return (
    typeof provider === 'object' &&
    provider !== null &&
    typeof provider.circuit === 'function' &&
    typeof provider.read !== 'function'
  );
}

function isStore(value: unknown): value is CircuitStore {
  const store = value as Partial<CircuitStore> | null;
  return (
    typeof store === 'object' &&
    store !== null &&
    typeof store.read === 'function' &&
    typeof store.compareAndSet === 'function'
  );
}

function resolveHalfOpenFailureRate(rate: unknown, halfOpenCalls: number): number | undefined {
  if (rate === undefined) return undefined;
  if (typeof rate !== 'number' || !(rate > 0 && rate <= 1)) {
    invalidOption(
      policy,
      'halfOpenFailureRate',
      'a number > 0 and <= 1',
      rate,
      typeof rate === 'number' ? RangeError : TypeError,
    );
  }
  // With one trial its failure always reaches the rate: a rate given alone most likely forgot halfOpenCalls.
  if (halfOpenCalls < 2) {
    invalidOption(
      policy,
      'halfOpenFailureRate',
      `given with \`halfOpenCalls\` >= 2 (with ${halfOpenCalls} trial call, its failure always re-opens the circuit)`,
      rate,
      RangeError,
    );
  }
  return rate;
}

function resolveRestore(restore: unknown, store: unknown): CircuitRestore {
  if (store !== undefined) {
    invalidOption(policy, 'restore', 'left out when `store` is given (seed the store instead)', restore);
  }
  const saved = restore as Partial<CircuitRestore> | null;
  if (typeof saved !== 'object' || saved === null) {
    invalidOption(policy, 'restore', 'a saved circuit: { snapshot, savedAt }, as toJSON() returns', restore);
  }
  const snapshot = checkSnapshot(saved.snapshot, policy, 'restore.snapshot');
  const { savedAt } = saved;
  if (typeof savedAt !== 'number' || !Number.isFinite(savedAt)) {
    invalidOption(policy, 'restore.savedAt', 'a finite number (the clock time toJSON() was called at)', savedAt);
  }
  return Object.freeze({ snapshot, savedAt });
}

function resolveCounting(counting: unknown): ResolvedCircuitCounting {
  const d = circuitBreakerDefaults;
  const given = typeof counting === 'string' ? { mode: counting } : counting;
  if (typeof given !== 'object' || given === null) {
    invalidOption(policy, 'counting', "'leaky-bucket', 'consecutive' or { mode, … }", counting);
  }
  const spec = given as {
    mode?: unknown;
    rate?: unknown;
    window?: unknown;
    minimumCalls?: unknown;
    slowCallDuration?: unknown;
  };
  const slowCallDuration = nonNegative(
    policy,
    'counting.slowCallDuration',
    spec.slowCallDuration ?? d.slowCallDuration,
  );
  const { mode } = spec;
  if (mode === 'leaky-bucket' || mode === 'consecutive') {
    return slowCallDuration === Infinity ? untimed[mode] : Object.freeze({ mode, slowCallDuration });
  }
  if (mode !== 'failure-rate') {
    invalidOption(policy, 'counting.mode', "'leaky-bucket', 'consecutive' or 'failure-rate'", mode);
  }
  const rate = spec.rate ?? d.rate;
  if (typeof rate !== 'number' || !(rate > 0 && rate <= 1)) {
    invalidOption(
      policy,
      'counting.rate',
      'a number > 0 and <= 1',
      rate,
      typeof rate === 'number' ? RangeError : TypeError,
    );
  }
  const window = resolveWindow(spec.window ?? { calls: d.windowCalls });
  const most = 'calls' in window ? window.calls : Infinity;
  const minimumCalls = integerAtLeast(
    policy,
    'counting.minimumCalls',
    spec.minimumCalls ?? Math.min(d.minimumCalls, most),
    1,
  );
  if (minimumCalls > most) {
    invalidOption(
      policy,
      'counting.minimumCalls',
      `at most \`counting.window.calls\` (${most})`,
      minimumCalls,
      RangeError,
    );
  }
  return Object.freeze({ mode, rate, window, minimumCalls, slowCallDuration });
}

function resolveWindow(window: unknown): { readonly calls: number } | { readonly duration: number } {
  const spec = window as { calls?: unknown; duration?: unknown } | null;
  if (typeof spec === 'object' && spec !== null) {
    if (spec.calls !== undefined && spec.duration === undefined) {
      return Object.freeze({ calls: integerAtLeast(policy, 'counting.window.calls', spec.calls, 1) });
    }
    if (spec.duration !== undefined && spec.calls === undefined) {
      const duration = nonNegative(policy, 'counting.window.duration', spec.duration, false);
      if (duration === 0)
        invalidOption(policy, 'counting.window.duration', 'a finite number > 0', duration, RangeError);
      return Object.freeze({ duration });
    }
  }
  return invalidOption(policy, 'counting.window', '{ calls: n } or { duration: ms }', window);
}
