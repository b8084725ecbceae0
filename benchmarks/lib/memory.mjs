// Idle-circuit memory and timers. staunch's own figures come from
// benchmarks/idle-circuit-memory.mjs (`measureIdleCircuitMemory()`) when that file is present;
// the peers, and staunch when it is not, are measured here the same way: heap growth per
// circuit, each having run one successful call, after forced GCs; timers left behind.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { work } from './baselines.mjs';
import { outDir } from './compile.mjs';

const sharedModule = join(dirname(fileURLToPath(import.meta.url)), '..', 'idle-circuit-memory.mjs');

/** staunch: class scope and instance scope. Returns rows `{ title, bytes, timers, source }`. */
export async function staunchIdleCircuits(count) {
  const rows = [];
  if (existsSync(sharedModule)) {
    const { measureIdleCircuitMemory } = await import(sharedModule);
    const result = await measureIdleCircuitMemory({ count });
    const source = '`measureIdleCircuitMemory()`';
    rows.push({
      title: 'class scope: `circuitBreaker(options)`',
      bytes: result.classScopeBytes,
      timers: result.timers,
      source,
    });
    rows.push({
      title: 'instance scope: `circuitBreakerFactory(options)()`',
      bytes: result.instanceScopeBytes,
      timers: result.timers,
      source,
    });
  } else {
    const { circuitBreaker, circuitBreakerFactory } = await import('@staunch/core');
    const options = { threshold: 5, resetTimeout: 10_000 };
    const make = circuitBreakerFactory(options);
    for (const [title, makeOne] of [
      ['class scope: `circuitBreaker(options)`', () => circuitBreaker(options)],
      ['instance scope: `circuitBreakerFactory(options)()`', make],
    ]) {
      const { bytes, timers } = await idle(count, makeOne, (b) => b.execute(work));
      rows.push({ title, bytes, timers });
    }
  }
  // Through the decorator: the circuit, its WeakMap entry, minus the bare instance.
  const { Tenant, PlainTenant } = await import(join(outDir, 'staunch.mjs'));
  const { bytes: plainBytes } = await idle(
    count,
    () => new PlainTenant(),
    (t) => t.ping(),
  );
  const decorated = await idle(
    count,
    () => new Tenant(),
    (t) => t.ping(),
  );
  rows.push({
    title: "`@CircuitBreaker({ scope: 'instance' })`, per object (circuit + WeakMap entry)",
    bytes: decorated.bytes - plainBytes,
    timers: decorated.timers,
  });
  return rows;
}

/** cockatiel: one `circuitBreaker(handleAll, …)` per circuit. */
export async function cockatielIdleCircuits(count) {
  const c = await import('cockatiel');
  const make = () => c.circuitBreaker(c.handleAll, { halfOpenAfter: 10_000, breaker: new c.ConsecutiveBreaker(5) });
  const { bytes, timers } = await idle(count, make, (b) => b.execute(work));
  return [{ title: '`circuitBreaker(handleAll, ConsecutiveBreaker(5))`', bytes, timers }];
}

/** opossum: one `new CircuitBreaker(fn)` per circuit; it keeps a rolling-stats interval each. */
export async function opossumIdleCircuits(count) {
  const { default: CircuitBreaker } = await import('opossum');
  const { bytes, timers, kept } = await idle(
    count,
    () => new CircuitBreaker(work, { timeout: false }),
    (b) => b.fire(),
  );
  for (const breaker of kept) breaker.shutdown();
  return [{ title: '`new CircuitBreaker(fn, { timeout: false })`', bytes, timers }];
}

// Makes `count` objects, runs one successful call on each, then reports heap growth per object
// (the array holding them allocated before the baseline) and how many timers they left running.
async function idle(count, make, call) {
  const kept = new Array(count).fill(undefined);
  const timersBefore = countTimers();
  const before = heapAfterGc();
  for (let i = 0; i < count; i++) {
    kept[i] = make();
    await call(kept[i]);
  }
  const after = heapAfterGc();
  const timers = countTimers() - timersBefore;
  if (kept.some((item) => item === undefined)) throw new Error('lost an item');
  return { bytes: Math.round((after - before) / count), timers, kept };
}

function heapAfterGc() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

function countTimers() {
  return process.getActiveResourcesInfo().filter((type) => type === 'Timeout' || type === 'Immediate').length;
}
