// The @staunch/redis scenarios, each against a redis-server of its own (benchmarks/lib/redis-server.mjs):
//
// - the closed-circuit hot path with `redisStore(client)`: what a call costs next to the breaker's
//   own snapshot and `memoryCircuitStore()`, and a count of the commands Redis served meanwhile
//   (there must be none: the replica is read locally);
// - staleness: how long after one process learns of a shared transition another one does, on
//   loopback, with two stores (own connections, own process ids) in this process: on a single server,
//   and on a 3-master + 3-replica Redis Cluster (benchmarks/lib/redis-cluster.mjs).

import { performance } from 'node:perf_hooks';
import { prebuiltError, VALUE, work } from './baselines.mjs';
import { summarise } from './measure.mjs';
import { startRedisCluster } from './redis-cluster.mjs';
import { startRedisServer } from './redis-server.mjs';

/**
 * A breaker with `options` over `redisStore(client)`, closed and synchronised, as a variant for
 * measure(). `watch()` starts counting the commands Redis serves; what it returns stops counting.
 */
export async function redisHotPath(options) {
  const { circuitBreaker } = await import('@staunch/core');
  const { redisStore } = await import('@staunch/redis');
  const connection = await connectToNewServer();
  // The client is connected (it has answered PING), so the circuit reads the shared state at once and
  // ready() waits for that read. (With a client still connecting, ready() resolves before the read.)
  const store = redisStore(connection.client);
  const breaker = circuitBreaker({ ...options, store });
  await store.ready();
  if (!store.available || breaker.state !== 'closed') throw new Error('the Redis-backed circuit is not closed');
  return {
    op: () => breaker.execute(work),
    kind: 'value',
    check: (result) => result === VALUE,
    async watch() {
      const before = await commandStats(connection.admin);
      return async (own) => {
        const after = await commandStats(connection.admin);
        if (!store.available) throw new Error('Redis became unavailable while measuring');
        const timedCalls = own.iterations * own.nsPerCall.length;
        return { redisCommands: { ...difference(before, after), timedCalls } };
      };
    },
    async dispose() {
      await store.close();
      await connection.close();
    },
  };
}

/** Cycles (open, half-open, closed) run before the staleness is measured: JIT and connections warm up. */
export const stalenessWarmUp = 3;

/**
 * Opens and closes a circuit shared by stores A and B (`quorum: 1`) until `transitions` shared
 * transitions were seen by both (after a warm-up of {@link stalenessWarmUp} cycles). A trips it with
 * one failure, and after `resetTimeout` (20 ms) takes the trial lease and closes it with a
 * successful trial: open, half-open, closed, again. Returns one row per kind of transition and one
 * for all, in milliseconds. `cluster`: on a Redis Cluster started for it, each store with a Cluster
 * client of its own (so sharded pub/sub, from the node that holds the circuit's slot).
 */
export async function staleness(transitions, { cluster = false } = {}) {
  const { circuitBreaker } = await import('@staunch/core');
  const { redisStore } = await import('@staunch/redis');
  const connection = cluster ? await connectToNewCluster() : await connectToNewServer();
  const second = connection.connect();
  await second.ping();
  const a = redisStore(connection.client, { quorum: 1, processId: 'bench-a' });
  const b = redisStore(second, { quorum: 1, processId: 'bench-b' });
  const options = { threshold: 1, resetTimeout: 20, halfOpenCalls: 1, name: 'bench-staleness' };
  const breaker = circuitBreaker({ ...options, store: a });
  // B's replica: it only listens. Kept referenced until the end: the store holds replicas weakly, and one
  // whose breaker is collected stops listening (the run failed now and then on a GC).
  const listener = circuitBreaker({ ...options, store: b });
  try {
    await Promise.all([a.ready(), b.ready()]);

    // Per shared epoch: its state, when the call that caused it was made (in A), and when A and B
    // each emitted `change` for it.
    const epochs = new Map();
    const entry = (epoch, state) => {
      let found = epochs.get(epoch);
      if (found === undefined) epochs.set(epoch, (found = { state, cause: undefined, a: undefined, b: undefined }));
      return found;
    };
    let lastCall = 0;
    let stateOfA = 'closed';
    let epochOfA = 0;
    let wakeA = () => {};
    a.on('change', ({ epoch, state }) => {
      const now = performance.now();
      const found = entry(epoch, state);
      found.a ??= now;
      found.cause ??= lastCall;
      stateOfA = state;
      epochOfA = epoch;
      wakeA();
    });
    let wakeB = () => {};
    b.on('change', ({ epoch, state }) => {
      entry(epoch, state).b ??= performance.now();
      wakeB();
    });
    const failing = async () => {
      throw prebuiltError;
    };
    const succeeding = async () => VALUE;

    const deadline = performance.now() + 60_000;
    const warmUp = 3 * stalenessWarmUp;
    let measured = 0;
    while (measured < warmUp + transitions) {
      if (performance.now() > deadline) throw new Error(`${measured} transitions in 60 s, not ${warmUp + transitions}`);
      const epoch = epochOfA;
      const changedA = new Promise((resolve) => (wakeA = resolve));
      lastCall = performance.now();
      // Closed: one failure trips it. Open: rejected until the wait is over, then the call that
      // finds it over asks for the lease. Half-open with A's lease: the trial, which closes it.
      breaker.execute(stateOfA === 'closed' ? failing : succeeding).catch(() => undefined);
      await within(changedA, 2);
      if (epochOfA === epoch) continue;
      // A has moved on: wait until B has heard of that epoch too, before the next transition.
      const heard = () => epochs.get(epochOfA)?.b !== undefined;
      const waitUntil = performance.now() + 2_000;
      while (!heard() && performance.now() < waitUntil) {
        await within(new Promise((resolve) => (wakeB = resolve)), 5);
      }
      if (!heard()) throw new Error(`store B never heard of epoch ${epochOfA} (${stateOfA})`);
      measured++;
    }

    const complete = [...epochs.values()].filter((e) => e.a !== undefined && e.b !== undefined).slice(warmUp);
    const row = (title, list) => {
      const lags = list.map((e) => e.b - e.a).sort((x, y) => x - y);
      return {
        title,
        transitions: list.length,
        p50: summarise(lags).median,
        p99: lags[Math.min(lags.length - 1, Math.ceil(lags.length * 0.99) - 1)],
        max: lags.at(-1),
        bFirst: list.filter((e) => e.b < e.a).length,
        endToEnd: summarise(list.map((e) => e.b - e.cause)).median,
      };
    };
    const to = (state) => complete.filter((e) => e.state === state);
    return [
      row('opened (a failure in A)', to('open')),
      row('half-opened (A took the trial lease)', to('half-open')),
      row("closed (A's trial succeeded)", to('closed')),
      row('all transitions', complete),
    ];
  } finally {
    void listener.state; // read here, so the listening breaker lives through the whole run
    await Promise.all([a.close(), b.close()]);
    second.disconnect();
    await connection.close();
  }
}

/** `promise`, or undefined after `ms`: whichever comes first (the timer goes either way). */
function within(promise, ms) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Starts a redis-server, connects a client and an admin connection (for INFO) to it. */
export async function connectToNewServer() {
  const { default: Redis } = await import('ioredis');
  const server = await startRedisServer();
  const connect = () => new Redis(server.url);
  const client = connect();
  const admin = connect();
  try {
    await Promise.all([client.ping(), admin.ping()]);
    return {
      client,
      admin,
      connect,
      async close() {
        for (const connection of [client, admin]) {
          if (connection.status === 'ready') await connection.quit();
          else connection.disconnect();
        }
        await server.stop();
      },
    };
  } catch (error) {
    client.disconnect();
    admin.disconnect();
    await server.stop();
    throw error;
  }
}

/** Starts a Redis Cluster and connects a Cluster client to it (`connect()` makes more). */
async function connectToNewCluster() {
  const { Cluster } = await import('ioredis');
  const cluster = await startRedisCluster();
  const connect = () => new Cluster(cluster.startupNodes);
  const client = connect();
  try {
    await client.ping();
    return {
      client,
      connect,
      async close() {
        if (client.status === 'ready') await client.quit();
        else client.disconnect();
        await cluster.stop();
      },
    };
  } catch (error) {
    client.disconnect();
    await cluster.stop();
    throw error;
  }
}

/** Calls per command from INFO commandstats. */
export async function commandStats(admin) {
  const info = await admin.info('commandstats');
  const calls = new Map();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1], Number(match[2]));
  return calls;
}

// Commands served between two readings: the scripts (EVALSHA, EVAL) the store runs, and all of them
// but the INFO commands of the readings themselves.
function difference(before, after) {
  const served = (name) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  let all = 0;
  for (const name of after.keys()) if (name !== 'info') all += served(name);
  return { scripts: served('evalsha') + served('eval'), all };
}
