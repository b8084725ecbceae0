import { CircuitOpenError, type CircuitBreakerPolicy } from '@staunch/core';

/** The error the breakers under test count (`on: Boom`). */
export class Boom extends Error {
  constructor(readonly id = 0) {
    super(`boom ${id}`);
    this.name = 'Boom';
  }
}

/** An error the breakers under test do not count. */
export class Other extends Error {
  override name = 'Other';
}

/** A promise with its settle functions, settled by the test. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A promise the test settles by hand. */
export function deferred<T = string>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The outcome of a sync call: its value, or the error it threw. */
export function attempt<T>(run: () => T): { value?: T; error?: unknown } {
  try {
    return { value: run() };
  } catch (error) {
    return { error };
  }
}

/** The error a rejected call was rejected with, asserting it is a CircuitOpenError. */
export function openErrorOf(outcome: { error?: unknown }): CircuitOpenError {
  expect(outcome.error).toBeInstanceOf(CircuitOpenError);
  return outcome.error as CircuitOpenError;
}

/** Makes `times` sync calls to `breaker` that throw `Boom`, swallowing what they throw. */
export function failTimes(breaker: CircuitBreakerPolicy, times: number): void {
  for (let i = 0; i < times; i++) {
    attempt(() =>
      breaker.executeSync(() => {
        throw new Boom(i);
      }),
    );
  }
}
