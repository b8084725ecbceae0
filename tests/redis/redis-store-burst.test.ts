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
  const clients: Redis[] = [];
  let store: RedisCircuitStore | undefined;

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await store?.close();
    for (const client of clients) client.disconnect();
    await server.stop();
  });

  it(`reports ${circuits} circuits failing in one turn without an incident, though Redis takes several commandTimeouts over them`, async () => {
    const [client, admin, listener] = [0, 1, 2].map(() => new Redis(server.url)) as [Redis, Redis, Redis];
    clients.push(client, admin, listener);
    const shared = redisStore(client, { processId: 'burst', quorum: 2, commandTimeout });
    store = shared;
    let unavailable = 0;
    shared.on('unavailable', () => unavailable++);
    const names = Array.from({ length: circuits }, (_, i) => `burst[${i}]`);
    const breakers = names.map((name) =>
      circuitBreaker({ on: Down, threshold: 5, resetTimeout: 60_000, name, store: shared }),
    );
    await shared.ready();

    await admin.config('SET', 'notify-keyspace-events', 'KEA');
    await listener.psubscribe(...Array.from({ length: patterns }, (_, i) => `*:nothing-${i}`));
    await admin.config('RESETSTAT');
    for (const breaker of breakers) expect(outcome(breaker, fail)).toBe('failed');
    await shared.flush();

    // The scenario holds: Redis spent several commandTimeouts on the reports (sent at once, the last ones
    // wait that long behind the others).
    const stats = await admin.info('commandstats');
    const usec = [...stats.matchAll(/^cmdstat_eval(?:sha)?:calls=\d+,usec=(\d+)/gm)].reduce(
      (sum, [, value]) => sum + Number(value),
      0,
    );
    expect(usec / 1000).toBeGreaterThan(3 * commandTimeout);
    expect(unavailable).toBe(0);
    expect(shared.available).toBe(true);
    // Every failure is in Redis: the fleet's counter of each circuit says 1.
    const counts = await names
      .reduce((pipeline, name) => pipeline.hget(redisCircuitKeys(name).state, 'failures'), admin.pipeline())
      .exec();
    expect(counts?.filter(([error, count]) => error === null && count === '1').length).toBe(circuits);
  });
});
