/**
 * The hand-off between a circuit breaker and the policy right around it (a
 * decorated `@Retry` over `@CircuitBreaker`). Both would otherwise react to the
 * method's promise, one after the other; handed off, one reaction records the
 * breaker's outcome and then decides the attempt, one promise step fewer.
 *
 * The protocol is synchronous, like `attemptSignal()`: the outer policy opens
 * the hand-off right before calling its attempt and closes it right after. A
 * breaker takes part only when called with `consumed` (its caller always
 * handles the promise) and the hand-off is open when it is entered; it then
 * returns the method's own promise and leaves itself in the slot. The outer
 * policy records through it only if its attempt returned exactly that promise;
 * otherwise the breaker is told to watch the promise itself.
 */

/** Records the outcome of the call the breaker handed off (on the closed path: a normal call). */
export const settleHandedOff = Symbol('staunch.settleHandedOff');
/** The hand-off was not taken: the breaker records the outcome of `promise` itself. */
export const watchHandedOff = Symbol('staunch.watchHandedOff');

/** A breaker that can hand its bookkeeping to the policy around it. */
export interface HandOffTaker {
  [settleHandedOff](ok: boolean, outcome: unknown): void;
  [watchHandedOff](promise: Promise<unknown>): void;
}

let open = false;
let taker: HandOffTaker | undefined;
let handed: Promise<unknown> | undefined;

/** Outer policy, right before calling its attempt. */
export function openHandOff(): void {
  open = true;
}

/** Breaker, on entry: whether it may hand off this call (and nothing nested in it may). */
export function enterHandOff(): boolean {
  if (!open) return false;
  open = false;
  return true;
}

/** Breaker: hands off `promise`, which it returns unchanged. */
export function handOff(from: HandOffTaker, promise: Promise<unknown>): void {
  // A slot still holding another breaker's call would lose that call's outcome: it records itself.
  if (taker !== undefined && handed !== undefined) taker[watchHandedOff](handed);
  taker = from;
  handed = promise;
}

/** Outer policy, right after its attempt returned `result` (or threw: `undefined`): the breaker to record through, if any. */
export function closeHandOff(result: unknown): HandOffTaker | undefined {
  open = false;
  const from = taker;
  if (from === undefined) return undefined;
  const promise = handed as Promise<unknown>;
  taker = undefined;
  handed = undefined;
  if (promise === result) return from;
  from[watchHandedOff](promise);
  return undefined;
}
