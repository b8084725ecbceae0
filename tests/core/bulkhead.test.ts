import {
  BulkheadRejectedError,
  StaunchError,
  TimeoutError,
  attemptSignal,
  bulkhead,
  bulkheadPolicy,
  isBulkheadRejectedError,
  type BulkheadQueuedEvent,
  type BulkheadRejectedEvent,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { admission, mayAdmitNext, WaitQueue, type QueueNode } from '../../packages/core/src/bulkhead-queue';
import { track } from './policy-helpers';

/** A call whose completion the test decides: `finish(value)` or `fail(error)`. */
function gate<T = string>() {
  let finish!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { promise, finish, fail, run: () => promise };
}

/** `count` gates and a log of which started, in order. */
function gates(count: number) {
  const started: number[] = [];
  const all = Array.from({ length: count }, () => gate<number>());
  const fn = (i: number) => () => {
    started.push(i);
    return all[i]!.promise;
  };
  return { all, started, fn };
}

describe('bulkhead rule (pure)', () => {
  it('runs a call when a slot is free and nobody waits', () => {
    expect(admission(2, 0, 3, 0, Infinity)).toBe('run');
  });

  it('queues behind waiting calls even when a slot is free (no overtaking)', () => {
    expect(admission(2, 1, 3, 5, Infinity)).toBe('wait');
  });

  it('rejects as full when every slot is taken and the queue holds `queue` calls', () => {
    expect(admission(3, 2, 3, 2, Infinity)).toBe('full');
    expect(admission(3, 0, 3, 0, Infinity)).toBe('full');
  });

  it('rejects at once for maxWait 0 instead of queueing', () => {
    expect(admission(3, 0, 3, 5, 0)).toBe('maxWait');
  });

  it('admits the head of the queue only when a slot is free and someone waits', () => {
    expect(mayAdmitNext(2, 1, 3)).toBe(true);
    expect(mayAdmitNext(3, 1, 3)).toBe(false);
    expect(mayAdmitNext(2, 0, 3)).toBe(false);
  });

  it('keeps the wait queue first in, first out, with removal from the middle', () => {
    const queue = new WaitQueue<QueueNode & { id: number }>();
    const nodes = [1, 2, 3, 4].map((id) => ({ id, next: undefined, previous: undefined }));
    for (const node of nodes) queue.push(node);
    expect(queue.remove(nodes[1]!)).toBe(true);
    expect(queue.remove(nodes[1]!)).toBe(false);
    expect([...queue].map((n) => n.id)).toEqual([1, 3, 4]);
    expect(queue.shift()?.id).toBe(1);
    expect(queue.remove(nodes[3]!)).toBe(true);
    expect(queue.size).toBe(1);
    expect(queue.shift()?.id).toBe(3);
    expect(queue.shift()).toBeUndefined();
    expect(queue.size).toBe(0);
  });
});

describe('bulkhead', () => {
  it('runs at most `limit` calls at once', async () => {
    const policy = bulkheadPolicy({ limit: 2, queue: 10 });
    const { all, started, fn } = gates(4);
    const results = all.map((_, i) => track(policy.execute(fn(i))));
    expect(started).toEqual([0, 1]);
    expect(policy.statistics).toMatchObject({ active: 2, queued: 2 });
    all[1]!.finish(1);
    await flush();
    expect(started).toEqual([0, 1, 2]);
    expect(results[1]).toMatchObject({ settled: true, value: 1 });
    expect(policy.statistics).toMatchObject({ active: 2, queued: 1 });
  });

  it('defaults to 10 calls at once and no queue', async () => {
    const policy = bulkheadPolicy();
    expect(policy.options).toMatchObject({ limit: 10, queue: 0, maxWait: Infinity });
    const { all, fn } = gates(11);
    const results = all.map((_, i) => track(policy.execute(fn(i))));
    await flush();
    expect(results[10]).toMatchObject({ rejected: true });
    expect((results[10]!.error as BulkheadRejectedError).reason).toBe('full');
    for (const g of all) g.finish(0);
  });

  it('admits waiting calls first in, first out', async () => {
    const policy = bulkheadPolicy({ limit: 1, queue: 3 });
    const { all, started, fn } = gates(4);
    all.forEach((_, i) => void policy.execute(fn(i)));
    for (const i of [0, 1, 2]) {
      all[i]!.finish(i);
      await flush();
    }
    expect(started).toEqual([0, 1, 2, 3]);
  });

  it('frees a slot when a call fails, and passes its error through unchanged', async () => {
    const policy = bulkheadPolicy({ limit: 1, queue: 1 });
    const boom = new Error('boom');
    const first = track(policy.execute(() => Promise.reject(boom)));
    const second = track(policy.execute(async () => 'second'));
    await flush();
    expect(first.error).toBe(boom);
    expect(second.value).toBe('second');
    expect(policy.idle).toBe(true);
  });

  it('frees a slot when a call throws synchronously, and admits the next in the same turn', async () => {
    const policy = bulkheadPolicy({ limit: 1, queue: 5 });
    const hold = gate();
    void policy.execute(hold.run);
    const thrown = new Error('sync');
    const throwers = [1, 2, 3].map(() =>
      track(
        policy.execute(() => {
          throw thrown;
        }),
      ),
    );
    const last = track(policy.execute(async () => 'last'));
    hold.finish('done');
    await flush();
    expect(throwers.every((t) => t.error === thrown)).toBe(true);
    expect(last.value).toBe('last');
    expect(policy.statistics).toMatchObject({ active: 0, queued: 0, admitted: 5 });
  });

  it('rejects at once with BulkheadRejectedError (reason "full") when the queue is full, without running', async () => {
    const policy = bulkheadPolicy({ limit: 1, queue: 1 });
    void policy.execute(gate().run);
    void policy.execute(gate().run);
    const fn = jest.fn(async () => 'never');
    const rejected = track(policy.execute(fn));
    await flush();
    expect(fn).not.toHaveBeenCalled();
    const error = rejected.error as BulkheadRejectedError;
    expect(error).toBeInstanceOf(BulkheadRejectedError);
    expect(error).toBeInstanceOf(StaunchError);
    expect(error).not.toBeInstanceOf(TimeoutError);
    expect(isBulkheadRejectedError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'STAUNCH_BULKHEAD_REJECTED', limit: 1, queue: 1, reason: 'full' });
    expect(error.message).toMatch(/Raise `limit` or `queue`/);
    expect(policy.statistics).toMatchObject({ calls: 3, rejected: 1, admitted: 1, queued: 1 });
  });

  it('rejects a waiting call (reason "maxWait") after `maxWait` ms, and runs the next one later', async () => {
    const clock = new VirtualClock();
    const policy = bulkheadPolicy({ limit: 1, queue: 2, maxWait: 100, clock });
    const hold = gate();
    void policy.execute(hold.run);
    const late = track(
      policy.execute(async () => 'late'),
      clock,
    );
    await clock.advance(99);
    expect(late.settled).toBe(false);
    await clock.advance(1);
    expect(late).toMatchObject({ rejected: true, at: 100 });
    expect(late.error).toMatchObject({ reason: 'maxWait', limit: 1, queue: 2 });
    expect((late.error as Error).message).toMatch(/waited 100 ms/);
    expect(clock.pending).toBe(0);
    expect(policy.statistics).toMatchObject({ rejected: 1, queued: 0, active: 1 });
  });

  it('cancels the maxWait timer of a call that got its slot in time', async () => {
    const clock = new VirtualClock();
    const policy = bulkheadPolicy({ limit: 1, queue: 1, maxWait: 100, clock });
    const hold = gate();
    void policy.execute(hold.run);
    const next = track(
      policy.execute(async () => 'next'),
      clock,
    );
    expect(clock.pending).toBe(1);
    await clock.advance(50);
    hold.finish('');
    await clock.advance(0);
    expect(next.value).toBe('next');
    expect(clock.pending).toBe(0);
  });

  it('arms no timer when maxWait is Infinity', () => {
    const clock = new VirtualClock();
    const policy = bulkheadPolicy({ limit: 1, queue: 1, clock });
    void policy.execute(gate().run);
    void policy.execute(gate().run);
    expect(clock.pending).toBe(0);
  });

  it('rejects a call that would wait at once when maxWait is 0', async () => {
    const clock = new VirtualClock();
    const policy = bulkheadPolicy({ limit: 1, queue: 1, maxWait: 0, clock });
    void policy.execute(gate().run);
    const result = track(policy.execute(async () => 1));
    await flush();
    expect(result.error).toMatchObject({ reason: 'maxWait' });
    expect(clock.pending).toBe(0);
  });

  it("removes a waiting call from the queue at once when its caller aborts, rejecting with the signal's reason", async () => {
    const clock = new VirtualClock();
    const policy = bulkheadPolicy({ limit: 1, queue: 2, maxWait: 1_000, clock });
    const hold = gate();
    void policy.execute(hold.run);
    const controller = new AbortController();
    const fn = jest.fn(async () => 'aborted one');
    const aborted = track(policy.execute(fn, controller.signal));
    const after = track(policy.execute(async () => 'after'));
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(policy.statistics).toMatchObject({ queued: 1, aborted: 1 });
    expect(clock.pending).toBe(1);
    await flush();
    expect(aborted.error).toBe(reason);
    hold.finish('');
    await flush();
    expect(fn).not.toHaveBeenCalled();
    expect(after.value).toBe('after');
  });

  it('rejects a call whose signal is already aborted, without queueing or running it', async () => {
    const policy = bulkheadPolicy({ limit: 1 });
    const fn = jest.fn(async () => 1);
    const result = track(policy.execute(fn, AbortSignal.abort('no')));
    await flush();
    expect(result.error).toBe('no');
    expect(fn).not.toHaveBeenCalled();
    expect(policy.statistics).toMatchObject({ calls: 1, aborted: 1, admitted: 0 });
  });

  it("leaves a running call to fn's own handling of its caller's abort", async () => {
    const policy = bulkheadPolicy({ limit: 1 });
    const controller = new AbortController();
    const hold = gate();
    const running = track(policy.execute(hold.run, controller.signal));
    controller.abort(new Error('too late'));
    await flush();
    expect(running.settled).toBe(false);
    expect(policy.statistics).toMatchObject({ active: 1, aborted: 0 });
    hold.finish('finished anyway');
    await flush();
    expect(running.value).toBe('finished anyway');
  });

  it('adds one abort listener to a signal shared by many waiting calls, and removes it', async () => {
    const policy = bulkheadPolicy({ limit: 1, queue: 50 });
    const hold = gate();
    void policy.execute(hold.run);
    const signal = new AbortController().signal;
    const add = jest.spyOn(signal, 'addEventListener');
    const remove = jest.spyOn(signal, 'removeEventListener');
    const calls = Array.from({ length: 20 }, () => policy.execute(async () => 1, signal));
    expect(add).toHaveBeenCalledTimes(1);
    hold.finish('');
    await Promise.all(calls);
    expect(remove).toHaveBeenCalledTimes(1);
  });

  it('rejects a signal that is no AbortSignal', async () => {
    const policy = bulkheadPolicy();
    await expect(policy.execute(async () => 1, 'nope' as unknown as AbortSignal)).rejects.toThrow(
      'bulkhead: `signal` must be an AbortSignal, got "nope".',
    );
  });

  it('lets attemptSignal() work inside the function', async () => {
    const policy = bulkheadPolicy({ limit: 1, queue: 1 });
    const hold = gate();
    void policy.execute(hold.run);
    const read = policy.execute(async () => attemptSignal().aborted);
    hold.finish('');
    await expect(read).resolves.toBe(false);
    await expect(policy.execute(async () => attemptSignal().aborted)).resolves.toBe(false);
  });

  it('always returns a promise, for a function that returns a value', async () => {
    const policy = bulkheadPolicy();
    const result = policy.execute(() => 5);
    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toBe(5);
    expect(policy.idle).toBe(true);
  });

  it('passes `this` and the arguments through `call`', async () => {
    const policy = bulkheadPolicy();
    const self = { base: 10 };
    await expect(
      policy.call(
        function (this: typeof self, a: number, b: number) {
          return Promise.resolve(this.base + a + b);
        },
        self,
        [1, 2],
      ),
    ).resolves.toBe(13);
  });

  it('bulkhead(fn) returns a function whose calls share one bulkhead', async () => {
    const { all, started, fn } = gates(3);
    const limited = bulkhead((i: number) => fn(i)(), { limit: 1, queue: 1 });
    const results = [0, 1, 2].map((i) => track(limited(i)));
    await flush();
    expect(started).toEqual([0]);
    expect(results[2]!.error).toBeInstanceOf(BulkheadRejectedError);
    all[0]!.finish(0);
    all[1]!.finish(1);
    await flush();
    expect(results[1]!.value).toBe(1);
  });

  it('emits `queued` and `rejected` events', async () => {
    const clock = new VirtualClock();
    const policy = bulkheadPolicy({ limit: 1, queue: 1, maxWait: 10, clock });
    const queued: BulkheadQueuedEvent[] = [];
    const rejected: BulkheadRejectedEvent[] = [];
    policy.on('queued', (e) => queued.push(e));
    policy.on('rejected', (e) => rejected.push(e));
    void policy.execute(gate().run);
    void policy.execute(gate().run).catch(() => undefined);
    void policy.execute(gate().run).catch(() => undefined);
    await clock.advance(10);
    expect(queued).toEqual([{ queued: 1 }]);
    expect(rejected.map((e) => e.reason)).toEqual(['full', 'maxWait']);
    expect(rejected[0]!.error).toBeInstanceOf(BulkheadRejectedError);
  });

  it('is idle exactly when nothing runs or waits', async () => {
    const policy = bulkheadPolicy({ limit: 1, queue: 1 });
    expect(policy.idle).toBe(true);
    const hold = gate();
    const a = policy.execute(hold.run);
    const b = policy.execute(async () => 1);
    expect(policy.idle).toBe(false);
    hold.finish('');
    await Promise.all([a, b]);
    expect(policy.idle).toBe(true);
  });

  it('gives a frozen statistics snapshot', () => {
    const statistics = bulkheadPolicy().statistics;
    expect(Object.isFrozen(statistics)).toBe(true);
    expect(statistics).toEqual({ calls: 0, admitted: 0, rejected: 0, aborted: 0, active: 0, queued: 0, limit: 10 });
  });

  it('accounts exactly for 10,000 concurrent calls', async () => {
    const clock = new VirtualClock();
    const policy = bulkheadPolicy({ limit: 100, queue: 5_000, maxWait: 50, clock });
    let running = 0;
    let peak = 0;
    const controller = new AbortController();
    const calls = Array.from({ length: 10_000 }, (_, i) =>
      track(
        policy.execute(
          async () => {
            running++;
            peak = Math.max(peak, running);
            await clock.sleep(1 + (i % 7));
            running--;
            return i;
          },
          i % 10 === 0 ? controller.signal : undefined,
        ),
      ),
    );
    expect(policy.statistics).toMatchObject({ calls: 10_000, active: 100, queued: 5_000, rejected: 4_900 });
    controller.abort('abort every tenth');
    await clock.runAll();
    await flush();
    const statistics = policy.statistics;
    expect(peak).toBe(100);
    expect(calls.every((c) => c.settled)).toBe(true);
    const resolved = calls.filter((c) => !c.rejected).length;
    expect(resolved).toBe(statistics.admitted);
    expect(statistics.admitted + statistics.rejected + statistics.aborted).toBe(10_000);
    expect(statistics.aborted).toBe(calls.filter((c) => c.error === 'abort every tenth').length);
    expect(statistics.rejected).toBe(calls.filter((c) => c.error instanceof BulkheadRejectedError).length);
    expect(statistics).toMatchObject({ active: 0, queued: 0 });
    expect(clock.pending).toBe(0);
  });
});

describe('bulkhead leaves nothing behind', () => {
  /** A bulkhead with one slot taken, a clock, and a signal whose listeners are counted. */
  function busy(maxWait: number) {
    const clock = new VirtualClock();
    const policy = bulkheadPolicy({ limit: 1, queue: 5, maxWait, clock });
    const hold = gate();
    void policy.execute(hold.run);
    const controller = new AbortController();
    const listeners = { added: 0, removed: 0 };
    const add = controller.signal.addEventListener.bind(controller.signal);
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.addEventListener = (...args: Parameters<AbortSignal['addEventListener']>) => {
      listeners.added++;
      add(...args);
    };
    controller.signal.removeEventListener = (...args: Parameters<AbortSignal['removeEventListener']>) => {
      listeners.removed++;
      remove(...args);
    };
    return { clock, policy, hold, controller, listeners };
  }

  it('after a waiting call got its slot: no timer, no listener, no queued entry', async () => {
    const { clock, policy, hold, controller, listeners } = busy(1_000);
    const waiting = policy.execute(async () => 'ran', controller.signal);
    expect({ pending: clock.pending, added: listeners.added }).toEqual({ pending: 1, added: 1 });
    hold.finish('');
    await expect(waiting).resolves.toBe('ran');
    expect({ pending: clock.pending, removed: listeners.removed, idle: policy.idle }).toEqual({
      pending: 0,
      removed: 1,
      idle: true,
    });
  });

  it('after maxWait passed: no timer, no listener, no queued entry', async () => {
    const { clock, policy, controller, listeners } = busy(100);
    const waiting = track(policy.execute(async () => 'never', controller.signal));
    await clock.advance(100);
    expect(waiting.error).toBeInstanceOf(BulkheadRejectedError);
    expect({ pending: clock.pending, removed: listeners.removed, queued: policy.statistics.queued }).toEqual({
      pending: 0,
      removed: 1,
      queued: 0,
    });
  });

  it('after its caller aborted: no timer, no listener, no queued entry', async () => {
    const { clock, policy, controller, listeners } = busy(100);
    const waiting = track(policy.execute(async () => 'never', controller.signal));
    controller.abort('stop');
    await flush();
    expect(waiting.error).toBe('stop');
    expect({ pending: clock.pending, removed: listeners.removed, queued: policy.statistics.queued }).toEqual({
      pending: 0,
      removed: 1,
      queued: 0,
    });
  });
});

describe('bulkhead options', () => {
  it.each([
    [{ limit: 0 }, 'bulkhead: `limit` must be an integer >= 1, got 0.'],
    [{ limit: 1.5 }, 'bulkhead: `limit` must be an integer >= 1, got 1.5.'],
    [{ limit: Infinity }, 'bulkhead: `limit` must be an integer >= 1, got Infinity.'],
    [{ queue: -1 }, 'bulkhead: `queue` must be an integer >= 0 (or Infinity), got -1.'],
    [{ maxWait: -1 }, 'bulkhead: `maxWait` must be a number >= 0, got -1.'],
    [{ maxWait: '5' }, 'bulkhead: `maxWait` must be a number, got "5".'],
    [{ clock: {} }, 'bulkhead: `clock` must be a Clock (now, sleep, schedule, cancel), got an object.'],
  ])('rejects %p at creation', (options, message) => {
    expect(() => bulkheadPolicy(options as never)).toThrow(message);
  });

  it('accepts an unbounded queue', () => {
    expect(bulkheadPolicy({ queue: Infinity }).options.queue).toBe(Infinity);
  });
});

function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
