import { reportCallbackError } from './report-callback-error.js';

/** A class of errors; `instanceof` decides, so subclasses match. */
export type ErrorClass = abstract new (...args: never[]) => unknown;

/** Which errors a policy handles: a class, a list of classes, or a predicate. */
export type ErrorFilter = ErrorClass | readonly ErrorClass[] | ((error: unknown) => boolean);

/** A resolved {@link ErrorFilter}. */
export type ErrorMatcher = (error: unknown) => boolean;

/** Matches every error. */
export const anyError: ErrorMatcher = () => true;
/** Matches no error. */
export const noError: ErrorMatcher = () => false;

/**
 * Resolves a filter once, at policy creation, into one fast predicate.
 * `undefined` resolves to `fallback`. A function counts as a class when it is
 * `Error` or a subclass of it, or is written with `class`; any other function is
 * a predicate. The matcher never throws: a filter that throws (a predicate
 * reading `error.response.status` of a network error, a throwing
 * `Symbol.hasInstance`) does not match, and its own error is reported as a
 * warning (report-callback-error.ts), so the caller still gets the function's error.
 */
export function toErrorMatcher(filter: ErrorFilter | undefined, fallback: ErrorMatcher): ErrorMatcher {
  if (filter === undefined) return fallback;
  if (Array.isArray(filter)) {
    const classes = filter as readonly ErrorClass[];
    if (classes.length === 0) return noError;
    if (classes.length === 1) return instanceOf(classes[0] as ErrorClass);
    return (error) => {
      try {
        for (const errorClass of classes) if (error instanceof errorClass) return true;
      } catch (filterError) {
        return failed(filterError);
      }
      return false;
    };
  }
  if (isErrorClass(filter)) return instanceOf(filter);
  // Typed as returning `unknown`: a JavaScript caller's predicate may return any truthy value.
  const predicate = filter as (error: unknown) => unknown;
  return (error) => {
    try {
      return Boolean(predicate(error));
    } catch (filterError) {
      return failed(filterError);
    }
  };
}

/**
 * The filter a policy keeps: an array is copied and frozen, so that changing
 * the caller's array later changes neither what matches nor what `options.on`
 * shows. An array already frozen cannot change and is kept, as is any other filter.
 */
export function ownFilter<F>(filter: F): F {
  return Array.isArray(filter) && !Object.isFrozen(filter) ? (Object.freeze(filter.slice()) as F) : filter;
}

/**
 * Checks a user-supplied filter; returns a message describing what is wrong,
 * or `undefined` when it is valid.
 */
export function describeInvalidFilter(filter: unknown): string | undefined {
  if (filter === undefined || typeof filter === 'function') return undefined;
  if (Array.isArray(filter)) {
    const bad = filter.findIndex((item) => typeof item !== 'function');
    return bad === -1 ? undefined : `expected an error class at index ${bad}, got ${describeValue(filter[bad])}`;
  }
  return `expected an error class, an array of error classes or a predicate, got ${describeValue(filter)}`;
}

/** True when `value` is a class (to be matched with `instanceof`) rather than a predicate. */
export function isErrorClass(value: unknown): value is ErrorClass {
  if (typeof value !== 'function') return false;
  if (value === Error || value.prototype instanceof Error) return true;
  return value.prototype !== undefined && Function.prototype.toString.call(value).startsWith('class');
}

/** A short, readable rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return value.name ? `function ${value.name}` : 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}

function instanceOf(errorClass: ErrorClass): ErrorMatcher {
  return (error) => {
    try {
      return error instanceof errorClass;
    } catch (filterError) {
      return failed(filterError);
    }
  };
}

// The error filter itself failed. Retrying would guess, and throwing would replace the caller's
// error with the filter's: the error counts as not matching (it propagates unchanged) and the
// filter's error is reported the way a throwing listener or hook is.
function failed(filterError: unknown): false {
  reportCallbackError(filterError, 'staunch: an `on` error filter');
  return false;
}
