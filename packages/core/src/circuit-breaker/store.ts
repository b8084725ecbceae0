import { invalidOption } from '../validation.js';
import { initialSnapshot, type CircuitSnapshot } from './state-machine.js';

/**
 * Where a circuit's state lives. The breaker reads a snapshot on every call and
 * replaces it with compare-and-set, so a store only has to be atomic about one
 * swap; all decisions stay in the pure state machine.
 *
 * Both methods are synchronous because a sync method must stay sync. A store
 * shared between processes (Redis, say) keeps a local replica that `read`
 * returns, makes `compareAndSet` a conditional write of the whole snapshot (a
 * Lua script or `WATCH`/`MULTI` comparing all five fields), and refreshes the
 * replica from pub/sub; it also needs a wall clock (`clock` option), since
 * snapshot times are the breaker's clock. The failure record stays local to
 * each breaker.
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
 *   breaker.execute(() => {
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
 *   writes.execute(() => {
 *     throw new Error('backend down');
 *   });
 * } catch {
 *   // the write failed with its own error, and tripped the shared circuit
 * }
 * console.log(reads.state); // 'open'
 */
export function memoryCircuitStore(initial: CircuitSnapshot = initialSnapshot): CircuitStore {
  return new MemoryCircuitStore(checkSnapshot(initial));
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

// A saved snapshot comes from outside (a file, a cache): check it before the state machine trusts it.
function checkSnapshot(snapshot: CircuitSnapshot): CircuitSnapshot {
  const { state, since, trials, successes, epoch } = snapshot as Partial<CircuitSnapshot>;
  const count = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
  const valid =
    states.includes(state) &&
    typeof since === 'number' &&
    Number.isFinite(since) &&
    count(trials) &&
    count(successes) &&
    count(epoch) &&
    successes <= trials;
  if (!valid)
    invalidOption('memoryCircuitStore', 'initial', 'a CircuitSnapshot (as saved from toJSON().snapshot)', snapshot);
  return Object.freeze({ ...snapshot });
}
