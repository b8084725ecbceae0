/** What a policy has done so far; read with `policy.statistics` (a frozen snapshot). */
export interface PolicyStatistics {
  /** Calls made through the policy (`execute` / `call`). */
  readonly calls: number;
  /** Attempts started, timed-out ones included. */
  readonly attempts: number;
  /** Calls that resolved. */
  readonly successes: number;
  /** Calls that rejected (for any reason, caller aborts included). */
  readonly failures: number;
  /** Attempts that threw or rejected (timeouts not included). */
  readonly errors: number;
  /** Timeouts: attempts past `attemptTimeout`, calls past their `deadline` or poll `timeout`. */
  readonly timeouts: number;
  /** Calls that ended because their retry budget refused the retry the policy's rule allowed (give-up reason `'budget'`). */
  readonly budgetExhausted: number;
  /**
   * Milliseconds spent in settled calls, counted only for calls that started
   * after the statistics were first read: timing costs two clock reads per
   * call, so it is off until someone looks.
   */
  readonly totalTime: number;
}

/** The counters behind {@link PolicyStatistics}: plain increments on the call path. */
export class StatisticsRecorder {
  calls = 0;
  attempts = 0;
  successes = 0;
  failures = 0;
  errors = 0;
  timeouts = 0;
  budgetExhausted = 0;
  totalTime = 0;
  /** Set by the first read; from then on calls are timed. */
  timed = false;

  /** A frozen copy; turns timing on. */
  snapshot(): PolicyStatistics {
    this.timed = true;
    return Object.freeze({
      calls: this.calls,
      attempts: this.attempts,
      successes: this.successes,
      failures: this.failures,
      errors: this.errors,
      timeouts: this.timeouts,
      budgetExhausted: this.budgetExhausted,
      totalTime: this.totalTime,
    });
  }
}
