/** The prefix of every key and channel a store uses, unless given another. */
export const defaultPrefix = 'staunch:circuit:';

/** The Redis keys and channel of one shared circuit. */
export interface RedisCircuitKeys {
  /**
   * Hash: `state`, `epoch`, `openedAt` (server ms), `gen` (its generation) and the fleet's counters
   * `failures`, `opens`, `leases`. Made by the first write (a failure reported); expires when idle
   * (`idleTimeout` after the last script that touched it).
   */
  readonly state: string;
  /** String: the trial lease's holder; expires the longer of `resetTimeout` and `leaseTimeout` after it was taken. */
  readonly lease: string;
  /** Sorted set: one member per failure reported in the window, scored by server time; expires with the window. */
  readonly failures: string;
  /** Sorted set: the processes that reported failures in the window, scored by their latest; expires with the window. */
  readonly processes: string;
  /** The pub/sub channel every transition of the store's circuits is published on. */
  readonly channel: string;
}

/**
 * The keys of the circuit called `name`. The name is wrapped in a hash tag
 * (`{name}`), so a circuit's keys share one Redis Cluster slot and one Lua
 * script can update them together.
 *
 * @example
 * import { redisCircuitKeys } from '@staunch/redis';
 *
 * const keys = redisCircuitKeys('payments');
 * console.log(keys.state); // 'staunch:circuit:{payments}'
 * console.log(keys.lease); // 'staunch:circuit:{payments}:lease'
 */
export function redisCircuitKeys(name: string, prefix: string = defaultPrefix): RedisCircuitKeys {
  const base = `${prefix}{${name}}`;
  return Object.freeze({
    state: base,
    lease: `${base}:lease`,
    failures: `${base}:failures`,
    processes: `${base}:processes`,
    channel: `${prefix}events`,
  });
}
