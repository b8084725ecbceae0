import { invalidOption } from '../validation.js';
import type { ResolvedCircuitBreakerOptions } from './options.js';
import { initialSnapshot, type CircuitSnapshot } from './state-machine.js';

/**
 * Where a circuit's state lives. The breaker reads a snapshot on every call and
 * replaces it with compare-and-set, so a store only has to be atomic about one
 * swap; all decisions stay in the pure state machine.
 *
 * Both methods are synchronous because a sync method must stay sync. A store
 * shared between processes keeps a local replica that `read` returns and
 * talks to its server in the background (see `@staunch/redis`, given to
 * breakers through a {@link CircuitStoreProvider}); it may replace the
 * replica at any time, which the breaker sees as another breaker's change.
 * The failure record stays local to each breaker: a shared store that counts
 * failures across processes hears of each one through `recordFailure`.
 *
 * @example
 * import { circuitBreaker, memoryCircuitStore, type CircuitStore } from '@staunch/core';
 *
 * // Around the in-memory store: log every transition the circuit makes.
 * const inner = memoryCircuitStore();
 * const logged: CircuitStore = {
 *   read: () => inner.read(),
 *   compareAndSet(expected, next) {
 *     const swapped = inner.compareAndSet(expected, next);
 *     if (swapped) console.log(`${expected.state} -> ${next.state}`);
 *     return swapped;
 *   },
 * };
 * const breaker = circuitBreaker({ threshold: 1, store: logged });
 * try {
 *   breaker.executeSync(() => {
 *     throw new Error('down');
 *   });
 * } catch {
 *   // logged: closed -> open
 * }
 */
export interface CircuitStore {
  /** The current snapshot. Called on every call: keep it cheap. */
  read(): CircuitSnapshot;
  /** Replaces the snapshot with `next` only if it is still `expected`; returns whether it did. */
  compareAndSet(expected: CircuitSnapshot, next: CircuitSnapshot): boolean;
  /**
   * Optional: called for every failure the circuit counted while closed
   * (slow calls included), after its own record took it. Must return at once
   * and never throw: a shared store only notes it, to report in the background.
   */
  recordFailure?(): void;
  /**
   * Optional, for a store whose snapshot also changes from outside (another
   * process): calls `listener` after each such change of state, so that the
   * breaker can emit its events for it too. Returns the function that stops it.
   * A breaker watches only once something listens to its events, and keeps its
   * watcher alive itself: a store may hold watchers weakly (`WeakRef`), so that
   * breakers nobody uses any more are collected.
   */
  watch?(listener: (from: CircuitSnapshot, to: CircuitSnapshot) => void): () => void;
}

/**
 * A store of many named circuits, such as a Redis server's: a breaker given
 * one asks it, once, for the {@link CircuitStore} of the circuit called by its
 * name, so breakers of the same name (in any class, or any process sharing the
 * server) are one circuit.
 *
 * @example
 * import { circuitBreaker, memoryCircuitStore, type CircuitStore, type CircuitStoreProvider } from '@staunch/core';
 *
 * // One in-memory circuit per name: breakers that share a name share a circuit.
 * const circuits = new Map<string, CircuitStore>();
 * const byName: CircuitStoreProvider = {
 *   circuit(name) {
 *     let store = circuits.get(name);
 *     if (store === undefined) circuits.set(name, (store = memoryCircuitStore()));
 *     return store;
 *   },
 * };
 * const charge = circuitBreaker({ threshold: 1, name: 'payments', store: byName });
 * const refund = circuitBreaker({ threshold: 1, name: 'payments', store: byName });
 * try {
 *   charge.executeSync(() => {
 *     throw new Error('payments down');
 *   });
 * } catch {
 *   // tripped the circuit called 'payments'
 * }
 * console.log(refund.state); // 'open'
 */
export interface CircuitStoreProvider {
  /** The store of the circuit called `name`, for a breaker running with `options`; asked once per breaker. */
  circuit(name: string, options: ResolvedCircuitBreakerOptions): CircuitStore;
}

/**
 * An in-memory store: starts closed, or from a saved snapshot (one from
 * `toJSON().snapshot`, on the same clock). Without a `store` option a circuit
 * keeps its snapshot itself, the same way; pass one store to several breakers
 * to make them one circuit.
 *
 * @example
 * import { circuitBreaker, memoryCircuitStore } from '@staunch/core';
 *
 * // Reads and writes of one backend: two breakers, one circuit.
 * const backend = memoryCircuitStore();
 * const reads = circuitBreaker({ threshold: 1, name: 'backend', store: backend });
 * const writes = circuitBreaker({ threshold: 1, name: 'backend', store: backend });
 * try {
 *   writes.executeSync(() => {
 *     throw new Error('backend down');
 *   });
 * } catch {
 *   // the write failed with its own error, and tripped the shared circuit
 * }
 * console.log(reads.state); // 'open'
 */
export function memoryCircuitStore(initial: CircuitSnapshot = initialSnapshot): CircuitStore {
  return new MemoryCircuitStore(checkSnapshot(initial, 'memoryCircuitStore', 'initial'));
}

/** The store {@link memoryCircuitStore} makes: one field, compared by identity. */
export class MemoryCircuitStore implements CircuitStore {
  #snapshot: CircuitSnapshot;

  constructor(initial: CircuitSnapshot = initialSnapshot) {
    this.#snapshot = initial;
  }

  /** The current snapshot. */
  read(): CircuitSnapshot {
    return this.#snapshot;
  }

  /** Swaps in `next` if the snapshot is still `expected` (by identity). */
  compareAndSet(expected: CircuitSnapshot, next: CircuitSnapshot): boolean {
    if (this.#snapshot !== expected) return false;
    this.#snapshot = next;
    return true;
  }
}

const states: readonly unknown[] = ['closed', 'open', 'half-open', 'isolated'];

/**
 * A saved snapshot comes from outside (a file, a cache): checked before the
 * state machine trusts it, and frozen; else a TypeError naming `policy` and `option`.
 */
export function checkSnapshot(snapshot: unknown, policy: string, option: string): CircuitSnapshot {
  if (typeof snapshot !== 'object' || snapshot === null) {
    invalidOption(policy, option, 'a CircuitSnapshot (as saved from toJSON().snapshot)', snapshot);
  }
  const { state, since, trials, successes, failures, epoch, reopenings, breakDuration, isolations } =
    snapshot as Partial<CircuitSnapshot>;
  const count = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
  const valid =
    states.includes(state) &&
    typeof since === 'number' &&
    Number.isFinite(since) &&
    count(trials) &&
    count(successes) &&
    count(epoch) &&
    // Absent from snapshots saved before trials could fail without re-opening the circuit: read as 0.
    (failures === undefined || count(failures)) &&
    successes + (failures ?? 0) <= trials &&
    // Absent from snapshots saved before the break duration could grow: the state machine reads them as 0 / resetTimeout.
    (reopenings === undefined || count(reopenings)) &&
    (isolations === undefined || count(isolations)) &&
    (breakDuration === undefined ||
      (typeof breakDuration === 'number' && breakDuration >= 0 && breakDuration < Infinity));
  if (!valid) invalidOption(policy, option, 'a CircuitSnapshot (as saved from toJSON().snapshot)', snapshot);
  return Object.freeze({ ...(snapshot as CircuitSnapshot) });
}

/**
 * A snapshot saved at clock time `savedAt`, brought to clock time `now` (of
 * this process's clock, which may have started afresh): every time in it
 * keeps its age, so the time the circuit was down does not count (an open
 * circuit saved with 20 s of its break left has 20 s left), and the trials of
 * the saving process are forgotten (the outcomes of those still running can
 * never come): a restored half-open circuit starts a new round of trials.
 */
export function restoreSnapshot(saved: CircuitSnapshot, savedAt: number, now: number): CircuitSnapshot {
  const since = now - (savedAt - saved.since);
  // A half-open round is judged whole, on the trials of one process: the restored circuit starts a new round.
  return Object.freeze({ ...saved, since, trials: 0, successes: 0, failures: 0 });
}
