import {
  circuitBreaker,
  circuitBreakerFactory,
  memoryCircuitStore,
  withValidationLabel,
  type CircuitBreakerOptions,
  type CircuitSnapshot,
} from '@staunch/core';

const create = (options: unknown) => () => circuitBreaker(options as CircuitBreakerOptions);

describe('circuitBreaker validation', () => {
  it.each<[string, unknown, typeof TypeError | typeof RangeError, string]>([
    ['threshold 0', { threshold: 0 }, RangeError, 'circuitBreaker: `threshold` must be an integer >= 1, got 0.'],
    ['threshold 1.5', { threshold: 1.5 }, RangeError, 'circuitBreaker: `threshold` must be an integer >= 1, got 1.5.'],
    ['threshold "3"', { threshold: '3' }, TypeError, 'circuitBreaker: `threshold` must be a number, got "3".'],
    [
      'resetTimeout -1',
      { resetTimeout: -1 },
      RangeError,
      'circuitBreaker: `resetTimeout` must be a finite number >= 0, got -1.',
    ],
    [
      'resetTimeout Infinity',
      { resetTimeout: Infinity },
      RangeError,
      'circuitBreaker: `resetTimeout` must be a finite number >= 0, got Infinity.',
    ],
    [
      'mode on',
      { mode: 'on' },
      TypeError,
      "circuitBreaker: `mode` must be 'enforcing', 'metrics-only' or 'disabled', got \"on\".",
    ],
    [
      'halfOpenCalls 0',
      { halfOpenCalls: 0 },
      RangeError,
      'circuitBreaker: `halfOpenCalls` must be an integer >= 1, got 0.',
    ],
    [
      'on 42',
      { on: 42 },
      TypeError,
      'circuitBreaker: `on` must be an error class, an array of error classes or a predicate, got 42.',
    ],
    ['on [Error, "x"]', { on: [Error, 'x'] }, TypeError, 'circuitBreaker: `on[1]` must be an error class, got "x".'],
    ['onError "log"', { onError: 'log' }, TypeError, 'circuitBreaker: `onError` must be a function, got "log".'],
    ['name 7', { name: 7 }, TypeError, 'circuitBreaker: `name` must be a string, got 7.'],
    [
      'clock {}',
      { clock: {} },
      TypeError,
      'circuitBreaker: `clock` must be a Clock (an object with now()), got an object.',
    ],
    [
      'store {}',
      { store: {} },
      TypeError,
      'circuitBreaker: `store` must be a CircuitStore (an object with read() and compareAndSet()) or a CircuitStoreProvider (with circuit()), got an object.',
    ],
    [
      'counting "sliding"',
      { counting: 'sliding' },
      TypeError,
      "circuitBreaker: `counting.mode` must be 'leaky-bucket', 'consecutive' or 'failure-rate', got \"sliding\".",
    ],
    [
      'counting 5',
      { counting: 5 },
      TypeError,
      "circuitBreaker: `counting` must be 'leaky-bucket', 'consecutive' or { mode, … }, got 5.",
    ],
    [
      'rate 0',
      { counting: { mode: 'failure-rate', rate: 0 } },
      RangeError,
      'circuitBreaker: `counting.rate` must be a number > 0 and <= 1, got 0.',
    ],
    [
      'rate 50',
      { counting: { mode: 'failure-rate', rate: 50 } },
      RangeError,
      'circuitBreaker: `counting.rate` must be a number > 0 and <= 1, got 50.',
    ],
    [
      'window {}',
      { counting: { mode: 'failure-rate', window: {} } },
      TypeError,
      'circuitBreaker: `counting.window` must be { calls: n } or { duration: ms }, got an object.',
    ],
    [
      'window calls 0',
      { counting: { mode: 'failure-rate', window: { calls: 0 } } },
      RangeError,
      'circuitBreaker: `counting.window.calls` must be an integer >= 1, got 0.',
    ],
    [
      'window duration 0',
      { counting: { mode: 'failure-rate', window: { duration: 0 } } },
      RangeError,
      'circuitBreaker: `counting.window.duration` must be a finite number > 0, got 0.',
    ],
    [
      'minimumCalls above the window',
      { counting: { mode: 'failure-rate', window: { calls: 10 }, minimumCalls: 11 } },
      RangeError,
      'circuitBreaker: `counting.minimumCalls` must be at most `counting.window.calls` (10), got 11.',
    ],
    [
      'slowCallDuration -5',
      { counting: { mode: 'consecutive', slowCallDuration: -5 } },
      RangeError,
      'circuitBreaker: `counting.slowCallDuration` must be a number >= 0, got -5.',
    ],
  ])('rejects %s at creation', (_label, options, ErrorType, message) => {
    expect(create(options)).toThrow(ErrorType);
    expect(create(options)).toThrow(message);
  });

  it('validates once in circuitBreakerFactory, when the factory is made', () => {
    expect(() => circuitBreakerFactory({ threshold: -1 })).toThrow('circuitBreaker: `threshold`');
  });

  it('names the decorator and method inside withValidationLabel', () => {
    expect(() => withValidationLabel('@CircuitBreaker on charge()', create({ threshold: 0 }))).toThrow(
      '@CircuitBreaker on charge(): `threshold` must be an integer >= 1, got 0.',
    );
  });

  it('fills in the documented defaults', () => {
    expect(circuitBreaker().options).toEqual({
      name: 'circuit',
      on: undefined,
      failOn: undefined,
      threshold: 3,
      resetTimeout: 60_000,
      resetBackoff: undefined,
      halfOpenCalls: 1,
      halfOpenWait: 0,
      counting: { mode: 'leaky-bucket', slowCallDuration: Infinity },
      mode: 'enforcing',
      onError: undefined,
      clock: undefined,
      store: undefined,
      restore: undefined,
    });
    expect(Object.isFrozen(circuitBreaker().options)).toBe(true);
  });

  it('takes a minimumCalls default no larger than a small count window', () => {
    const breaker = circuitBreaker({ counting: { mode: 'failure-rate', window: { calls: 20 } } });
    expect(breaker.options.counting).toMatchObject({ minimumCalls: 20 });
  });
});

describe('memoryCircuitStore validation', () => {
  it('rejects a snapshot that is not one', () => {
    expect(() => memoryCircuitStore({ state: 'ajar' } as unknown as CircuitSnapshot)).toThrow(
      'memoryCircuitStore: `initial` must be a CircuitSnapshot (as saved from toJSON().snapshot), got an object.',
    );
  });
});
