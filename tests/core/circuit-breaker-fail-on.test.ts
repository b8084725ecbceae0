import { circuitBreaker, isCircuitOpenError, retry, type CircuitBreakerOptions } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { attempt, Boom } from './circuit-breaker-helpers';
import { collectReported, reportOf } from './reported-warnings';

interface Response {
  readonly status: number;
}

let clock: VirtualClock;
beforeEach(() => {
  clock = new VirtualClock(1_000);
});

const unavailable = (value: unknown): boolean => (value as Response).status === 503;
const breakerWith = (options: CircuitBreakerOptions = {}) =>
  circuitBreaker({ on: Boom, threshold: 2, resetTimeout: 1_000, failOn: unavailable, clock, ...options });

describe('circuitBreaker — failOn', () => {
  it('counts a returned value failOn accepts as a failure, and still returns it to the caller', () => {
    const breaker = breakerWith();
    const response = { status: 503 };
    expect(breaker.executeSync(() => response)).toBe(response);
    expect(breaker.state).toBe('closed');
    expect(breaker.executeSync(() => response)).toBe(response);
    expect(breaker.state).toBe('open');
    expect(breaker.statistics).toMatchObject({ successes: 0, failures: 2 });
    expect(isCircuitOpenError(attempt(() => breaker.executeSync(() => response)).error)).toBe(true);
  });

  it('counts a resolved value failOn accepts as a failure, through execute and call', async () => {
    const breaker = breakerWith();
    const response = { status: 503 };
    await expect(breaker.execute(async () => response)).resolves.toBe(response);
    await expect(breaker.call(async (r: Response) => r, undefined, [response])).resolves.toBe(response);
    expect(breaker.state).toBe('open');
  });

  it('counts values failOn does not accept as successes', () => {
    const breaker = breakerWith({ counting: 'consecutive' });
    breaker.executeSync(() => ({ status: 503 }));
    breaker.executeSync(() => ({ status: 200 }));
    breaker.executeSync(() => ({ status: 503 }));
    expect(breaker.state).toBe('closed');
    expect(breaker.statistics).toMatchObject({ successes: 1, failures: 2 });
  });

  it('re-opens the circuit when a trial call returns a value failOn accepts', async () => {
    const breaker = breakerWith({ threshold: 1 });
    breaker.executeSync(() => ({ status: 503 }));
    expect(breaker.state).toBe('open');
    await clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    const trial = { status: 503 };
    expect(breaker.executeSync(() => trial)).toBe(trial);
    expect(breaker.state).toBe('open');
    await clock.advance(1_000);
    breaker.executeSync(() => ({ status: 200 }));
    expect(breaker.state).toBe('closed');
  });

  it('asks failOn about a value handed to it by a retry around the breaker', async () => {
    const breaker = breakerWith({ threshold: 2 });
    const response = { status: 503 };
    const viaRetry = () => retry(() => breaker.call(async () => response, undefined, [], true), { times: 1, clock });
    await expect(viaRetry()).resolves.toBe(response);
    await expect(viaRetry()).resolves.toBe(response);
    expect(breaker.state).toBe('open');
  });

  it('treats a value as no failure when failOn throws, reporting failOn’s error as a warning', () => {
    const { reported, restore } = collectReported();
    try {
      const filterError = new TypeError('cannot read status');
      const breaker = breakerWith({
        threshold: 1,
        failOn: () => {
          throw filterError;
        },
      });
      expect(breaker.executeSync(() => 7)).toBe(7);
      expect(breaker.state).toBe('closed');
      expect(breaker.statistics).toMatchObject({ successes: 1, failures: 0 });
      expect(reported.map((warning) => warning.detail)).toEqual([reportOf(filterError)]);
      expect(reported[0]!.message).toContain('the `failOn` filter of circuit "circuit"');
    } finally {
      restore();
    }
  });

  it('never asks failOn about a thrown error', () => {
    const seen: unknown[] = [];
    const breaker = breakerWith({ failOn: (value) => seen.push(value) > 0 });
    attempt(() =>
      breaker.executeSync(() => {
        throw new Boom();
      }),
    );
    expect(seen).toEqual([]);
  });

  it('is validated when the circuit is made, naming the option', () => {
    expect(() => circuitBreaker({ failOn: 503 as never })).toThrow(
      /circuitBreaker.*`failOn` must be a function, got 503/,
    );
  });

  it('shows in the resolved options', () => {
    expect(breakerWith().options.failOn).toBe(unavailable);
    expect(circuitBreaker().options.failOn).toBeUndefined();
  });
});
