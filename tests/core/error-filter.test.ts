import { retryPolicy, withValidationLabel, invalidOption } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import {
  anyError,
  describeInvalidFilter,
  isErrorClass,
  noError,
  toErrorMatcher,
} from '../../packages/core/src/error-filter';
import { integerAtLeast, nonNegative, optionalErrorFilter, optionalFunction } from '../../packages/core/src/validation';

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
