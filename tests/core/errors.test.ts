import {
  AttemptSignalError,
  AttemptTimeoutError,
  CircuitOpenError,
  DeadlineExceededError,
  isAttemptSignalError,
  isAttemptTimeoutError,
  isCircuitOpenError,
  isDeadlineExceededError,
  isPollTimeoutError,
  isStaunchError,
  isTimeoutError,
  PollTimeoutError,
  RateLimitedError,
  isRateLimitedError,
  StaunchError,
  TimeoutError,
} from '@staunch/core';

const samples = () => [
  new PollTimeoutError(1_000, 3, 'last'),
  new AttemptTimeoutError(100, 2),
  new DeadlineExceededError(500),
  new CircuitOpenError('db', 250),
  new AttemptSignalError(),
  new RateLimitedError(10, 1000, 'full', 100),
];

describe('errors', () => {
  it('gives each concrete error its own non-empty string code', () => {
    const codes = samples().map((error) => error.code);
    codes.forEach((code) => expect(code).toMatch(/^STAUNCH_[A-Z_]+$/));
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('puts every timeout under TimeoutError, under StaunchError, under Error', () => {
    for (const error of [new PollTimeoutError(1, 1, 0), new AttemptTimeoutError(1, 1), new DeadlineExceededError(1)]) {
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toBeInstanceOf(StaunchError);
      expect(error).toBeInstanceOf(Error);
    }
    expect(new CircuitOpenError('c', 1)).not.toBeInstanceOf(TimeoutError);
    expect(new AttemptSignalError()).toBeInstanceOf(StaunchError);
  });

  it('names errors after their class and carries their data', () => {
    expect(new PollTimeoutError(1_000, 3, 'last')).toMatchObject({
      name: 'PollTimeoutError',
      timeout: 1_000,
      attempts: 3,
      lastValue: 'last',
    });
    expect(new AttemptTimeoutError(100, 2)).toMatchObject({ name: 'AttemptTimeoutError', timeout: 100, attempt: 2 });
    expect(new DeadlineExceededError(500)).toMatchObject({ name: 'DeadlineExceededError', timeout: 500 });
    expect(new RateLimitedError(10, 1000, 'maxWait', 99.2)).toMatchObject({
      name: 'RateLimitedError',
      code: 'STAUNCH_RATE_LIMITED',
      permits: 10,
      per: 1000,
      reason: 'maxWait',
      retryAfter: 99.2,
    });
    expect(new RateLimitedError(10, 1000, 'maxWait', 99.2).message).toContain('Retry after 100 ms');
    expect(new AttemptSignalError().message).toMatch(
      /synchronously at the top of the decorated method, before the first await/,
    );
  });

  it('recognises each error with its guard, and nothing else', () => {
    const guards = [
      isPollTimeoutError,
      isAttemptTimeoutError,
      isDeadlineExceededError,
      isCircuitOpenError,
      isAttemptSignalError,
      isRateLimitedError,
    ];
    const errors = samples();
    guards.forEach((guard, g) => errors.forEach((error, e) => expect(guard(error)).toBe(g === e)));
    errors.forEach((error) => expect(isStaunchError(error)).toBe(true));
    expect(errors.map(isTimeoutError)).toEqual([true, true, true, false, false, false]);
    expect(isStaunchError(new Error('x'))).toBe(false);
    expect(isStaunchError(null)).toBe(false);
  });
});

describe('recognising errors', () => {
  it('does not take an error of yours with a numeric `timeout` for a TimeoutError', () => {
    class Slow extends StaunchError {
      readonly timeout = 5;
      constructor() {
        super('MY_SLOW', 'slow');
      }
    }
    const error = new Slow();
    expect(error).toBeInstanceOf(StaunchError);
    expect(error).not.toBeInstanceOf(TimeoutError);
    expect(isTimeoutError(error)).toBe(false);
  });

  it('keeps the plain prototype check for a subclass of yours', () => {
    class Mine extends CircuitOpenError {}
    expect(new Mine('db', 1)).toBeInstanceOf(Mine);
    expect(new CircuitOpenError('db', 1)).not.toBeInstanceOf(Mine);
    expect(new Mine('db', 1)).toBeInstanceOf(CircuitOpenError);
  });
});
