import { describeInvalidFilter, describeValue, ownFilter } from './error-filter.js';

let label: string | undefined;

/**
 * Throws the error for an invalid option, in one shape everywhere:
 * "retry: `times` must be a positive integer, got -1."
 * Inside {@link withValidationLabel} the label replaces the policy name, so a
 * decorator can say "@Retry on charge(): `times` must be …".
 */
export function invalidOption(
  policy: string,
  option: string,
  expected: string,
  got: unknown,
  ErrorType: typeof TypeError | typeof RangeError = TypeError,
): never {
  throw new ErrorType(`${label ?? policy}: \`${option}\` must be ${expected}, got ${describeValue(got)}.`);
}

/** Runs `build` so that option errors it throws are labelled with `where` (e.g. '@Retry on charge()'). */
export function withValidationLabel<T>(where: string, build: () => T): T {
  const previous = label;
  label = where;
  try {
    return build();
  } finally {
    label = previous;
  }
}

/** `value` when it is a number >= 0 (Infinity allowed when `allowInfinity`), else an option error. */
export function nonNegative(policy: string, option: string, value: unknown, allowInfinity = true): number {
  if (typeof value !== 'number' || Number.isNaN(value)) invalidOption(policy, option, 'a number', value);
  if (value < 0 || (!allowInfinity && value === Infinity)) {
    invalidOption(policy, option, allowInfinity ? 'a number >= 0' : 'a finite number >= 0', value, RangeError);
  }
  return value;
}

/** `value` when it is an integer >= `min` (or Infinity when allowed), else an option error. */
export function integerAtLeast(
  policy: string,
  option: string,
  value: unknown,
  min: number,
  allowInfinity = false,
): number {
  if (typeof value !== 'number' || Number.isNaN(value)) invalidOption(policy, option, 'a number', value);
  if (value === Infinity ? !allowInfinity : !Number.isInteger(value) || value < min) {
    invalidOption(policy, option, `an integer >= ${min}${allowInfinity ? ' (or Infinity)' : ''}`, value, RangeError);
  }
  return value;
}

/**
 * The caller's `signal` of a call, checked when the call starts: `undefined`,
 * or an error to reject the call with when it is not an AbortSignal (anything
 * with `aborted`, `reason` and the two listener methods is accepted).
 */
export function signalProblem(policy: string, signal: unknown): TypeError | undefined {
  if (
    typeof signal === 'object' &&
    signal !== null &&
    typeof (signal as AbortSignal).aborted === 'boolean' &&
    typeof (signal as AbortSignal).addEventListener === 'function' &&
    typeof (signal as AbortSignal).removeEventListener === 'function'
  ) {
    return undefined;
  }
  return new TypeError(`${policy}: \`signal\` must be an AbortSignal, got ${describeValue(signal)}.`);
}

/** `value` when it is a function or undefined, else an option error. */
export function optionalFunction<F>(policy: string, option: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') invalidOption(policy, option, 'a function', value);
  return value;
}

/**
 * The filter to keep when `value` is a valid error filter (or undefined): see
 * {@link ownFilter} (an array is copied and frozen). Else a TypeError naming
 * what is wrong with it.
 */
export function optionalErrorFilter<F>(policy: string, option: string, value: F): F {
  const problem = describeInvalidFilter(value);
  if (problem !== undefined) {
    throw new TypeError(`${label ?? policy}: \`${option}\` must be ${problem.replace(/^expected /, '')}.`);
  }
  return ownFilter(value);
}
