import {
  RateLimitedError,
  StaunchError,
  TimeoutError,
  attemptSignal,
  isRateLimitedError,
  memoryRateLimitStore,
  rateLimit,
  rateLimitPolicy,
  type RateLimitQueuedEvent,
  type RateLimitRejectedEvent,
  type RateLimitStore,
  type RateLimitStoreProvider,
} from '@staunch/core';
import { getEventListeners } from 'node:events';
import { VirtualClock } from '@staunch/core/testing';
import { track } from './policy-helpers';

/** Runs `count` calls through `policy` at the current time; returns their tracked outcomes. */
function burst(policy: ReturnType<typeof rateLimitPolicy>, count: number, clock: VirtualClock, signal?: AbortSignal) {
  return Array.from({ length: count }, (_, i) =>
    track(
      policy.execute(async () => i, signal),
      clock,
    ),
  );
}

describe('memoryRateLimitStore: token bucket (GCRA)', () => {
  it('gives `permits` at once, then one every per / permits ms, and says how long until the next', () => {
    const bucket = memoryRateLimitStore({ permits: 4, per: 1000 });
    expect([0, 0, 0, 0].map(() => bucket.acquire(0))).toEqual([0, 0, 0, 0]);
    expect(bucket.acquire(0)).toBe(250);
    expect(bucket.acquire(100)).toBe(150);
    expect(bucket.acquire(250)).toBe(0);
    expect(bucket.acquire(250)).toBe(250);
  });

  it('refills no more than its capacity however long it idles', () => {
    const bucket = memoryRateLimitStore({ permits: 3, per: 300 });
    bucket.acquire(0);
    expect(bucket.idle(50)).toBe(false);
    expect(bucket.idle(100)).toBe(true);
    const later = [0, 0, 0, 0].map(() => bucket.acquire(1_000_000));
    expect(later).toEqual([0, 0, 0, 100]);
  });
});

describe('memoryRateLimitStore: sliding window', () => {
  it('admits `permits` in any window of `per` ms, and the next when the oldest leaves it', () => {
    const window = memoryRateLimitStore({ permits: 2, per: 1000, algorithm: 'sliding-window' });
    expect(window.acquire(0)).toBe(0);
    expect(window.acquire(400)).toBe(0);
    expect(window.acquire(500)).toBe(500); // the admission at 0 leaves the window at 1000
    expect(window.acquire(1000)).toBe(0);
    expect(window.acquire(1300)).toBe(100); // the one at 400 leaves at 1400
    expect(window.idle(1999)).toBe(false);
    expect(window.idle(2000)).toBe(true);
  });

  it('unlike the token bucket, allows no second burst right after the first', () => {
    const bucket = memoryRateLimitStore({ permits: 2, per: 1000 });
    const window = memoryRateLimitStore({ permits: 2, per: 1000, algorithm: 'sliding-window' });
    for (const store of [bucket, window]) {
      store.acquire(0);
      store.acquire(0);
    }
    expect(bucket.acquire(500)).toBe(0); // one token back after 500 ms
    expect(window.acquire(500)).toBe(500);
  });

  it('rejects bad options, naming memoryRateLimitStore', () => {
    expect(() => memoryRateLimitStore({ permits: 0, per: 1 })).toThrow(
      'memoryRateLimitStore: `permits` must be an integer >= 1, got 0.',
    );
    expect(() => memoryRateLimitStore({ permits: 1, per: 0 })).toThrow(RangeError);
    expect(() => memoryRateLimitStore({ permits: 1, per: 1, algorithm: 'fixed' as never })).toThrow(
      "`algorithm` must be 'token-bucket' or 'sliding-window'",
    );
  });
});

describe('rateLimitPolicy', () => {
  it('admits `permits` calls at once and rejects the next with RateLimitedError carrying retryAfter', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 2, per: 1000, clock });
    const calls = burst(limiter, 3, clock);
    await clock.flush();
    expect(calls.map((c) => c.value)).toEqual([0, 1, undefined]);
    const error = calls[2]!.error as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toBeInstanceOf(StaunchError);
    expect(error).not.toBeInstanceOf(TimeoutError);
    expect(isRateLimitedError(error)).toBe(true);
    expect(error).toMatchObject({
      code: 'STAUNCH_RATE_LIMITED',
      reason: 'limit',
      retryAfter: 500,
      permits: 2,
      per: 1000,
    });
    expect(error.message).toBe(
      'Rate limit reached (2 per 1000 ms): the call was rejected without running. Retry after 500 ms.',
    );
    expect(limiter.statistics).toEqual({ calls: 3, admitted: 2, rejected: 1, aborted: 0, queued: 0 });
    expect(clock.pending).toBe(0);
  });

  it('holds no timer while idle: permits come back from the clock alone', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 1, per: 100, clock });
    await limiter.execute(async () => 'a');
    expect(clock.pending).toBe(0);
    await clock.advance(100);
    await expect(limiter.execute(async () => 'b')).resolves.toBe('b');
    expect(clock.pending).toBe(0);
  });

  it('queues calls over the limit in arrival order and admits each when its permit frees', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 2, per: 1000, queue: 3, clock });
    const calls = burst(limiter, 5, clock);
    await clock.flush();
    expect(calls.map((c) => c.settled)).toEqual([true, true, false, false, false]);
    expect(limiter.statistics.queued).toBe(3);
    expect(clock.pending).toBe(1); // one timer for the whole queue
    await clock.advance(500);
    expect(calls.map((c) => c.settled)).toEqual([true, true, true, false, false]);
    await clock.advance(1000);
    expect(calls.map((c) => c.at)).toEqual([0, 0, 500, 1000, 1500]);
    expect(calls.map((c) => c.value)).toEqual([0, 1, 2, 3, 4]);
    expect(clock.pending).toBe(0);
  });

  it("rejects with reason 'full' when the queue holds `queue` calls, with the time until the next permit", async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 1, per: 1000, queue: 1, clock });
    const calls = burst(limiter, 3, clock);
    await clock.advance(200);
    expect(calls[2]!.error).toMatchObject({ reason: 'full', retryAfter: 1000 });
    expect((calls[2]!.error as Error).message).toContain('and its queue is full');
    await clock.runAll();
    expect(calls[1]!.at).toBe(1000);
  });

  it("rejects a waiting call with reason 'maxWait' once it has waited maxWait ms", async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 1, per: 1000, queue: 5, maxWait: 300, clock });
    const calls = burst(limiter, 2, clock);
    await clock.advance(299);
    expect(calls[1]!.settled).toBe(false);
    await clock.advance(1);
    expect(calls[1]!.error).toMatchObject({ reason: 'maxWait', retryAfter: 700 });
    expect((calls[1]!.error as Error).message).toContain('raise `maxWait`');
    expect(clock.pending).toBe(0);
  });

  it('admits a waiting call whose permit frees exactly at its maxWait', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 1, per: 300, queue: 1, maxWait: 300, clock });
    const calls = burst(limiter, 2, clock);
    await clock.advance(300);
    expect(calls[1]).toMatchObject({ value: 1, at: 300 });
  });

  it("with maxWait 0 rejects at once (reason 'limit') instead of queueing", async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 1, per: 1000, queue: 5, maxWait: 0, clock });
    const calls = burst(limiter, 2, clock);
    await clock.flush();
    expect(calls[1]!.error).toMatchObject({ reason: 'limit' });
    expect(limiter.statistics.queued).toBe(0);
  });

  it('a caller abort while queued removes the call at once; the call behind it moves up', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 1, per: 1000, queue: 5, clock });
    const controller = new AbortController();
    const first = track(
      limiter.execute(async () => 'first'),
      clock,
    );
    const aborted = track(
      limiter.execute(async () => 'never', controller.signal),
      clock,
    );
    const third = track(
      limiter.execute(async () => 'third'),
      clock,
    );
    controller.abort(new Error('gone'));
    await clock.flush();
    expect(aborted.error).toEqual(new Error('gone'));
    expect(limiter.statistics).toMatchObject({ queued: 1, aborted: 1 });
    await clock.advance(1000);
    expect(first.value).toBe('first');
    expect(third).toMatchObject({ value: 'third', at: 1000 });
  });

  it('drops the queue timer when the last waiting call leaves', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 1, per: 1000, queue: 5, clock });
    const controller = new AbortController();
    await limiter.execute(async () => 'first');
    const waiting = track(
      limiter.execute(async () => 'never', controller.signal),
      clock,
    );
    expect(clock.pending).toBe(1);
    controller.abort('stop');
    await clock.flush();
    expect(waiting.error).toBe('stop');
    expect(clock.pending).toBe(0);
    expect(limiter.idle).toBe(false); // the permit it took is still out
    await clock.advance(1000);
    expect(limiter.idle).toBe(true);
  });

  it('leaves nothing behind: no listener on the signal, no timer, once every waiting call has left (admitted, timed out or aborted)', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 1, per: 100, queue: 10, maxWait: 250, clock });
    const controller = new AbortController();
    const { signal } = controller;
    const calls = burst(limiter, 6, clock, signal); // one runs, five wait on the one signal
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    await clock.advance(200); // two more admitted
    const aborter = new AbortController();
    const aborted = track(
      limiter.execute(async () => 'never', aborter.signal),
      clock,
    );
    aborter.abort('gone');
    await clock.advance(100); // the rest time out at 250
    expect(calls.map((c) => c.settled)).toEqual([true, true, true, true, true, true]);
    expect(aborted.error).toBe('gone');
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(aborter.signal, 'abort')).toHaveLength(0);
    expect(clock.pending).toBe(0);
    expect(limiter.statistics).toEqual({ calls: 7, admitted: 3, rejected: 3, aborted: 1, queued: 0 });
  });

  it('rejects an already-aborted call without taking a permit', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 1, per: 1000, clock });
    await expect(limiter.execute(async () => 'x', AbortSignal.abort('before'))).rejects.toBe('before');
    await expect(limiter.execute(async () => 'y')).resolves.toBe('y');
    expect(limiter.statistics).toMatchObject({ calls: 2, admitted: 1, aborted: 1 });
  });

  it('passes errors through, sync throws included, and the attempt signal outside any attempt', async () => {
    const limiter = rateLimitPolicy({ permits: 5 });
    await expect(
      limiter.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(limiter.execute(async () => Promise.reject(new Error('async')))).rejects.toThrow('async');
    await expect(limiter.execute(() => attemptSignal().aborted)).resolves.toBe(false);
    await expect(limiter.execute(() => 7)).resolves.toBe(7);
  });

  it("emits 'queued' and 'rejected'", async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 1, per: 100, queue: 1, clock });
    const queued: RateLimitQueuedEvent[] = [];
    const rejected: RateLimitRejectedEvent[] = [];
    limiter.on('queued', (event) => queued.push(event));
    limiter.on('rejected', (event) => rejected.push(event));
    burst(limiter, 3, clock);
    await clock.runAll();
    expect(queued).toEqual([{ queued: 1 }]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBe('full');
    expect(rejected[0]!.error).toBeInstanceOf(RateLimitedError);
  });

  it('uses the sliding window when asked: no admission before the oldest leaves the window', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimitPolicy({ permits: 2, per: 1000, algorithm: 'sliding-window', queue: 10, clock });
    const calls = burst(limiter, 4, clock);
    await clock.runAll();
    expect(calls.map((c) => c.at)).toEqual([0, 0, 1000, 1000]);
  });

  it('rateLimit(fn) keeps `this` and the arguments, and shares one limit across calls', async () => {
    const clock = new VirtualClock();
    const add = rateLimit(
      function (this: { base: number }, n: number) {
        return this.base + n;
      },
      { permits: 1, per: 1000, clock },
    );
    await expect(add.call({ base: 1 }, 2)).resolves.toBe(3);
    await expect(add.call({ base: 1 }, 2)).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('validates every option, naming rateLimit and the option', () => {
    expect(() => rateLimitPolicy({ permits: 1.5 })).toThrow('rateLimit: `permits` must be an integer >= 1, got 1.5.');
    expect(() => rateLimitPolicy({} as never)).toThrow('rateLimit: `permits` must be a number, got undefined.');
    expect(() => rateLimitPolicy({ permits: 1, per: Infinity })).toThrow(
      'rateLimit: `per` must be a finite number of ms > 0, got Infinity.',
    );
    expect(() => rateLimitPolicy({ permits: 1, queue: -1 })).toThrow('`queue` must be an integer >= 0 (or Infinity)');
    expect(() => rateLimitPolicy({ permits: 1, maxWait: -1 })).toThrow('`maxWait` must be a number >= 0');
    expect(() => rateLimitPolicy({ permits: 1, name: '' })).toThrow('`name` must be a non-empty string');
    expect(() => rateLimitPolicy({ permits: 1, store: {} as never })).toThrow(
      '`store` must be a RateLimitStoreProvider',
    );
    expect(() => rateLimitPolicy({ permits: 1, clock: {} as never })).toThrow('`clock` must be a Clock');
    expect(() => rateLimit('x' as never, { permits: 1 })).toThrow('rateLimit: `fn` must be a function');
  });

  it('freezes its resolved options, with the defaults filled in', () => {
    const limiter = rateLimitPolicy({ permits: 3 });
    expect(limiter.options).toEqual({
      permits: 3,
      per: 1000,
      algorithm: 'token-bucket',
      queue: 0,
      maxWait: Infinity,
      store: undefined,
      name: 'rate-limit',
      clock: undefined,
    });
    expect(Object.isFrozen(limiter.options)).toBe(true);
    expect(limiter.kind).toBe('rateLimit');
  });
});

describe('rateLimitPolicy with a store', () => {
  it('asks the provider once for the store of its name, and takes its permits there', async () => {
    const clock = new VirtualClock();
    const asked: string[] = [];
    const shared = memoryRateLimitStore({ permits: 1, per: 1000 });
    const provider: RateLimitStoreProvider = {
      rateLimit(name) {
        asked.push(name);
        return shared;
      },
    };
    const a = rateLimitPolicy({ permits: 1, per: 1000, store: provider, name: 'api', clock });
    const b = rateLimitPolicy({ permits: 1, per: 1000, store: provider, name: 'api', clock });
    await expect(a.execute(async () => 'a')).resolves.toBe('a');
    await expect(b.execute(async () => 'b')).rejects.toBeInstanceOf(RateLimitedError);
    expect(asked).toEqual(['api', 'api']);
  });

  /** A store answering one promise job later, as a shared store does; `answers` counts the questions. */
  function asyncStore(permits: number, per: number) {
    const inner = memoryRateLimitStore({ permits, per });
    const counts = { asked: 0 };
    const store: RateLimitStore = {
      acquire: (now) => {
        counts.asked++;
        return Promise.resolve(inner.acquire(now));
      },
      idle: (now) => inner.idle(now),
    };
    return { provider: { rateLimit: () => store }, counts };
  }

  it('with an asynchronous store: admits, queues and rejects on its answers, one timer for the queue', async () => {
    const clock = new VirtualClock();
    const { provider, counts } = asyncStore(1, 100);
    const limiter = rateLimitPolicy({ permits: 1, per: 100, queue: 2, store: provider, clock });
    const calls = burst(limiter, 4, clock);
    await clock.flush();
    expect(calls.map((c) => c.settled)).toEqual([true, false, false, true]);
    expect(calls[3]!.error).toMatchObject({ reason: 'full' });
    expect(clock.pending).toBe(1);
    await clock.runAll();
    expect(calls.map((c) => c.at)).toEqual([0, 100, 200, 0]);
    // 4 arrivals; at 100 one for the head (admitted) and one for the next (refused: the timer); at 200 one.
    expect(counts.asked).toBe(7);
    expect(limiter.idle).toBe(false);
    await clock.advance(100);
    expect(limiter.idle).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('with an asynchronous store: a call aborted while the store is asked rejects with its reason', async () => {
    const { provider } = asyncStore(5, 100);
    const limiter = rateLimitPolicy({ permits: 5, per: 100, store: provider });
    const controller = new AbortController();
    const call = limiter.execute(async () => 'ran', controller.signal);
    controller.abort('late');
    await expect(call).rejects.toBe('late');
    expect(limiter.statistics).toMatchObject({ admitted: 0, aborted: 1 });
  });

  it('a store that rejects (against its contract) rejects the call with its error', async () => {
    const broken: RateLimitStore = { acquire: () => Promise.reject(new Error('store down')), idle: () => true };
    const limiter = rateLimitPolicy({ permits: 1, store: { rateLimit: () => broken } });
    await expect(limiter.execute(async () => 'x')).rejects.toThrow('store down');
    expect(limiter.idle).toBe(true);
  });
});
