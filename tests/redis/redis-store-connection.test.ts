import Redis, { type RedisOptions } from 'ioredis';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { circuitBreaker, systemClock, type CircuitBreakerPolicy } from '@staunch/core';
import { redisCircuitKeys, redisStore, type RedisCircuitStore, type RedisStoreEvents } from '@staunch/redis';
import { Down, eventually, fail, outcome, sleep } from './support/circuit-helpers';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis-server';

// How the store meets its connections: client settings users really have (lazyConnect, a fail-fast
// offline queue, an ACL user), a process that stalls, a first connection that is not there yet, and the
// state a circuit leaves behind, in Redis and in the process.

type Log = { [K in keyof RedisStoreEvents]: RedisStoreEvents[K][] };

function logOf(store: RedisCircuitStore): Log {
  const log: Log = { unavailable: [], restored: [], change: [] };
  store.on('unavailable', (event) => log.unavailable.push(event));
  store.on('restored', (event) => log.restored.push(event));
  store.on('change', (event) => log.change.push(event));
  return log;
}

/** Whether `promise` settles within `ms`: a hang fails the assertion, not the test's timeout. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Blocks this process's event loop, as a long GC pause or a big JSON.parse would. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Calls of `command` and how many of them failed, from INFO commandstats. */
async function commandStats(admin: Redis, command: string): Promise<{ calls: number; failed: number }> {
  const info = await admin.info('commandstats');
  const line = new RegExp(`^cmdstat_${command}:calls=(\\d+).*failed_calls=(\\d+)`, 'm').exec(info);
  return { calls: Number(line?.[1] ?? 0), failed: Number(line?.[2] ?? 0) };
}

// `gc()` without --expose-gc: the flag, then a fresh context's global.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describeWithRedis('redisStore and its connections', () => {
  let server: RedisServer;
  let admin: Redis;
  const clients: Redis[] = [];
  const stores: RedisCircuitStore[] = [];
  let circuitCount = 0;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const client of clients.splice(0)) {
      if (client.status === 'ready') await client.quit();
      else if (client.status !== 'end') client.disconnect();
    }
  });
  afterAll(async () => {
    await admin.quit();
    await server.stop();
  });

  const uniqueName = (): string => `connection-${++circuitCount}`;

  function client(options: RedisOptions = {}): Redis {
    const made = new Redis(server.url, options);
    clients.push(made);
    return made;
  }

  function store(of: Redis, options: Parameters<typeof redisStore>[1] = {}): RedisCircuitStore {
    const made = redisStore(of, { processId: `p${stores.length}`, quorum: 1, ...options });
    stores.push(made);
    return made;
  }

  const breaker = (of: RedisCircuitStore, name: string, threshold = 100): CircuitBreakerPolicy =>
    circuitBreaker({ on: Down, threshold, resetTimeout: 60_000, name, store: of });

  it('connects a lazyConnect client itself: ready() resolves and failures reach Redis', async () => {
    const lazy = client({ lazyConnect: true });
    const shared = store(lazy);
    const log = logOf(shared);
    const name = uniqueName();
    const circuit = breaker(shared, name);
    expect(await settlesWithin(shared.ready(), 2000)).toBe(true);
    expect(lazy.status).toBe('ready');
    outcome(circuit, fail);
    await shared.flush();
    expect(await admin.hget(redisCircuitKeys(name).state, 'failures')).toBe('1');
    expect(log.unavailable).toHaveLength(0);
  });

  it('starts without a false incident when the client has enableOfflineQueue: false', async () => {
    const failFast = client({ enableOfflineQueue: false });
    const shared = store(failFast);
    const log = logOf(shared);
    breaker(shared, uniqueName()); // subscribes at once, while the connections are still connecting
    expect(await settlesWithin(shared.ready(), 2000)).toBe(true);
    await sleep(50);
    expect(log.unavailable).toHaveLength(0);
    expect(log.restored).toHaveLength(0);
    expect(shared.available).toBe(true);
  });

  it('retries a refused SUBSCRIBE with backoff, reports it once, and recovers as soon as it is allowed', async () => {
    const user = `limited-${++circuitCount}`;
    // Everything the store needs but the channel: Redis 7 refuses the SUBSCRIBE with NOPERM.
    await admin.call('ACL', 'SETUSER', user, 'reset', 'on', 'nopass', '~*', '+@all', 'resetchannels');
    const limited = client({ username: user, password: 'unused' });
    const shared = store(limited);
    const log = logOf(shared);
    breaker(shared, uniqueName());
    const ready = shared.ready();
    await eventually(() => log.unavailable.length === 1, 'the refused subscription to be reported');
    expect(String(log.unavailable[0]!.error)).toMatch(/NOPERM/);
    await sleep(500); // several retries, all refused: still one incident
    expect(log.unavailable).toHaveLength(1);
    expect(shared.available).toBe(false);

    const granted = Date.now();
    await admin.call('ACL', 'SETUSER', user, '&staunch:circuit:events');
    expect(await settlesWithin(ready, 2000)).toBe(true);
    await eventually(() => log.restored.length === 1, 'the recovery');
    expect(Date.now() - granted).toBeLessThan(1500); // the backoff is capped at the probe interval (1 s)
    expect(shared.available).toBe(true);
    expect(log.unavailable).toHaveLength(1);
    await admin.call('ACL', 'DELUSER', user);
  });

  it('does not take a stall of its own event loop for a slow Redis when the reply is already there', async () => {
    const shared = store(client(), { commandTimeout: 100 });
    const log = logOf(shared);
    const name = uniqueName();
    const circuit = breaker(shared, name);
    await shared.ready();
    outcome(circuit, fail);
    await Promise.resolve(); // the report goes out (one microtask), then this process stalls
    stall(300);
    await sleep(200);
    expect(log.unavailable).toHaveLength(0);
    expect(shared.available).toBe(true);
    expect(await admin.hget(redisCircuitKeys(name).state, 'failures')).toBe('1');
  });

  it('still takes a server that does not answer for slow, stall or not', async () => {
    const shared = store(client(), { commandTimeout: 100 });
    const log = logOf(shared);
    const circuit = breaker(shared, uniqueName());
    await shared.ready();
    server.pause();
    try {
      outcome(circuit, fail);
      await Promise.resolve();
      stall(300);
      await eventually(() => log.unavailable.length === 1, 'the incident');
    } finally {
      server.resume();
    }
    await eventually(() => log.restored.length === 1, 'the recovery', 5000);
  });

  it('keeps failures noted before the first connection and reports them once connected, even from close()', async () => {
    const name = uniqueName();
    const early = client();
    expect(early.status).toBe('connecting');
    const shared = store(early);
    const circuit = breaker(shared, name);
    for (let i = 0; i < 3; i++) expect(outcome(circuit, fail)).toBe('failed');
    await shared.close(); // a short-lived job: it fails and exits at once
    expect(await admin.hget(redisCircuitKeys(name).state, 'failures')).toBe('3');
    expect(await admin.zcard(redisCircuitKeys(name).processes)).toBe(1);
  });

  it('gives close() closeTimeout for pending reports when Redis cannot be reached, then lets go', async () => {
    const unreachable = new Redis({ port: 1, host: '127.0.0.1', retryStrategy: () => 50, lazyConnect: true });
    clients.push(unreachable);
    unreachable.on('error', () => undefined);
    const shared = store(unreachable, { closeTimeout: 300 });
    const circuit = breaker(shared, uniqueName());
    outcome(circuit, fail);
    const started = Date.now();
    await shared.close();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1000);
  });

  it('sends each script once per connection, not one failed EVALSHA and one EVAL per circuit', async () => {
    await admin.script('FLUSH');
    await admin.config('RESETSTAT');
    const shared = store(client());
    const circuits = Array.from({ length: 50 }, () => breaker(shared, uniqueName()));
    await shared.ready();
    expect(circuits).toHaveLength(50);
    expect(await commandStats(admin, 'eval')).toEqual({ calls: 1, failed: 0 });
    expect((await commandStats(admin, 'evalsha')).failed).toBe(0);
  });

  it('loads the scripts again after SCRIPT FLUSH', async () => {
    const shared = store(client());
    const name = uniqueName();
    const circuit = breaker(shared, name);
    await shared.ready();
    await admin.script('FLUSH');
    outcome(circuit, fail);
    await shared.flush();
    expect(await admin.hget(redisCircuitKeys(name).state, 'failures')).toBe('1');
  });

  it('gives one store per client and settings, whatever the settings (a clock, a subscriber)', () => {
    const shared = client();
    const subscriber = client();
    const clock = { ...systemClock };
    const a = store(shared, { clock });
    expect(redisStore(shared, { processId: 'p0', quorum: 1, clock })).toBe(a);
    expect(redisStore(shared, { processId: 'p0', quorum: 1, clock: { ...systemClock } })).not.toBe(a);
    const b = store(shared, { subscriber });
    expect(redisStore(shared, { processId: 'p1', quorum: 1, subscriber })).toBe(b);
    expect(b).not.toBe(a);
  });

  it('lets idle state expire in Redis, each use pushing the expiry back', async () => {
    const shared = store(client(), { idleTimeout: 400, leaseTimeout: 50 });
    const name = uniqueName();
    const circuit = circuitBreaker({ on: Down, threshold: 100, resetTimeout: 50, name, store: shared });
    await shared.ready();
    const key = redisCircuitKeys(name).state;
    outcome(circuit, fail);
    await shared.flush();
    const ttl = await admin.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(400);
    await sleep(250);
    outcome(circuit, fail); // used again: another 400 ms
    await shared.flush();
    expect(await admin.pttl(key)).toBeGreaterThan(300);
    await sleep(250);
    expect(await admin.exists(key)).toBe(1);
    await eventually(async () => (await admin.exists(key)) === 0, 'the idle state to expire', 1000);
  });

  it('keeps the state at least for the window and an open wait plus its lease, whatever idleTimeout says', async () => {
    const shared = store(client(), { idleTimeout: 10, leaseTimeout: 2000 });
    const name = uniqueName();
    const circuit = circuitBreaker({ on: Down, threshold: 100, resetTimeout: 1000, name, store: shared });
    await shared.ready();
    outcome(circuit, fail);
    await shared.flush();
    expect(await admin.pttl(redisCircuitKeys(name).state)).toBeGreaterThan(2900); // 1000 + max(1000, 2000)
  });

  it('releases a replica once no breaker uses it, and a new breaker reads the shared state again', async () => {
    const shared = store(client());
    const name = uniqueName();
    const replica = await (async () => {
      const first = breaker(shared, name, 1);
      await shared.ready();
      outcome(first, fail); // quorum 1: opens the shared circuit
      await shared.flush();
      expect(first.state).toBe('open');
      return new WeakRef(shared.circuit(name, first.options));
    })();
    await sleep(10); // a WeakRef keeps its target alive until the end of the turn that made it
    gc();
    await sleep(10); // the registry's cleanup runs on a later turn
    expect(replica.deref()).toBeUndefined();

    const second = breaker(shared, name, 1);
    await shared.ready();
    expect(second.state).toBe('open');
  });
});

describeWithRedis('redisStore and the eviction policy', () => {
  // jest gives each test file a process object of its own, whose 'warning' events never fire: catch the call.
  const warnings: string[] = [];
  let spy: jest.SpyInstance | undefined;
  beforeAll(() => {
    spy = jest.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error, options?: unknown) => {
      warnings.push((options as { code?: string } | undefined)?.code ?? String(warning));
    });
  });
  afterAll(() => spy?.mockRestore());

  async function warningsWith(args: readonly string[]): Promise<string[]> {
    const server = await startRedisServer({ args });
    const client = new Redis(server.url);
    try {
      warnings.length = 0;
      const stores = [redisStore(client, { quorum: 1 }), redisStore(client, { quorum: 2 })];
      await Promise.all(stores.map((store) => store.ready()));
      await sleep(50);
      await Promise.all(stores.map((store) => store.close()));
      return warnings.slice();
    } finally {
      await client.quit();
      await server.stop();
    }
  }

  it('warns once per client when the server may evict circuit state under memory pressure', async () => {
    expect(await warningsWith(['--maxmemory', '64mb', '--maxmemory-policy', 'volatile-lru'])).toEqual([
      'STAUNCH_REDIS_EVICTION',
    ]);
  });

  it('says nothing under noeviction, or without a memory limit', async () => {
    expect(await warningsWith(['--maxmemory', '64mb', '--maxmemory-policy', 'noeviction'])).toEqual([]);
    expect(await warningsWith(['--maxmemory-policy', 'allkeys-lru'])).toEqual([]);
  });
});
