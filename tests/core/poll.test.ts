import { poll, pollPolicy, PollTimeoutError, linearBackoff } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, outcome, scripted } from './policy-helpers';

describe('poll', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it('calls fn at once and resolves with the value when `until(value)` is truthy', async () => {
    const { fn, calls } = scripted(clock, [{ value: 'done' }]);
    const result = await outcome(
      clock,
      poll(fn, (value) => value === 'done', { clock }),
    );
    expect(result.value).toBe('done');
    expect(calls).toEqual([0]);
  });

  it('sleeps `interval` between calls until the predicate holds', async () => {
    const { fn, calls } = scripted(clock, [{ value: 1 }, { value: 2 }, { value: 3 }]);
    const result = await outcome(
      clock,
      poll(fn, (value) => value === 3, { interval: 250, clock }),
    );
    expect(result.value).toBe(3);
    expect(calls).toEqual([0, 250, 500]);
  });

  it('awaits an async predicate', async () => {
    const { fn, calls } = scripted(clock, [{ value: 1 }, { value: 2 }]);
    const result = await outcome(
      clock,
      poll(fn, async (value) => value === 2, { interval: 10, clock }),
    );
    expect(result.value).toBe(2);
    expect(calls).toEqual([0, 10]);
  });

  it('rejects with PollTimeoutError once the time since the start is greater than `timeout` after a sleep', async () => {
    const { fn, calls } = scripted(clock, [{ value: 'pending' }]);
    const result = await outcome(
      clock,
      poll(fn, () => false, { timeout: 3_000, interval: 1_000, clock }),
    );
    // Calls at 0, 1000, 2000, 3000 (3000 is not > 3000), then the sleep to 4000 ends it.
    expect(calls).toEqual([0, 1_000, 2_000, 3_000]);
    expect(result.at).toBe(4_000);
    expect(result.error).toBeInstanceOf(PollTimeoutError);
    expect(result.error).toMatchObject({
      timeout: 3_000,
      attempts: 4,
      lastValue: 'pending',
      code: 'STAUNCH_POLL_TIMEOUT',
    });
  });

  it('defaults to a 15,000 ms timeout and a 1,000 ms interval', async () => {
    const { fn, calls } = scripted(clock, [{ value: 0 }]);
    const result = await outcome(
      clock,
      poll(fn, () => false, { clock }),
    );
    expect(calls).toHaveLength(16);
    expect(result.at).toBe(16_000);
    expect(pollPolicy(() => true).options).toMatchObject({ timeout: 15_000, interval: 1_000 });
  });

  it('counts the time fn takes towards the timeout', async () => {
    const { fn, calls } = scripted(clock, [{ value: 0, after: 600 }]);
    const result = await outcome(
      clock,
      poll(fn, () => false, { timeout: 1_500, interval: 500, clock }),
    );
    // 0–600 call, 600–1100 sleep (1100 <= 1500), 1100–1700 call, 1700–2200 sleep: 2200 > 1500.
    expect(calls).toEqual([0, 1_100]);
    expect(result.at).toBe(2_200);
    expect(result.error).toMatchObject({ attempts: 2 });
  });

  it('propagates an error thrown by fn at once, calling nothing more', async () => {
    const boom = new Boom();
    const { fn, calls } = scripted(clock, [{ value: 0 }, { error: boom }, { value: 1 }]);
    const until = jest.fn(() => false);
    const result = await outcome(clock, poll(fn, until, { interval: 100, clock }));
    expect(result.error).toBe(boom);
    expect(calls).toEqual([0, 100]);
    expect(until).toHaveBeenCalledTimes(1);
  });

  it('propagates an error thrown by the predicate at once', async () => {
    const boom = new Boom();
    const { fn, calls } = scripted(clock, [{ value: 0 }]);
    const result = await outcome(
      clock,
      poll(
        fn,
        () => {
          throw boom;
        },
        { clock },
      ),
    );
    expect(result.error).toBe(boom);
    expect(calls).toEqual([0]);
    expect(clock.pending).toBe(0);
  });

  it('propagates a rejection of an async predicate at once', async () => {
    const boom = new Boom();
    const { fn, calls } = scripted(clock, [{ value: 0 }]);
    const result = await outcome(
      clock,
      poll(fn, () => Promise.reject(boom), { clock }),
    );
    expect(result.error).toBe(boom);
    expect(calls).toEqual([0]);
  });

  it('polls forever with `timeout: Infinity`', async () => {
    const { fn, calls } = scripted(clock, [...Array.from({ length: 50 }, () => ({ value: false })), { value: true }]);
    const result = await outcome(clock, poll(fn, Boolean, { timeout: Infinity, interval: 1_000, clock }));
    expect(result.value).toBe(true);
    expect(calls).toHaveLength(51);
  });

  it('goes through the clock even with `interval: 0`, so timers (and aborts) still get their turn', async () => {
    const controller = new AbortController();
    clock.schedule(0, () => {
      controller.abort(new Error('stop'));
    });
    let calls = 0;
    const result = await outcome(
      clock,
      poll(
        () => ++calls,
        () => false,
        { timeout: Infinity, interval: 0, clock, signal: controller.signal },
      ),
    );
    expect(result.error).toEqual(new Error('stop'));
    expect(calls).toBeLessThan(5);
  });

  it('waits what a Backoff says between calls', async () => {
    const { fn, calls } = scripted(clock, [{ value: 0 }]);
    await outcome(
      clock,
      poll(fn, () => false, { timeout: 1_000, interval: linearBackoff({ initial: 100, step: 100 }), clock }),
    );
    expect(calls).toEqual([0, 100, 300, 600, 1_000]);
  });

  it('is typed by the value: pollPolicy<T>.execute accepts functions returning T', async () => {
    const policy = pollPolicy((job: { state: string }) => job.state === 'done', { clock });
    const { fn } = scripted(clock, [{ value: { state: 'running' } }, { value: { state: 'done' } }]);
    const result = await outcome(clock, policy.execute(fn as () => Promise<{ state: string }>));
    expect(result.value).toEqual({ state: 'done' });
    expect(policy.kind).toBe('poll');
  });

  it('rejects invalid options', () => {
    expect(() => pollPolicy('x' as never)).toThrow(
      new TypeError('poll: `until` must be a predicate function, got "x".'),
    );
    expect(() => pollPolicy(() => true, { timeout: -5 })).toThrow(
      new RangeError('poll: `timeout` must be a number >= 0, got -5.'),
    );
    expect(() => pollPolicy(() => true, { interval: Number.NaN })).toThrow(TypeError);
  });
});
