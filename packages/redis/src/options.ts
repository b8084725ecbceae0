import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { invalidOption, systemClock, type Clock } from '@staunch/core';
import type { Cluster, Redis } from 'ioredis';
import { defaultPrefix } from './keys.js';

/** An ioredis client: a single server (`Redis`) or a cluster (`Cluster`). */
export type RedisClient = Redis | Cluster;

/** Options of {@link redisStore}; every one has a default. */
export interface RedisStoreOptions {
  /**
   * Distinct processes whose failures a shared circuit needs, within the
   * window, before it opens for the whole fleet. Default 2: one bad process
   * trips only its own local circuit. 1 lets any single process open it.
   */
  readonly quorum?: number;
  /**
   * Milliseconds a reported failure counts towards the shared rule. Default:
   * each circuit's `resetTimeout`, the leaky bucket's memory.
   */
  readonly window?: number;
  /**
   * The shortest time to live (ms) of the half-open trial lease; a lease lasts
   * the longer of this and the circuit's `resetTimeout`. Its holder starts its
   * trials on the calls it gets meanwhile; if it dies, the fleet waits this
   * long for the next trial. Default 5000.
   */
  readonly leaseTimeout?: number;
  /** Prefix of every key and of the channel. Default `'staunch:circuit:'`. */
  readonly prefix?: string;
  /**
   * Milliseconds a command may take before Redis counts as slow: the circuits
   * then run on local state until it answers again. Default 200.
   */
  readonly commandTimeout?: number;
  /**
   * Milliseconds a circuit's state stays in Redis after the last script that
   * touched it (a report, a lease, a settle, a re-read): a TTL refreshed by
   * use, so keyed circuits over an open-ended key set do not pile up. Never
   * shorter than the circuit's window and `resetTimeout` plus its lease time.
   * Default 86,400,000 (a day).
   */
  readonly idleTimeout?: number;
  /**
   * Milliseconds `close()` waits for pending reports to reach Redis, a first
   * connection included, before it gives up on them. Default 1000.
   */
  readonly closeTimeout?: number;
  /** This process's identity in failure records and leases. Default: host, pid and a random suffix. */
  readonly processId?: string;
  /**
   * The connection to subscribe on. Default: `client.duplicate()`, owned and closed by the store (for a
   * Cluster, with `shardedSubscribers: true`). For a Cluster client, a Cluster client made with
   * `{ shardedSubscribers: true }`: transitions travel by sharded pub/sub, one subscriber per node.
   */
  readonly subscriber?: RedisClient;
  /** Times command timeouts and incident probes. Default: the system clock (circuits use their own clocks). */
  readonly clock?: Clock;
}

/** {@link RedisStoreOptions} with the defaults filled in. */
export interface ResolvedRedisStoreOptions {
  readonly quorum: number;
  readonly window: number | undefined;
  readonly leaseTimeout: number;
  readonly prefix: string;
  readonly commandTimeout: number;
  readonly idleTimeout: number;
  readonly closeTimeout: number;
  readonly processId: string;
  readonly clock: Clock;
}

/** The defaults of {@link RedisStoreOptions}. */
export const redisStoreDefaults = Object.freeze({
  quorum: 2,
  leaseTimeout: 5000,
  prefix: defaultPrefix,
  commandTimeout: 200,
  idleTimeout: 86_400_000,
  closeTimeout: 1000,
});

const label = 'redisStore';

// One identity per process, shared by all its stores: a process counts once towards a quorum.
const processIdentity = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** Validates the options; throws naming `redisStore` and the option. */
export function resolveRedisStoreOptions(
  client: unknown,
  options: RedisStoreOptions | undefined,
): ResolvedRedisStoreOptions {
  if (!isRedisClient(client)) invalidOption(label, 'client', 'an ioredis client (Redis or Cluster)', client);
  const given = (options ?? {}) as RedisStoreOptions | null;
  if (typeof given !== 'object' || given === null) invalidOption(label, 'options', 'an object', given);
  const d = redisStoreDefaults;
  const quorum = given.quorum ?? d.quorum;
  if (!Number.isInteger(quorum) || quorum < 1) invalidOption(label, 'quorum', 'an integer >= 1', quorum, RangeError);
  const window = given.window === undefined ? undefined : milliseconds('window', given.window);
  const leaseTimeout = milliseconds('leaseTimeout', given.leaseTimeout ?? d.leaseTimeout);
  const commandTimeout = milliseconds('commandTimeout', given.commandTimeout ?? d.commandTimeout);
  const idleTimeout = milliseconds('idleTimeout', given.idleTimeout ?? d.idleTimeout);
  const closeTimeout = milliseconds('closeTimeout', given.closeTimeout ?? d.closeTimeout);
  const prefix = given.prefix ?? d.prefix;
  if (typeof prefix !== 'string') invalidOption(label, 'prefix', 'a string', prefix);
  const processId = given.processId ?? processIdentity;
  if (typeof processId !== 'string' || processId === '' || /[#\s]/.test(processId)) {
    invalidOption(label, 'processId', "a non-empty string without '#' or spaces", processId);
  }
  if (given.subscriber !== undefined && !isRedisClient(given.subscriber)) {
    invalidOption(label, 'subscriber', 'an ioredis client (Redis or Cluster)', given.subscriber);
  }
  const clock = given.clock ?? systemClock;
  if (typeof (clock as Partial<Clock> | null)?.schedule !== 'function') {
    invalidOption(label, 'clock', 'a Clock (with now(), schedule() and cancel())', clock);
  }
  if (given.subscriber !== undefined && (given.subscriber as unknown) === client) {
    invalidOption(
      label,
      'subscriber',
      'a connection of its own (a subscribed connection can run nothing else)',
      'the client',
    );
  }
  return Object.freeze({
    quorum,
    window,
    leaseTimeout,
    prefix,
    commandTimeout,
    idleTimeout,
    closeTimeout,
    processId,
    clock,
  });
}

function milliseconds(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || value === Infinity) {
    invalidOption(
      label,
      option,
      'a finite number of ms > 0',
      value,
      typeof value === 'number' ? RangeError : TypeError,
    );
  }
  return value;
}

function isRedisClient(value: unknown): value is RedisClient {
  const client = value as Partial<Redis> | null;
  return (
    typeof client === 'object' &&
    client !== null &&
    typeof client.evalsha === 'function' &&
    typeof client.duplicate === 'function' &&
    typeof client.on === 'function'
  );
}
