import Redis from 'ioredis';
import { circuitBreaker } from '@staunch/core';
import { redisCircuitKeys, redisStore, type RedisCircuitStore } from '@staunch/redis';
import { Down, fail, outcome } from './support/circuit-helpers';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis-server';

// A burst of failures is not an outage: thousands of keyed circuits each failing once in the same turn
// send their reports in paced batches, so that the time a reply waits behind the burst's earlier replies
// is never taken for Redis being slow.

const circuits = 4000;
const commandTimeout = 200;

// Redis made slow per write, the same on any machine (as a loaded CPU makes it, by chance): keyspace
// notifications for every write, each matched against this many patterns a client listens to (none
// matches). About 0.2 ms of Redis time per report: the burst takes Redis several commandTimeouts, a
// batch of 100 reports a tenth of one.
const patterns = 100;

describeWithRedis('redisStore: a burst of failures', () => {
  let server: RedisServer;
  let admin: Redis;
  const clients: Redis[] = [];
  const stores: RedisCircuitStore[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    for (const client of [...clients, admin]) client.disconnect();
    await server.stop();
  });

  function connect(): Redis {
    const client = new Redis(server.url);
    clients.push(client);
    return client;
  }

  // The sum of the script commands' `usec` and `calls` since the last CONFIG RESETSTAT.
  async function scriptStats(): Promise<{ readonly ms: number; readonly calls: number }> {
    const stats = await admin.info('commandstats');
    let usec = 0;
    let calls = 0;
    for (const [, count, time] of stats.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+),usec=(\d+)/gm)) {
      calls += Number(count);
      usec += Number(time);
    }
    return { ms: usec / 1000, calls };
  }

  it("writes a lone failure's report in the turn that noted it: no timer, no batch to wait for", async () => {
    const client = connect();
    const store = redisStore(client, { processId: 'lone', quorum: 2, prefix: 'lone:' });
    stores.push(store);
    const breaker = circuitBreaker({ on: Down, threshold: 5, resetTimeout: 60_000, name: 'lone', store });
    await store.ready();
    expect(outcome(breaker, fail)).toBe('failed');
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Read on the store's own connection once the turn is over: Redis answers it after whatever the store
    // wrote before, so the report has run by then unless something held it back.
    expect(await client.hget(redisCircuitKeys('lone', 'lone:').state, 'failures')).toBe('1');
  });

  it(`reports ${circuits} circuits failing in one turn without an incident, one script each, though Redis takes several commandTimeouts over them`, async () => {
    const listener = connect();
    const store = redisStore(connect(), { processId: 'burst', quorum: 2, commandTimeout });
    stores.push(store);
    let unavailable = 0;
    store.on('unavailable', () => unavailable++);
    const names = Array.from({ length: circuits }, (_, i) => `burst[${i}]`);
    const breakers = names.map((name) => circuitBreaker({ on: Down, threshold: 5, resetTimeout: 60_000, name, store }));
    await store.ready();

    await admin.config('SET', 'notify-keyspace-events', 'KEA');
    await listener.psubscribe(...Array.from({ length: patterns }, (_, i) => `*:nothing-${i}`));
    try {
      await admin.config('RESETSTAT');
      // Two failures per circuit, in one turn: one report each carries both.
      for (const breaker of breakers)
        expect([outcome(breaker, fail), outcome(breaker, fail)]).toEqual(['failed', 'failed']);
      await store.flush();

      // The scenario holds: Redis spent several commandTimeouts on the reports (sent at once, the last ones
      // would wait that long behind the others).
      const { ms, calls } = await scriptStats();
      expect(ms).toBeGreaterThan(3 * commandTimeout);
      expect(unavailable).toBe(0);
      expect(store.available).toBe(true);
      expect(calls).toBe(circuits);
      // Every failure is in Redis: the fleet's counter of each circuit says 2.
      const counts = await names
        .reduce((pipeline, name) => pipeline.hget(redisCircuitKeys(name).state, 'failures'), admin.pipeline())
        .exec();
      expect(counts?.filter(([error, count]) => error === null && count === '2').length).toBe(circuits);
    } finally {
      await admin.config('SET', 'notify-keyspace-events', '');
      await listener.punsubscribe();
    }
  });
});
