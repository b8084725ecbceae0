import { asyncBackoffPolicy, Events, pollPolicy, retryPolicy, type GiveUpEvent, type RetryEvent } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, outcome, scripted } from './policy-helpers';
import { collectReported, reportOf } from './reported-warnings';

describe('Events', () => {
  it('calls listeners of a type in order and stops after unsubscribe', () => {
    const events = new Events<{ ping: number }>();
    const seen: string[] = [];
    const off = events.on('ping', (n) => seen.push(`a${n}`));
    events.on('ping', (n) => seen.push(`b${n}`));
    expect(events.has('ping')).toBe(true);
    events.emit('ping', 1);
    off();
    off();
    events.emit('ping', 2);
    expect(seen).toEqual(['a1', 'b1', 'b2']);
  });

  it('reports a throwing listener as a warning, never thrown, without disturbing the others', () => {
    const { reported, restore } = collectReported();
    try {
      const events = new Events<{ ping: number }>();
      const seen: number[] = [];
      const failure = new Error('listener');
      events.on('ping', () => {
        throw failure;
      });
      events.on('ping', (n) => seen.push(n));
      expect(() => {
        events.emit('ping', 7);
      }).not.toThrow();
      expect(seen).toEqual([7]);
      expect(reported.map((warning) => warning.detail)).toEqual([reportOf(failure)]);
      expect(reported[0]!.message).toBe(
        "staunch: a 'ping' event listener threw, and the call went on without it: Error: listener",
      );
    } finally {
      restore();
    }
  });
});

describe('policy events', () => {
  it('emits attempt, failure, retry (with the delay) and giveUp for an exhausted retry', async () => {
    const clock = new VirtualClock();
    const policy = retryPolicy(Boom, { times: 2, interval: 300, clock });
    const log: string[] = [];
    policy.on('attempt', ({ attempt }) => log.push(`attempt ${attempt}`));
    policy.on('failure', ({ attempt }) => log.push(`failure ${attempt}`));
    policy.on('retry', (event: RetryEvent) =>
      log.push(`retry ${event.attempt} after ${event.delay} failed=${event.failed}`),
    );
    policy.on('giveUp', (event: GiveUpEvent) => log.push(`giveUp ${event.attempts} ${event.reason}`));
    policy.on('success', () => log.push('success'));
    await outcome(clock, policy.execute(scripted(clock, [{ error: new Boom() }]).fn));
    expect(log).toEqual([
      'attempt 1',
      'failure 1',
      'retry 1 after 300 failed=true',
      'attempt 2',
      'failure 2',
      'giveUp 2 exhausted',
    ]);
  });

  it('emits success with the value and the number of attempts', async () => {
    const clock = new VirtualClock();
    const policy = pollPolicy((n: number) => n > 1, { interval: 10, clock });
    const success = jest.fn();
    const retries: unknown[] = [];
    policy.on('success', success);
    policy.on('retry', (event) => retries.push(event.failed ? event.error : event.value));
    await outcome(clock, policy.execute(scripted(clock, [{ value: 1 }, { value: 2 }]).fn as () => Promise<number>));
    expect(success).toHaveBeenCalledWith({ attempts: 2, value: 2, elapsed: 10 });
    expect(retries).toEqual([1]);
  });

  it('tells success and giveUp listeners how long the call took on the policy clock', async () => {
    const clock = new VirtualClock();
    const policy = retryPolicy(Boom, { times: 2, interval: 300, clock });
    const elapsed: string[] = [];
    policy.on('success', (event) => elapsed.push(`success ${event.elapsed}`));
    policy.on('giveUp', (event) => elapsed.push(`giveUp ${event.elapsed}`));
    // A first attempt that succeeds (the lean path when nobody listens) is timed too.
    await outcome(clock, policy.execute(scripted(clock, [{ value: 1, after: 40 }]).fn));
    await outcome(
      clock,
      policy.execute(
        scripted(clock, [
          { error: new Boom(), after: 20 },
          { value: 2, after: 30 },
        ]).fn,
      ),
    );
    await outcome(clock, policy.execute(scripted(clock, [{ error: new Boom(), after: 5 }]).fn));
    expect(elapsed).toEqual(['success 40', 'success 350', 'giveUp 310']);
  });

  it('reads the clock no more than an unwatched call once success and giveUp listeners are gone', async () => {
    const readsOfOneCall = async (watch: (policy: ReturnType<typeof retryPolicy>) => void): Promise<number> => {
      const clock = new VirtualClock();
      const policy = retryPolicy(Boom, { times: 2, interval: 300, clock });
      watch(policy);
      const now = jest.spyOn(clock, 'now');
      await outcome(clock, policy.execute(scripted(clock, [{ error: new Boom() }, { value: 2 }]).fn));
      return now.mock.calls.length;
    };
    const unwatched = await readsOfOneCall(() => undefined);
    const unsubscribed = await readsOfOneCall((policy) => {
      policy.on('success', () => undefined)();
      policy.on('giveUp', () => undefined)();
      policy.on('retry', () => undefined);
    });
    const watched = await readsOfOneCall((policy) => policy.on('success', () => undefined));
    expect(unsubscribed).toBe(unwatched);
    expect(watched).toBe(unwatched + 2);
  });

  it('emits timeout for attempt timeouts and the deadline, with the reason on giveUp', async () => {
    const clock = new VirtualClock();
    const policy = asyncBackoffPolicy({ attemptTimeout: 100, deadline: 150, clock });
    const timeouts: string[] = [];
    const reasons: string[] = [];
    policy.on('timeout', ({ attempt, error }) => timeouts.push(`${attempt} ${error.code}`));
    policy.on('giveUp', ({ reason }) => reasons.push(reason));
    await outcome(clock, policy.execute(scripted(clock, [{ hang: true }]).fn));
    expect(timeouts).toEqual(['1 STAUNCH_ATTEMPT_TIMEOUT', '2 STAUNCH_DEADLINE_EXCEEDED']);
    expect(reasons).toEqual(['deadline']);
  });

  it.each([
    ['not-retryable', { on: Boom }, [{ error: new Error('other') }]],
    ['giveup', { on: Boom, giveup: () => true }, [{ error: new Boom() }]],
    ['exhausted', { on: Boom, maxTries: 2 }, [{ error: new Boom() }]],
  ] as const)('gives up with reason %s', async (reason, options, steps) => {
    const clock = new VirtualClock();
    const policy = asyncBackoffPolicy({ ...options, clock });
    const reasons: string[] = [];
    policy.on('giveUp', (event) => reasons.push(event.reason));
    await outcome(clock, policy.execute(scripted(clock, steps).fn));
    expect(reasons).toEqual([reason]);
  });
});

describe('statistics', () => {
  it('counts calls, attempts, successes, failures, errors and timeouts', async () => {
    const clock = new VirtualClock();
    const policy = asyncBackoffPolicy({ attemptTimeout: 100, maxTries: 3, on: Boom, clock });
    await outcome(clock, policy.execute(scripted(clock, [{ hang: true }, { error: new Boom() }, { value: 1 }]).fn));
    await outcome(clock, policy.execute(scripted(clock, [{ error: new Error('x') }]).fn));
    expect(policy.statistics).toEqual({
      calls: 2,
      attempts: 4,
      successes: 1,
      failures: 1,
      errors: 2,
      timeouts: 1,
      budgetExhausted: 0,
      totalTime: 0,
    });
  });

  it('times calls only once the statistics were first read', async () => {
    const clock = new VirtualClock();
    const policy = retryPolicy(Boom, { interval: 250, clock });
    await outcome(clock, policy.execute(scripted(clock, [{ error: new Boom() }, { value: 1 }]).fn));
    expect(policy.statistics.totalTime).toBe(0);
    await outcome(clock, policy.execute(scripted(clock, [{ error: new Boom() }, { value: 1 }]).fn));
    const stats = policy.statistics;
    expect(stats.totalTime).toBe(250);
    expect(Object.isFrozen(stats)).toBe(true);
  });
});
