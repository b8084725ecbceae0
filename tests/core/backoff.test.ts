import {
  constantBackoff,
  decorrelatedJitter,
  exponentialBackoff,
  fullJitter,
  isBackoff,
  linearBackoff,
  type Backoff,
} from '@staunch/core';
import { seededRandom } from '@staunch/core/testing';
import fc from 'fast-check';

const delays = (backoff: Backoff, count: number): number[] => {
  const out: number[] = [];
  let previous = 0;
  for (let retry = 1; retry <= count; retry++) {
    previous = backoff.delay(retry, previous);
    out.push(previous);
  }
  return out;
};

describe('backoff', () => {
  it('constantBackoff waits the same every time', () => {
    expect(delays(constantBackoff(250), 4)).toEqual([250, 250, 250, 250]);
  });

  it('linearBackoff adds `step` per retry up to `max`', () => {
    expect(delays(linearBackoff({ initial: 100, step: 50, max: 220 }), 5)).toEqual([100, 150, 200, 220, 220]);
    expect(delays(linearBackoff(), 3)).toEqual([1_000, 2_000, 3_000]);
  });

  it('exponentialBackoff multiplies by `factor` per retry up to `max`', () => {
    expect(delays(exponentialBackoff({ initial: 100, factor: 3, max: 2_000 }), 5)).toEqual([
      100, 300, 900, 2_000, 2_000,
    ]);
    expect(delays(exponentialBackoff(), 3)).toEqual([100, 200, 400]);
  });

  it('exponentialBackoff caps instead of overflowing, and stays 0 from 0', () => {
    expect(exponentialBackoff({ max: 5_000 }).delay(10_000, 0)).toBe(5_000);
    expect(exponentialBackoff({ initial: 0 }).delay(10_000, 0)).toBe(0);
  });

  it('fullJitter waits between 0 and the base backoff, reproducibly with a seeded source', () => {
    const base = exponentialBackoff({ initial: 100 });
    const a = delays(fullJitter(base, seededRandom(7)), 6);
    const b = delays(fullJitter(base, seededRandom(7)), 6);
    expect(a).toEqual(b);
    a.forEach((delay, index) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(100 * 2 ** index);
    });
  });

  it('decorrelatedJitter stays between `initial` and min(max, 3 × previous)', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 1_000, max: 50_000 }),
        (seed, initial, max) => {
          const backoff = decorrelatedJitter({ initial, max, random: seededRandom(seed) });
          let previous = 0;
          for (let retry = 1; retry <= 30; retry++) {
            const delay = backoff.delay(retry, previous);
            expect(delay).toBeGreaterThanOrEqual(initial);
            expect(delay).toBeLessThanOrEqual(Math.min(max, 3 * Math.max(previous, initial)));
            expect(Number.isFinite(delay)).toBe(true);
            previous = delay;
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('is a small frozen value that says what it is', () => {
    const backoff = exponentialBackoff({ initial: 10 });
    expect(Object.isFrozen(backoff)).toBe(true);
    expect(backoff).toMatchObject({ kind: 'exponential', initial: 10, factor: 2, max: 30_000 });
    expect(isBackoff(backoff)).toBe(true);
    expect(isBackoff(10)).toBe(false);
  });

  it('rejects invalid parameters', () => {
    expect(() => constantBackoff(-1)).toThrow(
      new RangeError('constantBackoff: `ms` must be a finite number >= 0, got -1.'),
    );
    expect(() => exponentialBackoff({ factor: 0.5 })).toThrow(
      new RangeError('exponentialBackoff: `factor` must be a number >= 1, got 0.5.'),
    );
    expect(() => fullJitter(5 as never)).toThrow(TypeError);
    expect(() => decorrelatedJitter({ random: 1 as never })).toThrow(TypeError);
  });
});
