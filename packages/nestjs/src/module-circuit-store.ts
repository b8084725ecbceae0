import {
  isCircuitStoreProvider,
  memoryCircuitStore,
  type CircuitSnapshot,
  type CircuitStore,
  type CircuitStoreProvider,
  type ResolvedCircuitBreakerOptions,
} from '@staunch/decorators';

// One slot per process, whichever build (ESM or CJS) of this package set or reads it.
const slot = ((globalThis as Record<symbol, unknown>)[Symbol.for('staunch.nestjs.moduleStore@1')] ??= {
  store: undefined,
}) as { store: CircuitStore | CircuitStoreProvider | undefined };

/** Makes `store` the one {@link moduleCircuitStore} forwards to (StaunchModule calls it; the last one wins). */
export function bindModuleCircuitStore(store: CircuitStore | CircuitStoreProvider | undefined): void {
  slot.store = store;
}

/**
 * A circuit store for decorators, whose real store the `StaunchModule` configures. Decorators are
 * applied when a class is defined, before any Nest module exists; each circuit given this store
 * asks the module's `store` (a `@staunch/redis` store made from an injected client, say) for its
 * state on its first use, and keeps that store. A circuit first used before the module
 * initialised, or with no `store` configured, keeps its state in this process's memory.
 *
 * @example
 * import { CircuitBreaker } from '@staunch/decorators';
 * import { moduleCircuitStore } from '@staunch/nestjs';
 *
 * class Payments {
 *   @CircuitBreaker({ threshold: 5, resetTimeout: 30_000, store: moduleCircuitStore, name: 'payments' })
 *   async charge(orderId: string): Promise<string> {
 *     return `receipt for ${orderId}`;
 *   }
 * }
 */
export const moduleCircuitStore: CircuitStoreProvider = Object.freeze({
  circuit(name: string, options: ResolvedCircuitBreakerOptions): CircuitStore {
    return new DeferredCircuit(name, options);
  },
});

// Forwards to the circuit's store, chosen on first use. Its methods exist whether the real store
// has the optional ones or not: a missing `watch` is a store that never changes from outside.
class DeferredCircuit implements CircuitStore {
  #target: CircuitStore | undefined;
  readonly #name: string;
  readonly #options: ResolvedCircuitBreakerOptions;

  constructor(name: string, options: ResolvedCircuitBreakerOptions) {
    this.#name = name;
    this.#options = options;
  }

  read(): CircuitSnapshot {
    return (this.#target ?? this.#bind()).read();
  }

  compareAndSet(expected: CircuitSnapshot, next: CircuitSnapshot): boolean {
    return (this.#target ?? this.#bind()).compareAndSet(expected, next);
  }

  recordFailure(): void {
    (this.#target ?? this.#bind()).recordFailure?.();
  }

  watch(listener: (from: CircuitSnapshot, to: CircuitSnapshot) => void): () => void {
    return (this.#target ?? this.#bind()).watch?.(listener) ?? noop;
  }

  #bind(): CircuitStore {
    const store = slot.store;
    this.#target =
      store === undefined
        ? memoryCircuitStore()
        : isCircuitStoreProvider(store)
          ? store.circuit(this.#name, this.#options)
          : store;
    return this.#target;
  }
}

const noop = (): void => undefined;
