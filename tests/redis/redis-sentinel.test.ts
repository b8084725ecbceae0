import Redis from 'ioredis';
import { circuitBreaker } from '@staunch/core';
import { redisCircuitKeys, redisStore, type RedisCircuitStore } from '@staunch/redis';
import { Down, eventually, fail, outcome } from './support/circuit-helpers';
import { describeWithRedis } from './support/redis-server';
import { sentinelMasterName, startRedisSentinel, type RedisSentinelSetup } from './support/redis-sentinel';

// Behind Sentinel: the master is killed, the sentinel promotes the replica, the clients follow it, and
// the store with them: one incident, then shared circuits on the new master.

describeWithRedis('redisStore behind Sentinel', () => {
  let setup: RedisSentinelSetup;
  const clients: Redis[] = [];
  const stores: RedisCircuitStore[] = [];

  beforeAll(async () => {
    setup = await startRedisSentinel();
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    for (const client of clients) client.disconnect();
    await setup.stop();
  });

  it('follows a failover: one incident, then shared circuits on the promoted replica', async () => {
    const made = [0, 1].map((i) => {
      const client = new Redis({
        sentinels: [setup.sentinel],
        name: sentinelMasterName,
        retryStrategy: () => 100,
        sentinelRetryStrategy: () => 100,
      });
      client.on('error', () => undefined);
      clients.push(client);
      return redisStore(client, { processId: `s${i}`, quorum: 2 });
    });
    stores.push(...made);
    const logs = made.map((store) => {
      const log = { unavailable: 0, restored: 0 };
      store.on('unavailable', () => log.unavailable++);
      store.on('restored', () => log.restored++);
      return log;
    });
    const [a, b] = made.map((store) =>
      circuitBreaker({ on: Down, threshold: 2, resetTimeout: 60_000, name: 'sentinel', store }),
    );
    await Promise.all(made.map((store) => store.ready()));

    await setup.master.kill();
    await eventually(() => logs.every((log) => log.unavailable === 1), 'both stores to notice the loss');
    await eventually(() => logs.every((log) => log.restored === 1), 'both stores to follow the failover', 30_000);
    expect(logs).toEqual([
      { unavailable: 1, restored: 1 },
      { unavailable: 1, restored: 1 },
    ]);
    // The replica is the master now, and the fleet shares circuits through it.
    const promoted = new Redis(setup.replica.url);
    clients.push(promoted);
    expect(await promoted.info('replication')).toMatch(/role:master/);
    outcome(a!, fail);
    outcome(b!, fail);
    await eventually(() => a!.state === 'open' && b!.state === 'open', 'the shared circuit to open for both');
    expect(await promoted.hget(redisCircuitKeys('sentinel').state, 'state')).toBe('open');
  });
});
