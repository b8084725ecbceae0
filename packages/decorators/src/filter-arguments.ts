import { invalidOption, type ErrorFilter } from '@staunch/core';

/**
 * Reads the seed's two call shapes, `(on, options)` and `({ on, ...options })`:
 * a function or an array first is the error filter, an object is the options
 * (left for the core policy to validate, which names each bad option).
 */
export function filterAndOptions(
  decorator: string,
  first: unknown,
  second: unknown,
): { readonly on: ErrorFilter | undefined; readonly options: object | undefined } {
  if (typeof first === 'function' || Array.isArray(first)) {
    if (second !== undefined && (typeof second !== 'object' || second === null)) {
      invalidOption(decorator, 'options', 'an object', second);
    }
    return { on: first as ErrorFilter, options: second };
  }
  if (first === undefined || (typeof first === 'object' && first !== null)) {
    if (second !== undefined)
      invalidOption(decorator, 'on', 'an error class, an array of error classes or a predicate', first);
    const { on, ...options } = (first ?? {}) as { on?: ErrorFilter };
    return { on, options };
  }
  return invalidOption(
    decorator,
    'on',
    'an error class, an array of error classes, a predicate or an options object',
    first,
  );
}
