import Redis from 'ioredis';
import { RateLimitedError, rateLimitPolicy, type RateLimitPolicy } from '@staunch/core';
import { redisRateLimitKey, redisRateLimitStore } from '@staunch/redis';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis-server';

// Limiters with their own connections stand in for the processes of a fleet here (the multi-process
// test is ./fleet-rate-limit.test.ts); the server is real. Time is real too: the server's clock decides.

/** Runs `count` calls through `limiter` at once; the outcome of each: 'ok', or the rejection's reason. */
async function burst(limiter: RateLimitPolicy, count: number): Promise<string[]> {
  const calls = Array.from({ length: count }, () =>
    limiter
      .execute(async () => 'ok')
      .catch((error: unknown) => {
        if (error instanceof RateLimitedError) return error.reason;
        throw error;
      }),
  );
  return Promise.all(calls);
}

describeWithRedis('redisRateLimitStore against a real redis-server', () => {
  let server: RedisServer;
  let admin: Redis;
  const clients: Redis[] = [];
  let count = 0;
  const uniqueName = (): string => `limit-${++count}`;

  const connect = (options: { commandTimeout?: number } = {}): Redis => {
    const client = new Redis(server.url, { ...options, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined); // a test breaks the server on purpose
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) {
      if (client.status === 'ready') await client.quit();
      else if (client.status !== 'end') client.disconnect();
    }
  });
  afterAll(async () => {
    await admin.quit();
    await server.stop();
  });

  it('two limiters of one name, on two connections, share one token bucket on the server', async () => {
    const name = uniqueName();
    const options = { permits: 5, per: 60_000, name } as const;
    const a = rateLimitPolicy({ ...options, store: redisRateLimitStore(connect()) });
    const b = rateLimitPolicy({ ...options, store: redisRateLimitStore(connect()) });
    const outcomes = [...(await burst(a, 3)), ...(await burst(b, 4))];
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(5);
    expect(outcomes.slice(5)).toEqual(['limit', 'limit']);
    const error = await b.execute(async () => 'x').catch((e: unknown) => e as RateLimitedError);
    // One permit every 12 s: the next frees at most 12 s from now.
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfter).toBeGreaterThan(11_000);
    expect((error as RateLimitedError).retryAfter).toBeLessThanOrEqual(12_000);
    // Another name is another limit.
    const other = rateLimitPolicy({ ...options, name: uniqueName(), store: redisRateLimitStore(connect()) });
    expect(await burst(other, 1)).toEqual(['ok']);
  });

  it('keeps one key per limit, which expires once the bucket is full again (nothing left behind)', async () => {
    const name = uniqueName();
    const limiter = rateLimitPolicy({ permits: 2, per: 300, name, store: redisRateLimitStore(connect()) });
    await burst(limiter, 1);
    const key = redisRateLimitKey(name);
    expect(key).toBe(`staunch:rate:{${name}}`);
    expect(await admin.exists(key)).toBe(1);
    const ttl = await admin.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(151); // one interval (150 ms) + 1
    await new Promise((resolve) => setTimeout(resolve, ttl + 20));
    expect(await admin.exists(key)).toBe(0);
  });

  it('a sliding window on the server: never more than `permits` in `per`, then the next after the oldest leaves', async () => {
    const name = uniqueName();
    const limiter = rateLimitPolicy({
      permits: 3,
      per: 400,
      algorithm: 'sliding-window',
      queue: 10,
      name,
      store: redisRateLimitStore(connect()),
    });
    const started = Date.now();
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 5 }, () =>
        limiter.execute(async () => {
          times.push(Date.now() - started);
        }),
      ),
    );
    expect(times.slice(0, 3).every((t) => t < 200)).toBe(true);
    expect(times[3]).toBeGreaterThanOrEqual(399);
    expect(times[4]).toBeGreaterThanOrEqual(399);
    expect(await admin.zcard(redisRateLimitKey(name))).toBe(2);
  });

  it('queues calls over the limit locally and admits them as the server frees permits, in order', async () => {
    const limiter = rateLimitPolicy({
      permits: 2,
      per: 200,
      queue: 5,
      name: uniqueName(),
      store: redisRateLimitStore(connect()),
    });
    const started = Date.now();
    const order: [number, number][] = [];
    await Promise.all(
      [0, 1, 2, 3].map((n) =>
        limiter.execute(async () => {
          order.push([n, Date.now() - started]);
        }),
      ),
    );
    expect(order.map(([n]) => n)).toEqual([0, 1, 2, 3]);
    expect(order[2]![1]).toBeGreaterThanOrEqual(99);
    expect(order[3]![1]).toBeGreaterThanOrEqual(199);
    expect(limiter.statistics).toMatchObject({ admitted: 4, queued: 0, rejected: 0 });
  });

  it('loads its script again when the server lost it (SCRIPT FLUSH, as after a restart)', async () => {
    const limiter = rateLimitPolicy({
      permits: 5,
      per: 1000,
      name: uniqueName(),
      store: redisRateLimitStore(connect()),
    });
    expect(await burst(limiter, 1)).toEqual(['ok']);
    await admin.script('FLUSH');
    expect(await burst(limiter, 1)).toEqual(['ok']);
  });

  it('Redis down, localShare 0 (default): fails closed; with a share: each process admits its share alone', async () => {
    const down = await startRedisServer();
    const client = new Redis(down.url, { maxRetriesPerRequest: 1, commandTimeout: 200 });
    client.on('error', () => undefined);
    clients.push(client);
    const closed = rateLimitPolicy({
      permits: 10,
      per: 60_000,
      name: uniqueName(),
      store: redisRateLimitStore(client),
    });
    const open = rateLimitPolicy({
      permits: 10,
      per: 60_000,
      name: uniqueName(),
      store: redisRateLimitStore(client, { localShare: 0.3 }),
    });
    expect(await burst(closed, 1)).toEqual(['ok']);
    await down.kill();
    expect(await burst(closed, 2)).toEqual(['limit', 'limit']);
    expect(await burst(open, 4)).toEqual(['ok', 'ok', 'ok', 'limit']);
    // Listening before the restart: the client may reconnect while restart() still waits for the server.
    const ready = new Promise<void>((resolve) => client.once('ready', () => resolve()));
    await down.restart();
    await ready;
    expect(await burst(closed, 1)).toEqual(['ok']);
    await client.quit();
    await down.stop();
  });

  it('a stalled server (commands time out) counts as down', async () => {
    const stalled = await startRedisServer();
    const client = new Redis(stalled.url, { maxRetriesPerRequest: 1, commandTimeout: 100 });
    client.on('error', () => undefined);
    clients.push(client);
    const limiter = rateLimitPolicy({
      permits: 10,
      per: 60_000,
      name: uniqueName(),
      store: redisRateLimitStore(client, { localShare: 0.1 }),
    });
    await client.ping();
    stalled.pause();
    try {
      expect(await burst(limiter, 2)).toEqual(['ok', 'limit']);
    } finally {
      stalled.resume();
      await client.quit();
      await stalled.stop();
    }
  });

  it('validates its options, naming redisRateLimitStore', () => {
    const client = connect();
    expect(() => redisRateLimitStore({} as never)).toThrow('redisRateLimitStore: `client` must be an ioredis client');
    expect(() => redisRateLimitStore(client, { localShare: 2 })).toThrow(
      'redisRateLimitStore: `localShare` must be a number from 0 to 1, got 2.',
    );
    expect(() => redisRateLimitStore(client, { prefix: 5 as never })).toThrow('`prefix` must be a string');
    expect(redisRateLimitStore(client).options).toEqual({ prefix: 'staunch:rate:', localShare: 0 });
  });
});
