import { AttemptSignalError } from './errors.js';

/** What every attempted function receives: its own abort signal and which attempt it is. */
export interface AttemptContext {
  /** Aborted when the attempt is abandoned (attempt timeout, deadline, caller abort). */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/**
 * The signal of the attempt that is starting. Valid only synchronously at the
 * top of the attempted function, before its first `await`: keep it in a
 * variable. Anywhere else it throws {@link AttemptSignalError}.
 *
 * @example
 * class Rows {
 *   @AsyncBackoff({ attemptTimeout: 500 })
 *   async fetch(url: string): Promise<Row[]> {
 *     const signal = attemptSignal();
 *     return (await fetch(url, { signal })).json();
 *   }
 * }
 */
export function attemptSignal(): AbortSignal {
  if (current === undefined) throw new AttemptSignalError();
  return current.signal;
}

/**
 * One attempt. Its AbortController is made only when someone reads `signal`;
 * an attempt that nothing can abandon hands out the shared never-aborting signal.
 */
export class Attempt implements AttemptContext {
  /** The outcome (value or error) once the guarded attempt settled. */
  result: unknown;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  constructor(
    readonly attempt: number,
    readonly abortable: boolean,
  ) {}

  get signal(): AbortSignal {
    if (!this.abortable) return neverAborted();
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Abandons the attempt; a signal read later is already aborted with `reason`. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/** The slot value for attempts nothing can abandon (the decorator fast path allocates nothing). */
export const unabortableAttempt = new Attempt(0, false);

/** The context of every first attempt nothing can abandon: one shared object, never aborted. */
export const firstAttempt = new Attempt(1, false);

/**
 * Marks `attempt` as the one starting, for {@link attemptSignal}; returns the
 * previous slot value, to restore with {@link leaveAttempt} as soon as the
 * attempted function returns (nested policies restore the outer attempt).
 */
export function enterAttempt(attempt: Attempt): Attempt | undefined {
  const previous = current;
  current = attempt;
  return previous;
}

/**
 * For policies that make no attempts of their own (a circuit breaker): outside
 * any attempt, marks the never-aborting attempt as current, so `attemptSignal()`
 * works in a method under such a policy alone; inside one, keeps the outer
 * attempt. Returns the previous slot value, for {@link leaveAttempt}.
 */
export function enterCall(): Attempt | undefined {
  const previous = current;
  if (previous === undefined) current = unabortableAttempt;
  return previous;
}

/** Restores the slot saved by {@link enterAttempt}. */
export function leaveAttempt(previous: Attempt | undefined): void {
  current = previous;
}

/** True while an attempt that can be abandoned is starting (a policy nested in it must follow its signal). */
export function insideAbortableAttempt(): boolean {
  return current?.abortable === true;
}

/**
 * The signal of the outer attempt when a policy starts inside one (nested
 * policies), so cancellation flows inward; `undefined` when there is no outer
 * attempt or it can never be aborted.
 */
export function outerAttemptSignal(): AbortSignal | undefined {
  return current?.abortable === true ? current.signal : undefined;
}

// Module-level slot instead of AsyncLocalStorage: on Node 20 ALS slows every
// async call in the process. Set only while the attempted function runs synchronously.
let current: Attempt | undefined;
let never: AbortSignal | undefined;

/**
 * One signal shared by every attempt nothing can abandon. It never aborts, so
 * abort listeners on it could never run: they are dropped instead of
 * accumulating (and tripping Node's "possible EventTarget memory leak" warning).
 */
function neverAborted(): AbortSignal {
  if (never !== undefined) return never;
  const signal = new AbortController().signal;
  const add = signal.addEventListener.bind(signal);
  Object.defineProperty(signal, 'addEventListener', {
    value: (type: string, ...rest: unknown[]): void => {
      if (type !== 'abort') Reflect.apply(add, undefined, [type, ...rest]);
    },
  });
  never = signal;
  return signal;
}
