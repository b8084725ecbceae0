import type { Attempt, Follower } from './attempt.js';
import type { Clock, TimerHandle } from './clock.js';
import { followSignal, unfollowSignal } from './follow-signal.js';
import { promiseOf } from './hot-path.js';

/** How an attempt, or a wait, ended, as the attempt loop sees it. */
export type Outcome = 0 | 1 | 2 | 3 | 4;
/** It resolved (or a pause ran its course). */
export const VALUE: Outcome = 0;
/** It rejected or threw. */
export const ERROR: Outcome = 1;
/** The attempt ran past `attemptTimeout`. */
export const TIMEOUT: Outcome = 2;
/** The call ran past its `deadline`. */
export const DEADLINE: Outcome = 3;
/** The caller's signal, or the attempt the call is nested in, aborted. */
export const ABORTED: Outcome = 4;

/**
 * The cancellation and the waits of one call in the full attempt loop, when
 * anything can end a wait early: the caller's signal, an outer attempt the call
 * is nested in, an attempt timeout or a deadline. It follows the signal and the
 * outer attempt, and when either aborts it aborts the call's attempt in the
 * same turn (synchronously, as `AbortSignal.any` would) and ends the current
 * wait. The attempt it aborts is the running one, or the last one while the
 * call pauses between attempts, so work a failed attempt left behind stops too.
 */
export class CallGuard implements Follower {
  /** True once the caller's signal or the outer attempt aborted. */
  aborted = false;
  /** Their reason. */
  reason: unknown;
  /** The running attempt, or the last one during a pause. */
  attempt: Attempt | undefined;
  /** What the awaited promise of the last wait settled with. */
  result: unknown;
  readonly #signal: AbortSignal | undefined;
  readonly #outer: Attempt | undefined;
  #wake: ((outcome: Outcome) => void) | undefined;
  #timer: TimerHandle | undefined;
  #clock: Clock | undefined;
  #wait = 0;

  constructor(signal: AbortSignal | undefined, outer: Attempt | undefined) {
    this.#signal = signal;
    this.#outer = outer;
    if (signal !== undefined) {
      if (signal.aborted) this.abort(signal.reason);
      else followSignal(signal, this);
    }
    if (outer !== undefined && !this.aborted) {
      if (outer.aborted) this.abort(outer.reason);
      else outer.follow(this);
    }
  }

  /** `aborted`, read through a call: true when the attempt just run aborted the call synchronously. */
  abortedNow(): boolean {
    return this.aborted;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.attempt?.abort(reason);
    this.#end(ABORTED);
  }

  /**
   * Waits for `pending` (when given; its value or error goes to `result`), for
   * at most `limit` ms (`limitOutcome` then; Infinity: no timer), and no longer
   * than until the call aborts. Whatever ends it, its timer goes; a later
   * settling of `pending` is observed (no unhandled rejection) and ignored.
   */
  wait(
    pending: PromiseLike<unknown> | undefined,
    clock: Clock,
    limit: number,
    limitOutcome: Outcome,
  ): Promise<Outcome> {
    const wait = ++this.#wait;
    if (pending !== undefined) {
      // A native promise, so the handlers run after `#wake` is set below, never during `then`.
      promiseOf(pending).then(
        (value) => {
          this.#settled(wait, VALUE, value);
        },
        (error: unknown) => {
          this.#settled(wait, ERROR, error);
        },
      );
    }
    if (this.aborted) return Promise.resolve(ABORTED);
    return new Promise<Outcome>((resolve) => {
      this.#wake = resolve;
      if (limit !== Infinity) {
        this.#clock = clock;
        this.#timer = clock.schedule(limit, () => {
          this.#timer = undefined;
          this.#end(limitOutcome);
        });
      }
    });
  }

  /** The call ended: it stops following. */
  release(): void {
    if (this.#signal !== undefined) unfollowSignal(this.#signal, this);
    this.#outer?.unfollow(this);
  }

  #settled(wait: number, outcome: Outcome, result: unknown): void {
    if (wait !== this.#wait || this.#wake === undefined) return;
    this.result = result;
    this.#end(outcome);
  }

  #end(outcome: Outcome): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    if (this.#timer !== undefined) {
      (this.#clock as Clock).cancel(this.#timer);
      this.#timer = undefined;
    }
    wake(outcome);
  }
}
