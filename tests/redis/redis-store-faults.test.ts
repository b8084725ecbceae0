import Redis from 'ioredis';
import { circuitBreaker, type CircuitBreakerPolicy } from '@staunch/core';
import { redisCircuitKeys, redisStore, type RedisCircuitStore, type RedisStoreEvents } from '@staunch/redis';
import { Down, eventually, fail, outcome, sleep } from './support/circuit-helpers';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis-server';

// Redis killed, restarted and paused under the stores: calls keep flowing on local state, each
// incident is reported once, and the circuits converge again once Redis answers.

// ioredis's internal queue of commands sent and not yet answered: what an outage could make grow.
const commandsInFlight = (client: Redis): number =>
  (client as unknown as { commandQueue: { length: number } }).commandQueue.length;

describeWithRedis('redisStore when Redis fails', () => {
  let server: RedisServer;
  let admin: Redis;
  const clients: Redis[] = [];
  const stores: RedisCircuitStore[] = [];
  let circuitCount = 0;

  beforeEach(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterEach(async () => {
    server.resume();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const client of [...clients.splice(0), admin]) {
      if (client.status === 'ready') await client.quit();
      else if (client.status !== 'end') client.disconnect();
    }
    await server.stop();
  });

  type Stores = RedisCircuitStore[] & Record<0 | 1, RedisCircuitStore>;
  type Log = { [K in keyof RedisStoreEvents]: RedisStoreEvents[K][] };

  async function fleet(count: number, commandTimeout = 200): Promise<{ stores: Stores; logs: Log[] }> {
    const logs: Log[] = [];
    for (let i = 0; i < count; i++) {
      // Reconnect quickly, so that a restart is noticed within the test's patience.
      const client = new Redis(server.url, { retryStrategy: () => 50, maxRetriesPerRequest: 1 });
      clients.push(client);
      const store = redisStore(client, { processId: `p${i}`, quorum: 1, commandTimeout });
      const log: Log = { unavailable: [], restored: [], change: [] };
      store.on('unavailable', (event) => log.unavailable.push(event));
      store.on('restored', (event) => log.restored.push(event));
      store.on('change', (event) => log.change.push(event));
      stores.push(store);
      logs.push(log);
    }
    await Promise.all(stores.map((store) => store.ready()));
    return { stores: stores.slice() as Stores, logs };
  }

  it('keeps calls flowing on local state through a kill and a restart, reports the incident once, converges after', async () => {
    const { stores, logs } = await fleet(2);
    const name = `faults-${++circuitCount}`;
    const [a, b] = stores.map((store) => circuitBreaker({ on: Down, threshold: 2, resetTimeout: 300, name, store }));
    // The shared circuit opens (quorum 1): both processes fail fast.
    failUntilOpen(a!);
    await eventually(() => b!.state === 'open', 'b to see the shared circuit open');

    await server.kill();
    await eventually(() => logs.every((log) => log.unavailable.length === 1), 'both stores to report the incident');
    // On local state: b's wait ends after resetTimeout and it runs its own trial, without a lease.
    await eventually(() => outcome(b!, () => 'ok') === 'ok', 'b to close its local circuit by a local trial');
    expect(b!.state).toBe('closed');
    // a trips and recovers locally too, and nothing it does queues up behind the dead connection.
    for (let i = 0; i < 1000; i++) outcome(a!, fail);
    expect(outcome(a!, () => 'ok')).toBe('rejected');
    expect(commandsInFlight(clients[0]!)).toBeLessThanOrEqual(1);
    await stores[0].flush(); // nothing pending: resolves at once
    expect(logs.map((log) => log.unavailable.length)).toEqual([1, 1]); // once per incident, not per failure
    // A single server is one node: the incident is the whole store's.
    expect(logs.map((log) => [log.unavailable[0]!.node, log.unavailable[0]!.slots])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
    ]);

    await server.restart();
    await eventually(() => logs.every((log) => log.restored.length === 1), 'both stores to report the recovery');
    expect(logs.map((log) => [log.restored[0]!.node, log.restored[0]!.slots])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
    ]);
    // The restarted server lost everything (no persistence): the shared circuit is closed, and a fresh trip
    // in one process reaches the other again.
    expect(await admin.hget(redisCircuitKeys(name).state, 'state')).toBeNull(); // closed: no state written yet
    await eventually(() => outcome(a!, () => 'ok') === 'ok', 'a to close its local circuit');
    failUntilOpen(a!);
    await eventually(() => b!.state === 'open', 'b to see the new shared opening');
    expect(await admin.hget(redisCircuitKeys(name).state, 'state')).toBe('open');
    expect(logs.map((log) => log.unavailable.length)).toEqual([1, 1]);
  });

  it('treats a paused server as slow: local state at once, one incident, recovery when it answers', async () => {
    const { stores, logs } = await fleet(2, 100);
    const name = `faults-${++circuitCount}`;
    const [a, b] = stores.map((store) =>
      circuitBreaker({ on: Down, threshold: 100_000, resetTimeout: 500, name, store }),
    );
    expect(outcome(a!, fail)).toBe('failed');
    await stores[0].flush();

    server.pause();
    const started = Date.now();
    expect(outcome(a!, fail)).toBe('failed'); // reported in the background: the report will not be answered
    await eventually(() => logs[0]!.unavailable.length === 1, 'a to notice the slow server');
    expect(Date.now() - started).toBeLessThan(2000);
    // Calls never wait for Redis, and a burst of failures adds nothing to the connection's queue.
    for (let i = 0; i < 1000; i++) {
      expect(outcome(a!, fail)).toBe('failed');
      expect(outcome(b!, () => 'ok')).toBe('ok');
    }
    expect(commandsInFlight(clients[0]!)).toBeLessThanOrEqual(1);
    expect(a!.statistics.failures).toBe(1002);

    server.resume();
    await eventually(() => logs[0]!.restored.length === 1, 'a to notice the server is back');
    expect(logs[0]!.unavailable).toHaveLength(1);
    // The failure sent before the pause and the one in flight when it began were counted; the rest were
    // dropped during the incident, by design (they would be stale by the time they arrived).
    await eventually(
      async () => (await admin.hget(redisCircuitKeys(name).state, 'failures')) === '2',
      'the in-flight report to land',
    );
  });

  it('finds out by probing when Redis answers again after an incident with nothing in flight', async () => {
    // The client's own command timeout rejects the report while the connection stays up: no reconnect
    // will announce the recovery, and no command of the store's is left to be answered late.
    const client = new Redis(server.url, { commandTimeout: 50 });
    clients.push(client);
    const store = redisStore(client, { processId: 'probed', quorum: 1, commandTimeout: 1000 });
    stores.push(store);
    await store.ready();
    const unavailable: unknown[] = [];
    const restored: unknown[] = [];
    store.on('unavailable', ({ error }) => unavailable.push(error));
    store.on('restored', (event) => restored.push(event));
    const breaker = circuitBreaker({ on: Down, threshold: 100, name: `faults-${++circuitCount}`, store });
    server.pause();
    outcome(breaker, fail);
    await eventually(() => unavailable.length === 1, 'the incident');
    expect(String(unavailable[0])).toMatch(/timed out/i);
    server.resume();
    await eventually(() => restored.length === 1, 'the probe to find Redis back', 5000);
    expect(store.available).toBe(true);
    expect(unavailable).toHaveLength(1);
  });

  it('stops probing once closed, even with a probe in flight', async () => {
    const client = new Redis(server.url, { commandTimeout: 50 });
    clients.push(client);
    const store = redisStore(client, { processId: 'closing', quorum: 1, commandTimeout: 1000 });
    stores.push(store);
    await store.ready();
    const breaker = circuitBreaker({ on: Down, threshold: 100, name: `faults-${++circuitCount}`, store });
    let incidents = 0;
    store.on('unavailable', () => incidents++);
    server.pause();
    outcome(breaker, fail);
    await eventually(() => incidents === 1, 'the incident');
    await sleep(1100); // the first probe's PING is now waiting on the paused server
    await store.close();
    server.resume();
    const pings = async (): Promise<number> =>
      Number(/cmdstat_ping:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    await sleep(100); // the PING that waited through the pause is answered now
    const before = await pings();
    await sleep(2500); // two probe intervals and more
    expect(await pings()).toBe(before);
  });

  function failUntilOpen(breaker: CircuitBreakerPolicy): void {
    for (let i = 0; i < 10 && outcome(breaker, fail) === 'failed'; i++);
    expect(breaker.state).toBe('open');
  }
});
