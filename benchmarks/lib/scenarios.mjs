// Every measured scenario. A scenario's `make()` runs in its own child process and returns the
// operation to time; `base` is the bare-await baseline it is divided by, `reference` the
// hand-written code its target compares it with. Libraries are imported inside `make()`, so a
// child loads only what its scenario uses.

import { join } from 'node:path';
import {
  HandBreaker,
  HandBucket,
  VALUE,
  retryLoop,
  throwPrebuilt,
  prebuiltError,
  tryCatchFallback,
  work,
} from './baselines.mjs';
import { outDir } from './compile.mjs';
import { otelGroup, otelScenarios } from './otel.mjs';

const CONCURRENT = 1_000;

// Judged on the row over all transitions.
const stalenessTarget = { p99Ms: 2, text: 'p99 ≤ 2 ms on loopback (all transitions)' };

const isValue = (result) => result === VALUE;
const isAllValues = (result) => Array.isArray(result) && result.length === CONCURRENT && result.every(isValue);
const isInstance = (errorClass) => (result) => result instanceof errorClass;

const value = (op) => ({ op, kind: 'value', check: isValue });
const rejection = (op, check) => ({ op, kind: 'error', check });
const concurrent = (call) => ({
  op: () => {
    const calls = new Array(CONCURRENT);
    for (let i = 0; i < CONCURRENT; i++) calls[i] = call();
    return Promise.all(calls);
  },
  kind: 'value',
  check: isAllValues,
  perOp: CONCURRENT,
});

const core = () => import('@staunch/core');
const decorated = async () => new (await import(join(outDir, 'staunch.mjs'))).Service();
const cockatiel = () => import('cockatiel');
const opossum = async () => (await import('opossum')).default;

// Shared peer setups, equivalent to ours: 3 calls in all, 100 ms apart; a breaker that opens
// after 5 failures in a row and tries again after 10 s.
const cockatielRetry = (c) => c.retry(c.handleAll, { maxAttempts: 2, backoff: new c.ConstantBackoff(100) });
const cockatielBreaker = (c) =>
  c.circuitBreaker(c.handleAll, { halfOpenAfter: 10_000, breaker: new c.ConsecutiveBreaker(5) });
// The breaker scenario's options, and the name a store needs.
const storeBreakerOptions = { threshold: 5, resetTimeout: 10_000, name: 'bench-hot-path' };

/** The groups, in table order, with the target each group's staunch rows are held to. */
export const groups = [
  { id: 'baselines', title: 'Baselines (hand-written)' },
  { id: 'retry', title: 'Retry, happy path', target: { reference: 'loop', max: 1, text: '≤ hand-written loop' } },
  {
    id: 'breaker',
    title: 'Circuit breaker, happy path (closed)',
    target: { reference: 'breaker', max: 1, text: '≤ hand-written breaker' },
  },
  { id: 'stacked', title: 'Retry + breaker stacked', target: { base: true, max: 3, text: '≤ 3x bare await' } },
  {
    id: 'toolkit',
    title: 'Fallback > Retry > CircuitBreaker > Bulkhead > Timeout stacked',
    target: { base: true, max: 5, text: '≤ 5x bare await' },
  },
  {
    id: 'fallback',
    title: 'Fallback, happy path',
    target: { reference: 'trycatch', max: 1, text: '≤ hand-written try/catch' },
  },
  {
    id: 'timeout',
    title: 'Attempt timeout, happy path',
    target: { base: true, max: 8, text: '≤ 8x bare await' },
  },
  {
    id: 'open',
    title: 'Open-circuit rejection',
    target: { reference: 'throw', max: 1.5, text: '≤ 1.5x throwing a prebuilt Error' },
  },
  {
    id: 'concurrent',
    title: `${CONCURRENT.toLocaleString('en')} concurrent calls through a breaker (per call)`,
    target: { reference: 'breaker1000', max: 1, text: '≤ hand-written breaker' },
  },
  { id: 'bulkhead', title: 'Bulkhead, happy path', target: { base: true, max: 2.5, text: '≤ 2.5x bare await' } },
  {
    id: 'ratelimit',
    title: 'Rate limit, admitted call',
    target: { reference: 'bucket', max: 1.5, text: '≤ 1.5x hand-written token bucket' },
  },
  { id: 'ratelimit-redis', title: 'Rate limit with a Redis store, admitted call (× the same limit in memory)' },
  {
    id: 'adaptive',
    title: 'Adaptive bulkhead limit vs a fixed one',
    target: { reference: 'bulkhead-decorated', max: 1.3, text: '≤ 1.3x fixed-limit `@Bulkhead`' },
  },
  {
    id: 'budget',
    title: 'Retry with a retry budget, happy path',
    target: { reference: 'retry-decorated', max: 1.1, text: '≤ 1.1x `@Retry` without a budget' },
  },
  {
    id: 'hedge',
    title: 'Hedge whose first attempt wins at once',
    target: { base: true, max: 4, text: '≤ 4x bare await' },
  },
  // `compare`: a second reference, measured in the same rounds (the store rows' `× memory store`).
  { id: 'store', title: 'Closed-circuit hot path with a shared store', compare: 'store-memory' },
  {
    id: 'staleness',
    title: 'How stale a process may be (loopback, one redis-server)',
    target: stalenessTarget,
  },
  {
    id: 'staleness-cluster',
    title: 'How stale a process may be (loopback, a Redis Cluster: 3 masters, 3 replicas)',
    target: stalenessTarget,
  },
  {
    id: 'recovery',
    title: 'Recovery after a 400 ms `CLIENT PAUSE` (one redis-server, one store)',
    target: {
      maxTurnMs: 50,
      text: "exactly 1 `unavailable` + 1 `restored`, no event-loop turn > 50 ms beyond the machine's own",
    },
  },
  { id: 'redis-memory', title: 'Memory per keyed circuit, through its life (one redis-server)' },
  { id: 'allocations', title: 'Bytes allocated per call beyond a bare `await fn()` (sampled)' },
  {
    id: 'memory',
    title: 'Idle circuit: heap per circuit, timers held',
    target: { bytes: 256, text: '≤ 256 bytes, no timers (a circuit of a key or an object)' },
  },
  { id: 'policy-memory', title: 'Idle policies of other kinds, and the registry: heap per policy, timers held' },
  otelGroup,
];

/**
 * @typedef {object} Scenario
 * @property {string} id
 * @property {string} group
 * @property {string} library   'hand-written', 'staunch', or a peer's package name
 * @property {string} title
 * @property {string} [base]    the bare baseline (default 'bare')
 * @property {string} [reference]
 * @property {boolean} [targeted]   staunch rows the group's target applies to
 * @property {string[]} [companions]   more scenarios measured in this one's processes, interleaved
 * @property {string} [measuredIn]   the scenario whose processes measure this one (as a companion)
 * @property {boolean} [redis]   needs redis-server (each such child starts its own)
 * @property {boolean} [cli]   needs redis-cli too (a Redis Cluster)
 * @property {() => Promise<import('./measure.mjs').Variant>} make
 */

/** @type {Scenario[]} */
export const scenarios = [
  // Baselines. Each also runs, as base or reference, inside the scenarios that need it.
  {
    id: 'bare',
    group: 'baselines',
    library: 'hand-written',
    title: 'bare `await fn()`',
    make: async () => value(work),
  },
  {
    id: 'loop',
    group: 'baselines',
    library: 'hand-written',
    title: 'try/await retry loop',
    make: async () => value(() => retryLoop(work, 3, 100)),
  },
  {
    id: 'breaker',
    group: 'baselines',
    library: 'hand-written',
    title: 'consecutive-failure breaker',
    make: async () => {
      const breaker = new HandBreaker(5, 10_000);
      return value(() => breaker.call(work));
    },
  },
  {
    id: 'trycatch',
    group: 'baselines',
    library: 'hand-written',
    title: 'try/await/catch with a fallback value',
    make: async () => value(() => tryCatchFallback(work, 0)),
  },
  {
    id: 'throw',
    group: 'baselines',
    library: 'hand-written',
    title: 'async fn throwing a prebuilt Error',
    make: async () => rejection(throwPrebuilt, (error) => error === prebuiltError),
  },
  {
    id: 'bare1000',
    group: 'baselines',
    library: 'hand-written',
    title: `${CONCURRENT} concurrent bare calls (per call)`,
    make: async () => concurrent(work),
  },
  {
    id: 'breaker1000',
    group: 'baselines',
    library: 'hand-written',
    title: `${CONCURRENT} concurrent via hand-written breaker (per call)`,
    base: 'bare1000',
    make: async () => {
      const breaker = new HandBreaker(5, 10_000);
      return concurrent(() => breaker.call(work));
    },
  },

  // Retry with a budget, happy path: the same @Retry plus a deposit per call.
  {
    id: 'budget-decorated',
    group: 'budget',
    library: 'staunch',
    title: '`@Retry({ times: 3, interval: 100, budget })`',
    reference: 'retry-decorated',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return value(() => service.retriedWithBudget());
    },
  },
  {
    id: 'budget-policy',
    group: 'budget',
    library: 'staunch',
    title: '`retryPolicy({ …, budget }).execute(fn)`',
    reference: 'retry-policy',
    targeted: true,
    make: async () => {
      const { retryPolicy, retryBudget } = await core();
      const policy = retryPolicy({ times: 3, interval: 100, budget: retryBudget() });
      return value(() => policy.execute(work));
    },
  },

  // Hedge, first attempt wins within the microtask checkpoint: no timer is armed.
  {
    id: 'hedge-decorated',
    group: 'hedge',
    library: 'staunch',
    title: '`@Hedge({ delay: 100 })`',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return value(() => service.hedged());
    },
  },
  {
    id: 'hedge-policy',
    group: 'hedge',
    library: 'staunch',
    title: '`hedgePolicy({ delay: 100 }).execute(fn)`',
    targeted: true,
    make: async () => {
      const policy = (await core()).hedgePolicy({ delay: 100 });
      return value(() => policy.execute(work));
    },
  },

  // Retry, happy path.
  {
    id: 'retry-fn',
    group: 'retry',
    library: 'staunch',
    title: '`retry(fn, { times: 3, interval: 100 })`',
    reference: 'loop',
    targeted: true,
    make: async () => {
      const { retry } = await core();
      return value(() => retry(work, { times: 3, interval: 100 }));
    },
  },
  {
    id: 'retry-policy',
    group: 'retry',
    library: 'staunch',
    title: '`retryPolicy(…).execute(fn)`',
    reference: 'loop',
    targeted: true,
    make: async () => {
      const policy = (await core()).retryPolicy({ times: 3, interval: 100 });
      return value(() => policy.execute(work));
    },
  },
  {
    id: 'retry-decorated',
    group: 'retry',
    library: 'staunch',
    title: '`@Retry({ times: 3, interval: 100 })`',
    reference: 'loop',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return value(() => service.retried());
    },
  },
  {
    id: 'cockatiel-retry',
    group: 'retry',
    library: 'cockatiel',
    title: '`retry(handleAll, { maxAttempts: 2 }).execute(fn)`',
    reference: 'loop',
    make: async () => {
      const policy = cockatielRetry(await cockatiel());
      return value(() => policy.execute(work));
    },
  },
  {
    id: 'cockatiel-decorated',
    group: 'retry',
    library: 'cockatiel',
    title: '`@usePolicy(retry)` (legacy decorator)',
    reference: 'loop',
    make: async () => {
      const { Service } = await import(join(outDir, 'cockatiel.mjs'));
      const service = new Service();
      let note = 'compiled with experimentalDecorators';
      try {
        await import(join(outDir, 'cockatielStage3.mjs'));
        note += '; it also loaded as a Stage-3 decorator';
      } catch (error) {
        note += `; as a Stage-3 decorator it throws at class definition (${error.constructor.name}: ${error.message})`;
      }
      return { ...value(() => service.retried()), note };
    },
  },
  {
    id: 'p-retry',
    group: 'retry',
    library: 'p-retry',
    title: '`pRetry(fn, { retries: 2 })`',
    reference: 'loop',
    make: async () => {
      const { default: pRetry } = await import('p-retry');
      const options = { retries: 2, minTimeout: 100 };
      return value(() => pRetry(work, options));
    },
  },
  {
    id: 'async-retry',
    group: 'retry',
    library: 'async-retry',
    title: '`retry(fn, { retries: 2 })`',
    reference: 'loop',
    make: async () => {
      const { default: asyncRetry } = await import('async-retry');
      return value(() => asyncRetry(work, { retries: 2, minTimeout: 100 }));
    },
  },

  // Circuit breaker, happy path.
  {
    id: 'breaker-fn',
    group: 'breaker',
    library: 'staunch',
    title: '`circuitBreaker(…).execute(fn)`',
    reference: 'breaker',
    targeted: true,
    make: async () => {
      const breaker = (await core()).circuitBreaker({ threshold: 5, resetTimeout: 10_000 });
      return value(() => breaker.execute(work));
    },
  },
  {
    id: 'breaker-decorated',
    group: 'breaker',
    library: 'staunch',
    title: '`@CircuitBreaker({ threshold: 5, resetTimeout: 10_000 })`',
    reference: 'breaker',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return value(() => service.guarded());
    },
  },
  {
    id: 'cockatiel-breaker',
    group: 'breaker',
    library: 'cockatiel',
    title: '`circuitBreaker(handleAll, ConsecutiveBreaker(5)).execute(fn)`',
    reference: 'breaker',
    make: async () => {
      const breaker = cockatielBreaker(await cockatiel());
      return value(() => breaker.execute(work));
    },
  },
  {
    id: 'opossum',
    group: 'breaker',
    library: 'opossum',
    title: '`new CircuitBreaker(fn).fire()` (default: 10 s timeout)',
    reference: 'breaker',
    make: async () => {
      const breaker = new (await opossum())(work);
      return value(() => breaker.fire());
    },
  },
  {
    id: 'opossum-no-timeout',
    group: 'breaker',
    library: 'opossum',
    title: '`new CircuitBreaker(fn, { timeout: false }).fire()`',
    reference: 'breaker',
    make: async () => {
      const breaker = new (await opossum())(work, { timeout: false });
      return value(() => breaker.fire());
    },
  },

  // Retry + breaker stacked.
  {
    id: 'stacked-decorated',
    group: 'stacked',
    library: 'staunch',
    title: '`@Retry` over `@CircuitBreaker` (one fused wrapper)',
    reference: 'loop',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return value(() => service.stacked());
    },
  },
  {
    id: 'stacked-fn',
    group: 'stacked',
    library: 'staunch',
    title: '`retryPolicy.execute(() => breaker.execute(fn))`',
    reference: 'loop',
    make: async () => {
      const { retryPolicy, circuitBreaker } = await core();
      const policy = retryPolicy({ times: 3, interval: 100 });
      const breaker = circuitBreaker({ threshold: 5, resetTimeout: 10_000 });
      const attempt = () => breaker.execute(work);
      return value(() => policy.execute(attempt));
    },
  },
  {
    id: 'cockatiel-wrap',
    group: 'stacked',
    library: 'cockatiel',
    title: '`wrap(retry, breaker).execute(fn)`',
    reference: 'loop',
    make: async () => {
      const c = await cockatiel();
      const policy = c.wrap(cockatielRetry(c), cockatielBreaker(c));
      return value(() => policy.execute(work));
    },
  },

  // The five toolkit policies stacked in the recommended order (README "Stacking order").
  {
    id: 'toolkit-decorated',
    group: 'toolkit',
    library: 'staunch',
    title:
      '`@Fallback(0)` > `@Retry` > `@CircuitBreaker` > `@Bulkhead({ limit: 10 })` > `@Timeout(1_000)` (one fused wrapper)',
    reference: 'loop',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return value(() => service.toolkit());
    },
  },
  {
    id: 'cockatiel-toolkit',
    group: 'toolkit',
    library: 'cockatiel',
    title: '`wrap(fallback, retry, breaker, bulkhead(10), timeout(1_000)).execute(fn)`',
    reference: 'loop',
    make: async () => {
      const c = await cockatiel();
      const policy = c.wrap(
        c.fallback(c.handleAll, 0),
        cockatielRetry(c),
        cockatielBreaker(c),
        c.bulkhead(10),
        c.timeout(1_000, c.TimeoutStrategy.Cooperative),
      );
      return value(() => policy.execute(work));
    },
  },

  // Fallback, happy path: the call succeeds, so the fallback is never used.
  {
    id: 'fallback-decorated',
    group: 'fallback',
    library: 'staunch',
    title: '`@Fallback(0)`',
    reference: 'trycatch',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return value(() => service.withFallback());
    },
  },
  {
    id: 'fallback-policy',
    group: 'fallback',
    library: 'staunch',
    title: '`fallbackPolicy(0).execute(fn)`',
    reference: 'trycatch',
    targeted: true,
    make: async () => {
      const policy = (await core()).fallbackPolicy(0);
      return value(() => policy.execute(work));
    },
  },
  {
    id: 'cockatiel-fallback',
    group: 'fallback',
    library: 'cockatiel',
    title: '`fallback(handleAll, 0).execute(fn)`',
    reference: 'trycatch',
    make: async () => {
      const c = await cockatiel();
      const policy = c.fallback(c.handleAll, 0);
      return value(() => policy.execute(work));
    },
  },

  // Attempt timeout, happy path.
  {
    id: 'backoff-fn',
    group: 'timeout',
    library: 'staunch',
    title: '`asyncBackoffPolicy({ attemptTimeout: 1_000 }).execute(fn)`',
    reference: 'loop',
    targeted: true,
    make: async () => {
      const policy = (await core()).asyncBackoffPolicy({ attemptTimeout: 1_000 });
      return value(() => policy.execute(work));
    },
  },
  {
    id: 'backoff-oneshot',
    group: 'timeout',
    library: 'staunch',
    title: '`asyncBackoff(fn, { attemptTimeout: 1_000 })` (one-shot)',
    reference: 'loop',
    targeted: true,
    target: { base: true, max: 6, text: '≤ 6x bare await' },
    make: async () => {
      const { asyncBackoff } = await core();
      return value(() => asyncBackoff(work, { attemptTimeout: 1_000 }));
    },
  },
  {
    id: 'backoff-decorated',
    group: 'timeout',
    library: 'staunch',
    title: '`@AsyncBackoff({ attemptTimeout: 1_000 })`',
    reference: 'loop',
    targeted: true,
    target: { base: true, max: 5, text: '≤ 5x bare await' },
    make: async () => {
      const service = await decorated();
      return value(() => service.bounded());
    },
  },
  {
    id: 'timeout-fn',
    group: 'timeout',
    library: 'staunch',
    title: '`timeoutPolicy(1_000).execute(fn)`',
    reference: 'loop',
    targeted: true,
    make: async () => {
      const policy = (await core()).timeoutPolicy(1_000);
      return value(() => policy.execute(work));
    },
  },
  {
    id: 'timeout-decorated',
    group: 'timeout',
    library: 'staunch',
    title: '`@Timeout(1_000)`',
    reference: 'loop',
    targeted: true,
    target: { base: true, max: 3, text: '≤ 3x bare await' },
    make: async () => {
      const service = await decorated();
      return value(() => service.timed());
    },
  },
  {
    id: 'cockatiel-timeout',
    group: 'timeout',
    library: 'cockatiel',
    title: '`timeout(1_000, Cooperative).execute(fn)`',
    reference: 'loop',
    make: async () => {
      const c = await cockatiel();
      const policy = c.timeout(1_000, c.TimeoutStrategy.Cooperative);
      return value(() => policy.execute(work));
    },
  },
  {
    id: 'opossum-timeout',
    group: 'timeout',
    library: 'opossum',
    title: '`new CircuitBreaker(fn, { timeout: 1_000 }).fire()`',
    reference: 'loop',
    make: async () => {
      const breaker = new (await opossum())(work, { timeout: 1_000 });
      return value(() => breaker.fire());
    },
  },

  // Open-circuit rejection.
  {
    id: 'open-fn',
    group: 'open',
    library: 'staunch',
    title: '`circuitBreaker(…).execute(fn)` while open',
    reference: 'throw',
    targeted: true,
    make: async () => {
      const { circuitBreaker, CircuitOpenError } = await core();
      const breaker = circuitBreaker({ threshold: 3, resetTimeout: 600_000 });
      await trip(() => breaker.execute(throwPrebuilt), 3);
      return rejection(() => breaker.execute(work), isInstance(CircuitOpenError));
    },
  },
  {
    id: 'open-decorated',
    group: 'open',
    library: 'staunch',
    title: '`@CircuitBreaker` method while open',
    reference: 'throw',
    targeted: true,
    make: async () => {
      const { CircuitOpenError } = await core();
      const service = await decorated();
      await trip(() => service.broken(), 3);
      return rejection(() => service.broken(), isInstance(CircuitOpenError));
    },
  },
  {
    id: 'cockatiel-open',
    group: 'open',
    library: 'cockatiel',
    title: '`circuitBreaker(…).execute(fn)` while open',
    reference: 'throw',
    make: async () => {
      const c = await cockatiel();
      const breaker = cockatielBreaker(c);
      await trip(() => breaker.execute(throwPrebuilt), 5);
      return rejection(() => breaker.execute(work), isInstance(c.BrokenCircuitError));
    },
  },
  {
    id: 'opossum-open',
    group: 'open',
    library: 'opossum',
    title: '`fire()` while open',
    reference: 'throw',
    make: async () => {
      const breaker = new (await opossum())(throwPrebuilt, { timeout: false, resetTimeout: 600_000 });
      await trip(() => breaker.fire(), 5);
      if (!breaker.opened) throw new Error('opossum breaker did not open');
      return rejection(
        () => breaker.fire(),
        (error) => error instanceof Error && error.code === 'EOPENBREAKER',
      );
    },
  },

  // Rate limit, admitted call: a limit no run exhausts (a billion per second), so every call runs.
  {
    id: 'bucket',
    group: 'baselines',
    library: 'hand-written',
    title: 'token bucket, refilled from the clock on each call',
    make: async () => {
      const bucket = new HandBucket(1e9, 1000);
      return value(() => bucket.call(work));
    },
  },
  {
    id: 'ratelimit-decorated',
    group: 'ratelimit',
    library: 'staunch',
    title: '`@RateLimit({ permits: 1e9, per: 1000 })`',
    reference: 'bucket',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return value(() => service.rateLimited());
    },
  },
  {
    id: 'ratelimit-policy',
    group: 'ratelimit',
    library: 'staunch',
    title: '`rateLimitPolicy({ permits: 1e9, per: 1000 }).execute(fn)`',
    reference: 'bucket',
    targeted: true,
    make: async () => {
      const policy = (await core()).rateLimitPolicy({ permits: 1e9, per: 1000 });
      return value(() => policy.execute(work));
    },
  },
  // The same limiter with its permits on a real redis-server, against itself in memory (same process, same rounds).
  {
    id: 'ratelimit-memory',
    group: 'ratelimit-redis',
    library: 'staunch',
    title: '`rateLimitPolicy({ permits: 1e9, per: 1000 })`, in memory (more than it can exhaust)',
    measuredIn: 'ratelimit-redis',
    make: async () => {
      const { memoryLimit } = await import('./redis-rate-limit.mjs');
      const policy = (await core()).rateLimitPolicy(memoryLimit);
      return value(() => policy.execute(work));
    },
  },
  {
    id: 'ratelimit-redis',
    group: 'ratelimit-redis',
    library: 'staunch',
    title: '`rateLimitPolicy({ permits: 1e6, per: 1000, store: redisRateLimitStore(client) })`',
    reference: 'ratelimit-memory',
    companions: ['ratelimit-memory'],
    redis: true,
    make: () => import('./redis-rate-limit.mjs').then((m) => m.redisRateLimited()),
  },

  // Bulkhead, happy path: sequential calls always find a free slot; 1,000 concurrent ones queue for 10 slots.
  {
    id: 'bulkhead-decorated',
    group: 'bulkhead',
    library: 'staunch',
    title: '`@Bulkhead({ limit: 10 })`',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return value(() => service.limited());
    },
  },
  {
    id: 'bulkhead-policy',
    group: 'bulkhead',
    library: 'staunch',
    title: '`bulkheadPolicy({ limit: 10 }).execute(fn)`',
    targeted: true,
    make: async () => {
      const policy = (await core()).bulkheadPolicy({ limit: 10 });
      return value(() => policy.execute(work));
    },
  },
  {
    id: 'cockatiel-bulkhead',
    group: 'bulkhead',
    library: 'cockatiel',
    title: '`bulkhead(10).execute(fn)`',
    make: async () => {
      const policy = (await cockatiel()).bulkhead(10);
      return value(() => policy.execute(work));
    },
  },
  {
    id: 'bulkhead-decorated-1000',
    group: 'bulkhead',
    library: 'staunch',
    title: `${CONCURRENT} concurrent, \`@Bulkhead({ limit: 10, queue: 1_000 })\` (per call)`,
    base: 'bare1000',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return concurrent(() => service.limitedQueued());
    },
  },
  {
    id: 'bulkhead-policy-1000',
    group: 'bulkhead',
    library: 'staunch',
    title: `${CONCURRENT} concurrent, \`bulkheadPolicy({ limit: 10, queue: 1_000 })\` (per call)`,
    base: 'bare1000',
    targeted: true,
    make: async () => {
      const policy = (await core()).bulkheadPolicy({ limit: 10, queue: CONCURRENT });
      return concurrent(() => policy.execute(work));
    },
  },
  {
    id: 'cockatiel-bulkhead-1000',
    group: 'bulkhead',
    library: 'cockatiel',
    title: `${CONCURRENT} concurrent, \`bulkhead(10, 1_000)\` (per call)`,
    base: 'bare1000',
    make: async () => {
      const policy = (await cockatiel()).bulkhead(10, CONCURRENT);
      return concurrent(() => policy.execute(work));
    },
  },

  // Adaptive limit (Vegas), against the same decorator with a fixed limit, measured in the same rounds.
  {
    id: 'adaptive-decorated',
    group: 'adaptive',
    library: 'staunch',
    title: "`@Bulkhead({ limit: adaptive({ algorithm: 'vegas' }) })`",
    reference: 'bulkhead-decorated',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return value(() => service.adaptive());
    },
  },
  {
    id: 'adaptive-decorated-1000',
    group: 'adaptive',
    library: 'staunch',
    title: `${CONCURRENT} concurrent, \`@Bulkhead({ limit: adaptive({ algorithm: 'vegas' }), queue: 1_000 })\` (per call)`,
    base: 'bare1000',
    reference: 'bulkhead-decorated-1000',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return concurrent(() => service.adaptiveQueued());
    },
  },

  // Many concurrent calls through one breaker.
  {
    id: 'concurrent-fn',
    group: 'concurrent',
    library: 'staunch',
    title: '`circuitBreaker(…).execute(fn)`',
    base: 'bare1000',
    reference: 'breaker1000',
    targeted: true,
    make: async () => {
      const breaker = (await core()).circuitBreaker({ threshold: 5, resetTimeout: 10_000 });
      return concurrent(() => breaker.execute(work));
    },
  },
  {
    id: 'concurrent-decorated',
    group: 'concurrent',
    library: 'staunch',
    title: '`@CircuitBreaker` method',
    base: 'bare1000',
    reference: 'breaker1000',
    targeted: true,
    make: async () => {
      const service = await decorated();
      return concurrent(() => service.guarded());
    },
  },
  {
    id: 'cockatiel-concurrent',
    group: 'concurrent',
    library: 'cockatiel',
    title: '`circuitBreaker(…).execute(fn)`',
    base: 'bare1000',
    reference: 'breaker1000',
    make: async () => {
      const breaker = cockatielBreaker(await cockatiel());
      return concurrent(() => breaker.execute(work));
    },
  },
  {
    id: 'opossum-concurrent',
    group: 'concurrent',
    library: 'opossum',
    title: '`fire()` (default: a 10 s timer per call)',
    base: 'bare1000',
    reference: 'breaker1000',
    make: async () => {
      const breaker = new (await opossum())(work);
      return concurrent(() => breaker.fire());
    },
  },

  // The closed-circuit hot path of a breaker with a store: none (the breaker's own snapshot), the
  // in-memory store, and @staunch/redis's (its local replica, synchronised with a real redis-server).
  // All three run interleaved in store-redis's processes, with the bare and hand-written baselines.
  {
    id: 'store-none',
    group: 'store',
    library: 'staunch',
    title: '`circuitBreaker(…).execute(fn)`, no store (its own snapshot)',
    reference: 'breaker',
    measuredIn: 'store-redis',
    make: async () => {
      const breaker = (await core()).circuitBreaker(storeBreakerOptions);
      return value(() => breaker.execute(work));
    },
  },
  {
    id: 'store-memory',
    group: 'store',
    library: 'staunch',
    title: '… with `store: memoryCircuitStore()`',
    reference: 'breaker',
    measuredIn: 'store-redis',
    make: async () => {
      const { circuitBreaker, memoryCircuitStore } = await core();
      const breaker = circuitBreaker({ ...storeBreakerOptions, store: memoryCircuitStore() });
      return value(() => breaker.execute(work));
    },
  },
  {
    id: 'store-redis',
    group: 'store',
    library: 'staunch',
    title: '… with `store: redisStore(client)` (`@staunch/redis`, closed)',
    reference: 'breaker',
    companions: ['store-none', 'store-memory'],
    redis: true,
    make: () => import('./redis.mjs').then((m) => m.redisHotPath(storeBreakerOptions)),
  },
  {
    id: 'staleness',
    group: 'staleness',
    library: 'staunch',
    title: '`redisStore(client)`, one redis-server',
    targeted: true,
    redis: true,
    staleness: (transitions) => import('./redis.mjs').then((m) => m.staleness(transitions)),
  },
  {
    id: 'staleness-cluster',
    group: 'staleness-cluster',
    library: 'staunch',
    title: '`redisStore(cluster)`, a Redis Cluster (sharded pub/sub)',
    targeted: true,
    redis: true,
    cli: true,
    staleness: (transitions) => import('./redis.mjs').then((m) => m.staleness(transitions, { cluster: true })),
  },
  // Recovery from a short pause with many circuits, a child process (and a redis-server) per size.
  ...[1_000, 10_000, 20_000].map((circuits) => ({
    id: `recovery-${circuits / 1000}k`,
    group: 'recovery',
    library: 'staunch',
    title: `${circuits.toLocaleString('en')} circuits`,
    targeted: true,
    redis: true,
    circuits,
    recovery: (count) => import('./redis-recovery.mjs').then((m) => m.recovery(count)),
  })),
  {
    id: 'redis-memory',
    group: 'redis-memory',
    library: 'staunch',
    title: '`redisStore(client, { idleTimeout: 6_000, window: 3_000 })`',
    redis: true,
    redisMemory: (count) => import('./redis-memory.mjs').then((m) => m.redisCircuitMemory(count)),
  },

  // Allocation per call of the main scenarios, from V8's sampling heap profiler.
  {
    id: 'allocations',
    group: 'allocations',
    library: 'all',
    allocations: (calls) => import('./allocations.mjs').then((m) => m.measureAllocations(calls)),
  },

  // Idle circuits: memory and timers, not time. `count` circuits of each kind.
  {
    id: 'memory-staunch',
    group: 'memory',
    library: 'staunch',
    targeted: true,
    memory: (count) => import('./memory.mjs').then((m) => m.staunchIdleCircuits(count)),
  },
  // One process each (see `staunchIdlePolicy`).
  ...['retry', 'bulkhead', 'rateLimit', 'bulkheadInstance', 'listing'].map((which) => ({
    id: `memory-${which}`,
    group: 'policy-memory',
    library: 'staunch',
    memory: (count) => import('./memory.mjs').then((m) => m.staunchIdlePolicy(which, count)),
  })),
  {
    id: 'memory-cockatiel',
    group: 'memory',
    library: 'cockatiel',
    memory: (count) => import('./memory.mjs').then((m) => m.cockatielIdleCircuits(count)),
  },
  {
    id: 'memory-opossum',
    group: 'memory',
    library: 'opossum',
    memory: (count) => import('./memory.mjs').then((m) => m.opossumIdleCircuits(count)),
  },
];

/** Looks a scenario up by id. */
scenarios.push(...otelScenarios);

export function scenario(id) {
  const found = scenarios.find((s) => s.id === id);
  if (found === undefined) throw new Error(`no scenario "${id}"`);
  return found;
}

// Fails a breaker `times` times, so it opens.
async function trip(call, times) {
  for (let i = 0; i < times; i++) {
    try {
      await call();
    } catch {
      // expected: these failures are what opens the circuit
    }
  }
}
