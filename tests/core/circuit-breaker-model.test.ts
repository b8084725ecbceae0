import fc from 'fast-check';
import { circuitBreaker, CircuitOpenError, type CircuitBreakerPolicy, type Clock } from '@staunch/core';
import { Boom, deferred, Other, type Deferred } from './circuit-breaker-helpers';

/**
 * A deliberately naive reference model of the leaky-bucket circuit, written
 * straight from the SPEC's rules: failure times in a list filtered on every
 * failure, the open → half-open change applied whenever anyone looks.
 */
class Model {
  state: 'closed' | 'open' | 'half-open' | 'isolated' = 'closed';
  failureTimes: number[] = [];
  openedAt = 0;
  trialsTaken = 0;
  trialsSucceeded = 0;
  lastTrialAt = 0; // when the latest trial was let through
  period = 0; // which half-open period a trial belongs to
  stats = { calls: 0, successes: 0, failures: 0, ignoredErrors: 0, slowCalls: 0, rejections: 0 };

  constructor(
    readonly threshold: number,
    readonly resetTimeout: number,
    readonly halfOpenCalls: number,
  ) {}

  look(now: number): 'closed' | 'open' | 'half-open' {
    if (this.state === 'open' && now - this.openedAt >= this.resetTimeout) this.halfOpen(now);
    return this.state === 'isolated' ? 'open' : this.state;
  }

  admit(now: number): { run: true; trial?: number } | { run: false; retryAfter: number } {
    this.look(now);
    let admitted: { run: true; trial?: number } | { run: false; retryAfter: number };
    if (this.state === 'closed') admitted = { run: true };
    else if (this.state === 'isolated') admitted = { run: false, retryAfter: Infinity };
    else if (this.state === 'open') admitted = { run: false, retryAfter: this.openedAt + this.resetTimeout - now };
    else {
      // Trials still running resetTimeout after the latest one began are presumed lost: start over.
      if (this.trialsTaken === this.halfOpenCalls && now - this.lastTrialAt >= this.resetTimeout) this.halfOpen(now);
      if (this.trialsTaken < this.halfOpenCalls) {
        this.trialsTaken++;
        this.lastTrialAt = now;
        admitted = { run: true, trial: this.period };
      } else admitted = { run: false, retryAfter: 0 };
    }
    if (admitted.run) this.stats.calls++;
    else this.stats.rejections++;
    return admitted;
  }

  settle(trial: number | undefined, outcome: Outcome, now: number): void {
    if (outcome === 'ok') this.stats.successes++;
    else if (outcome === 'fail') this.stats.failures++;
    else this.stats.ignoredErrors++;
    if (trial !== undefined && this.state === 'half-open' && this.period === trial) {
      if (outcome === 'ok' && ++this.trialsSucceeded === this.halfOpenCalls) this.close();
      else if (outcome === 'fail') this.open(now);
      else if (outcome === 'other') this.trialsTaken--;
      return;
    }
    if (this.state !== 'closed' || outcome !== 'fail') return;
    this.failureTimes = [...this.failureTimes, now].filter((t) => now - t <= this.resetTimeout);
    if (this.failureTimes.length >= this.threshold) this.open(now);
  }

  halfOpen(now: number): void {
    this.state = 'half-open';
    this.trialsTaken = 0;
    this.trialsSucceeded = 0;
    this.lastTrialAt = now;
    this.period++;
  }

  open(now: number): void {
    this.state = 'open';
    this.openedAt = now;
    this.failureTimes = [];
  }

  close(): void {
    this.state = 'closed';
    this.failureTimes = [];
  }
}

type Outcome = 'ok' | 'fail' | 'other';
type Step =
  | { kind: 'call'; sync: boolean; outcome: Outcome }
  | { kind: 'settle'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'look' }
  | { kind: 'isolate' }
  | { kind: 'reset' };

const outcomeArb = fc.constantFrom<Outcome>('ok', 'ok', 'fail', 'fail', 'other');
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('call' as const), sync: fc.boolean(), outcome: outcomeArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('settle' as const), pick: fc.nat(20) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'look' as const }) },
  {
    weight: 1,
    arbitrary: fc.oneof(fc.constant({ kind: 'isolate' as const }), fc.constant({ kind: 'reset' as const })),
  },
);
interface Config {
  readonly threshold: number;
  readonly resetTimeout: number;
  readonly halfOpenCalls: number;
}
const configArb: fc.Arbitrary<Config> = fc.record({
  threshold: fc.integer({ min: 1, max: 4 }),
  resetTimeout: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 })),
  halfOpenCalls: fc.integer({ min: 1, max: 3 }),
});

interface Pending {
  readonly outcome: Outcome;
  readonly trial: number | undefined;
  readonly control: Deferred<string>;
  readonly result: Promise<string>;
}

function thrown(outcome: Outcome): Error {
  return outcome === 'fail' ? new Boom() : new Other();
}

// The functions under the circuit: a sync one, and an `async` one awaiting a test-controlled promise.
function runSync(outcome: Outcome): string {
  if (outcome === 'ok') return 'value';
  throw thrown(outcome);
}
async function runAsync(control: Deferred<string>): Promise<string> {
  return control.promise;
}

async function runSchedule(config: Config, steps: Step[]): Promise<void> {
  // The breaker sets no timers, so a bare clock is enough (and keeps 10,000 schedules fast).
  const clock = { time: 0, now: () => clock.time } as Clock & { time: number };
  const breaker: CircuitBreakerPolicy = circuitBreaker({ on: Boom, name: 'model', clock, ...config });
  const model = new Model(config.threshold, config.resetTimeout, config.halfOpenCalls);
  const pending: Pending[] = [];
  let now = 0;

  for (const step of steps) {
    switch (step.kind) {
      case 'call': {
        const admitted = model.admit(now);
        if (step.sync) {
          let value: unknown;
          let error: unknown;
          try {
            value = breaker.call(runSync, undefined, [step.outcome]);
          } catch (e) {
            error = e;
          }
          if (!admitted.run) expectRejection(error, admitted.retryAfter);
          else {
            model.settle(admitted.trial, step.outcome, now);
            expectOutcome(step.outcome, value, error);
          }
        } else {
          const control = deferred();
          const result = breaker.call(runAsync, undefined, [control]);
          check(result instanceof Promise, 'an async call returns a promise');
          if (!admitted.run) {
            const error = await result.then(
              () => undefined,
              (e: unknown) => e,
            );
            expectRejection(error, admitted.retryAfter);
          } else {
            pending.push({ outcome: step.outcome, trial: admitted.trial, control, result });
          }
        }
        break;
      }
      case 'settle': {
        if (pending.length === 0) break;
        const [call] = pending.splice(step.pick % pending.length, 1) as [Pending];
        if (call.outcome === 'ok') call.control.resolve('value');
        else call.control.reject(thrown(call.outcome));
        const settled = await call.result.then(
          (value) => ({ value, error: undefined }),
          (error: unknown) => ({ value: undefined, error }),
        );
        model.settle(call.trial, call.outcome, now);
        expectOutcome(call.outcome, settled.value, settled.error);
        break;
      }
      case 'advance':
        now += step.ms;
        clock.time = now;
        break;
      case 'look':
        break;
      case 'isolate':
        breaker.isolate();
        if (model.state !== 'isolated') model.state = 'isolated';
        model.failureTimes = [];
        break;
      case 'reset':
        breaker.reset();
        model.close();
        break;
    }
    const expected = model.look(now);
    check(breaker.state === expected, `state ${breaker.state}, model ${expected}`);
    const stats = breaker.statistics;
    for (const key of Object.keys(model.stats) as (keyof typeof model.stats)[]) {
      check(stats[key] === model.stats[key], `stats.${key} ${stats[key]}, model ${model.stats[key]}`);
    }
  }
}

// Plain checks: jest's expect costs more than the breaker itself, 400,000 times over.
function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function expectRejection(error: unknown, retryAfter: number): void {
  check(error instanceof CircuitOpenError, `rejected with CircuitOpenError, got ${String(error)}`);
  const actual = (error as CircuitOpenError).retryAfter;
  check(actual === retryAfter, `retryAfter ${actual}, model ${retryAfter}`);
}

function expectOutcome(outcome: Outcome, value: unknown, error: unknown): void {
  if (outcome === 'ok') check(value === 'value' && error === undefined, `returned the value, got ${String(error)}`);
  else check(error instanceof (outcome === 'fail' ? Boom : Other), `threw its own error, got ${String(error)}`);
}

describe('circuitBreaker against a reference model (leaky bucket)', () => {
  it('agrees on every result, state and counter over 10,000 random schedules of calls, outcomes and time', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(stepArb, { maxLength: 40 }), async (config, steps) => {
        await runSchedule(config, steps);
      }),
      { numRuns: 10_000 },
    );
  });
});
