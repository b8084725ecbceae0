import { circuitBreaker, type CircuitRejectedEvent } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';

const fail = (): Promise<never> => Promise.reject(new Error('down'));

describe('circuitBreaker — rejected event', () => {
  it('emits rejected with the error of each call refused by an open circuit', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ name: 'search', threshold: 1, resetTimeout: 1_000, clock });
    const rejected: CircuitRejectedEvent[] = [];
    breaker.on('rejected', (event) => rejected.push(event));
    await breaker.execute(fail).catch(() => undefined);
    const refusal = await breaker.execute(async () => 'never runs').catch((error: unknown) => error);
    expect(rejected).toEqual([{ circuit: 'search', error: refusal }]);
    expect(breaker.statistics.rejections).toBe(1);
  });

  it('emits rejected for a call that waited for the trials in vain (halfOpenWait)', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ threshold: 1, resetTimeout: 1_000, halfOpenWait: 500, clock });
    const rejected: CircuitRejectedEvent[] = [];
    breaker.on('rejected', (event) => rejected.push(event));
    await breaker.execute(fail).catch(() => undefined);
    await clock.advance(1_000);
    const trial = breaker.execute(() => clock.sleep(2_000));
    const waiting = breaker.execute(async () => 'waits').catch((error: unknown) => error);
    await clock.advance(500);
    expect(rejected).toEqual([{ circuit: breaker.name, error: await waiting }]);
    await clock.advance(1_500);
    await trial;
  });
});
