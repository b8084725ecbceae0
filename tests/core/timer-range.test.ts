import {
  asyncBackoff,
  exponentialBackoff,
  getDefaultClock,
  retry,
  setDefaultClock,
  systemClock,
  type TimerHandle,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, outcome, track } from './policy-helpers';

// Node's setTimeout clamps 2^31 ms or more (and Infinity) to 1 ms; jest's fake timers do the same, and fake
// performance.now() with them, so the system clock is tested here without waiting for real.
describe('the system clock', () => {
  let restore: () => void;
  beforeEach(() => {
    jest.useFakeTimers();
    restore = setDefaultClock(systemClock);
  });
  afterEach(() => {
    restore();
    jest.useRealTimers();
  });

  it.each([2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER])('fires a timer of %d ms no earlier than asked', (ms) => {
    const fired = jest.fn();
    systemClock.schedule(ms, fired);
    jest.advanceTimersByTime(2 ** 31 - 1);
    expect(fired).not.toHaveBeenCalled();
    if (ms <= 2 ** 40) {
      jest.advanceTimersByTime(ms - (2 ** 31 - 1) - 1);
      expect(fired).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      expect(fired).toHaveBeenCalledTimes(1);
    }
    expect(jest.getTimerCount()).toBe(ms <= 2 ** 40 ? 0 : 1);
  });

  it('never fires a timer of Infinity ms, and cancels it', () => {
    const fired = jest.fn();
    const timer = systemClock.schedule(Infinity, fired);
    jest.advanceTimersByTime(3 * (2 ** 31 - 1));
    expect(fired).not.toHaveBeenCalled();
    systemClock.cancel(timer);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('cancels a long timer between its legs', () => {
    const fired = jest.fn();
    const timer = systemClock.schedule(2 ** 32, fired);
    jest.advanceTimersByTime(2 ** 31);
    systemClock.cancel(timer);
    jest.advanceTimersByTime(2 ** 32);
    expect(fired).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('waits the rest when setTimeout fires before the time by performance.now()', () => {
    // Node counts a timer from its cached loop time, which can lag behind performance.now() when the timer
    // is set: here the clock reads 0.5 ms later than the loop time at the moment the timer is set.
    const loopTime = performance.now.bind(performance);
    const now = jest.spyOn(performance, 'now').mockImplementationOnce(() => loopTime() + 0.5);
    try {
      const fired = jest.fn();
      systemClock.schedule(100, fired);
      jest.advanceTimersByTime(100);
      expect(fired).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      expect(fired).toHaveBeenCalledTimes(1);
    } finally {
      now.mockRestore();
    }
  });

  it('sleeps 2^31 ms or more in full', async () => {
    const woke = jest.fn();
    void systemClock.sleep(2 ** 31).then(woke);
    await jest.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(woke).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(woke).toHaveBeenCalledTimes(1);
  });

  it('lets an attempt run under an attemptTimeout of 2^31 ms', async () => {
    const result = track(
      asyncBackoff(() => new Promise((resolve) => setTimeout(resolve, 100, 'done')), { attemptTimeout: 2 ** 31 }),
    );
    await jest.advanceTimersByTimeAsync(100);
    expect(result).toMatchObject({ settled: true, value: 'done' });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('lets a call run under a deadline of Number.MAX_SAFE_INTEGER', async () => {
    const result = track(
      asyncBackoff(() => new Promise((resolve) => setTimeout(resolve, 100, 'done')), {
        deadline: Number.MAX_SAFE_INTEGER,
      }),
    );
    await jest.advanceTimersByTimeAsync(100);
    expect(result).toMatchObject({ settled: true, value: 'done' });
  });

  it('waits a huge interval in full before retrying', async () => {
    const fn = jest.fn(() => Promise.reject(new Boom()));
    const result = track(retry(fn, Boom, { times: 2, interval: 2 ** 32 }));
    await jest.advanceTimersByTimeAsync(2 ** 31 + 10);
    expect(fn).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(2 ** 32);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(result).toMatchObject({ settled: true, rejected: true });
  });

  it('waits an exponential backoff that grew past 2^31 ms (max: Infinity) in full', async () => {
    let calls = 0;
    const fn = () => (++calls < 3 ? Promise.reject(new Boom()) : Promise.resolve(calls));
    // 2^30, then 2^31: the second pause is the one Node would clamp.
    const result = track(
      retry(fn, Boom, { times: 3, interval: exponentialBackoff({ initial: 2 ** 30, max: Infinity }) }),
    );
    await jest.advanceTimersByTimeAsync(2 ** 30);
    expect(calls).toBe(2);
    await jest.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(calls).toBe(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(result).toMatchObject({ settled: true, value: 3 });
  });
});

describe('the virtual clock', () => {
  it('waits a huge interval in full before retrying', async () => {
    const clock = new VirtualClock();
    const fn = jest.fn(() => Promise.reject(new Boom()));
    const result = track(retry(fn, Boom, { times: 2, interval: 2 ** 40, clock }), clock);
    await clock.advance(2 ** 40 - 1);
    expect(fn).toHaveBeenCalledTimes(1);
    await clock.advance(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await clock.flush();
    expect(result.rejected).toBe(true);
  });

  it('never fires a timer of Infinity ms', async () => {
    const clock = new VirtualClock();
    const fired = jest.fn();
    clock.schedule(Infinity, fired);
    await clock.advance(Number.MAX_SAFE_INTEGER);
    expect(fired).not.toHaveBeenCalled();
    expect(getDefaultClock()).toBe(systemClock);
    const result = await outcome(
      clock,
      asyncBackoff(async () => 1, { attemptTimeout: Infinity, clock }),
    );
    expect(result.value).toBe(1);
  });
});

describe('an unref’d system timer', () => {
  const timeouts = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

  it('does not keep the process alive, across its re-arms, and can be ref’d again', () => {
    const before = timeouts();
    const timer = systemClock.schedule(2 ** 32, () => undefined) as TimerHandle & {
      unref(): unknown;
      ref(): unknown;
      hasRef(): boolean;
    };
    expect(timeouts()).toBe(before + 1);
    timer.unref();
    expect(timer.hasRef()).toBe(false);
    expect(timeouts()).toBe(before);
    timer.ref();
    expect(timer.hasRef()).toBe(true);
    expect(timeouts()).toBe(before + 1);
    systemClock.cancel(timer);
    expect(timeouts()).toBe(before);
  });
});
