/**
 * The rules that decide when a closed circuit opens. The options choose the
 * rule; the per-circuit part is a {@link FailureRecord}, made on the first
 * outcome that needs one, so an idle circuit carries no record at all.
 */

/** How a closed circuit counts failures: see the README's "Counting modes". */
export type CircuitCounting =
  | 'leaky-bucket'
  | 'consecutive'
  | {
      readonly mode: 'leaky-bucket' | 'consecutive';
      /** A successful call that took at least this long (ms) counts as a failure. Default: off. */
      readonly slowCallDuration?: number;
    }
  | {
      readonly mode: 'failure-rate';
      /** Opens when failures / calls in the window reach this ratio, in (0, 1]. Default 0.5. */
      readonly rate?: number;
      /** The last `calls` calls, or the calls of the last `duration` ms. Default `{ calls: 100 }`. */
      readonly window?: { readonly calls: number } | { readonly duration: number };
      /** No decision before the window holds this many calls. Default 100 (at most the window's `calls`). */
      readonly minimumCalls?: number;
      /** A successful call that took at least this long (ms) counts as a failure. Default: off. */
      readonly slowCallDuration?: number;
    };

/** {@link CircuitCounting} with every default filled in. */
export type ResolvedCircuitCounting =
  | { readonly mode: 'leaky-bucket' | 'consecutive'; readonly slowCallDuration: number }
  | {
      readonly mode: 'failure-rate';
      readonly rate: number;
      readonly window: { readonly calls: number } | { readonly duration: number };
      readonly minimumCalls: number;
      readonly slowCallDuration: number;
    };

/** One circuit's memory of recent outcomes during one closed period. */
export interface FailureRecord {
  /** The closed period (the snapshot's `epoch`) the record belongs to: a new period starts a new record. */
  readonly epoch: number;
  /** Records a success at `now`; true when the circuit must open. */
  success(now: number): boolean;
  /** Records a failure at `now`; true when the circuit must open. */
  failure(now: number): boolean;
  /** True while a failure it holds may still count at `now`: a record without one can be forgotten. */
  holdsFailures(now: number): boolean;
}

/** Number of buckets of a time window: opossum's 10, so the window slides in tenths. */
export const timeWindowBuckets = 10;

/** False when successes never change a record (the leaky bucket): the happy path then skips the record. */
export function countsSuccesses(counting: ResolvedCircuitCounting): boolean {
  return counting.mode !== 'leaky-bucket';
}

/**
 * A fresh, empty record for the closed period `epoch`. Made on the first
 * outcome that needs one, so an idle circuit carries no record at all;
 * `threshold` and `resetTimeout` feed the leaky bucket and consecutive modes.
 */
export function createFailureRecord(
  counting: ResolvedCircuitCounting,
  threshold: number,
  resetTimeout: number,
  epoch: number,
): FailureRecord {
  switch (counting.mode) {
    case 'leaky-bucket':
      return new LeakyBucket(epoch, threshold, resetTimeout);
    case 'consecutive':
      return new Consecutive(epoch, threshold);
    case 'failure-rate': {
      const { rate, window, minimumCalls } = counting;
      return 'calls' in window
        ? new CountWindow(epoch, window.calls, rate, minimumCalls)
        : new TimeWindow(epoch, window.duration, rate, minimumCalls);
    }
  }
}

/**
 * The seed's rule: failures within the last `resetTimeout` ms; `threshold` of
 * them open the circuit; successes change nothing. Only the newest `threshold`
 * failure times can matter, so the list never grows beyond that.
 */
class LeakyBucket implements FailureRecord {
  readonly #times: number[] = [];

  constructor(
    readonly epoch: number,
    readonly threshold: number,
    readonly window: number,
  ) {}

  success(): boolean {
    return false;
  }

  failure(now: number): boolean {
    const times = this.#times;
    times.push(now);
    // A failure is forgotten once it is older than `resetTimeout`; one exactly that old still counts.
    while (times.length > this.threshold || now - (times[0] as number) > this.window) times.shift();
    return times.length >= this.threshold;
  }

  holdsFailures(now: number): boolean {
    const times = this.#times;
    return times.length > 0 && now - (times[times.length - 1] as number) <= this.window;
  }
}

/** `threshold` failures in a row open the circuit; any success starts the count again. */
class Consecutive implements FailureRecord {
  #failures = 0;

  constructor(
    readonly epoch: number,
    readonly threshold: number,
  ) {}

  success(): boolean {
    this.#failures = 0;
    return false;
  }

  failure(): boolean {
    return ++this.#failures >= this.threshold;
  }

  holdsFailures(): boolean {
    return this.#failures > 0;
  }
}

/** The failure rate over the last `size` calls, once at least `minimumCalls` were made. */
class CountWindow implements FailureRecord {
  readonly #outcomes: Uint8Array; // 1 = failure, in a ring
  #next = 0;
  #calls = 0;
  #failures = 0;

  constructor(
    readonly epoch: number,
    size: number,
    readonly rate: number,
    readonly minimumCalls: number,
  ) {
    this.#outcomes = new Uint8Array(size);
  }

  success(): boolean {
    return this.#record(0);
  }

  failure(): boolean {
    return this.#record(1);
  }

  holdsFailures(): boolean {
    return this.#failures > 0;
  }

  #record(failed: 0 | 1): boolean {
    const outcomes = this.#outcomes;
    if (this.#calls === outcomes.length) this.#failures -= outcomes[this.#next] as number;
    else this.#calls++;
    outcomes[this.#next] = failed;
    this.#failures += failed;
    this.#next = (this.#next + 1) % outcomes.length;
    return this.#calls >= this.minimumCalls && reachesRate(this.#failures, this.#calls, this.rate);
  }
}

/**
 * The failure rate over the last `duration` ms, kept in {@link timeWindowBuckets}
 * buckets so memory stays fixed however many calls arrive; the window slides a
 * bucket at a time.
 */
class TimeWindow implements FailureRecord {
  readonly #width: number;
  readonly #bucket = new Float64Array(timeWindowBuckets).fill(-Infinity); // which bucket number each slot holds
  readonly #calls = new Float64Array(timeWindowBuckets);
  readonly #failures = new Float64Array(timeWindowBuckets);

  constructor(
    readonly epoch: number,
    duration: number,
    readonly rate: number,
    readonly minimumCalls: number,
  ) {
    this.#width = duration / timeWindowBuckets;
  }

  success(now: number): boolean {
    return this.#record(now, 0);
  }

  failure(now: number): boolean {
    return this.#record(now, 1);
  }

  holdsFailures(now: number): boolean {
    const current = Math.floor(now / this.#width);
    for (let i = 0; i < timeWindowBuckets; i++) {
      if ((this.#bucket[i] as number) > current - timeWindowBuckets && (this.#failures[i] as number) > 0) return true;
    }
    return false;
  }

  #record(now: number, failed: 0 | 1): boolean {
    const current = Math.floor(now / this.#width);
    const slot = ((current % timeWindowBuckets) + timeWindowBuckets) % timeWindowBuckets;
    if (this.#bucket[slot] !== current) {
      this.#bucket[slot] = current;
      this.#calls[slot] = 0;
      this.#failures[slot] = 0;
    }
    this.#calls[slot] = (this.#calls[slot] as number) + 1;
    this.#failures[slot] = (this.#failures[slot] as number) + failed;
    let calls = 0;
    let failures = 0;
    for (let i = 0; i < timeWindowBuckets; i++) {
      if ((this.#bucket[i] as number) > current - timeWindowBuckets) {
        calls += this.#calls[i] as number;
        failures += this.#failures[i] as number;
      }
    }
    return calls >= this.minimumCalls && reachesRate(failures, calls, this.rate);
  }
}

/**
 * `failures / calls >= rate`, exact at the boundary for the rates people write
 * (0.07, 0.5, any decimal). `failures >= rate * calls` is not: `rate` is
 * already rounded, and the product rounds again, so 7 failures in 100 calls
 * missed `rate: 0.07` (0.07 * 100 is 7.000000000000001). The quotient needs no
 * such luck: `rate` is the double nearest the decimal, and `failures / calls`,
 * correctly rounded, is the double nearest the exact ratio. Equal ratios give
 * the same double, and rounding keeps order, so a ratio above the decimal
 * never lands below it. A ratio below it rounds to the same double only
 * within half an ulp (2^-54 here), but two distinct fractions `f / c` and
 * `k / 100` are at least 1 / (100 c) apart: no window short of 2^53 / 100
 * calls comes that close.
 */
export function reachesRate(failures: number, calls: number, rate: number): boolean {
  return failures / calls >= rate;
}
