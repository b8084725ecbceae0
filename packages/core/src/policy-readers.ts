import { countersOf, type AttemptPolicy } from './attempt-loop.js';
import type { BulkheadPolicy } from './bulkhead.js';
import type { CircuitBreakerPolicy } from './circuit-breaker/policy.js';
import type { FallbackPolicy } from './fallback.js';
import type { HedgePolicy } from './hedge.js';
import type { RateLimitPolicy } from './rate-limit.js';
import type { PolicyHealth } from './registry.js';

/**
 * How the registry reads one kind of policy, without side effects: no
 * timing turned on, nothing made. A new kind is one entry in
 * {@link policyReaders} and one `registerPolicy(policy, kind)` call where its
 * factory makes it.
 */
export interface PolicyReader<P = object> {
  /** Its own name, if the kind has one (a circuit's). */
  name(policy: P): string | undefined;
  /** Its state now, for a kind that has states. */
  state(policy: P): string | undefined;
  /** What a state means for a health check. */
  health(state: string | undefined): PolicyHealth;
  /** Its counters now. */
  statistics(policy: P): Record<string, number>;
}

const noName = (): undefined => undefined;
const noState = (): undefined => undefined;
const alwaysUp = (): PolicyHealth => 'up';

const attemptReader: PolicyReader<AttemptPolicy> = {
  name: noName,
  state: noState,
  health: alwaysUp,
  statistics(policy) {
    const { calls, attempts, successes, failures, errors, timeouts, budgetExhausted } = countersOf(policy);
    return { calls, attempts, successes, failures, errors, timeouts, budgetExhausted };
  },
};

const circuitReader: PolicyReader<CircuitBreakerPolicy> = {
  name: (policy) => policy.name,
  // `state` reads 'open' for an isolated circuit: told apart here, as a health check wants to know.
  state: (policy) => (policy.isolated ? 'isolated' : policy.state),
  health: (state) => (state === 'closed' ? 'up' : state === 'half-open' ? 'degraded' : 'down'),
  statistics: (policy) => ({ ...policy.statistics }),
};

const bulkheadReader: PolicyReader<BulkheadPolicy> = {
  name: noName,
  // 'accepting': a slot is free; 'queueing': calls wait; 'rejecting': slots and queue are full.
  state(policy) {
    // `statistics.limit`: the limit now, which an adaptive limit moves.
    const { active, queued, limit } = policy.statistics;
    const { queue } = policy.options;
    return active < limit ? 'accepting' : queued < queue ? 'queueing' : 'rejecting';
  },
  health: (state) => (state === 'rejecting' ? 'degraded' : 'up'),
  statistics: (policy) => ({ ...policy.statistics }),
};

const fallbackReader: PolicyReader<FallbackPolicy> = {
  name: noName,
  state: noState,
  health: alwaysUp,
  statistics: (policy) => ({ ...policy.statistics }),
};

const rateLimitReader: PolicyReader<RateLimitPolicy> = {
  name: noName,
  // Read without taking a permit: 'accepting' while no call waits, 'queueing' while some do, 'rejecting' when
  // the queue is full (with no queue, a limiter that turns calls away shows in `rejected`, not in its state).
  state(policy) {
    const { queued } = policy.statistics;
    return queued === 0 ? 'accepting' : queued < policy.options.queue ? 'queueing' : 'rejecting';
  },
  health: (state) => (state === 'rejecting' ? 'degraded' : 'up'),
  statistics: (policy) => ({ ...policy.statistics }),
};

const hedgeReader: PolicyReader<HedgePolicy> = {
  name: noName,
  state: noState,
  health: alwaysUp,
  statistics: (policy) => ({ ...policy.statistics }),
};

/** The reader of every kind the registry lists, by kind. */
export const policyReaders: Readonly<Record<string, PolicyReader<never>>> = Object.freeze({
  retry: attemptReader,
  poll: attemptReader,
  asyncBackoff: attemptReader,
  asyncRetry: attemptReader,
  timeout: attemptReader,
  circuitBreaker: circuitReader,
  bulkhead: bulkheadReader,
  fallback: fallbackReader,
  rateLimit: rateLimitReader,
  hedge: hedgeReader,
});
