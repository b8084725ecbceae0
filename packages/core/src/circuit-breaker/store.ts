import { invalidOption } from '../validation.js';
import { initialSnapshot, type CircuitSnapshot } from './state-machine.js';

/**
 * Where a circuit's state lives. The breaker reads a snapshot on every call and
 * replaces it with compare-and-set, so a store only has to be atomic about one
 * swap; all decisions stay in the pure state machine.
 *
 * Both methods are synchronous because a sync method must stay sync. A store
 * shared between processes (Redis, say) keeps a local replica that `read`
 * returns, makes `compareAndSet` a conditional write on the snapshot's `epoch`
 * and `trials` (a Lua script or `WATCH`/`MULTI`), and refreshes the replica from
 * pub/sub; it also needs a wall clock (`clock` option), since snapshot times are
 * the breaker's clock. The failure record stays local to each breaker.
 */
export interface CircuitStore {
  /** The current snapshot. Called on every call: keep it cheap. */
  read(): CircuitSnapshot;
  /** Replaces the snapshot with `next` only if it is still `expected`; returns whether it did. */
  compareAndSet(expected: CircuitSnapshot, next: CircuitSnapshot): boolean;
}

/** An in-memory store (the default): starts closed, or from a saved snapshot (e.g. one from `toJSON().snapshot`). */
export function memoryCircuitStore(initial: CircuitSnapshot = initialSnapshot): CircuitStore {
  return new MemoryCircuitStore(checkSnapshot(initial));
}

/** The default store: one field, compared by identity. */
export class MemoryCircuitStore implements CircuitStore {
  #snapshot: CircuitSnapshot;

  constructor(initial: CircuitSnapshot = initialSnapshot) {
    this.#snapshot = initial;
  }

  read(): CircuitSnapshot {
    return this.#snapshot;
  }

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
