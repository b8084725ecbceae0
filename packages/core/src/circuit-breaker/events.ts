import type { Events } from '../events.js';
import type { CircuitOpenError } from '../errors.js';
import {
  publicState,
  retryAfter,
  type CircuitLimits,
  type CircuitSnapshot,
  type CircuitState,
} from './state-machine.js';

// The events a circuit emits: their payloads, and the one function that emits them for a transition.

/**
 * Why a circuit changed state: `'failures'` (the counting rule tripped it),
 * `'resetTimeout'` (it half-opened, or began a new half-open period in place
 * of trials that ran for `resetTimeout` without settling), `'trialFailed'`
 * (a trial failed: it re-opened), `'trialFailureRate'` (with
 * `halfOpenFailureRate`: the trials' failures reached it, re-opened),
 * `'trialsSucceeded'` (every trial finished: all succeeded, or with
 * `halfOpenFailureRate` the failures stayed below it; closed), the manual
 * `'isolate'`, `'released'` (the last isolation was released) and `'reset'`,
 * and `'shared'` (a store shared with other processes changed it, e.g. `@staunch/redis`).
 */
export type CircuitChangeReason =
  | 'failures'
  | 'resetTimeout'
  | 'trialFailed'
  | 'trialFailureRate'
  | 'trialsSucceeded'
  | 'isolate'
  | 'released'
  | 'reset'
  | 'shared';

/**
 * Payload of the `stateChange` event, emitted for every change of state and
 * for a new half-open period (`from` and `to` both `'half-open'`). `to: 'open'`
 * with reason `'isolate'` means held open until `reset()`.
 */
export interface CircuitStateChangeEvent {
  /** The circuit's name. */
  readonly circuit: string;
  /** The state before. */
  readonly from: CircuitState;
  /** The state after. */
  readonly to: CircuitState;
  /** Why it changed. */
  readonly reason: CircuitChangeReason;
  /** The error of the call that opened the circuit; absent when a slow call or a manual action did. */
  readonly error?: unknown;
}
/** Payload of the `opened` event: the circuit started rejecting calls. */
export interface CircuitOpenedEvent {
  /** The circuit's name. */
  readonly circuit: string;
  /** `'failures'`, `'trialFailed'`, `'trialFailureRate'` or `'isolate'`. */
  readonly reason: CircuitChangeReason;
  /** The error of the call that opened it, when a matching error did. */
  readonly error?: unknown;
  /** Milliseconds until trial calls are let through; `Infinity` when isolated. */
  readonly retryAfter: number;
}
/** Payload of the `halfOpened` event: trial calls may now go through. */
export interface CircuitHalfOpenedEvent {
  /** The circuit's name. */
  readonly circuit: string;
}
/** Payload of the `closed` event: calls flow normally again. */
export interface CircuitClosedEvent {
  /** The circuit's name. */
  readonly circuit: string;
  /** `'trialsSucceeded'`, `'released'` or `'reset'`. */
  readonly reason: CircuitChangeReason;
}
/** Payload of the `rejected` event: a call was refused without running. */
export interface CircuitRejectedEvent {
  /** The circuit's name. */
  readonly circuit: string;
  /** The error the call fails with. */
  readonly error: CircuitOpenError;
}
/**
 * The events of a circuit, for `breaker.on(type, listener)`. They fire when a
 * change is computed: on a call, or on reading `state`; never from a timer.
 */
export interface CircuitBreakerEvents {
  /** Every change of state, with its reason. */
  stateChange: CircuitStateChangeEvent;
  /** A call was refused without running (open circuit, or no trial slot): for telemetry. */
  rejected: CircuitRejectedEvent;
  /** It started rejecting calls. */
  opened: CircuitOpenedEvent;
  /** Trial calls may go through. */
  halfOpened: CircuitHalfOpenedEvent;
  /** Calls flow normally again. */
  closed: CircuitClosedEvent;
}

/**
 * Emits the events of one transition of the circuit `circuit`, from `from` to
 * `to` at `now`: `stateChange` for every new period (a new half-open period
 * too), then `opened`, `halfOpened` or `closed` when the public state changed.
 */
export function emitTransition(
  events: Events<CircuitBreakerEvents>,
  circuit: string,
  from: CircuitSnapshot,
  to: CircuitSnapshot,
  now: number,
  limits: CircuitLimits,
  reason: CircuitChangeReason,
  error: unknown,
): void {
  const fromState = publicState(from.state);
  const toState = publicState(to.state);
  // Only an opening names an error: a failed trial that closes the circuit (below halfOpenFailureRate) did not.
  const withError = error === undefined || toState !== 'open' ? {} : { error };
  events.emit('stateChange', { circuit, from: fromState, to: toState, reason, ...withError });
  if (toState === fromState) return;
  if (toState === 'open') {
    events.emit('opened', { circuit, reason, ...withError, retryAfter: retryAfter(to, now, limits) });
  } else if (toState === 'half-open') {
    events.emit('halfOpened', { circuit });
  } else {
    events.emit('closed', { circuit, reason });
  }
}

/**
 * Why the outcome of a trial led to `to`: `'trialsSucceeded'` when it closed
 * the circuit, else `'trialFailureRate'` when `halfOpenFailureRate` decided,
 * `'trialFailed'` when any failed trial does.
 */
export function trialOutcomeReason(to: CircuitSnapshot, limits: CircuitLimits): CircuitChangeReason {
  if (to.state === 'closed') return 'trialsSucceeded';
  return limits.halfOpenFailureRate === undefined ? 'trialFailed' : 'trialFailureRate';
}
