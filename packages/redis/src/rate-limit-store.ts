import { createHash } from 'node:crypto';
import {
  invalidOption,
  memoryRateLimitStore,
  type RateLimitStore,
  type RateLimitStoreOptions,
  type RateLimitStoreProvider,
} from '@staunch/core';
import type { RedisClient } from './options.js';

/** Options of {@link redisRateLimitStore}; every one has a default. */
export interface RedisRateLimitStoreOptions {
  /** Prefix of every key. Default `'staunch:rate:'`. */
  readonly prefix?: string;
  /**
   * What each process may admit on its own while Redis is unreachable, as a
   * share of the limit: 0 (default) fails closed (no permits until Redis
   * answers again); `1 / N` in a fleet of N processes fails open without the
   * fleet exceeding the limit; 1 lets every process use the whole limit.
   */
  readonly localShare?: number;
}

/** {@link RedisRateLimitStoreOptions} with the defaults filled in. */
export interface ResolvedRedisRateLimitStoreOptions {
  readonly prefix: string;
  readonly localShare: number;
}

/** The defaults of {@link RedisRateLimitStoreOptions}. */
export const redisRateLimitStoreDefaults = Object.freeze({ prefix: 'staunch:rate:', localShare: 0 });

/**
 * Rate limits shared by every process using the same Redis server: give it
 * to a limiter as its `store`, with a `name`; limiters of one name, in any
 * process, share one limit.
 *
 * Every admission is one atomic Lua script on the server, timed by the
 * server's clock (`TIME`), so process clocks never have to agree: a token
 * bucket as GCRA (one key holding one number) or an exact sliding window (a
 * sorted set of the admission times in the window). The fleet as a whole
 * never admits more than the limit; the price is one round trip per call
 * (see the README for the numbers), and a queued call asks again when the
 * server says a permit frees.
 *
 * When Redis cannot answer (not connected, or a command failed: give the
 * ioredis client a `commandTimeout` so that a stalled server fails too), each
 * process admits up to `localShare` of the limit on its own, from an
 * in-memory limit; with the default 0, it admits nothing until Redis answers.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { RateLimit } from '@staunch/decorators';
 * import { redisRateLimitStore } from '@staunch/redis';
 *
 * const limits = redisRateLimitStore(new Redis({ commandTimeout: 200 }), { localShare: 1 / 4 });
 *
 * class Geocoder {
 *   // 50 calls a second across every process of the fleet.
 *   @RateLimit({ permits: 50, per: 1000, queue: 100, maxWait: 2_000, store: limits, name: 'geocoder' })
 *   async lookup(address: string): Promise<string> {
 *     return address;
 *   }
 * }
 */
export function redisRateLimitStore(
  client: RedisClient,
  options?: RedisRateLimitStoreOptions,
): RateLimitStoreProvider & { readonly options: ResolvedRedisRateLimitStoreOptions } {
  const label = 'redisRateLimitStore';
  const c = client as Partial<RedisClient> | null;
  if (typeof c !== 'object' || c === null || typeof c.evalsha !== 'function' || typeof c.eval !== 'function') {
    invalidOption(label, 'client', 'an ioredis client (Redis or Cluster)', client);
  }
  const given = (options ?? {}) as RedisRateLimitStoreOptions | null;
  if (typeof given !== 'object' || given === null) invalidOption(label, 'options', 'an object', given);
  const prefix = given.prefix ?? redisRateLimitStoreDefaults.prefix;
  if (typeof prefix !== 'string') invalidOption(label, 'prefix', 'a string', prefix);
  const localShare = given.localShare ?? redisRateLimitStoreDefaults.localShare;
  if (typeof localShare !== 'number' || !(localShare >= 0 && localShare <= 1)) {
    invalidOption(label, 'localShare', 'a number from 0 to 1', localShare, RangeError);
  }
  const resolved = Object.freeze({ prefix, localShare });
  return Object.freeze({
    options: resolved,
    rateLimit: (name: string, limit: RateLimitStoreOptions): RateLimitStore =>
      new RedisRateLimit(client, redisRateLimitKey(name, prefix), limit, localShare),
  });
}

/**
 * The Redis key of the limit called `name`: `prefix{name}` (a hash tag, so
 * that a Redis Cluster places it like any other key of that name).
 *
 * @example
 * import { redisRateLimitKey } from '@staunch/redis';
 *
 * console.log(redisRateLimitKey('geocoder')); // 'staunch:rate:{geocoder}'
 */
export function redisRateLimitKey(name: string, prefix: string = redisRateLimitStoreDefaults.prefix): string {
  return `${prefix}{${name}}`;
}

// One limit on the server. Never rejects: a failed command is answered from the local share.
class RedisRateLimit implements RateLimitStore {
  readonly #client: RedisClient;
  readonly #key: string;
  readonly #script: Script;
  readonly #per: string;
  readonly #permits: string;
  readonly #local: RateLimitStore | undefined;
  readonly #closedWait: number;
  // Answers a failed command from the local share (one function per limit, not a closure per call).
  readonly #fallback: (error: unknown) => number;
  // The limiter's clock time of the latest call asked about: the local share's clock when a command fails.
  #lastNow = 0;

  constructor(client: RedisClient, key: string, limit: RateLimitStoreOptions, localShare: number) {
    this.#client = client;
    this.#key = key;
    this.#script = limit.algorithm === 'sliding-window' ? slidingWindow : tokenBucket;
    // Microseconds: the server's TIME resolution; integers up to 2^53 µs stay exact in Lua's doubles.
    this.#per = String(Math.round(limit.per * 1000));
    this.#permits = String(limit.permits);
    const share = Math.floor(limit.permits * localShare);
    this.#local = share >= 1 ? memoryRateLimitStore({ ...limit, permits: share }) : undefined;
    // Failing closed: ask again after one permit's worth of time.
    this.#closedWait = limit.per / limit.permits;
    this.#fallback = () => this.#unavailable(this.#lastNow);
  }

  acquire(now: number): number | Promise<number> {
    const client = this.#client;
    // Connection lost: ioredis would hold the command until it reconnects; the local share answers now.
    // (Before the first connection, a command waits for it, or fails after ioredis's retries.)
    if (lost.has(client.status)) return this.#unavailable(now);
    this.#lastNow = now;
    return evaluate(client, this.#script, this.#key, this.#per, this.#permits).then(microsToMs, this.#fallback);
  }

  idle(now: number): boolean {
    return this.#local === undefined || this.#local.idle(now);
  }

  #unavailable(now: number): number {
    return this.#local === undefined ? this.#closedWait : (this.#local.acquire(now) as number);
  }
}

// The statuses of an ioredis client that has lost its connection (or was closed).
const lost: ReadonlySet<string> = new Set(['reconnecting', 'close', 'end']);

// The script replies the wait in µs (0: admitted).
function microsToMs(reply: unknown): number {
  const micros = Number(reply);
  if (!Number.isFinite(micros) || micros < 0) throw new TypeError(`@staunch/redis: unexpected reply ${String(reply)}`);
  return micros / 1000;
}

interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const now = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local per = tonumber(ARGV[1])
local permits = tonumber(ARGV[2])
`;

// GCRA: the theoretical arrival time (TAT, µs) of the next call at the even pace; a call may run ahead of
// it by the bucket's depth (per - one interval). Kept as an offset \`t\` from a base time \`b\` (the server
// time the key was made): an interval of a few µs added to an absolute time (~1.7e15 µs) would lose bits.
// The key expires when the bucket is full again, so offsets stay small.
const tokenBucket = script(`${now}
local interval = per / permits
local h = redis.call('HMGET', KEYS[1], 'b', 't')
local base = tonumber(h[1]) or now
local tat = tonumber(h[2]) or 0
local elapsed = now - base
if tat < elapsed then tat = elapsed end
local ahead = tat - elapsed - (per - interval)
if ahead > 0 then return math.ceil(ahead) end
tat = tat + interval
redis.call('HSET', KEYS[1], 'b', string.format('%.17g', base), 't', string.format('%.17g', tat))
redis.call('PEXPIRE', KEYS[1], math.ceil((tat - elapsed) / 1000) + 1)
return 0`);

// An exact sliding window: a sorted set of the admission times (µs) of the last \`per\`; a member's name
// only has to be unique (same µs, the count differs). It expires \`per\` after the last admission.
const slidingWindow = script(`${now}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
local count = redis.call('ZCARD', KEYS[1])
if count < permits then
  redis.call('ZADD', KEYS[1], now, string.format('%.17g', now) .. ':' .. count)
  redis.call('PEXPIRE', KEYS[1], math.ceil(per / 1000) + 1)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, math.ceil(tonumber(oldest[2]) + per - now))`);

// EVALSHA, and EVAL when the server does not have the script yet (first use, or after a restart).
function evaluate(client: RedisClient, s: Script, key: string, per: string, permits: string): Promise<unknown> {
  return client.evalsha(s.sha, 1, key, per, permits).catch((error: unknown) => {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(s.source, 1, key, per, permits);
  });
}
