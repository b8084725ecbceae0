/**
 * Counters since the circuit was made (`reset()` does not clear them). Every
 * call ends as exactly one of `successes`, `failures`, `ignoredErrors`,
 * `rejections` or `aborted`, or is still running; `calls` counts those that
 * ran the function: all but the rejections and the calls aborted before they ran.
 */
export interface CircuitBreakerStats {
  /** Calls that ran the function (still running, settled, or abandoned by their caller's signal meanwhile). */
  readonly calls: number;
  /** Calls that returned (or resolved) a value `failOn` does not count as a failure. */
  readonly successes: number;
  /** Calls that threw an error matching `on`, or returned a value `failOn` counts as a failure. */
  readonly failures: number;
  /** Calls that threw an error not matching `on` (passed through, not counted). */
  readonly ignoredErrors: number;
  /** Successes slower than `slowCallDuration` (counted as failures by the rule, not in `failures`). */
  readonly slowCalls: number;
  /** Calls rejected with `CircuitOpenError` without running. */
  readonly rejections: number;
  /** Calls the caller's signal abandoned, before or while running (their outcome is not recorded). */
  readonly aborted: number;
}
