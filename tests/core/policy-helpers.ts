import type { AttemptContext } from '@staunch/core';
import type { VirtualClock } from '@staunch/core/testing';

/** What one scripted attempt does: resolve, reject, throw synchronously, or take `after` ms first. */
export type Step =
  | { readonly value: unknown; readonly after?: number }
  | { readonly error: unknown; readonly after?: number; readonly sync?: boolean }
  | { readonly hang: true };

/** A function that plays `steps` in order (the last one repeats) and records when it was called. */
export function scripted(clock: VirtualClock, steps: readonly Step[]) {
  const calls: number[] = [];
  const signals: AbortSignal[] = [];
  const fn = (context: AttemptContext): Promise<unknown> => {
    calls.push(clock.now());
    signals.push(context.signal);
    const step = steps[Math.min(calls.length, steps.length) - 1]!;
    if ('hang' in step) return new Promise(() => undefined);
    if ('error' in step && step.sync === true) throw step.error;
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- scenarios reject with any value, as user code may
    const settle = (): Promise<unknown> => ('error' in step ? Promise.reject(step.error) : Promise.resolve(step.value));
    const after = step.after ?? 0;
    return after > 0 ? clock.sleep(after).then(settle) : settle();
  };
  return { fn, calls, signals };
}

/** Observes a promise without letting its rejection go unhandled; `at` is the clock time it settled. */
export function track<T>(promise: Promise<T>, clock?: VirtualClock) {
  const state: { settled: boolean; value?: T; error?: unknown; rejected: boolean; at?: number | undefined } = {
    settled: false,
    rejected: false,
  };
  promise.then(
    (value) => {
      state.settled = true;
      state.at = clock?.now();
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.at = clock?.now();
      state.rejected = true;
      state.error = error;
    },
  );
  return state;
}

/** Runs the virtual clock until `promise` settles (at most `limit` ms) and returns its outcome with the time. */
export async function outcome<T>(clock: VirtualClock, promise: Promise<T>, limit = 3_600_000) {
  const state = track(promise, clock);
  const start = clock.now();
  await clock.flush();
  while (!state.settled && clock.now() - start < limit && clock.pending > 0) {
    await clock.runAll(limit - (clock.now() - start));
    await clock.flush();
  }
  return state;
}

/** Lets an error be recognised by identity in expectations. */
export class Boom extends Error {
  constructor(readonly id = 0) {
    super(`boom ${id}`);
  }
}
export class Other extends Error {
  readonly fatal = true;
}
