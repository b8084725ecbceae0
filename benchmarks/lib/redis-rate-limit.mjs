// The @staunch/redis rate-limit scenario: an admitted call through a limiter whose permits live on a
// real redis-server of its own (one Lua script, one round trip per call), next to the same limiter
// in memory. Sequential calls in one process: 1e9 / ns per call is the calls per second it reaches.

import Redis from 'ioredis';
import { VALUE, work } from './baselines.mjs';
import { startRedisServer } from './redis-server.mjs';

/** A limit no run through Redis exhausts (a million a second); in memory, the same limit a thousandfold. */
export const benchLimit = { permits: 1_000_000, per: 1000 };
export const memoryLimit = { permits: 1_000_000_000, per: 1000 };

/** `rateLimitPolicy({ …, store: redisRateLimitStore(client) })` as a variant for measure(). */
export async function redisRateLimited() {
  const { rateLimitPolicy } = await import('@staunch/core');
  const { redisRateLimitStore } = await import('@staunch/redis');
  const server = await startRedisServer();
  const client = new Redis({ host: server.host, port: server.port, lazyConnect: true });
  await client.connect();
  const limiter = rateLimitPolicy({ ...benchLimit, name: 'bench', store: redisRateLimitStore(client) });
  return {
    op: () => limiter.execute(work),
    kind: 'value',
    check: (result) => result === VALUE,
    note: 'one Redis round trip (EVALSHA) per call, loopback, sequential calls: calls/s = 1e9 / ns per call',
    async dispose() {
      await client.quit();
      await server.stop();
    },
  };
}
