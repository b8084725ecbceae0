// Memory and timers of idle circuits, measured on the BUILT package (run `npm run build` first).
//
//   node --expose-gc benchmarks/idle-circuit-memory.mjs [count]
//
// Makes `count` (default 100,000) circuits of each scope after a forced GC, each having run one
// successful call (the decorators make an instance's circuit on its first call), and reports the
// heap growth per circuit, read once the job that made them has ended (see `bytesPerItem`). Exits
// non-zero if any timer is held, or if a factory-made circuit (one per key or per object: the ones whose
// number grows with the load) costs more than 256 bytes. `circuitBreaker(options)` is reported, not held to
// the budget: one is made per decorated method or call site, a bounded number, and it also pays for its
// own options and its row in the registry of live policies.
// `measureIdleCircuitMemory()` returns the same numbers to `npm run bench`.
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { circuitBreaker, circuitBreakerFactory } from '../packages/core/dist/index.mjs';

/** The budget for one idle circuit of a key or an object. */
export const idleCircuitBudget = 256;

/**
 * Measures the heap taken by idle circuits and the timers they hold.
 * @param {{ count?: number }} [options]
 * @returns {Promise<{ classScopeBytes: number, instanceScopeBytes: number, timers: number, count: number }>}
 */
export async function measureIdleCircuitMemory({ count = 100_000 } = {}) {
  const gc = exposeGc();
  class Unavailable extends Error {}
  const ok = () => 'ok';
  const noArgs = [];
  const timersBefore = countTimers();

  // Class scope: one `circuitBreaker(options)` per decorated method, options resolved by each. The caller's own
  // options object is not counted (it belongs to the caller); the resolved copy the circuit keeps is.
  const options = { on: Unavailable, threshold: 3, resetTimeout: 30_000, name: 'charge' };
  const classScopeBytes = await bytesPerItem(gc, count, () => {
    const breaker = circuitBreaker(options);
    breaker.call(ok, undefined, noArgs);
    return breaker;
  });

  // Instance scope: options resolved once by the factory, one small circuit per object.
  const make = circuitBreakerFactory(options);
  const instanceScopeBytes = await bytesPerItem(gc, count, () => {
    const breaker = make();
    breaker.call(ok, undefined, noArgs);
    return breaker;
  });

  const timers = countTimers() - timersBefore;
  return { classScopeBytes, instanceScopeBytes, timers, count };
}

// Heap growth per item made by `makeOne`, the array holding them allocated before the baseline. Read
// after a macrotask: V8 holds the target of every WeakRef made during a job until that job ends (the
// registry of live policies makes one per circuit), which a running process never pays for long.
async function bytesPerItem(gc, count, makeOne) {
  const kept = new Array(count).fill(undefined);
  const before = heapAfterGc(gc);
  for (let i = 0; i < count; i++) kept[i] = makeOne();
  await new Promise((resolve) => setImmediate(resolve));
  const after = heapAfterGc(gc);
  if (kept.some((item) => item === undefined)) throw new Error('lost an item');
  return Math.round((after - before) / count);
}

function heapAfterGc(gc) {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

function countTimers() {
  return process.getActiveResourcesInfo().filter((type) => type === 'Timeout' || type === 'Immediate').length;
}

// `--expose-gc` when given; otherwise the flag is switched on at run time (so `npm run bench` needs no flag).
function exposeGc() {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 100_000);
  const { classScopeBytes, instanceScopeBytes, timers } = await measureIdleCircuitMemory({ count });
  console.log(`idle circuit memory (${count.toLocaleString('en')} circuits of each scope, Node ${process.version})`);
  console.log(`  class scope    circuitBreaker(options)        ${classScopeBytes} bytes/circuit`);
  console.log(`  instance scope circuitBreakerFactory(options)() ${instanceScopeBytes} bytes/circuit`);
  console.log(`  timers held: ${timers}`);
  const failures = [];
  if (timers !== 0) failures.push(`${timers} timer(s) held by idle circuits`);
  if (instanceScopeBytes > idleCircuitBudget) {
    failures.push(`a circuit of a key or an object: ${instanceScopeBytes} bytes > ${idleCircuitBudget}`);
  }
  if (failures.length > 0) {
    console.error(`FAIL: ${failures.join('; ')}`);
    process.exitCode = 1;
  }
}
