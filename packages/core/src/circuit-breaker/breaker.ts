import { enterCall, leaveAttempt, type Follower } from '../attempt.js';
import { getDefaultClock, type Clock } from '../clock.js';
import { CircuitOpenError } from '../errors.js';
import { enterHandOff, handOff, settleHandedOff, watchHandedOff, type HandOffTaker } from '../handoff.js';
import { invoke, isNativePromise, isThenable, promiseOf, rejectSoon } from '../hot-path.js';
import { Events, type Listener, type Unsubscribe } from '../events.js';
import { followSignal, unfollowSignal } from '../follow-signal.js';
import { reportCallbackError } from '../report-callback-error.js';
import { invalidOption, signalProblem } from '../validation.js';
import { countsSuccesses, createFailureRecord, type FailureRecord } from './counting.js';
import { emitTransition, trialOutcomeReason, type CircuitBreakerEvents, type CircuitChangeReason } from './events.js';
import { TrialWaitQueue } from './half-open-wait.js';
import {
  checkMode,
  errorMatcherOf,
  isCircuitStoreProvider,
  type CircuitMode,
  type ResolvedCircuitBreakerOptions,
} from './options.js';
import type { CircuitBreakerJSON, CircuitBreakerPolicy, CircuitIsolation, SyncValue } from './policy.js';
import {
  areTrialsOverdue,
  initialSnapshot,
  isolationsOf,
  isDueForTrial,
  publicState,
  retryAfter,
  transition,
  type CircuitEvent,
  type CircuitSnapshot,
  type CircuitState,
} from './state-machine.js';
import type { CircuitBreakerStats } from './statistics.js';
import { restoreSnapshot, type CircuitStore } from './store.js';

// The circuit breaker's implementation: acquire a permission, run, record the outcome. The state lives in a
// snapshot (state-machine.ts) kept by the breaker itself or by a store (store.ts).

// A normal (closed) call's ticket; a trial call's ticket is its half-open period's epoch (>= 0).
const normalCall = -1;
const noArgs: [] = [];

// Which entry point a call came through. It alone decides whether a call answers with a promise or
// synchronously (with the function, for `call`): never what another call returned, so that the answer on an
// open circuit does not depend on the circuit's history.
type Entry = typeof asyncEntry | typeof syncEntry | typeof byFunction;
/** `execute`: always a promise. */
const asyncEntry = 0;
/** `executeSync`: what `fn` returns; errors, `CircuitOpenError` included, are thrown. */
const syncEntry = 1;
/** `call`: what `fn` returns; while open, a rejected promise for an `async` function, a throw for any other. */
const byFunction = 2;

// The watchers circuits gave to stores with watch(), alive as long as their circuit: a store may hold them
// weakly. A WeakMap rather than a field, so that circuits that never watch pay nothing for it.
const storeWatchers = new WeakMap<object, unknown>();

// The calls waiting for half-open trials' outcome (halfOpenWait), per circuit, made on the first wait: a WeakMap
// rather than a field, so that circuits that never wait pay nothing for it.
const waitQueues = new WeakMap<object, TrialWaitQueue>();

// Rejections capture no stack trace (a deliberate choice, see the README's "Rejections are cheap"): during an
// outage every call is rejected, capturing a stack costs several times the rest of a rejection, and it would only
// show the call site. Where the limit cannot be changed (frozen intrinsics), errors get their stacks as usual.
const stackLimitWritable = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')?.writable === true;

/**
 * The circuit breaker `circuitBreaker()` and `circuitBreakerFactory()` make.
 * Every field is in-object and nothing else is allocated until needed (failure
 * record, listeners), so an idle circuit is one small object: see benchmarks/idle-circuit-memory.mjs.
 */
export class Breaker implements CircuitBreakerPolicy, HandOffTaker {
  readonly #options: ResolvedCircuitBreakerOptions;
  // The given store, or undefined: then the breaker keeps its snapshot itself, in #snapshot (no store object).
  readonly #store: CircuitStore | undefined;
  #snapshot: CircuitSnapshot = initialSnapshot;
  readonly #name: string;
  #record: FailureRecord | undefined;
  #events: Events<CircuitBreakerEvents> | undefined;
  #calls = 0;
  #successes = 0;
  #failures = 0;
  #ignoredErrors = 0;
  #slowCalls = 0;
  #rejections = 0;
  #aborted = 0;
  // Of `#aborted`, the calls abandoned before they ran (not in `#calls`): to tell how many are running.
  #abortedEarly = 0;
  #mode: CircuitMode;

  constructor(options: ResolvedCircuitBreakerOptions, name: string | undefined) {
    if (name !== undefined && typeof name !== 'string') invalidOption('circuitBreaker', 'name', 'a string', name);
    this.#options = options;
    this.#name = name ?? options.name;
    this.#mode = options.mode;
    // A restored circuit's times keep their age on this clock (the clock may have started afresh since).
    const restore = options.restore;
    if (restore !== undefined) this.#snapshot = restoreSnapshot(restore.snapshot, restore.savedAt, this.#now());
    const store = options.store;
    this.#store = isCircuitStoreProvider(store) ? store.circuit(this.#name, options) : store;
  }

  get options(): ResolvedCircuitBreakerOptions {
    return this.#options;
  }

  get name(): string {
    return this.#name;
  }

  get state(): CircuitState {
    const snapshot = this.#read();
    if (snapshot.state === 'open') {
      const now = this.#now();
      if (isDueForTrial(snapshot, now, this.#options)) {
        this.#apply(snapshot, 'halfOpen', now, 'resetTimeout', undefined);
        return publicState(this.#read().state);
      }
    }
    return publicState(snapshot.state);
  }

  get isolated(): boolean {
    return this.#read().state === 'isolated';
  }

  get mode(): CircuitMode {
    return this.#mode;
  }

  set mode(mode: CircuitMode) {
    this.#mode = checkMode(mode, 'mode');
  }

  get stats(): CircuitBreakerStats {
    return this.statistics;
  }

  get statistics(): CircuitBreakerStats {
    return {
      calls: this.#calls,
      successes: this.#successes,
      failures: this.#failures,
      ignoredErrors: this.#ignoredErrors,
      slowCalls: this.#slowCalls,
      rejections: this.#rejections,
      aborted: this.#aborted,
    };
  }

  get idle(): boolean {
    const snapshot = this.#read();
    if (snapshot.state !== 'closed') return false;
    const settled = this.#successes + this.#failures + this.#ignoredErrors + this.#aborted - this.#abortedEarly;
    if (this.#calls !== settled) return false;
    const record = this.#record;
    return record?.epoch !== snapshot.epoch || !record.holdsFailures(this.#now());
  }

  execute<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    if (signal !== undefined) {
      const problem = signalProblem('circuitBreaker', signal);
      if (problem !== undefined) return Promise.reject(problem);
      // Checked before anything else: an abandoned call must not take a trial slot or move the state.
      if (signal.aborted) {
        this.#aborted++;
        this.#abortedEarly++;
        return rejectSoon(signal.reason);
      }
    }
    try {
      return this.#run(fn, undefined, noArgs, asyncEntry, false, signal) as Promise<T>;
    } catch (error) {
      // Only a store or a clock that threw gets here (fn's own errors are rejections already): still a rejection.
      return rejectSoon(error);
    }
  }

  executeSync<T>(fn: () => SyncValue<T>): T {
    return this.#run(fn, undefined, noArgs, syncEntry, false, undefined);
  }

  call<This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
    thisArg: This,
    args: Args,
    consumed = false,
  ): R {
    try {
      return this.#run(fn, thisArg, args, byFunction, consumed, undefined);
    } catch (error) {
      // An async function never throws: a store or a clock that threw becomes a rejection too.
      if (isAsyncFunction(fn)) return rejectSoon(error) as R;
      throw error;
    }
  }

  isolate(): CircuitIsolation {
    let isolated: CircuitSnapshot | undefined;
    while (isolated === undefined) isolated = this.#apply(this.#read(), 'isolate', this.#now(), 'isolate', undefined);
    this.#wake();
    // The handle belongs to this isolated period: after a reset(), and in any later isolation, it counts no more.
    const epoch = isolated.epoch;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        for (;;) {
          const snapshot = this.#read();
          if (isolationsOf(snapshot) === 0 || snapshot.epoch !== epoch) return;
          if (this.#apply(snapshot, 'release', this.#now(), 'released', undefined)) {
            this.#wake();
            return;
          }
        }
      },
    };
  }

  reset(): void {
    while (this.#apply(this.#read(), 'reset', this.#now(), 'reset', undefined) === undefined);
    this.#wake();
  }

  on<K extends keyof CircuitBreakerEvents>(type: K, listener: Listener<CircuitBreakerEvents[K]>): Unsubscribe {
    let events = this.#events;
    if (events === undefined) {
      events = this.#events = new Events();
      // A shared store's changes from outside are this circuit's changes too: watched once anyone listens.
      // The store may hold its watchers weakly, so the circuit keeps its own alive.
      const store = this.#store;
      if (store?.watch !== undefined) {
        const watcher = (from: CircuitSnapshot, to: CircuitSnapshot): void => {
          if (publicState(from.state) !== publicState(to.state)) this.#emit(from, to, this.#now(), 'shared', undefined);
        };
        storeWatchers.set(this, watcher);
        store.watch(watcher);
      }
    }
    return events.on(type, listener);
  }

  toJSON(): CircuitBreakerJSON {
    const state = this.state;
    return { name: this.#name, state, snapshot: this.#read(), savedAt: this.#now(), stats: this.statistics };
  }

  // `signal` is a caller's signal not yet aborted (execute only); undefined for the other entries.
  #run<This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
    thisArg: This,
    args: Args,
    entry: Entry,
    consumed: boolean,
    signal: AbortSignal | undefined,
  ): R {
    const handOffOpen = enterHandOff();
    // Disabled: the breaker steps aside (one field read on the happy path for it).
    if (this.#mode === 'disabled') return this.#runDisabled(fn, thisArg, args, entry);
    const snapshot = this.#read();
    const timed = this.#options.counting.slowCallDuration !== Infinity;
    const closed = snapshot.state === 'closed';
    // The happy path: closed and untimed needs no clock, no permission and no allocation.
    if (closed && !timed && signal === undefined) {
      return this.#runClosed(fn, thisArg, args, entry, consumed, handOffOpen);
    }
    // A successful call on a closed, untimed circuit never reads the clock, with a signal or without.
    const now = closed && !timed ? NaN : this.#now();
    const permit = closed ? normalCall : this.#acquire(snapshot, now);
    if (typeof permit === 'number') {
      return this.#runAdmitted(fn, thisArg, args, entry, permit, timed ? now : NaN, signal);
    }
    // Metrics-only never rejects: the call runs as a normal call, whose outcome an open circuit does not record.
    if (this.#mode === 'metrics-only') return this.#runAdmitted(fn, thisArg, args, entry, normalCall, NaN, signal);
    // Every trial slot taken: a call answered with a promise may wait for the trials' outcome (halfOpenWait).
    if (this.#options.halfOpenWait > 0 && this.#read().state === 'half-open' && answersWithPromise(entry, fn)) {
      return this.#waitForTrials(fn, thisArg, args, entry, signal) as R;
    }
    this.#rejections++;
    if (this.#events?.has('rejected') === true) this.#events.emit('rejected', { circuit: this.#name, error: permit });
    if (entry === syncEntry || (entry === byFunction && !isAsyncFunction(fn))) throw permit;
    return rejectSoon(permit) as R;
  }

  // Queues a call until the trials settle (then it goes through the circuit again), its caller's signal
  // aborts, or halfOpenWait passes (then it is rejected as it would have been at once, retryAfter 0).
  #waitForTrials<This, Args extends unknown[]>(
    fn: (this: This, ...args: Args) => unknown,
    thisArg: This,
    args: Args,
    entry: Entry,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    let queue = waitQueues.get(this);
    if (queue === undefined) waitQueues.set(this, (queue = new TrialWaitQueue()));
    const waiting = queue;
    return new Promise((resolve, reject) => {
      waiting.add(this.#clock(), this.#options.halfOpenWait, signal, {
        admit: () => {
          try {
            resolve(this.#run(fn, thisArg, args, entry, false, signal));
          } catch (error) {
            // Only a store or a clock that threw gets here: still a rejection.
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what the store or clock threw
            reject(error);
          }
        },
        timeout: () => {
          this.#rejections++;
          const error = openError(this.#name, 0);
          if (this.#events?.has('rejected') === true) this.#events.emit('rejected', { circuit: this.#name, error });
          reject(error);
        },
        abort: (reason) => {
          this.#aborted++;
          this.#abortedEarly++;
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the signal's own reason, whatever it is
          reject(reason);
        },
      });
    });
  }

  // Lets waiting calls through, oldest first, for as long as they need not wait: after a trial's outcome (or
  // a freed slot), reset(), isolate() or a release. Each goes through the circuit again: admitted, or rejected.
  #wake(): void {
    const queue = waitQueues.get(this);
    if (queue !== undefined && queue.size > 0) queue.wake(() => this.#trialsBusy());
  }

  // True while a new call would find every trial slot taken by trials not yet overdue: waiters keep waiting.
  #trialsBusy(): boolean {
    const snapshot = this.#read();
    return (
      snapshot.state === 'half-open' &&
      snapshot.trials >= this.#options.halfOpenCalls &&
      !areTrialsOverdue(snapshot, this.#now(), this.#options)
    );
  }

  // A disabled breaker's call: `fn` as if there were no breaker (`execute` still answers with a promise).
  // Inside it, `attemptSignal()` reads as in any breaker's call; nothing is recorded, not even counters.
  #runDisabled<This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
    thisArg: This,
    args: Args,
    entry: Entry,
  ): R {
    const previous = enterCall();
    let result: R;
    try {
      result = invoke(fn, thisArg, args);
    } catch (error) {
      leaveAttempt(previous);
      if (entry === asyncEntry) return rejectSoon(error) as R;
      throw error;
    }
    leaveAttempt(previous);
    if (entry !== asyncEntry) return result;
    return (isThenable(result) ? promiseOf(result) : Promise.resolve(result)) as R;
  }

  // #runAdmitted for a normal call on a closed, untimed circuit without a signal, the hot path: the two
  // closures capture nothing but the circuit.
  #runClosed<This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
    thisArg: This,
    args: Args,
    entry: Entry,
    consumed: boolean,
    handOffOpen: boolean,
  ): R {
    this.#calls++;
    // The breaker makes no attempts of its own: outside any, `attemptSignal()` gets the never-aborting
    // signal; inside another policy's attempt, that attempt's. Restored before anything is recorded.
    const previous = enterCall();
    let result: R;
    try {
      result = invoke(fn, thisArg, args);
    } catch (error) {
      leaveAttempt(previous);
      this.#failed(normalCall, error);
      if (entry === asyncEntry) return rejectSoon(error) as R;
      throw error;
    }
    leaveAttempt(previous);
    // A plain native promise first: the usual result, checked without the generic thenable test.
    const native = isNativePromise(result);
    if (native || isThenable(result)) {
      const promise = native ? (result as Promise<unknown>) : Promise.resolve(result);
      if (consumed) return this.#consumedBy(promise, handOffOpen) as R;
      return promise.then(
        (value) => {
          this.#closedSuccess(value);
          return value;
        },
        (error: unknown) => {
          this.#failed(normalCall, error);
          throw error;
        },
      ) as R;
    }
    this.#closedSuccess(result);
    return entry === asyncEntry ? (Promise.resolve(result) as R) : result;
  }

  // The caller (a policy around this one) always handles `promise`: return it as it is, and
  // record its outcome beside the caller's handlers, or in the caller's own reaction (handoff.ts).
  #consumedBy(promise: Promise<unknown>, handOffOpen: boolean): Promise<unknown> {
    if (handOffOpen) handOff(this, promise);
    else this[watchHandedOff](promise);
    return promise;
  }

  // #succeeded for a normal call on an untimed circuit (no clock, no trial). Without `failOn`, one property
  // read more than before it existed: the happy path stays as it was.
  #closedSuccess(value: unknown): void {
    const options = this.#options;
    if (options.failOn !== undefined && this.#failsOn(options.failOn, value)) {
      this.#failures++;
      this.#countFailure(normalCall, this.#now(), undefined);
      return;
    }
    this.#successes++;
    if (countsSuccesses(options.counting)) this.#succeeded(normalCall, NaN, undefined, true);
  }

  // True when `failOn` rejects `value`; a `failOn` that throws counts as no failure, like a throwing `on`.
  // Typed as returning `unknown`: a JavaScript caller's `failOn` may return any truthy value.
  #failsOn(failOn: (value: unknown) => unknown, value: unknown): boolean {
    try {
      return Boolean(failOn(value));
    } catch (filterError) {
      reportCallbackError(filterError, `staunch: the \`failOn\` filter of circuit "${this.#name}"`);
      return false;
    }
  }

  // Runs an admitted call and records its outcome (when it settles, for a promise). `start` is NaN when
  // untimed; `signal`, when given, may abandon the call before its outcome is recorded.
  #runAdmitted<This, Args extends unknown[], R>(
    fn: (this: This, ...args: Args) => R,
    thisArg: This,
    args: Args,
    entry: Entry,
    ticket: number,
    start: number,
    signal: AbortSignal | undefined,
  ): R {
    this.#calls++;
    const previous = enterCall();
    let result: R;
    try {
      result = invoke(fn, thisArg, args);
    } catch (error) {
      leaveAttempt(previous);
      // `fn` itself may have aborted the caller's signal: then the caller no longer waits for this error.
      if (signal?.aborted === true) return this.#abandoned(ticket, signal) as R;
      this.#failed(ticket, error);
      if (entry === asyncEntry) return rejectSoon(error) as R;
      throw error;
    }
    leaveAttempt(previous);
    if (signal !== undefined) {
      if (signal.aborted) {
        // `fn` aborted the caller's signal before returning: its promise is observed, and ignored.
        if (isThenable(result)) promiseOf(result).then(undefined, ignore);
        return this.#abandoned(ticket, signal) as R;
      }
      if (isThenable(result)) return this.#settleUnlessAborted(promiseOf(result), ticket, start, signal) as R;
    } else if (isThenable(result)) {
      // Two small closures per async call, not handlers bound once per circuit: those would keep
      // ~190 bytes alive in every circuit that ever ran an async call (measured), for ~8 ns saved.
      return promiseOf(result).then(
        (value) => {
          this.#succeeded(ticket, start, value);
          return value;
        },
        (error: unknown) => {
          this.#failed(ticket, error);
          throw error;
        },
      ) as R;
    }
    this.#succeeded(ticket, start, result);
    return entry === asyncEntry ? (Promise.resolve(result) as R) : result;
  }

  // `promise`'s outcome, recorded, unless `signal` aborts first: then the call rejects with its reason at
  // once and the outcome, whenever it comes, is ignored (handled, so it cannot go unhandled). The call
  // follows the signal through its one shared listener (many calls on one signal add one), and stops
  // following as soon as either happens.
  #settleUnlessAborted(
    promise: Promise<unknown>,
    ticket: number,
    start: number,
    signal: AbortSignal,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let done = false;
      const follower: Follower = {
        abort: (reason) => {
          if (done) return;
          done = true;
          this.#abandon(ticket);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the signal's own reason, whatever it is
          reject(reason);
        },
      };
      followSignal(signal, follower);
      promise.then(
        (value) => {
          if (done) return;
          done = true;
          unfollowSignal(signal, follower);
          this.#succeeded(ticket, start, value);
          resolve(value);
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          unfollowSignal(signal, follower);
          this.#failed(ticket, error);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- fn's own error, as it came
          reject(error);
        },
      );
    });
  }

  // A call its caller's signal abandoned while it ran counts as `aborted` only, and frees its trial slot if it
  // held one: neither its outcome nor its absence may decide anything.
  #abandon(ticket: number): void {
    this.#aborted++;
    if (ticket !== normalCall) this.#settleTrial(ticket, 'releaseTrial');
  }

  // #abandon, for a call abandoned before it returned: the promise its caller gets.
  #abandoned(ticket: number, signal: AbortSignal): Promise<never> {
    this.#abandon(ticket);
    return rejectSoon(signal.reason);
  }

  [settleHandedOff](ok: boolean, outcome: unknown): void {
    if (ok) this.#closedSuccess(outcome);
    else this.#failed(normalCall, outcome);
  }

  [watchHandedOff](promise: Promise<unknown>): void {
    promise.then(
      (value) => {
        this.#closedSuccess(value);
      },
      (error: unknown) => {
        this.#failed(normalCall, error);
      },
    );
  }

  // A permission for a call on a circuit that was not closed: a ticket, or the error to reject with.
  #acquire(first: CircuitSnapshot, now: number): number | CircuitOpenError {
    const options = this.#options;
    for (let snapshot = first; ; snapshot = this.#read()) {
      switch (snapshot.state) {
        case 'closed':
          return normalCall;
        case 'isolated':
          return openError(this.#name, Infinity);
        case 'open':
          if (!isDueForTrial(snapshot, now, options)) return openError(this.#name, retryAfter(snapshot, now, options));
          this.#apply(snapshot, 'halfOpen', now, 'resetTimeout', undefined);
          break;
        case 'half-open':
          if (snapshot.trials >= options.halfOpenCalls) {
            // Trial slots taken: retryAfter 0, since the trials' outcome may close it any moment…
            if (!areTrialsOverdue(snapshot, now, options)) return openError(this.#name, 0);
            // …unless they have run for resetTimeout: presumed lost, they make way for new trials.
            this.#apply(snapshot, 'expireTrials', now, 'resetTimeout', undefined);
            break;
          }
          if (this.#compareAndSet(snapshot, transition(snapshot, 'acquireTrial', now, options))) {
            return snapshot.epoch;
          }
          break;
      }
    }
  }

  // `counted`: #closedSuccess already counted the success (and asked `failOn`).
  #succeeded(ticket: number, start: number, value: unknown, counted = false): void {
    const options = this.#options;
    if (!counted) {
      if (options.failOn !== undefined && this.#failsOn(options.failOn, value)) {
        this.#failures++;
        this.#countFailure(ticket, this.#now(), undefined);
        return;
      }
      this.#successes++;
    }
    if (start === start) {
      // Timed (slow-call counting): a slow success counts as a failure for the rule.
      const now = this.#now();
      if (now - start >= options.counting.slowCallDuration) {
        this.#slowCalls++;
        this.#countFailure(ticket, now, undefined);
        return;
      }
    }
    if (ticket !== normalCall && this.#settleTrial(ticket, 'trialSucceeded')) return;
    if (!countsSuccesses(options.counting)) return;
    const snapshot = this.#read();
    if (snapshot.state !== 'closed') return;
    const now = this.#now();
    if (this.#recordFor(snapshot).success(now)) this.#apply(snapshot, 'trip', now, 'failures', undefined);
  }

  #failed(ticket: number, error: unknown): void {
    const options = this.#options;
    // A throwing `on` predicate counts as no match; the matcher itself reports its error (error-filter.ts).
    if (errorMatcherOf(options)(error)) {
      this.#failures++;
      this.#countFailure(ticket, this.#now(), error);
    } else {
      this.#ignoredErrors++;
      if (ticket !== normalCall) this.#settleTrial(ticket, 'releaseTrial');
    }
    const onError = options.onError;
    if (onError !== undefined) {
      try {
        onError(error);
      } catch (hookError) {
        reportCallbackError(hookError, `staunch: the \`onError\` hook of circuit "${this.#name}"`);
      }
    }
  }

  #countFailure(ticket: number, now: number, error: unknown): void {
    if (ticket !== normalCall && this.#settleTrial(ticket, 'trialFailed', now, error)) return;
    const snapshot = this.#read();
    // Outcomes of calls admitted while closed count only if it is closed when they settle.
    if (snapshot.state !== 'closed') return;
    this.#store?.recordFailure?.();
    // A lost compare-and-set means another breaker on the same store changed the state first: its decision wins.
    if (this.#recordFor(snapshot).failure(now)) this.#apply(snapshot, 'trip', now, 'failures', error);
  }

  // Applies a trial's outcome if its half-open period is still current; false if it is gone (reset, isolated…).
  // Then calls waiting for the trials may go on.
  #settleTrial(ticket: number, event: CircuitEvent, now = this.#now(), error?: unknown): boolean {
    const settled = this.#applyTrialOutcome(ticket, event, now, error);
    this.#wake();
    return settled;
  }

  #applyTrialOutcome(ticket: number, event: CircuitEvent, now: number, error: unknown): boolean {
    for (;;) {
      const snapshot = this.#read();
      if (snapshot.state !== 'half-open' || snapshot.epoch !== ticket) return false;
      // The reason is where the outcome led: with halfOpenFailureRate, a failed trial may close the circuit.
      if (this.#apply(snapshot, event, now, undefined, error) !== undefined) return true;
    }
  }

  // The failure record of the current closed period: a new period (after a close or reset) starts empty.
  #recordFor(snapshot: CircuitSnapshot): FailureRecord {
    let record = this.#record;
    if (record?.epoch !== snapshot.epoch) {
      const { counting, threshold, resetTimeout } = this.#options;
      record = this.#record = createFailureRecord(counting, threshold, resetTimeout, snapshot.epoch);
    }
    return record;
  }

  // Compare-and-set of one transition, then its events: the new snapshot, or undefined when the store changed
  // meanwhile. `reason` undefined: a trial's outcome, named by where it led.
  #apply(
    from: CircuitSnapshot,
    event: CircuitEvent,
    now: number,
    reason: CircuitChangeReason | undefined,
    error: unknown,
  ): CircuitSnapshot | undefined {
    const next = transition(from, event, now, this.#options);
    if (!this.#compareAndSet(from, next)) return undefined;
    if (next.state === 'closed' || next.state === 'open') this.#record = undefined;
    // A new epoch is a new period: a state change, or new trials in place of overdue ones.
    if (this.#events !== undefined && next.epoch !== from.epoch) {
      this.#emit(from, next, now, reason ?? trialOutcomeReason(next, this.#options), error);
    }
    return next;
  }

  #emit(from: CircuitSnapshot, to: CircuitSnapshot, now: number, reason: CircuitChangeReason, error: unknown): void {
    emitTransition(
      this.#events as Events<CircuitBreakerEvents>,
      this.#name,
      from,
      to,
      now,
      this.#options,
      reason,
      error,
    );
  }

  #read(): CircuitSnapshot {
    const store = this.#store;
    return store === undefined ? this.#snapshot : store.read();
  }

  #compareAndSet(expected: CircuitSnapshot, next: CircuitSnapshot): boolean {
    const store = this.#store;
    if (store !== undefined) return store.compareAndSet(expected, next);
    if (this.#snapshot !== expected) return false;
    this.#snapshot = next;
    return true;
  }

  #now(): number {
    return this.#clock().now();
  }

  #clock(): Clock {
    return this.#options.clock ?? getDefaultClock();
  }
}

// Whether a call is answered with a promise whatever happens (so it can wait): decided by the entry alone.
function answersWithPromise(entry: Entry, fn: object): boolean {
  return entry === asyncEntry || (entry === byFunction && isAsyncFunction(fn));
}

function isAsyncFunction(fn: object): boolean {
  return (fn as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'AsyncFunction';
}

function openError(circuit: string, retryAfterMs: number): CircuitOpenError {
  if (!stackLimitWritable) return new CircuitOpenError(circuit, retryAfterMs);
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new CircuitOpenError(circuit, retryAfterMs);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function ignore(): void {
  // observed, so that a rejection nobody waits for any more is not reported as unhandled
}
