// The circuit breaker: policy.ts (what a breaker offers, and the functions that make one), breaker.ts (the
// implementation, thin: acquire → run → record), state-machine.ts (pure transitions), counting.ts (the rules
// that trip it), store.ts (where the state lives), options.ts (validation, defaults), half-open-wait.ts (calls
// waiting for the trials), events.ts (event payloads and their emission), statistics.ts (the counters).
export {
  circuitBreaker,
  circuitBreakerFactory,
  type CircuitBreakerPolicy,
  type CircuitBreakerFactory,
  type SyncValue,
  type CircuitBreakerJSON,
  type CircuitIsolation,
} from './policy.js';
export {
  type CircuitBreakerEvents,
  type CircuitChangeReason,
  type CircuitStateChangeEvent,
  type CircuitOpenedEvent,
  type CircuitHalfOpenedEvent,
  type CircuitClosedEvent,
  type CircuitRejectedEvent,
} from './events.js';
export { type CircuitBreakerStats } from './statistics.js';
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
