import { waitBefore, type Backoff } from '../backoff.js';
import { reachesRate } from './counting.js';

/**
 * The circuit's state machine, as pure functions: (snapshot, event, now) → next
 * snapshot. Every legal transition is one entry of {@link transitions}; any other
 * pair throws, so a bug in the policy (or a store that lost an update) shows up
 * at once instead of as a circuit stuck half-open.
 */

/** A circuit's state as users see it: an isolated circuit reads `'open'`. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** A circuit's state as its store keeps it: `'isolated'` is held open until every isolation is released, or `reset()`. */
export type CircuitStateName = CircuitState | 'isolated';

/**
 * Everything that decides what the next call may do, as a store keeps it.
 * Immutable: every transition makes a new snapshot, so a store can swap it
 * atomically (compare-and-set) and serialise it as it is.
 */
export interface CircuitSnapshot {
  /** The state. */
  readonly state: CircuitStateName;
  /**
   * Clock time (ms) at which the circuit entered `state` (opening time while
   * open); while half-open, when the latest trial call was let through.
   */
  readonly since: number;
  /** Half-open only: trial permits handed out and not released (at most `halfOpenCalls`). */
  readonly trials: number;
  /** Half-open only: trial calls that succeeded; all `halfOpenCalls` of them close the circuit. */
  readonly successes: number;
  /**
   * Half-open only: trial calls that failed without re-opening the circuit,
   * which only `halfOpenFailureRate` allows. Absent (0) in snapshots saved by
   * earlier versions and in a shared store's replica.
   */
  readonly failures?: number;
  /**
   * Counts state changes (not trial bookkeeping). A trial's outcome applies only
   * to the half-open period it was admitted in, and a failure record only to the
   * closed period it was collected in; the epoch tells periods apart.
   */
  readonly epoch: number;
  /**
   * Consecutive re-openings: how many trials in a row failed since the circuit
   * last closed (0 when the counting rule opened it). Picks the break duration
   * when `resetTimeout` is a backoff. Absent (0) in snapshots saved by earlier versions.
   */
  readonly reopenings?: number;
  /**
   * Open and half-open: milliseconds the current (or latest) opening lasts
   * before trials, the options' `resetTimeout` or what its backoff said for
   * this re-opening; 0 while closed or isolated. Absent in snapshots saved by
   * earlier versions and in a shared store's replica: then the options' `resetTimeout`.
   */
  readonly breakDuration?: number;
  /**
   * Isolated only: how many `isolate()` handles are not released yet; the
   * last release closes the circuit. 0 in every other state. Absent (1 while
   * isolated) in snapshots saved by earlier versions.
   */
  readonly isolations?: number;
}

/** What can happen to a circuit. */
export type CircuitEvent =
  | 'trip' // the counting rule says: open
  | 'halfOpen' // resetTimeout has passed since opening
  | 'acquireTrial' // a trial call is let through
  | 'expireTrials' // every slot is taken and resetTimeout has passed since the latest trial began: start over
  | 'trialSucceeded'
  | 'trialFailed'
  | 'releaseTrial' // a trial ended with an error that does not count, or its caller abandoned it: its slot is free again
  | 'isolate' // one more isolation: held open until each is released
  | 'release' // one isolation released: the last one closes the circuit
  | 'reset';

/** The limits the state machine needs from the options (the resolved options are one). */
export interface CircuitLimits {
  /** Milliseconds the circuit stays open (the first time, with a backoff) before trials, and that a trial may run. */
  readonly resetTimeout: number;
  /**
   * When given, the break duration grows: after `n` consecutive re-openings
   * the circuit stays open `waitBefore(resetBackoff, n + 1, previous)` ms.
   */
  readonly resetBackoff?: Backoff | undefined;
  /** How many trial calls a half-open circuit lets through; all must succeed to close it, unless… */
  readonly halfOpenCalls: number;
  /**
   * …given: the failed share of the `halfOpenCalls` trials that re-opens it,
   * as soon as their failures reach it; trials that all finish below it close it.
   */
  readonly halfOpenFailureRate?: number | undefined;
}

/** The snapshot of a circuit that has never changed: closed, nothing recorded. Shared by every idle circuit. */
export const initialSnapshot: CircuitSnapshot = Object.freeze({
  state: 'closed',
  since: 0,
  trials: 0,
  successes: 0,
  failures: 0,
  epoch: 0,
  reopenings: 0,
  breakDuration: 0,
  isolations: 0,
});

/** Thrown for a transition the table does not allow: always a bug, never a user error. */
export class IllegalTransitionError extends Error {
  constructor(from: CircuitSnapshot, event: CircuitEvent) {
    super(
      `Circuit breaker: illegal transition '${event}' from '${from.state}' (trials ${from.trials}/${from.successes}/${trialFailuresOf(from)}).`,
    );
    this.name = 'IllegalTransitionError';
  }
}

/** The next snapshot after `event` at time `now`; throws {@link IllegalTransitionError} for an illegal one. */
export function transition(
  from: CircuitSnapshot,
  event: CircuitEvent,
  now: number,
  limits: CircuitLimits,
): CircuitSnapshot {
  const step = transitions[from.state][event];
  const next = step?.(from, now, limits);
  if (next === undefined) throw new IllegalTransitionError(from, event);
  return next;
}

/** Milliseconds until an open circuit lets a trial call through (0 once it may); `Infinity` while isolated. */
export function retryAfter(snapshot: CircuitSnapshot, now: number, limits: CircuitLimits): number {
  switch (snapshot.state) {
    case 'open':
      return Math.max(0, snapshot.since + breakDurationOf(snapshot, limits) - now);
    case 'isolated':
      return Infinity;
    default:
      return 0;
  }
}

/** True when an open circuit's `resetTimeout` has passed, so it is due to become half-open. */
export function isDueForTrial(snapshot: CircuitSnapshot, now: number, limits: CircuitLimits): boolean {
  return snapshot.state === 'open' && now - snapshot.since >= breakDurationOf(snapshot, limits);
}

/** How long an open circuit stays open: its snapshot's `breakDuration`, or `resetTimeout` for a snapshot without one. */
export function breakDurationOf(snapshot: CircuitSnapshot, limits: CircuitLimits): number {
  return snapshot.breakDuration ?? limits.resetTimeout;
}

/**
 * The break duration after `reopenings` consecutive re-openings (0: the
 * counting rule opened it): `resetTimeout`, or the backoff's wait number
 * `reopenings + 1`, given the previous break duration.
 */
export function nextBreakDuration(limits: CircuitLimits, reopenings: number, previous: number): number {
  const backoff = limits.resetBackoff;
  return backoff === undefined
    ? limits.resetTimeout
    : waitBefore(backoff, reopenings + 1, reopenings === 0 ? 0 : previous);
}

/**
 * True when a half-open circuit's trial slots are all taken and the latest
 * trial began `resetTimeout` ago or more: the trials still running are
 * presumed lost (a promise that never settles), so a new half-open period
 * may begin. Without this, one hung trial would hold the circuit half-open,
 * rejecting every call, for ever.
 */
export function areTrialsOverdue(snapshot: CircuitSnapshot, now: number, limits: CircuitLimits): boolean {
  return (
    snapshot.state === 'half-open' &&
    snapshot.trials >= limits.halfOpenCalls &&
    now - snapshot.since >= limits.resetTimeout
  );
}

/** Half-open: the trials that failed without re-opening the circuit (a snapshot without the count has none). */
export function trialFailuresOf(snapshot: CircuitSnapshot): number {
  return snapshot.failures ?? 0;
}

/**
 * True when `failures` of a half-open period's trials re-open the circuit:
 * any one, or with `halfOpenFailureRate`, once `failures / halfOpenCalls`
 * reaches it. Failures only grow, so from then on no outcome of the trials
 * left could keep the rate below it: the circuit re-opens without waiting for them.
 */
export function trialFailuresReopen(failures: number, limits: CircuitLimits): boolean {
  const rate = limits.halfOpenFailureRate;
  return rate === undefined || reachesRate(failures, limits.halfOpenCalls, rate);
}

/** The state users see for a stored state. */
export function publicState(state: CircuitStateName): CircuitState {
  return state === 'isolated' ? 'open' : state;
}

/** How many isolations hold an isolated circuit open (a snapshot saved without the count holds one). */
export function isolationsOf(snapshot: CircuitSnapshot): number {
  return snapshot.state === 'isolated' ? (snapshot.isolations ?? 1) : 0;
}

// True while a trial let through has not settled yet: only such a trial can have an outcome.
const hasTrialRunning = (from: CircuitSnapshot): boolean => from.successes + trialFailuresOf(from) < from.trials;

// A step returns undefined when its guard fails: that, too, is an illegal transition.
type Step = (from: CircuitSnapshot, now: number, limits: CircuitLimits) => CircuitSnapshot | undefined;

// Every snapshot has the same fields in the same order (one shape for the engine). A new period keeps the
// re-opening count and break duration it is given: only an opening changes them, and a close or an isolation
// starts them over.
const snapshotOf = (
  state: CircuitStateName,
  since: number,
  epoch: number,
  reopenings: number,
  breakDuration: number,
  isolations = 0,
): CircuitSnapshot => ({
  state,
  since,
  trials: 0,
  successes: 0,
  failures: 0,
  epoch,
  reopenings,
  breakDuration,
  isolations,
});

const toClosed: Step = (from, now) => snapshotOf('closed', now, from.epoch + 1, 0, 0);
const toIsolated: Step = (from, now) => snapshotOf('isolated', now, from.epoch + 1, 0, 0, 1);

// The counting rule opened it: the first break duration.
const toOpen: Step = (from, now, limits) => snapshotOf('open', now, from.epoch + 1, 0, nextBreakDuration(limits, 0, 0));

// A trial failed: one more consecutive re-opening, a break as long as the backoff says for it.
const reopen: Step = (from, now, limits) => {
  const reopenings = (from.reopenings ?? 0) + 1;
  const previous = breakDurationOf(from, limits);
  return snapshotOf('open', now, from.epoch + 1, reopenings, nextBreakDuration(limits, reopenings, previous));
};

// A new half-open period, after an opening or in place of overdue trials: the opening's count and duration stay.
const toHalfOpen: Step = (from, now, limits) =>
  snapshotOf('half-open', now, from.epoch + 1, from.reopenings ?? 0, breakDurationOf(from, limits));

// Another isolation of an isolated circuit: the same period (epoch), one more handle to release.
const isolateAgain: Step = (from) => ({ ...from, isolations: isolationsOf(from) + 1 });

// The last isolation released closes the circuit, as reset() does; an earlier one only counts down.
const release: Step = (from, now, limits) => {
  const isolations = isolationsOf(from);
  return isolations > 1 ? { ...from, isolations: isolations - 1 } : toClosed(from, now, limits);
};

/** The legal transitions: state → event → step. Anything not listed is illegal. */
const transitions: { readonly [S in CircuitStateName]: { readonly [E in CircuitEvent]?: Step } } = {
  closed: {
    trip: toOpen,
    isolate: toIsolated,
    // Resetting a closed circuit starts a new closed period, which forgets the failure record.
    reset: toClosed,
  },
  open: {
    halfOpen: (from, now, limits) => (isDueForTrial(from, now, limits) ? toHalfOpen(from, now, limits) : undefined),
    isolate: toIsolated,
    reset: toClosed,
  },
  'half-open': {
    acquireTrial: (from, now, limits) =>
      from.trials < limits.halfOpenCalls ? { ...from, since: now, trials: from.trials + 1 } : undefined,
    // A new period (new epoch): the outcomes of the overdue trials will no longer count as trial outcomes.
    expireTrials: (from, now, limits) =>
      areTrialsOverdue(from, now, limits) ? toHalfOpen(from, now, limits) : undefined,
    // Once every trial of the round has settled (below the rate: above it, it would have re-opened), it closes.
    trialSucceeded: (from, now, limits) => {
      if (!hasTrialRunning(from)) return undefined;
      const successes = from.successes + 1;
      return successes + trialFailuresOf(from) >= limits.halfOpenCalls
        ? toClosed(from, now, limits)
        : { ...from, successes };
    },
    trialFailed: (from, now, limits) => {
      if (!hasTrialRunning(from)) return undefined;
      const failures = trialFailuresOf(from) + 1;
      if (trialFailuresReopen(failures, limits)) return reopen(from, now, limits);
      return from.successes + failures >= limits.halfOpenCalls ? toClosed(from, now, limits) : { ...from, failures };
    },
    releaseTrial: (from) => (hasTrialRunning(from) ? { ...from, trials: from.trials - 1 } : undefined),
    isolate: toIsolated,
    reset: toClosed,
  },
  isolated: {
    isolate: isolateAgain,
    release,
    reset: toClosed,
  },
};
