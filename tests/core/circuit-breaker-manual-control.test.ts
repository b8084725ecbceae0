import {
  circuitBreaker,
  circuitBreakerFactory,
  memoryCircuitStore,
  type CircuitBreakerOptions,
  type CircuitMode,
  type CircuitStateChangeEvent,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { attempt, Boom, failTimes, openErrorOf } from './circuit-breaker-helpers';

let clock: VirtualClock;
beforeEach(() => {
  clock = new VirtualClock(1_000);
});

const breakerWith = (options: CircuitBreakerOptions = {}) =>
  circuitBreaker({ on: Boom, threshold: 2, resetTimeout: 1_000, name: 'billing', clock, ...options });
const run = (breaker: ReturnType<typeof breakerWith>) => attempt(() => breaker.executeSync(() => 'ran'));

describe('circuitBreaker — isolate() handles', () => {
  it('holds the circuit open until the handle is released, then closes it (reason released)', () => {
    const breaker = breakerWith();
    const changes: CircuitStateChangeEvent[] = [];
    breaker.on('stateChange', (event) => changes.push(event));
    const handle = breaker.isolate();
    expect(breaker.isolated).toBe(true);
    expect(openErrorOf(run(breaker)).retryAfter).toBe(Infinity);
    handle.release();
    expect(breaker.isolated).toBe(false);
    expect(breaker.state).toBe('closed');
    expect(run(breaker).value).toBe('ran');
    expect(changes.map(({ from, to, reason }) => [from, to, reason])).toEqual([
      ['closed', 'open', 'isolate'],
      ['open', 'closed', 'released'],
    ]);
  });

  it('stays isolated while any handle is unreleased: two isolators never release each other', () => {
    const breaker = breakerWith();
    const first = breaker.isolate();
    const second = breaker.isolate();
    first.release();
    expect(breaker.isolated).toBe(true);
    first.release(); // idempotent: does not release the second isolation
    expect(breaker.isolated).toBe(true);
    second.release();
    expect(breaker.state).toBe('closed');
  });

  it('emits one opened event for nested isolations, and one closed event for the last release', () => {
    const breaker = breakerWith();
    const events: string[] = [];
    breaker.on('opened', ({ reason }) => events.push(`opened ${reason}`));
    breaker.on('closed', ({ reason }) => events.push(`closed ${reason}`));
    const handles = [breaker.isolate(), breaker.isolate(), breaker.isolate()];
    for (const handle of handles) handle.release();
    expect(events).toEqual(['opened isolate', 'closed released']);
  });

  it('is force-closed by reset(); a handle released afterwards changes nothing, even in a later isolation', () => {
    const breaker = breakerWith();
    const before = breaker.isolate();
    breaker.reset();
    expect(breaker.state).toBe('closed');
    const later = breaker.isolate();
    before.release();
    expect(breaker.isolated).toBe(true);
    later.release();
    expect(breaker.isolated).toBe(false);
  });

  it('counts the isolations of every breaker sharing a store', () => {
    const store = memoryCircuitStore();
    const reads = breakerWith({ store });
    const writes = breakerWith({ store });
    const fromReads = reads.isolate();
    const fromWrites = writes.isolate();
    fromReads.release();
    expect(writes.isolated).toBe(true);
    fromWrites.release();
    expect(reads.state).toBe('closed');
  });

  it('isolates an open circuit, and its release closes it with an empty failure record', () => {
    const breaker = breakerWith();
    failTimes(breaker, 2);
    expect(breaker.state).toBe('open');
    breaker.isolate().release();
    expect(breaker.state).toBe('closed');
    failTimes(breaker, 1);
    expect(breaker.state).toBe('closed');
  });
});

describe('circuitBreaker — mode', () => {
  it('starts as options.mode, enforcing by default', () => {
    expect(breakerWith().mode).toBe('enforcing');
    expect(breakerWith({ mode: 'metrics-only' }).mode).toBe('metrics-only');
    expect(circuitBreakerFactory({ mode: 'disabled' })().mode).toBe('disabled');
  });

  it('disabled: runs every call, even on an open circuit, and records nothing', async () => {
    const breaker = breakerWith();
    failTimes(breaker, 2);
    const stats = breaker.statistics;
    breaker.mode = 'disabled';
    expect(run(breaker).value).toBe('ran');
    await expect(breaker.execute(async () => 'async')).resolves.toBe('async');
    await expect(
      breaker.execute(() => {
        throw new Boom();
      }),
    ).rejects.toBeInstanceOf(Boom);
    expect(breaker.call((n: number) => n + 1, undefined, [1])).toBe(2);
    expect(breaker.statistics).toEqual(stats);
    expect(breaker.state).toBe('open');
  });

  it('disabled: failures do not trip a closed circuit', () => {
    const breaker = breakerWith({ mode: 'disabled' });
    failTimes(breaker, 5);
    expect(breaker.state).toBe('closed');
    expect(breaker.statistics.failures).toBe(0);
  });

  it('metrics-only: records, opens and emits events, but runs the calls it would have rejected', async () => {
    const breaker = breakerWith({ mode: 'metrics-only' });
    const opened: string[] = [];
    breaker.on('opened', ({ reason }) => opened.push(reason));
    failTimes(breaker, 2);
    expect(breaker.state).toBe('open');
    expect(opened).toEqual(['failures']);
    expect(run(breaker).value).toBe('ran');
    expect(breaker.statistics).toMatchObject({ failures: 2, successes: 1, rejections: 0 });
    await clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    expect(run(breaker).value).toBe('ran'); // the trial
    expect(breaker.state).toBe('closed');
  });

  it('metrics-only: runs calls while trial slots are taken, and while isolated', async () => {
    const breaker = breakerWith({ mode: 'metrics-only', threshold: 1 });
    failTimes(breaker, 1);
    await clock.advance(1_000);
    let inner: unknown;
    breaker.executeSync(() => {
      inner = run(breaker).value; // the trial is running: a second call would have been rejected
      return 'trial';
    });
    expect(inner).toBe('ran');
    breaker.isolate();
    expect(run(breaker).value).toBe('ran');
    expect(breaker.statistics.rejections).toBe(0);
  });

  it('enforces again once set back to enforcing', () => {
    const breaker = breakerWith({ mode: 'metrics-only' });
    failTimes(breaker, 2);
    breaker.mode = 'enforcing';
    expect(openErrorOf(run(breaker)).retryAfter).toBe(1_000);
  });

  it('names the option or property when the mode is not one of the three', () => {
    expect(() => breakerWith({ mode: 'off' as CircuitMode })).toThrow(
      "circuitBreaker: `mode` must be 'enforcing', 'metrics-only' or 'disabled', got \"off\".",
    );
    const breaker = breakerWith();
    expect(() => (breaker.mode = 'forced-open' as CircuitMode)).toThrow(/`mode` must be/);
    expect(breaker.mode).toBe('enforcing');
  });
});
