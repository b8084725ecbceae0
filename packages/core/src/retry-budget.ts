import { getDefaultClock, isClock, type Clock } from './clock.js';
import { invalidOption, nonNegative } from './validation.js';

/** Options of {@link retryBudget}. Every one has a default ({@link retryBudgetDefaults}). */
export interface RetryBudgetOptions {
  /** Retries allowed per call made, over the window: a number >= 0 (default 0.2, i.e. 20 %). */
  readonly ratio?: number | undefined;
  /** Retries allowed per second on top of `ratio`, so a quiet service can still retry (default 10). */
  readonly minPerSecond?: number | undefined;
  /** How long a call or a retry counts, ms: a number > 0 (default 10,000). */
  readonly window?: number | undefined;
  /** The clock for this budget only; without it the default clock is read whenever the budget is consulted. */
  readonly clock?: Clock | undefined;
}

/** A retry budget's resolved, frozen options. */
export interface ResolvedRetryBudgetOptions {
  readonly ratio: number;
  readonly minPerSecond: number;
  readonly window: number;
  readonly clock: Clock | undefined;
}

/** The defaults of {@link retryBudget} (Finagle's: 20 % of calls plus 10 retries a second, over 10 s), stated once. */
export const retryBudgetDefaults = Object.freeze({ ratio: 0.2, minPerSecond: 10, window: 10_000 });

/** What a budget holds now, and has refused so far; read with `budget.statistics` (a frozen snapshot). */
export interface RetryBudgetStatistics {
  /** Retries the budget would allow now: `ratio × calls + minPerSecond × window / 1000 − retries`, floored, >= 0. */
  readonly balance: number;
  /** Calls counted in the window (deposits). */
  readonly calls: number;
  /** Retries allowed in the window (withdrawals). */
  readonly retries: number;
  /** Retries refused since the budget was made. */
  readonly refused: number;
}

/**
 * Makes a retry budget: share it between policies (`budget` option of
 * `retryPolicy`, `asyncBackoffPolicy`, `asyncRetryPolicy`, `hedgePolicy` and
 * their decorators) so that, together, they retry at most `ratio` of the calls
 * they make plus `minPerSecond` a second, over the last `window` ms
 * (Finagle's retry budget). Every call deposits, every retry withdraws; a
 * retry the budget cannot pay for is not made, and the call rejects with the
 * last error (give-up reason `'budget'`). This is what keeps a failing
 * dependency from receiving `times` calls for every call made to it.
 *
 * @example
 * const budget = retryBudget({ ratio: 0.2, minPerSecond: 10 });
 * const users = retryPolicy({ times: 3, interval: 100, budget });
 * const orders = asyncBackoffPolicy({ attemptTimeout: 500, maxTries: 3, budget });
 * budget.statistics.balance; // retries the two may still make now
 */
export function retryBudget(options?: RetryBudgetOptions): RetryBudget {
  return new RetryBudget(options);
}

// The window is counted in this many slots: a call counts for between `window × (1 − 1 / SLOTS)` and `window` ms.
const SLOTS = 10;
// Deposits are counted without reading the clock (a read costs about as much as a whole retry call on
// Node); every this many deposits, and whenever a retry asks, the clock is read and the deposits since
// the previous read are dated to that previous read: never later than they happened, so a deposit
// may expire early but never counts for longer than the window, and the budget never allows more
// retries than its rule.
const READ_EVERY = 64;
// `ratio × calls` in floating point: 0.57 × 100 is 56.99999999999999, which must still allow the 57th retry.
const EPSILON = 1e-9;

/** A retry budget shared by policies; see {@link retryBudget}. */
export class RetryBudget {
  /** What this is, for tools that look at a policy's options. */
  readonly kind = 'retryBudget';
  /** The resolved, frozen options. */
  readonly options: ResolvedRetryBudgetOptions;
  readonly #ratio: number;
  readonly #reserve: number;
  readonly #width: number;
  readonly #calls = new Array<number>(SLOTS).fill(0);
  readonly #retries = new Array<number>(SLOTS).fill(0);
  #callTotal = 0;
  #retryTotal = 0;
  /** The slot number (time / width) the clock was last read in; -Infinity before the first read. */
  #slot = -Infinity;
  /** Deposits since the last read. */
  #pending = 0;
  /** The first deposit reads the clock, so that no deposit is ever dated before the first read. */
  #readAt = 1;
  #refused = 0;

  constructor(options?: RetryBudgetOptions) {
    if (options !== undefined && (typeof options !== 'object' || (options as unknown) === null)) {
      invalidOption('retryBudget', 'options', 'an object', options);
    }
    const opts = options ?? {};
    const window = nonNegative('retryBudget', 'window', opts.window ?? retryBudgetDefaults.window, false);
    if (window === 0) invalidOption('retryBudget', 'window', 'a finite number > 0', window, RangeError);
    const clock = opts.clock;
    if (clock !== undefined && !isClock(clock))
      invalidOption('retryBudget', 'clock', 'a Clock (now, sleep, schedule, cancel)', clock);
    this.options = Object.freeze({
      ratio: nonNegative('retryBudget', 'ratio', opts.ratio ?? retryBudgetDefaults.ratio, false),
      minPerSecond: nonNegative(
        'retryBudget',
        'minPerSecond',
        opts.minPerSecond ?? retryBudgetDefaults.minPerSecond,
        false,
      ),
      window,
      clock,
    });
    this.#ratio = this.options.ratio;
    this.#reserve = (this.options.minPerSecond * window) / 1000;
    this.#width = window / SLOTS;
  }

  /** Counts a call: the policies sharing the budget call it once per call they run. */
  deposit(): void {
    if (++this.#pending >= this.#readAt) this.#read();
  }

  /** Asks for one retry: true (and counted) when the budget allows it now, else false (and counted as refused). */
  tryWithdraw(): boolean {
    this.#read();
    if (this.#retryTotal + 1 > this.#ratio * this.#callTotal + this.#reserve + EPSILON) {
      this.#refused++;
      return false;
    }
    this.#retryTotal++;
    const i = slotIndex(this.#slot);
    this.#retries[i] = (this.#retries[i] as number) + 1;
    return true;
  }

  /** Retries the budget would allow now. */
  get balance(): number {
    this.#read();
    return this.#balance();
  }

  /** What it holds now (a frozen snapshot). */
  get statistics(): RetryBudgetStatistics {
    this.#read();
    return Object.freeze({
      balance: this.#balance(),
      calls: this.#callTotal,
      retries: this.#retryTotal,
      refused: this.#refused,
    });
  }

  #balance(): number {
    const left = Math.floor(this.#ratio * this.#callTotal + this.#reserve + EPSILON - this.#retryTotal);
    return left > 0 ? left : 0;
  }

  // Moves the window to now: deposits since the last read go to the slot of that read (see READ_EVERY),
  // and the slots that fell out of the window are emptied (at most SLOTS of them: O(1)).
  #read(): void {
    const slot = Math.floor((this.options.clock ?? getDefaultClock()).now() / this.#width);
    const pending = this.#pending;
    if (pending > 0) {
      this.#pending = 0;
      this.#readAt = READ_EVERY;
      if (this.#slot === -Infinity) this.#slot = slot;
      this.#callTotal += pending;
      const i = slotIndex(this.#slot);
      this.#calls[i] = (this.#calls[i] as number) + pending;
    }
    const last = this.#slot;
    if (slot <= last) return;
    if (last === -Infinity || slot - last >= SLOTS) {
      this.#calls.fill(0);
      this.#retries.fill(0);
      this.#callTotal = 0;
      this.#retryTotal = 0;
    } else {
      for (let s = last + 1; s <= slot; s++) {
        const i = slotIndex(s);
        this.#callTotal -= this.#calls[i] as number;
        this.#retryTotal -= this.#retries[i] as number;
        this.#calls[i] = 0;
        this.#retries[i] = 0;
      }
    }
    this.#slot = slot;
  }
}

// A slot number's place in the ring (slot numbers may be negative on a clock that starts below 0).
function slotIndex(slot: number): number {
  const i = slot % SLOTS;
  return i < 0 ? i + SLOTS : i;
}

/** True for a budget made by {@link retryBudget}, by shape: one made by the other build (ESM or CJS) counts too. */
export function isRetryBudget(value: unknown): value is RetryBudget {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'retryBudget' &&
    typeof (value as RetryBudget).deposit === 'function' &&
    typeof (value as RetryBudget).tryWithdraw === 'function'
  );
}

/** Validates a policy's `budget` option once, at creation. */
export function toBudget(policy: string, value: unknown): RetryBudget | undefined {
  if (value === undefined) return undefined;
  if (!isRetryBudget(value)) invalidOption(policy, 'budget', 'a budget made by retryBudget()', value);
  return value;
}
