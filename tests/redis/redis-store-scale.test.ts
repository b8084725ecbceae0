import Redis from 'ioredis';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { circuitBreaker, type CircuitBreakerPolicy } from '@staunch/core';
import { redisStore, type RedisCircuitStore, type RedisStoreEvents } from '@staunch/redis';
import { Down, eventually, fail, outcome, sleep } from './support/circuit-helpers';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis-server';

// A fleet-sized key set: 20,000 circuits per store and a short pause of the server. The recovery must
// be paced (batched re-reads, bounded work per turn), so that it never starts an incident of its own.

const circuits = 20_000;

/** monitorEventLoopDelay over `duration` ms of 1 ms turns of plain synchronous work. */
async function delayOfBusyTurns(duration: number): Promise<IntervalHistogram> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const end = performance.now() + duration;
  while (performance.now() < end) {
    const turnEnd = performance.now() + 1;
    while (performance.now() < turnEnd);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  histogram.disable();
  return histogram;
}

describeWithRedis('redisStore with 20,000 circuits', () => {
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
    for (const client of [...clients, admin]) await client.quit();
    await server.stop();
  });

  it('recovers from a 400 ms CLIENT PAUSE with exactly one incident per store, no turn blocking over 50 ms', async () => {
    type Log = { [K in keyof RedisStoreEvents]: number };
    const logs: Log[] = [];
    const breakers: CircuitBreakerPolicy[][] = [];
    for (let s = 0; s < 1; s++) {
      const client = new Redis(server.url);
      clients.push(client);
      const store = redisStore(client, { processId: `scale-${s}`, quorum: 2 });
      stores.push(store);
      const log: Log = { unavailable: 0, restored: 0, change: 0 };
      store.on('unavailable', () => log.unavailable++);
      store.on('restored', () => log.restored++);
      logs.push(log);
      breakers.push(
        Array.from({ length: circuits }, (_, i) =>
          circuitBreaker({ on: Down, threshold: 5, resetTimeout: 60_000, name: `scale[${i}]`, store }),
        ),
      );
    }
    // The first read of every circuit is paced the same way: no incident at startup either.
    await Promise.all(stores.map((store) => store.ready()));
    expect(logs.map((log) => log.unavailable)).toEqual([0]);

    await admin.call('CLIENT', 'PAUSE', '400', 'ALL');
    // A failure report each, sent into the pause: unanswered for 400 ms, slower than commandTimeout.
    for (const own of breakers) expect(outcome(own[0]!, fail)).toBe('failed');
    await eventually(() => logs.every((log) => log.unavailable === 1), 'the store to report the pause');

    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    await eventually(() => logs.every((log) => log.restored === 1), 'the store to recover', 20_000);
    const recovery = performance.now() - started;
    delay.disable();
    await sleep(1500); // more than a probe interval: no incident of its own after the recovery
    // The same measure over as long a spell of 1 ms turns of plain work, right after (same heap, same
    // machine): the delay the machine itself adds to a busy process (on a loaded CPU the scheduler preempts
    // it; ~1 ms when quiet). A turn of ours that blocks shows on top of it.
    const noise = await delayOfBusyTurns(Math.min(recovery, 2000));
    expect(logs.map((log) => [log.unavailable, log.restored])).toEqual([[1, 1]]);
    const ms = (ns: number): string => (ns / 1e6).toFixed(1);
    console.log(
      `${circuits} circuits, 400 ms CLIENT PAUSE: recovered in ${Math.round(recovery)} ms after the ` +
        `incident; event-loop delay during the recovery max ${ms(delay.max)} ms, p99 ${ms(delay.percentile(99))} ms; ` +
        `plain 1 ms turns afterwards max ${ms(noise.max)} ms`,
    );
    expect(delay.max / 1e6).toBeLessThanOrEqual(50 + noise.max / 1e6);
    // Every circuit is shared again: another process's trip of circuit 1 reaches this one.
    const other = new Redis(server.url);
    clients.push(other);
    const elsewhere = redisStore(other, { processId: 'scale-other', quorum: 1 });
    stores.push(elsewhere);
    const trip = circuitBreaker({ on: Down, threshold: 5, resetTimeout: 60_000, name: 'scale[1]', store: elsewhere });
    await elsewhere.ready();
    for (let i = 0; i < 5; i++) outcome(trip, fail);
    await eventually(() => breakers[0]![1]!.state === 'open', 'circuit 1 to open here too');
  });
});
