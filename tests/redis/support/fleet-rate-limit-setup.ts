/**
 * A fleet worker (see ./fleet.ts) for ../fleet-rate-limit.test.ts: calls a rate-limited function
 * as fast as its limiter lets it, from several concurrent loops, for a given time, and reports
 * every admitted call as `[sent, ran]`: `Date.now()` just before the call entered the limiter and
 * when the function ran. The server admitted it somewhere in between (on the same machine's
 * clock, which Redis's TIME reads too).
 *
 * Environment: REDIS_URL (required).
 */
import Redis from 'ioredis';
import { rateLimitPolicy, type RateLimitAlgorithm } from '@staunch/core';
import { redisRateLimitStore } from '@staunch/redis';
import type { FleetSetup } from './fleet';

export interface HammerOptions {
  readonly name: string;
  readonly permits: number;
  readonly per: number;
  readonly algorithm: RateLimitAlgorithm;
  /** How long to keep calling, in ms. */
  readonly durationMs: number;
  /** How many loops call at once (each waits in the limiter's queue for its permit). */
  readonly concurrency: number;
  /** Take permits from Redis (true), or from this process's memory alone (the control: no shared limit). */
  readonly shared: boolean;
}

const setup: FleetSetup = async ({ env }) => {
  const client = new Redis(env.REDIS_URL as string, { commandTimeout: 1000 });
  const store = redisRateLimitStore(client);
  await client.ping();
  return {
    hammer: async (options: HammerOptions): Promise<[number, number][]> => {
      const { name, permits, per, algorithm, durationMs, concurrency, shared } = options;
      const limiter = rateLimitPolicy({
        permits,
        per,
        algorithm,
        queue: Infinity,
        name,
        ...(shared ? { store } : {}),
      });
      const admitted: [number, number][] = [];
      const end = Date.now() + durationMs;
      const loop = async (): Promise<void> => {
        while (Date.now() < end) {
          const sent = Date.now();
          await limiter.execute(() => {
            admitted.push([sent, Date.now()]);
          });
        }
      };
      await Promise.all(Array.from({ length: concurrency }, loop));
      return admitted;
    },
    close: async () => {
      await client.quit();
    },
  };
};

export default setup;
