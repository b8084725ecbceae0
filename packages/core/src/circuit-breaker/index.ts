// The circuit breaker: policy.ts (thin: acquire → run → record), state-machine.ts (pure transitions),
// counting.ts (the rules that trip it), store.ts (where the state lives), options.ts (validation, defaults),
// half-open-wait.ts (calls waiting for the trials).
export {
  circuitBreaker,
  circuitBreakerFactory,
  type CircuitBreakerPolicy,
  type CircuitBreakerFactory,
  type CircuitBreakerEvents,
  type CircuitBreakerStats,
  type SyncValue,
  type CircuitBreakerJSON,
  type CircuitChangeReason,
  type CircuitStateChangeEvent,
  type CircuitOpenedEvent,
  type CircuitHalfOpenedEvent,
  type CircuitClosedEvent,
  type CircuitRejectedEvent,
  type CircuitIsolation,
} from './policy.js';
export {
  circuitBreakerDefaults,
  type CircuitBreakerOptions,
  type CircuitMode,
  type CircuitRestore,
  type ResolvedCircuitBreakerOptions,
} from './options.js';
export { type CircuitCounting, type ResolvedCircuitCounting } from './counting.js';
export { memoryCircuitStore, type CircuitStore, type CircuitStoreProvider } from './store.js';
export { isCircuitStoreProvider } from './options.js';
export { type CircuitState, type CircuitStateName, type CircuitSnapshot } from './state-machine.js';
