import type { Follower } from '../attempt.js';
import type { Clock, TimerHandle } from '../clock.js';
import { followSignal, unfollowSignal } from '../follow-signal.js';

/** What becomes of a waiting call: exactly one of the three is called, once. */
export interface WaitOutcome {
  /** Woken while the trials no longer hold it back: the call goes through the circuit again. */
  admit(): void;
  /** `halfOpenWait` passed first. */
  timeout(): void;
  /** Its caller's signal aborted first. */
  abort(reason: unknown): void;
}

/**
 * The calls of one circuit waiting for its half-open trials' outcome
 * (`halfOpenWait`), oldest first. Each has one timer and follows its caller's
 * signal; whichever ends its wait first (a wake, the timer, the signal) clears
 * the other two, so nothing outlives the wait.
 */
export class TrialWaitQueue {
  readonly #waiters: Waiter[] = [];
  // Admitting a waiter runs its call, whose outcome may wake the queue again: done by the loop already running.
  #waking = false;
  #again = false;

  /** How many calls are waiting. */
  get size(): number {
    return this.#waiters.length;
  }

  /** Queues a call for at most `ms` on `clock`. */
  add(clock: Clock, ms: number, signal: AbortSignal | undefined, outcome: WaitOutcome): void {
    const waiters = this.#waiters;
    const leave = (): void => {
      waiters.splice(waiters.indexOf(waiter), 1);
      clock.cancel(timer);
      if (signal !== undefined) unfollowSignal(signal, waiter);
    };
    const waiter: Waiter = {
      admit: () => {
        leave();
        outcome.admit();
      },
      abort: (reason) => {
        leave();
        outcome.abort(reason);
      },
    };
    const timer: TimerHandle = clock.schedule(ms, () => {
      leave();
      outcome.timeout();
    });
    if (signal !== undefined) followSignal(signal, waiter);
    waiters.push(waiter);
  }

  /** Admits waiters, oldest first, for as long as `busy()` (every trial slot taken) is false. */
  wake(busy: () => boolean): void {
    if (this.#waiters.length === 0) return;
    if (this.#waking) {
      this.#again = true;
      return;
    }
    this.#waking = true;
    try {
      do {
        this.#again = false;
        while (this.#waiters.length > 0 && !busy()) (this.#waiters[0] as Waiter).admit();
      } while (this.#takeAgain());
    } finally {
      this.#waking = false;
    }
  }

  // Whether a wake was asked for while the loop ran (read through a method: the loop's own writes hide it from narrowing).
  #takeAgain(): boolean {
    return this.#again;
  }
}

interface Waiter extends Follower {
  admit(): void;
}
