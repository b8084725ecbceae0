import {
  asyncBackoff,
  asyncBackoffPolicy,
  asyncRetry,
  asyncRetryPolicy,
  circuitBreaker,
  circuitBreakerFactory,
  invalidOption,
  retry,
  retryPolicy,
  withValidationLabel,
  type AttemptContext,
  type ErrorClass,
  type ErrorFilter,
  type GiveUpEvent,
} from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import {
  anyError,
  describeInvalidFilter,
  isErrorClass,
  noError,
  toErrorMatcher,
} from '../../packages/core/src/error-filter';
import { integerAtLeast, nonNegative, optionalErrorFilter, optionalFunction } from '../../packages/core/src/validation';
import { Boom, Other, outcome, scripted } from './policy-helpers';
import { collectReported, reportOf } from './reported-warnings';

class HttpError extends Error {}
class NotFound extends HttpError {}

describe('error filter', () => {
  it('matches a class and its subclasses with instanceof', () => {
    const matches = toErrorMatcher(HttpError, noError);
    expect(matches(new NotFound())).toBe(true);
    expect(matches(new Error())).toBe(false);
  });

  it('matches any class of a list; an empty list matches nothing', () => {
    const matches = toErrorMatcher([TypeError, NotFound], noError);
    expect([new TypeError(), new NotFound(), new HttpError()].map(matches)).toEqual([true, true, false]);
    expect(toErrorMatcher([], anyError)(new Error())).toBe(false);
  });

  it('uses a non-class function as a predicate, truthy meaning "matches"', () => {
    const matches = toErrorMatcher(((error: unknown) => (error as { status?: number }).status) as never, noError);
    expect(matches({ status: 503 })).toBe(true);
    expect(matches({})).toBe(false);
  });

  it('falls back when the filter is undefined', () => {
    expect(toErrorMatcher(undefined, anyError)('anything')).toBe(true);
    expect(toErrorMatcher(undefined, noError)(new Error())).toBe(false);
  });

  it('treats an error as not matching when the predicate throws, and reports the predicate’s error as a warning', () => {
    const { reported, restore } = collectReported();
    try {
      const matches = toErrorMatcher(
        (error: unknown) => (error as { response: { status: number } }).response.status >= 500,
        anyError,
      );
      expect(matches(new Error('network down'))).toBe(false);
      expect(reported).toHaveLength(1);
      expect(reported[0]).toMatchObject({ type: 'StaunchWarning', code: 'STAUNCH_CALLBACK_FAILED' });
      expect(reported[0]!.message).toMatch(/^staunch: an `on` error filter threw, .*TypeError: Cannot read/);
      expect(matches({ response: { status: 503 } })).toBe(true);
    } finally {
      restore();
    }
  });

  it('treats an error as not matching when a class’s Symbol.hasInstance throws, alone or in a list, reporting it', () => {
    const { reported, restore } = collectReported();
    try {
      const failure = new Error('hasInstance failed');
      class Picky extends Error {
        static override [Symbol.hasInstance](): boolean {
          throw failure;
        }
      }
      expect(toErrorMatcher(Picky, noError)(new Error())).toBe(false);
      expect(toErrorMatcher([Picky], noError)(new Error())).toBe(false);
      expect(toErrorMatcher([Boom, Picky], noError)(new Error())).toBe(false);
      expect(toErrorMatcher([Boom, Picky], noError)(new Boom())).toBe(true);
      expect(reported.map((warning) => warning.detail)).toEqual([
        reportOf(failure),
        reportOf(failure),
        reportOf(failure),
      ]);
    } finally {
      restore();
    }
  });

  it('tells classes from predicates', () => {
    expect(isErrorClass(Error)).toBe(true);
    expect(isErrorClass(NotFound)).toBe(true);
    expect(isErrorClass(class Plain {})).toBe(true);
    expect(isErrorClass(() => true)).toBe(false);
  });

  it('describes what is wrong with an invalid filter', () => {
    expect(describeInvalidFilter(HttpError)).toBeUndefined();
    expect(describeInvalidFilter([HttpError, 3])).toBe('expected an error class at index 1, got 3');
    expect(describeInvalidFilter('x')).toMatch(/^expected an error class, an array of error classes or a predicate/);
  });
});

describe('validation', () => {
  it('names the policy, the option, what was expected and what was given', () => {
    expect(() => nonNegative('retry', 'interval', -1)).toThrow(
      new RangeError('retry: `interval` must be a number >= 0, got -1.'),
    );
    expect(() => nonNegative('retry', 'interval', 'x')).toThrow(
      new TypeError('retry: `interval` must be a number, got "x".'),
    );
    expect(() => integerAtLeast('asyncRetry', 'maxTries', 0, 1, true)).toThrow(
      new RangeError('asyncRetry: `maxTries` must be an integer >= 1 (or Infinity), got 0.'),
    );
    expect(() => optionalFunction('x', 'giveup', 3)).toThrow(new TypeError('x: `giveup` must be a function, got 3.'));
    expect(() => optionalErrorFilter('x', 'on', {})).toThrow(
      new TypeError('x: `on` must be an error class, an array of error classes or a predicate, got an object.'),
    );
    expect(() => invalidOption('p', 'o', 'e', null)).toThrow('p: `o` must be e, got null.');
  });

  it('labels errors thrown inside withValidationLabel (as the decorators do)', () => {
    expect(() => withValidationLabel('@Retry on charge()', () => retryPolicy(Error, { times: 2.5 }))).toThrow(
      new RangeError(
        '@Retry on charge(): `times` must be an integer (the total number of calls) or Infinity, got 2.5.',
      ),
    );
    expect(() => retryPolicy(Error, { times: 2.5, clock: new VirtualClock() })).toThrow(/^retry: /);
  });
});

type Fn = (context: AttemptContext) => Promise<unknown>;

/** Every attempt engine, in its one-shot and its policy form, with retries allowed and a 10 ms wait. */
const engines: [string, (fn: Fn, on: ErrorFilter, clock: VirtualClock) => Promise<unknown>][] = [
  ['retry(fn, on, options)', (fn, on, clock) => retry(fn, on, { times: 3, interval: 10, clock })],
  ['retryPolicy(on, options)', (fn, on, clock) => retryPolicy(on, { times: 3, interval: 10, clock }).execute(fn)],
  ['asyncRetry(fn, maxTries, { on })', (fn, on, clock) => asyncRetry(fn, 3, { on, pause: 10, clock })],
  ['asyncRetryPolicy(maxTries, { on })', (fn, on, clock) => asyncRetryPolicy(3, { on, pause: 10, clock }).execute(fn)],
  ['asyncBackoff(fn, { on })', (fn, on, clock) => asyncBackoff(fn, { on, maxTries: 3, pause: 10, clock })],
  [
    'asyncBackoffPolicy({ on, attemptTimeout })',
    (fn, on, clock) => asyncBackoffPolicy({ on, maxTries: 3, pause: 10, attemptTimeout: 1_000, clock }).execute(fn),
  ],
];

describe('a throwing `on` predicate', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  // The typical case: a filter written for HTTP errors meets a network error without `response`.
  const httpFilter = (error: unknown): boolean => (error as { response: { status: number } }).response.status >= 500;

  it.each(engines)(
    '%s: rejects with the function’s own error, makes no further call, reports the predicate’s error later',
    async (_, run) => {
      const { reported, restore } = collectReported();
      try {
        const own = new Error('ECONNRESET');
        const { fn, calls } = scripted(clock, [{ error: own }, { value: 'never' }]);
        const result = await outcome(clock, run(fn, httpFilter, clock));
        expect(result.error).toBe(own);
        expect(calls).toEqual([0]);
        expect(reported).toHaveLength(1);
        expect(reported[0]!.message).toContain('TypeError');
      } finally {
        restore();
      }
    },
  );

  it.each([
    ['retryPolicy', () => retryPolicy(httpFilter, { clock: new VirtualClock() })],
    ['asyncRetryPolicy', () => asyncRetryPolicy(3, { on: httpFilter })],
    ['asyncBackoffPolicy', () => asyncBackoffPolicy({ on: httpFilter })],
  ])('%s gives up with reason `not-retryable`', async (_, make) => {
    const { restore } = collectReported();
    try {
      const policy = make();
      const events: GiveUpEvent[] = [];
      policy.on('giveUp', (event) => events.push(event));
      const own = new Error('ECONNRESET');
      await expect(policy.execute(() => Promise.reject(own))).rejects.toBe(own);
      expect(events).toEqual([
        { attempts: 1, error: own, reason: 'not-retryable', elapsed: expect.any(Number) as number },
      ]);
    } finally {
      restore();
    }
  });
});

describe('an array error filter', () => {
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
  });

  it.each(engines)('%s: changing the caller’s array after the call started changes nothing', async (_, run) => {
    const on: ErrorClass[] = [Boom, RangeError];
    const { fn: script, calls } = scripted(clock, [{ error: new Boom() }, { value: 'ok' }]);
    const fn: Fn = (context) => {
      on[0] = Other;
      return script(context);
    };
    const result = await outcome(clock, run(fn, on, clock));
    expect(result.value).toBe('ok');
    expect(calls).toEqual([0, 10]);
  });

  it.each([
    ['retryPolicy', (on: ErrorClass[]) => retryPolicy(on).options],
    ['retryPolicy({ on })', (on: ErrorClass[]) => retryPolicy({ on }).options],
    ['asyncRetryPolicy', (on: ErrorClass[]) => asyncRetryPolicy(3, { on }).options],
    ['asyncBackoffPolicy', (on: ErrorClass[]) => asyncBackoffPolicy({ on }).options],
    ['circuitBreaker', (on: ErrorClass[]) => circuitBreaker({ on }).options],
    ['circuitBreakerFactory', (on: ErrorClass[]) => circuitBreakerFactory({ on }).options],
  ])('%s records a frozen copy in its options, which later changes to the array do not reach', (_, optionsOf) => {
    const on: ErrorClass[] = [Boom];
    const options = optionsOf(on);
    on.push(Other);
    expect(options.on).toEqual([Boom]);
    expect(options.on).not.toBe(on);
    expect(Object.isFrozen(options.on)).toBe(true);
  });

  it('keeps a circuit’s matching as created when the array changes later', () => {
    const on: ErrorClass[] = [Boom];
    const breaker = circuitBreaker({ on, threshold: 1, clock });
    on[0] = Other;
    expect(() =>
      breaker.executeSync(() => {
        throw new Other();
      }),
    ).toThrow(Other);
    expect(breaker.state).toBe('closed');
    expect(() =>
      breaker.executeSync(() => {
        throw new Boom();
      }),
    ).toThrow(Boom);
    expect(breaker.state).toBe('open');
  });
});
