import {
  RetryPolicy,
  bulkheadPolicy,
  circuitBreaker,
  circuitBreakerFactory,
  fallbackPolicy,
  hedgePolicy,
  livePolicies,
  rateLimitPolicy,
  policyHealth,
  registerPolicy,
  retry,
  retryPolicy,
  timeoutPolicy,
  watchPolicies,
  type LivePolicy,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { collectGarbage } from './gc';

const rowOf = (policy: object): LivePolicy | undefined => livePolicies().find((row) => row.policy === policy);

describe('livePolicies', () => {
  it('lists a circuit made by circuitBreaker() with its name, state, health and statistics', async () => {
    const clock = new VirtualClock();
    const payments = circuitBreaker({ name: 'payments', threshold: 1, resetTimeout: 1_000, clock });
    await payments.execute(async () => 'ok');
    expect(rowOf(payments)).toEqual({
      kind: 'circuitBreaker',
      name: 'payments',
      class: undefined,
      method: undefined,
      scope: 'standalone',
      key: undefined,
      count: 1,
      state: 'closed',
      states: { closed: 1 },
      health: 'up',
      statistics: expect.objectContaining({ calls: 1, successes: 1, rejections: 0 }),
      policy: payments,
    });
    await payments.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(rowOf(payments)).toEqual(expect.objectContaining({ state: 'open', health: 'down' }));
    await clock.advance(1_000);
    expect(rowOf(payments)).toEqual(expect.objectContaining({ state: 'half-open', health: 'degraded' }));
    payments.isolate();
    expect(rowOf(payments)).toEqual(expect.objectContaining({ state: 'isolated', health: 'down' }));
  });

  it('lists the policies every factory makes, under their kind', () => {
    const made = [
      [retryPolicy(), 'retry'],
      [timeoutPolicy(100), 'timeout'],
      [fallbackPolicy(0), 'fallback'],
      [bulkheadPolicy(), 'bulkhead'],
      [rateLimitPolicy({ permits: 1 }), 'rateLimit'],
      [hedgePolicy(), 'hedge'],
    ] as const;
    for (const [policy, kind] of made) expect(rowOf(policy)?.kind).toBe(kind);
  });

  it('does not list one-shot calls, nor circuits of a factory, nor policies made with new until registered', async () => {
    const before = livePolicies().length;
    await retry(async () => 1);
    const perHost = circuitBreakerFactory({ name: 'http' })('http[a]');
    const search = new RetryPolicy({ times: 2 });
    expect(livePolicies()).toHaveLength(before);
    registerPolicy(search, 'retry', { name: 'search' });
    registerPolicy(perHost, 'circuitBreaker');
    expect(rowOf(search)).toEqual(expect.objectContaining({ kind: 'retry', name: 'search', scope: 'standalone' }));
    expect(rowOf(perHost)?.name).toBe('http[a]');
  });

  it('reads attempt counters without turning on timing (the lean path stays lean)', async () => {
    const clock = new VirtualClock();
    const policy = retryPolicy({ times: 2, interval: 0, clock });
    const tenMs = (): Promise<string> => clock.sleep(10).then(() => 'ok');
    await policy.execute(async () => 'ok');
    expect(rowOf(policy)?.statistics).toEqual({
      calls: 1,
      attempts: 1,
      successes: 1,
      failures: 0,
      errors: 0,
      timeouts: 0,
      budgetExhausted: 0,
    });
    const second = policy.execute(tenMs);
    await clock.advance(10);
    await second;
    // `statistics` turns timing on at its first read: had the registry read it, totalTime would count from then.
    expect(policy.statistics.totalTime).toBe(0);
  });

  it('says a bulkhead is rejecting when its slots and queue are full, and degraded for health', async () => {
    const bulkhead = bulkheadPolicy({ limit: 1, queue: 1 });
    let release!: () => void;
    const running = bulkhead.execute(() => new Promise<void>((resolve) => (release = resolve)));
    expect(rowOf(bulkhead)?.state).toBe('queueing');
    const waiting = bulkhead.execute(async () => undefined);
    expect(rowOf(bulkhead)).toEqual(expect.objectContaining({ state: 'rejecting', health: 'degraded' }));
    release();
    await Promise.all([running, waiting]);
    expect(rowOf(bulkhead)).toEqual(expect.objectContaining({ state: 'accepting', health: 'up' }));
  });

  it('says a rate limiter is queueing while calls wait for a permit, and rejecting (degraded) when its queue is full', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 1, per: 1_000, queue: 2, clock });
    const first = limiter.execute(async () => 1);
    expect(rowOf(limiter)).toEqual(expect.objectContaining({ kind: 'rateLimit', state: 'accepting', health: 'up' }));
    const second = limiter.execute(async () => 2);
    expect(rowOf(limiter)?.state).toBe('queueing');
    const third = limiter.execute(async () => 3);
    expect(rowOf(limiter)).toEqual(expect.objectContaining({ state: 'rejecting', health: 'degraded' }));
    await clock.advance(2_000);
    expect(await Promise.all([first, second, third])).toEqual([1, 2, 3]);
    expect(rowOf(limiter)).toEqual(
      expect.objectContaining({ state: 'accepting', statistics: expect.objectContaining({ admitted: 3 }) }),
    );
  });

  it('forgets a policy once it is collected: the registry holds it weakly', async () => {
    let policy: object | undefined = circuitBreaker({ name: 'ephemeral-circuit' });
    const ref = new WeakRef(policy);
    expect(livePolicies().some((row) => row.name === 'ephemeral-circuit')).toBe(true);
    policy = undefined;
    await collectGarbage();
    expect(ref.deref()).toBeUndefined();
    expect(livePolicies().some((row) => row.name === 'ephemeral-circuit')).toBe(false);
  });

  it('names one policy without naming the others of its kind', () => {
    const [named, unnamed] = [retryPolicy(), retryPolicy()];
    registerPolicy(named, 'retry', { name: 'named-retry' });
    expect(rowOf(named)?.name).toBe('named-retry');
    expect(rowOf(unnamed)?.name).toBeUndefined();
    expect(rowOf(retryPolicy())?.name).toBeUndefined();
  });

  it('lists each policy once when reading a state runs a listener that makes policies', async () => {
    // Entries of collected policies are waiting to be swept, and the listener makes enough to sweep them.
    for (let i = 0; i < 100; i++) circuitBreaker();
    await collectGarbage();
    const clock = new VirtualClock();
    const due = circuitBreaker({ name: 'due-for-trial', threshold: 1, resetTimeout: 1_000, clock });
    await due.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    const after = circuitBreaker({ name: 'listed-after-the-trial' });
    await clock.advance(1_000);
    const made: object[] = [];
    due.on('halfOpened', () => {
      for (let i = 0; i < 200; i++) made.push(circuitBreaker());
    });
    const rows = livePolicies(); // reading `due` moves it to half-open: the listener runs during the listing
    expect(made).toHaveLength(200);
    const listed = rows.map((row) => row.policy);
    expect(new Set(listed).size).toBe(listed.length);
    expect(rows.find((row) => row.policy === due)?.state).toBe('half-open');
    expect(listed).toContain(after);
    expect(livePolicies().filter((row) => made.includes(row.policy as object))).toHaveLength(200);
  });

  it('tells watchers of each policy made from then on, until stopped', () => {
    const seen: string[] = [];
    const stop = watchPolicies((row) => seen.push(`${row.kind}:${row.name ?? ''}`));
    circuitBreaker({ name: 'watched' });
    stop();
    circuitBreaker({ name: 'unwatched' });
    expect(seen).toEqual(['circuitBreaker:watched']);
  });
});

describe('policyHealth', () => {
  it('is the worst row: down while a circuit is open, listing the problems', () => {
    const healthy = circuitBreaker({ name: 'healthy' });
    const broken = circuitBreaker({ name: 'broken' });
    const isolation = broken.isolate();
    const health = policyHealth();
    expect(health.status).toBe('down');
    expect(health.problems.map((row) => row.policy)).toContain(broken);
    expect(health.problems.map((row) => row.policy)).not.toContain(healthy);
    isolation.release();
    expect(policyHealth().problems.map((row) => row.policy)).not.toContain(broken);
  });
});
