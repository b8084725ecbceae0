// Idle-circuit memory and timers.
//
// Bytes: heap growth per circuit over `count` circuits that each ran one successful call, after
// forced GCs. staunch's class- and instance-scope figures come from
// benchmarks/idle-circuit-memory.mjs (`measureIdleCircuitMemory()`) when that file is present;
// the rest are measured here the same way.
//
// Timers: counted with an async hook over 1,000 fresh circuits (each made and called once while
// the hook is on), so unref'd timers count too: `process.getActiveResourcesInfo()` lists only
// ref'd ones, and opossum unrefs its rolling-statistics interval.

import { createHook } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { work } from './baselines.mjs';
import { outDir } from './compile.mjs';

const sharedModule = join(dirname(fileURLToPath(import.meta.url)), '..', 'idle-circuit-memory.mjs');
const TIMER_CENSUS = 1_000;

/** staunch: class scope, instance scope, and an instance-scoped decorated method. */
export async function staunchIdleCircuits(count) {
  const { circuitBreaker, circuitBreakerFactory } = await import('@staunch/core');
  const options = { threshold: 5, resetTimeout: 10_000 };
  const make = circuitBreakerFactory(options);
  const kinds = [
    [
      'class scope: `circuitBreaker(options)` (one per site: reported, not held to the budget)',
      () => circuitBreaker(options),
      'classScopeBytes',
    ],
    ['instance scope: `circuitBreakerFactory(options)()`', make, 'instanceScopeBytes'],
  ];
  const shared = existsSync(sharedModule)
    ? await (await import(sharedModule)).measureIdleCircuitMemory({ count })
    : undefined;
  const rows = [];
  for (const [title, makeOne, field] of kinds) {
    const bytes = shared?.[field] ?? (await heapPerItem(count, makeOne, callOnce)).bytes;
    const source = shared === undefined ? undefined : '`measureIdleCircuitMemory()`';
    // The budget is for the circuits whose number grows with the load (one per key or object); a
    // `circuitBreaker(options)` is made once per decorated method or call site.
    const budgeted = field === 'instanceScopeBytes';
    rows.push({ title, bytes, timers: await timersLeft(makeOne, callOnce), source, budgeted });
  }
  // Through the decorator: the circuit and its WeakMap entry, minus the bare instance.
  const { Tenant, PlainTenant } = await import(join(outDir, 'staunch.mjs'));
  const ping = (t) => t.ping();
  const plain = await heapPerItem(count, () => new PlainTenant(), ping);
  const decorated = await heapPerItem(count, () => new Tenant(), ping);
  rows.push({
    title: "`@CircuitBreaker({ scope: 'instance' })`, per object (circuit + WeakMap entry)",
    bytes: decorated.bytes - plain.bytes,
    timers: await timersLeft(() => new Tenant(), ping),
  });
  return rows;
}

/**
 * staunch's other policies made by their factories (each listed in the registry of live policies), an
 * instance-scoped `@Bulkhead` per object, and what listing costs by itself. One per process (`which`):
 * the registry keeps its capacity, and the WeakRefs of collected policies until it sweeps, so a second
 * measurement in the same process would be paid for in part by the first.
 */
export const idlePolicies = {
  retry: '`retryPolicy({ times: 3, interval: 100 })`',
  bulkhead: '`bulkheadPolicy({ limit: 10 })`',
  rateLimit: '`rateLimitPolicy({ permits: 100, per: 1_000 })`',
  bulkheadInstance: "`@Bulkhead({ limit: 10, scope: 'instance' })`, per object (bulkhead + WeakMap entry + listing)",
  listing: "the registry's share of one listed policy: `registerPolicy()` on a factory's circuit, minus the circuit",
};

/** One row of {@link idlePolicies}, measured over `count` policies. */
export async function staunchIdlePolicy(which, count) {
  const core = await import('@staunch/core');
  const title = idlePolicies[which];
  const made = {
    retry: () => core.retryPolicy({ times: 3, interval: 100 }),
    bulkhead: () => core.bulkheadPolicy({ limit: 10 }),
    rateLimit: () => core.rateLimitPolicy({ permits: 100, per: 1_000 }),
  }[which];
  if (made !== undefined) {
    const { bytes } = await heapPerItem(count, made, callOnce);
    return [{ title, bytes, timers: await timersLeft(made, callOnce) }];
  }
  if (which === 'bulkheadInstance') {
    const { BulkheadTenant, PlainTenant } = await import(join(outDir, 'staunch.mjs'));
    const ping = (t) => t.ping();
    const plain = await heapPerItem(count, () => new PlainTenant(), ping);
    const decorated = await heapPerItem(count, () => new BulkheadTenant(), ping);
    return [
      { title, bytes: decorated.bytes - plain.bytes, timers: await timersLeft(() => new BulkheadTenant(), ping) },
    ];
  }
  // The unlisted circuits first: they leave nothing in the registry for the listed ones to reuse. Warmed up
  // before: what the first circuits compile would otherwise count against the unlisted ones alone.
  const perKey = core.circuitBreakerFactory({ threshold: 5, resetTimeout: 10_000 });
  await heapPerItem(1_000, perKey, callOnce);
  const unlisted = await heapPerItem(count, perKey, callOnce);
  const listed = await heapPerItem(
    count,
    () => {
      const circuit = perKey();
      core.registerPolicy(circuit, 'circuitBreaker');
      return circuit;
    },
    callOnce,
  );
  return [{ title, bytes: listed.bytes - unlisted.bytes, timers: 0 }];
}

/** cockatiel: one `circuitBreaker(handleAll, …)` per circuit. */
export async function cockatielIdleCircuits(count) {
  const c = await import('cockatiel');
  const make = () => c.circuitBreaker(c.handleAll, { halfOpenAfter: 10_000, breaker: new c.ConsecutiveBreaker(5) });
  const { bytes } = await heapPerItem(count, make, callOnce);
  return [
    {
      title: '`circuitBreaker(handleAll, ConsecutiveBreaker(5))`',
      bytes,
      timers: await timersLeft(make, callOnce),
    },
  ];
}

/** opossum: one `new CircuitBreaker(fn)` per circuit (it keeps a rolling-statistics interval each). */
export async function opossumIdleCircuits(count) {
  const { default: CircuitBreaker } = await import('opossum');
  const make = () => new CircuitBreaker(work, { timeout: false });
  const fire = (b) => b.fire();
  const { bytes, kept } = await heapPerItem(count, make, fire);
  for (const breaker of kept) breaker.shutdown();
  return [{ title: '`new CircuitBreaker(fn, { timeout: false })`', bytes, timers: await timersLeft(make, fire) }];
}

function callOnce(breaker) {
  return breaker.execute(work);
}

// Makes `count` objects, runs one successful call on each, and reports heap growth per object
// (the array holding them is allocated before the baseline). Read after a macrotask: V8 holds the
// target of every WeakRef made during a job (the registry makes one per listed policy) until the job ends.
async function heapPerItem(count, make, call) {
  const kept = new Array(count).fill(undefined);
  const before = heapAfterGc();
  for (let i = 0; i < count; i++) {
    kept[i] = make();
    await call(kept[i]);
  }
  await new Promise((resolve) => setImmediate(resolve));
  const after = heapAfterGc();
  if (kept.some((item) => item === undefined)) throw new Error('lost an item');
  return { bytes: Math.round((after - before) / count), kept };
}

// Timers (ref'd or not) still alive after TIMER_CENSUS circuits were made and called once each.
async function timersLeft(make, call) {
  const live = new Set();
  const hook = createHook({
    init(id, type) {
      if (type === 'Timeout') live.add(id);
    },
    destroy(id) {
      live.delete(id);
    },
  });
  const kept = [];
  hook.enable();
  try {
    for (let i = 0; i < TIMER_CENSUS; i++) {
      kept.push(make());
      await call(kept[i]);
    }
  } finally {
    hook.disable();
  }
  const timers = live.size;
  for (const item of kept) item.shutdown?.();
  return timers;
}

function heapAfterGc() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}
