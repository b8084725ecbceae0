import { asyncBackoffPolicy, retryPolicy, setAttemptHook, type AttemptHook } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Boom, outcome, scripted } from './policy-helpers';

/** A hook that logs what it sees, and the attempt each `run` wraps. */
function loggingHook(log: string[]): AttemptHook {
  return {
    start: (_policy, kind, attempt) => `${kind} ${attempt}`,
    run: (token, call) => {
      log.push(`run ${String(token)}`);
      return call();
    },
    end: (token, failed, error) =>
      log.push(`end ${String(token)} ${failed ? `failed ${(error as Error).constructor.name}` : 'ok'}`),
  };
}

describe('the attempt hook', () => {
  it('wraps every attempt of a call, the first one too, and is told how each ended', async () => {
    const clock = new VirtualClock();
    const policy = retryPolicy(Boom, { times: 3, interval: 100, clock });
    const log: string[] = [];
    const unset = setAttemptHook(loggingHook(log));
    try {
      const { fn } = scripted(clock, [{ error: new Boom() }, { value: 'done' }]);
      expect(await outcome(clock, policy.execute(fn))).toMatchObject({ value: 'done' });
    } finally {
      unset();
    }
    expect(log).toEqual(['run retry 1', 'end retry 1 failed Boom', 'run retry 2', 'end retry 2 ok']);
  });

  it('ends an attempt cut short by the deadline as failed', async () => {
    const clock = new VirtualClock();
    const policy = asyncBackoffPolicy({ deadline: 50, clock });
    const log: string[] = [];
    const unset = setAttemptHook(loggingHook(log));
    try {
      await outcome(clock, policy.execute(scripted(clock, [{ hang: true }]).fn));
    } finally {
      unset();
    }
    expect(log).toEqual(['run asyncBackoff 1', 'end asyncBackoff 1 failed DeadlineExceededError']);
  });

  it('calls nothing once removed, and a stale remover leaves the current hook in place', async () => {
    const clock = new VirtualClock();
    const policy = retryPolicy({ times: 2, clock });
    const first: string[] = [];
    const second: string[] = [];
    const unsetFirst = setAttemptHook(loggingHook(first));
    unsetFirst();
    await outcome(clock, policy.execute(scripted(clock, [{ value: 1 }]).fn));
    const unsetSecond = setAttemptHook(loggingHook(second));
    unsetFirst();
    await outcome(clock, policy.execute(scripted(clock, [{ value: 2 }]).fn));
    unsetSecond();
    await outcome(clock, policy.execute(scripted(clock, [{ value: 3 }]).fn));
    expect([first, second]).toEqual([[], ['run retry 1', 'end retry 1 ok']]);
  });
});
