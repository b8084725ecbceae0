import {
  IllegalTransitionError,
  initialSnapshot,
  transition,
  type CircuitEvent,
  type CircuitSnapshot,
  type CircuitStateName,
} from '../../packages/core/src/circuit-breaker/state-machine';

const limits = { resetTimeout: 100, halfOpenCalls: 2 };
const at = (state: CircuitStateName, extra: Partial<CircuitSnapshot> = {}): CircuitSnapshot => ({
  state,
  since: 0,
  trials: 0,
  successes: 0,
  epoch: 5,
  ...extra,
});

describe('circuit state machine', () => {
  it('starts closed at epoch 0', () => {
    expect(initialSnapshot).toEqual({
      state: 'closed',
      since: 0,
      trials: 0,
      successes: 0,
      failures: 0,
      epoch: 0,
      reopenings: 0,
      breakDuration: 0,
      isolations: 0,
    });
  });

  it.each<[CircuitSnapshot, CircuitEvent, number, Partial<CircuitSnapshot>]>([
    [at('closed'), 'trip', 7, { state: 'open', since: 7, epoch: 6 }],
    [at('closed'), 'isolate', 7, { state: 'isolated', since: 7, epoch: 6 }],
    [at('closed'), 'reset', 7, { state: 'closed', since: 7, epoch: 6 }],
    [at('open'), 'halfOpen', 100, { state: 'half-open', since: 100, trials: 0, epoch: 6 }],
    [at('open'), 'isolate', 7, { state: 'isolated', epoch: 6 }],
    [at('open'), 'reset', 7, { state: 'closed', epoch: 6 }],
    [at('half-open'), 'acquireTrial', 7, { state: 'half-open', trials: 1, since: 7, epoch: 5 }],
    [
      at('half-open', { trials: 2, successes: 1, since: 10 }),
      'expireTrials',
      110,
      { state: 'half-open', since: 110, trials: 0, successes: 0, epoch: 6 },
    ],
    [at('half-open', { trials: 2, successes: 0 }), 'trialSucceeded', 7, { state: 'half-open', successes: 1, epoch: 5 }],
    [
      at('half-open', { trials: 2, successes: 1 }),
      'trialSucceeded',
      7,
      { state: 'closed', since: 7, trials: 0, epoch: 6 },
    ],
    [at('half-open', { trials: 1 }), 'trialFailed', 7, { state: 'open', since: 7, trials: 0, epoch: 6 }],
    [at('half-open', { trials: 2, successes: 1 }), 'releaseTrial', 7, { trials: 1, successes: 1, epoch: 5 }],
    [at('half-open', { trials: 1 }), 'isolate', 7, { state: 'isolated', trials: 0, epoch: 6 }],
    [at('half-open', { trials: 1 }), 'reset', 7, { state: 'closed', trials: 0, epoch: 6 }],
    [at('isolated'), 'reset', 7, { state: 'closed', epoch: 6 }],
    [at('isolated', { isolations: 1 }), 'isolate', 7, { state: 'isolated', isolations: 2, epoch: 5 }],
    [at('isolated', { isolations: 2 }), 'release', 7, { state: 'isolated', isolations: 1, epoch: 5 }],
    [at('isolated', { isolations: 1 }), 'release', 7, { state: 'closed', isolations: 0, epoch: 6 }],
    // saved before isolations were counted: held by one
    [at('isolated'), 'release', 7, { state: 'closed', epoch: 6 }],
    [at('isolated', { isolations: 3 }), 'reset', 7, { state: 'closed', isolations: 0, epoch: 6 }],
    [at('closed'), 'isolate', 7, { state: 'isolated', isolations: 1, epoch: 6 }],
  ])('allows %o --%s--> (at %d)', (from, event, now, expected) => {
    const next = transition(from, event, now, limits);
    expect(next).toMatchObject(expected);
    expect(next).not.toBe(from);
  });

  it.each<[CircuitSnapshot, CircuitEvent, number]>([
    [at('closed'), 'halfOpen', 1_000],
    [at('closed'), 'acquireTrial', 0],
    [at('closed'), 'trialSucceeded', 0],
    [at('closed'), 'trialFailed', 0],
    [at('closed'), 'releaseTrial', 0],
    [at('open'), 'trip', 0],
    [at('open'), 'halfOpen', 99], // resetTimeout has not passed
    [at('open'), 'acquireTrial', 1_000],
    [at('open'), 'trialSucceeded', 0],
    [at('half-open'), 'trip', 0],
    [at('half-open', { trials: 2 }), 'acquireTrial', 0], // no slot left
    [at('half-open'), 'trialSucceeded', 0], // no trial running
    [at('half-open', { trials: 1, successes: 1 }), 'trialFailed', 0],
    [at('half-open'), 'releaseTrial', 0],
    [at('half-open', { trials: 1, since: 10 }), 'expireTrials', 1_000], // a slot is still free
    [at('half-open', { trials: 2, since: 10 }), 'expireTrials', 109], // the latest trial began < resetTimeout ago
    [at('open'), 'expireTrials', 1_000],
    [at('isolated'), 'trip', 0],
    [at('isolated'), 'halfOpen', 1_000],
    [at('closed'), 'release', 0],
    [at('open'), 'release', 0],
    [at('half-open', { trials: 1 }), 'release', 0],
  ])('throws for %o --%s--> (at %d)', (from, event, now) => {
    expect(() => transition(from, event, now, limits)).toThrow(IllegalTransitionError);
  });
});
