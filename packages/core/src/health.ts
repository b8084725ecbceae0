import { livePolicies, type LivePolicy, type PolicyHealth } from './registry.js';

/** What {@link policyHealth} returns: for a health endpoint. */
export interface PoliciesHealth {
  /** The worst of the rows: `'down'` if any row is down, else `'degraded'` if any is, else `'up'`. */
  readonly status: PolicyHealth;
  /** How many rows of {@link livePolicies} are up, degraded and down. */
  readonly up: number;
  readonly degraded: number;
  readonly down: number;
  /** The rows that are not up (one per scope: a keyed scope's row counts its keys by state). */
  readonly problems: readonly LivePolicy[];
}

/**
 * Sums up {@link livePolicies} for a health check: a closed circuit is up, a
 * half-open one degraded, an open or isolated one down; a bulkhead that
 * rejects (slots and queue full) is degraded; the other kinds are always up.
 * A per-instance or per-key scope is one row: down only when all its circuits
 * are, degraded when some are not up.
 *
 * @example
 * import { circuitBreaker, policyHealth } from '@staunch/core';
 *
 * const payments = circuitBreaker({ name: 'payments' });
 * payments.isolate();
 * const health = policyHealth();
 * console.log(health.status, health.problems.map((p) => p.name)); // 'down' [ 'payments', … ]
 */
export function policyHealth(): PoliciesHealth {
  const problems: LivePolicy[] = [];
  let up = 0;
  let degraded = 0;
  let down = 0;
  for (const row of livePolicies()) {
    if (row.health === 'up') up++;
    else {
      problems.push(row);
      if (row.health === 'down') down++;
      else degraded++;
    }
  }
  const status: PolicyHealth = down > 0 ? 'down' : degraded > 0 ? 'degraded' : 'up';
  return Object.freeze({ status, up, degraded, down, problems: Object.freeze(problems) });
}
