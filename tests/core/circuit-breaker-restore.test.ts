import fc from 'fast-check';
import {
  circuitBreaker,
  exponentialBackoff,
  isCircuitOpenError,
  memoryCircuitStore,
  type CircuitBreakerPolicy,
  type CircuitIsolation,
  type Clock,
  type CircuitBreakerJSON,
  type CircuitBreakerOptions,
  type CircuitRestore,
  type CircuitSnapshot,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { restoreSnapshot } from '../../packages/core/src/circuit-breaker/store';
import { attempt, Boom, failTimes, openErrorOf } from './circuit-breaker-helpers';

const options: CircuitBreakerOptions = { on: Boom, threshold: 1, resetTimeout: 10_000, name: 'billing' };
// What survives a restart: JSON text.
const saved = (json: CircuitBreakerJSON): CircuitRestore => JSON.parse(JSON.stringify(json)) as CircuitRestore;

describe('restoreSnapshot', () => {
  const snapshot: CircuitSnapshot = {
    state: 'half-open',
    since: 9_000,
    trials: 1,
    successes: 0,
    epoch: 4,
    reopenings: 2,
    breakDuration: 4_000,
    isolations: 0,
  };

  it('keeps the age of the snapshot’s time on the new clock, not counting the time in between', () => {
    expect(restoreSnapshot(snapshot, 10_000, 50).since).toBe(-950);
  });

  it('forgets the trials of the saving process, and keeps the rest', () => {
    expect(restoreSnapshot(snapshot, 10_000, 50)).toEqual({
      ...snapshot,
      since: -950,
      trials: 0,
      successes: 0,
      failures: 0,
    });
  });
});

describe('circuitBreaker — restore', () => {
  it('starts an open circuit where the saved one left off, on a clock that started afresh', async () => {
    const before = new VirtualClock(50_000);
    const first = circuitBreaker({ ...options, clock: before });
    failTimes(first, 1);
    await before.advance(4_000);
    const json = saved(first.toJSON());

    const after = new VirtualClock(0); // a new process: its clock starts again
    const second = circuitBreaker({ ...options, clock: after, restore: json });
    expect(second.state).toBe('open');
    expect(openErrorOf(attempt(() => second.executeSync(() => 1))).retryAfter).toBe(6_000);
    await after.advance(6_000);
    expect(second.state).toBe('half-open');
  });

  it('keeps a grown break and the re-opening count', async () => {
    const clock = new VirtualClock(0);
    const resetTimeout = { kind: 'doubling', delay: (n: number) => 1_000 * 2 ** (n - 1) };
    const first = circuitBreaker({ ...options, resetTimeout, clock });
    failTimes(first, 1);
    await clock.advance(1_000);
    failTimes(first, 1); // the trial fails: open for 2 s
    const second = circuitBreaker({
      ...options,
      resetTimeout,
      clock: new VirtualClock(0),
      restore: saved(first.toJSON()),
    });
    expect(second.toJSON().snapshot).toMatchObject({ reopenings: 1, breakDuration: 2_000 });
    expect(openErrorOf(attempt(() => second.executeSync(() => 1))).retryAfter).toBe(2_000);
  });

  it('keeps an isolation, with its count', () => {
    const first = circuitBreaker({ ...options, clock: new VirtualClock(0) });
    first.isolate();
    first.isolate();
    const second = circuitBreaker({ ...options, clock: new VirtualClock(0), restore: saved(first.toJSON()) });
    expect(second.isolated).toBe(true);
    expect(second.toJSON().snapshot.isolations).toBe(2);
    second.reset();
    expect(second.state).toBe('closed');
  });

  it('starts counters and the failure record afresh', () => {
    const first = circuitBreaker({ ...options, threshold: 2, clock: new VirtualClock(0) });
    failTimes(first, 1);
    const second = circuitBreaker({
      ...options,
      threshold: 2,
      clock: new VirtualClock(0),
      restore: saved(first.toJSON()),
    });
    expect(second.statistics.failures).toBe(0);
    failTimes(second, 1);
    expect(second.state).toBe('closed');
  });

  it('shows in the resolved options, checked and frozen', () => {
    const json = saved(circuitBreaker({ clock: new VirtualClock(0) }).toJSON());
    const restored = circuitBreaker({ restore: json, clock: new VirtualClock(0) }).options.restore;
    expect(restored).toEqual({ snapshot: json.snapshot, savedAt: 0 });
    expect(Object.isFrozen(restored?.snapshot)).toBe(true);
    expect(circuitBreaker().options.restore).toBeUndefined();
  });

  it.each<[string, unknown, string]>([
    [
      'not an object',
      5,
      'circuitBreaker: `restore` must be a saved circuit: { snapshot, savedAt }, as toJSON() returns, got 5.',
    ],
    [
      'a broken snapshot',
      { snapshot: { state: 'ajar' }, savedAt: 0 },
      'circuitBreaker: `restore.snapshot` must be a CircuitSnapshot (as saved from toJSON().snapshot), got an object.',
    ],
    [
      'no savedAt',
      { snapshot: { state: 'closed', since: 0, trials: 0, successes: 0, epoch: 0 } },
      'circuitBreaker: `restore.savedAt` must be a finite number (the clock time toJSON() was called at), got undefined.',
    ],
  ])('names the option when restore is %s', (_, restore, message) => {
    expect(() => circuitBreaker({ restore: restore as CircuitRestore })).toThrow(message);
  });

  it('refuses restore with a store, which holds the state itself', () => {
    const restore = saved(circuitBreaker().toJSON());
    expect(() => circuitBreaker({ restore, store: memoryCircuitStore() })).toThrow(
      'circuitBreaker: `restore` must be left out when `store` is given (seed the store instead), got an object.',
    );
  });
});

/**
 * A restored circuit is the saved one: after any history, a circuit restored
 * on a clock that started elsewhere answers every later call as the original
 * does. Threshold 1 and sync calls, so nothing is lost in between (no failure
 * record that matters, no trial in flight).
 */
describe('circuitBreaker — restore (property)', () => {
  type Step =
    { kind: 'call'; wait: number; fails: boolean } | { kind: 'isolate' } | { kind: 'release' } | { kind: 'reset' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('call' as const),
        wait: fc.integer({ min: 0, max: 9_000 }),
        fails: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.constantFrom<Step>({ kind: 'isolate' }, { kind: 'release' }, { kind: 'reset' }) },
  );
  const bareClock = (time: number) => {
    const clock = { time, now: () => clock.time } as Clock & { time: number };
    return clock;
  };

  it('answers every call after the restore as the original circuit does', () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 20 }),
        fc.array(step, { maxLength: 20 }),
        fc.integer({ min: -1e9, max: 1e9 }),
        fc.boolean(),
        (history, future, offset, grows) => {
          const resetTimeout = grows ? exponentialBackoff({ initial: 1_000, max: 8_000 }) : 2_000;
          const config = { threshold: 1, resetTimeout, counting: 'consecutive' as const };
          const clockA = bareClock(0);
          const original = circuitBreaker({ ...config, clock: clockA });
          apply(original, clockA, history, []);
          const clockB = bareClock(clockA.time + offset);
          const restored = circuitBreaker({ ...config, clock: clockB, restore: saved(original.toJSON()) });
          // The handles of the history stay with the saving process: each side releases only its own, later ones.
          const handlesA: CircuitIsolation[] = [];
          const handlesB: CircuitIsolation[] = [];
          for (const next of future) {
            const a = apply(original, clockA, [next], handlesA);
            const b = apply(restored, clockB, [next], handlesB);
            check(a === b, `original ${a}, restored ${b}`);
            check(original.state === restored.state, `state ${original.state} / ${restored.state}`);
          }
        },
      ),
      { numRuns: 10_000 },
    );
  });

  // Runs `steps`; returns what the last call answered ('ok', 'Boom' or 'open <retryAfter>').
  function apply(
    breaker: CircuitBreakerPolicy,
    clock: Clock & { time: number },
    steps: Step[],
    handles: CircuitIsolation[],
  ): string {
    let answer = '';
    for (const next of steps) {
      if (next.kind === 'isolate') handles.push(breaker.isolate());
      else if (next.kind === 'release') handles.shift()?.release();
      else if (next.kind === 'reset') breaker.reset();
      else {
        clock.time += next.wait;
        const { error } = attempt(() =>
          breaker.executeSync(() => {
            if (next.fails) throw new Boom();
            return 'ok';
          }),
        );
        answer = error === undefined ? 'ok' : isCircuitOpenError(error) ? `open ${error.retryAfter}` : 'Boom';
      }
    }
    return answer;
  }
});

// Plain checks: jest's expect costs more than the breaker itself, 10,000 schedules over.
function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}
