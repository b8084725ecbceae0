import fc from 'fast-check';
import { asyncBackoff, AttemptTimeoutError, DeadlineExceededError, retry } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, Other, outcome, scripted, type Step } from './policy-helpers';

/** One attempt's behaviour in a generated scenario. */
type Kind = 'ok' | 'retryable' | 'fatal' | 'hang';
interface Plan {
  readonly kind: Kind;
  readonly after: number;
}

const planArb = fc.record({
  kind: fc.constantFrom<Kind>('ok', 'retryable', 'retryable', 'fatal', 'hang'),
  after: fc.integer({ min: 0, max: 120 }),
});

function toSteps(plans: readonly Plan[]): Step[] {
  return plans.map(({ kind, after }, index) =>
    kind === 'ok'
      ? { value: index, after }
      : kind === 'hang'
        ? { hang: true as const }
        : { error: kind === 'retryable' ? new Boom(index) : new Other(`fatal ${index}`), after },
  );
}

interface Expected {
  readonly calls: number[];
  readonly settled: boolean;
  readonly at: number;
  /** An index into the steps (its value or error), or a timeout marker. */
  readonly result: { ok: number } | { step: number } | { attemptTimeout: number } | 'deadline' | 'pending';
}

/** A reference model of asyncBackoff's rules, written as plainly as possible. */
function modelAsyncBackoff(
  plans: readonly Plan[],
  o: { attemptTimeout: number | undefined; deadline: number | undefined; pause: number; maxTries: number },
): Expected {
  const calls: number[] = [];
  const deadline = o.deadline ?? Infinity;
  const attemptTimeout = o.attemptTimeout ?? Infinity;
  let t = 0;
  let last: Expected['result'] | undefined;
  for (let attempt = 1; ; attempt++) {
    if (t >= deadline) return { calls, settled: true, at: t, result: last ?? 'deadline' };
    const index = Math.min(attempt, plans.length) - 1;
    const plan = plans[index]!;
    const remaining = deadline - t;
    const deadlineFirst = remaining <= attemptTimeout;
    const limit = Math.min(remaining, attemptTimeout);
    let outcome: 'settled' | 'timeout' | 'deadline';
    if (limit <= 0) outcome = deadlineFirst ? 'deadline' : 'timeout';
    else {
      calls.push(t);
      const duration = plan.kind === 'hang' ? Infinity : plan.after;
      if (duration !== Infinity && duration <= limit) {
        t += duration;
        outcome = 'settled';
      } else if (limit === Infinity) {
        return { calls, settled: false, at: t, result: 'pending' };
      } else {
        t += limit;
        outcome = deadlineFirst ? 'deadline' : 'timeout';
      }
    }
    if (outcome === 'deadline') return { calls, settled: true, at: t, result: last ?? 'deadline' };
    if (outcome === 'settled' && plan.kind === 'ok') return { calls, settled: true, at: t, result: { ok: index } };
    if (outcome === 'settled' && plan.kind === 'fatal') return { calls, settled: true, at: t, result: { step: index } };
    last = outcome === 'timeout' ? { attemptTimeout: attempt } : { step: index };
    if (attempt >= o.maxTries) return { calls, settled: true, at: t, result: last };
    if (o.pause >= deadline - t) return { calls, settled: true, at: deadline, result: last };
    t += o.pause;
  }
}

describe('asyncBackoff (properties)', () => {
  it('matches the reference model: calls, the error surfaced, and the total virtual time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(planArb, { minLength: 1, maxLength: 6 }),
        fc.option(fc.integer({ min: 0, max: 150 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
        fc.integer({ min: 0, max: 100 }),
        fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constant(Infinity)),
        async (plans, attemptTimeout, deadline, pause, maxTries) => {
          // Unbounded attempts must make virtual time move (or end), else neither the model nor the clock gets anywhere.
          if (maxTries === Infinity) fc.pre(pause >= 1 && deadline !== undefined);
          const clock = new VirtualClock();
          const steps = toSteps(plans);
          const { fn, calls } = scripted(clock, steps);
          const expected = modelAsyncBackoff(plans, { attemptTimeout, deadline, pause, maxTries });
          const got = await outcome(
            clock,
            asyncBackoff(fn, { attemptTimeout, deadline, pause, maxTries, on: Boom, clock }),
            100_000,
          );

          expect(calls).toEqual(expected.calls);
          expect(got.settled).toBe(expected.settled);
          expect(calls.length).toBeLessThanOrEqual(maxTries);
          if (!expected.settled) return;
          expect(got.at).toBe(expected.at);
          if (deadline !== undefined) expect(got.at).toBeLessThanOrEqual(deadline);
          const result = expected.result;
          if (result === 'deadline') expect(got.error).toBeInstanceOf(DeadlineExceededError);
          else if (result === 'pending') throw new Error('unreachable');
          else if ('ok' in result) expect(got.value).toBe(result.ok);
          else if ('step' in result) expect(got.error).toBe((steps[result.step] as { error: unknown }).error);
          else {
            expect(got.error).toBeInstanceOf(AttemptTimeoutError);
            expect((got.error as AttemptTimeoutError).attempt).toBe(result.attemptTimeout);
          }
          expect(clock.pending).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('retry (properties)', () => {
  it('makes min(times, first non-retryable) calls, `interval` apart, and surfaces the deciding outcome', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            kind: fc.constantFrom<Kind>('ok', 'retryable', 'retryable', 'fatal'),
            after: fc.integer({ min: 0, max: 50 }),
          }),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        fc.integer({ min: -1, max: 7 }),
        fc.integer({ min: 0, max: 300 }),
        async (plans, times, interval) => {
          const clock = new VirtualClock();
          const steps = toSteps(plans);
          const { fn, calls } = scripted(clock, steps);
          const got = await outcome(clock, retry(fn, Boom, { times, interval, clock }));

          const expectedCalls: number[] = [];
          let t = 0;
          let deciding = 0;
          for (let attempt = 1; ; attempt++) {
            const index = Math.min(attempt, plans.length) - 1;
            expectedCalls.push(t);
            t += plans[index]!.after;
            deciding = index;
            if (plans[index]!.kind !== 'retryable' || attempt >= Math.max(1, times)) break;
            t += interval;
          }
          expect(calls).toEqual(expectedCalls);
          expect(got.at).toBe(t); // no wait after the last call
          const plan = plans[deciding]!;
          if (plan.kind === 'ok') expect(got.value).toBe(deciding);
          else expect(got.error).toBe((steps[deciding] as { error: unknown }).error);
          expect(clock.pending).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
