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
  const current = slot.current;
  if (current === undefined) throw new AttemptSignalError();
  return current.signal;
}

/** Told, synchronously, when what it follows aborts: a call following its caller's signal or outer attempt. */
export interface Follower {
  abort(reason: unknown): void;
}

/**
 * One attempt. Its AbortController is made only when someone reads `signal`;
 * an attempt that nothing can abandon hands out the shared never-aborting signal.
 * Calls nested in it follow it directly (no listener on its signal), so any
 * number of them cost no AbortController and trip no listener-count warning.
 *
 * Its public members are a protocol between copies of this package (ESM and
 * CJS loaded side by side share the attempt slot): keep them stable.
 */
export class Attempt implements AttemptContext {
  // Fields are assigned in the constructor (`declare`), not defined as class fields: a class
  // with field definitions or `#private` members runs a separate initializer function on every
  // `new`, which measured 5-10% of a `@Timeout` or `@Hedge` call (one attempt object per call).
  declare readonly attempt: number;
  declare readonly abortable: boolean;
  /** Made when first needed (a signal read, an abort, a follower): most attempts never need it. */
  declare private abortState: AbortState | undefined;

  constructor(attempt: number, abortable: boolean) {
    this.attempt = attempt;
    this.abortable = abortable;
    this.abortState = undefined;
  }

  get signal(): AbortSignal {
    if (!this.abortable) return neverAborted();
    const state = (this.abortState ??= new AbortState());
    if (state.controller === undefined) {
      state.controller = new AbortController();
      if (state.aborted) state.controller.abort(state.reason);
    }
    return state.controller.signal;
  }

  /** True once abandoned. */
  get aborted(): boolean {
    return this.abortState?.aborted === true;
  }

  /** Why it was abandoned. */
  get reason(): unknown {
    return this.abortState?.reason;
  }

  /** Abandons the attempt: its signal and everything following it abort now, with `reason`. */
  abort(reason: unknown): void {
    const state = (this.abortState ??= new AbortState());
    if (state.aborted) return;
    state.aborted = true;
    state.reason = reason;
    state.controller?.abort(reason);
    const followers = state.followers;
    if (followers === undefined) return;
    state.followers = undefined;
    for (const follower of followers) follower.abort(reason);
  }

  /** `follower` is told when this attempt aborts (callers check {@link Attempt.aborted} first). */
  follow(follower: Follower): void {
    ((this.abortState ??= new AbortState()).followers ??= new Set()).add(follower);
  }

  /** Stops telling `follower`: its call ended. */
  unfollow(follower: Follower): void {
    this.abortState?.followers?.delete(follower);
  }
}

/** An attempt's controller, abort and followers, made only for an attempt that needs one of them. */
class AbortState {
  declare controller: AbortController | undefined;
  declare aborted: boolean;
  declare reason: unknown;
  declare followers: Set<Follower> | undefined;

  constructor() {
    // Assigned here rather than as class fields, for the reason given in Attempt.
    this.controller = undefined;
    this.aborted = false;
    this.reason = undefined;
    this.followers = undefined;
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
  const previous = slot.current;
  slot.current = attempt;
  return previous;
}

/**
 * For policies that make no attempts of their own (a circuit breaker): outside
 * any attempt, marks the never-aborting attempt as current, so `attemptSignal()`
 * works in a method under such a policy alone; inside one, keeps the outer
 * attempt. Returns the previous slot value, for {@link leaveAttempt}.
 */
export function enterCall(): Attempt | undefined {
  const previous = slot.current;
  if (previous === undefined) slot.current = unabortableAttempt;
  return previous;
}

/** Restores the slot saved by {@link enterAttempt}. */
export function leaveAttempt(previous: Attempt | undefined): void {
  slot.current = previous;
}

/**
 * The attempt that is starting, when it can be abandoned: a policy that starts
 * inside it (nested policies) follows it, so cancellation flows inward.
 */
export function abortableAttempt(): Attempt | undefined {
  const current = slot.current;
  return current?.abortable === true ? current : undefined;
}

// A slot instead of AsyncLocalStorage: on Node 20 ALS slows every async call in the process. Set only
// while an attempted function runs synchronously. It lives on globalThis under a versioned registered
// symbol, so every copy of this package in the process (ESM and CJS builds) shares it: attemptSignal()
// from one copy works in a method decorated through another.
const slot = ((globalThis as Record<symbol, unknown>)[Symbol.for('staunch.attemptSlot@1')] ??= {
  current: undefined,
}) as { current: Attempt | undefined };

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
