// Memory per circuit of @staunch/redis, on both sides, through a circuit's life: `count` keyed circuits
// over one store (a redis-server of its own, a short `idleTimeout`), measured after forced GCs (the
// child runs with --expose-gc) and from the server's `INFO memory` (`used_memory`, its delta from before
// the circuits, per circuit) and `DBSIZE`:
//
// 1. idle: each breaker made and called once (closed, never failed), every circuit synchronised;
// 2. failing: one failure each, reported (the state hash, and the window's two sorted sets);
// 3. the window over: the failure records expired, the state hash stays until `idleTimeout`;
// 4. `idleTimeout` over: Redis expired the state hash (its TTL, pushed back by every script);
// 5. the breakers dropped (as a Scope's `maxKeys` evicts keyed breakers): the store holds replicas weakly,
//    so they go with the next GC;
// 6. as many more made, called once and dropped: what stays after 5 does not grow (it is not per circuit).
//
// For comparison, the same breakers without a store, idle and with one failure: what the store adds.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { prebuiltError, work } from './baselines.mjs';
import { connectToNewServer } from './redis.mjs';

/**
 * The circuits' options, and the store's: the expiry is short so that the run can wait for it, and the
 * window long enough to hold every circuit's failure while they all fail (a slice at a time).
 */
export const memoryCircuit = { threshold: 5, resetTimeout: 200 };
export const memoryStore = { quorum: 2, window: 3_000, idleTimeout: 6_000, leaseTimeout: 200 };

// Failures go out a slice at a time (each circuit reports its own): the figure is memory, not a burst.
const slice = 500;

/**
 * Rows: `{ title, circuits, keys, redisBytes, heapBytes }` per stage, per circuit (`keys`, `redisBytes`
 * undefined where Redis is not involved).
 * @param {number} count
 */
export async function redisCircuitMemory(count) {
  const { circuitBreaker } = await import('@staunch/core');
  const { redisStore } = await import('@staunch/redis');
  const rows = [];

  rows.push(...(await withoutStore(circuitBreaker, count)));

  const connection = await connectToNewServer();
  const { client, admin } = connection;
  const store = redisStore(client, memoryStore);
  let incidents = 0;
  store.on('unavailable', () => incidents++);
  try {
    await store.ready();
    const names = Array.from({ length: count }, (_, i) => `memory[${i}]`);
    let breakers = new Array(count).fill(undefined);
    // A sample of the replicas, to see them released.
    const sample = [];
    const heap0 = heapAfterGc();
    const redis0 = await usedMemory(admin);
    const stage = async (title) => {
      const heap = heapAfterGc();
      const keys = await admin.dbsize();
      rows.push({
        title,
        keys: keys / count,
        redisBytes: ((await usedMemory(admin)) - redis0) / count,
        heapBytes: (heap - heap0) / count,
      });
    };

    for (let i = 0; i < count; i++) {
      breakers[i] = circuitBreaker({ ...memoryCircuit, name: names[i], store });
      await breakers[i].execute(work);
    }
    await store.ready();
    for (let i = 0; i < count; i += 100) sample.push(new WeakRef(store.circuit(names[i], breakers[i].options)));
    await stage('idle: made, called once, closed (never failed)');

    const failingFrom = performance.now();
    for (let from = 0; from < count; from += slice) {
      const calls = [];
      for (let i = from; i < Math.min(count, from + slice); i++) calls.push(breakers[i].execute(failing).catch(noop));
      // Each failure is noted once its call settles; flush() then waits for the reports.
      await Promise.all(calls);
      await store.flush();
    }
    const reported = performance.now();
    if (breakers.some((b) => b.state !== 'closed')) throw new Error('a circuit opened');
    await stage('failing: one failure each in its window, reported');
    expectKeys(rows, 3, 'every circuit failing: the state hash and the two sorted sets of its window');

    // The failure records expire `window` after each circuit's report, the hash `idleTimeout` after it.
    // Keys past their time to live are reclaimed by a SCAN before reading (Redis's own expiry cycle gets
    // to them within seconds, by sampling).
    await sleep(reported + memoryStore.window + 100 - performance.now());
    await reclaimExpired(admin);
    await stage(`the window over (${ms(memoryStore.window)}): failure records expired, state hash kept`);
    expectKeys(rows, 1, `only state hashes (the failing phase took ${Math.round(reported - failingFrom)} ms)`);

    await sleep(reported + memoryStore.idleTimeout + 100 - performance.now());
    await reclaimExpired(admin);
    await stage(`\`idleTimeout\` over (${ms(memoryStore.idleTimeout)} here): state hash expired, breakers still held`);
    expectKeys(rows, 0, 'nothing left in Redis');

    breakers.fill(undefined);
    breakers = undefined;
    // A WeakRef holds its target to the end of the turn; the FinalizationRegistry's cleanup runs on a later one.
    await sleep(10);
    heapAfterGc();
    await sleep(10);
    const released = sample.filter((ref) => ref.deref() === undefined).length;
    await stage(
      `breakers dropped (as \`maxKeys\` evicts them), after GC: ${released} of ${sample.length} sampled replicas collected`,
    );
    if (released !== sample.length) throw new Error(`${sample.length - released} sampled replicas were not released`);

    // What stays after the drop is not per circuit if another round of as many leaves no more.
    await churn(circuitBreaker, store, count);
    await sleep(10);
    heapAfterGc();
    await sleep(10);
    await stage(`then ${count.toLocaleString('en')} more made, called once and dropped, after GC`);
    if (incidents > 0) throw new Error(`${incidents} incident(s) while measuring`);
    return rows.map((row) => ({ ...row, circuits: count }));
  } finally {
    await store.close();
    await connection.close();
  }
}

// A second round of circuits, made, called once, synchronised and dropped, in a frame of its own.
async function churn(circuitBreaker, store, count) {
  const breakers = [];
  for (let i = 0; i < count; i++) {
    breakers.push(circuitBreaker({ ...memoryCircuit, name: `again[${i}]`, store }));
    await breakers[i].execute(work);
  }
  await store.ready();
}

// The same breakers without a store, in a frame of their own, so that nothing of theirs is left for the
// measures that follow.
async function withoutStore(circuitBreaker, count) {
  const kept = new Array(count).fill(undefined);
  const before = heapAfterGc();
  for (let i = 0; i < count; i++) {
    kept[i] = circuitBreaker({ ...memoryCircuit, name: `plain[${i}]` });
    await kept[i].execute(work);
  }
  const idle = heapAfterGc();
  for (let i = 0; i < count; i++) await kept[i].execute(failing).catch(noop);
  const failed = heapAfterGc();
  if (kept.includes(undefined) || kept.some((b) => b.state !== 'closed')) throw new Error('lost a breaker');
  kept.fill(undefined);
  return [
    { title: 'no store, for comparison: idle (called once)', heapBytes: (idle - before) / count },
    { title: 'no store, for comparison: one failure each', heapBytes: (failed - before) / count },
  ];
}

function noop() {}

const ms = (value) => `${value.toLocaleString('en')} ms`;

// The last row has `keys` keys per circuit, or the run is not what it says.
function expectKeys(rows, keys, what) {
  const found = rows.at(-1).keys;
  if (found !== keys) throw new Error(`${keys} key(s) per circuit expected (${what}), found ${found}`);
}

// SCAN visits every key, and deletes those past their time to live on its way.
async function reclaimExpired(admin) {
  let cursor = '0';
  do [cursor] = await admin.scan(cursor, 'COUNT', 1000);
  while (cursor !== '0');
}

async function failing() {
  throw prebuiltError;
}

async function usedMemory(admin) {
  const info = await admin.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

function heapAfterGc() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}
