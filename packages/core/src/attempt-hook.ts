import type { PolicyKind } from './attempt-loop.js';

/**
 * What runs around every attempt of an attempt policy (retry, poll,
 * asyncBackoff, asyncRetry, timeout), process-wide: the seam through which
 * instrumentation such as `@staunch/otel`'s attempt spans sees attempts
 * without core knowing it. While none is set, an attempt pays one field read.
 */
export interface AttemptHook {
  /** Attempt `attempt` (from 1) of `policy` starts; what it returns is handed back to `run` and `end`. */
  start(policy: object, kind: PolicyKind, attempt: number): unknown;
  /** Runs the attempt's synchronous part, `call`, and returns what it returns (to make a context active around it). */
  run<R>(token: unknown, call: () => R): R;
  /** The attempt ended: `failed` with `error`, or not (a value, even one a poll goes on from). */
  end(token: unknown, failed: boolean, error: unknown): void;
}

/** The hook in force (read by the attempt loop once per attempt). */
export const attemptHooks: { current: AttemptHook | undefined } = { current: undefined };

/**
 * Sets the process-wide {@link AttemptHook}, replacing any; returns the
 * function that removes it (if it is still the one set). Calls already
 * running keep the hook they started with until their attempt ends.
 *
 * @example
 * import { retryPolicy, setAttemptHook } from '@staunch/core';
 *
 * const unset = setAttemptHook({
 *   start: (_policy, kind, attempt) => `${kind} #${attempt}`,
 *   run: (_token, call) => call(),
 *   end: (token, failed) => console.log(token, failed ? 'failed' : 'ok'),
 * });
 * await retryPolicy({ times: 2 }).execute(() => 'done'); // logs "retry #1 ok"
 * unset();
 */
export function setAttemptHook(hook: AttemptHook): () => void {
  attemptHooks.current = hook;
  return () => {
    if (attemptHooks.current === hook) attemptHooks.current = undefined;
  };
}
