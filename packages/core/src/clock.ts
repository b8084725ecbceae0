/**
 * Time, as every policy sees it. The system clock below is the only code in
 * staunch that touches `performance.now`, `setTimeout` or `clearTimeout`, so a
 * virtual clock can replace all of it in tests.
 */
export interface Clock {
  /** Monotonic time in milliseconds. */
  now(): number;
  /**
   * Resolves after `ms`; rejects with `signal.reason` as soon as `signal`
   * aborts. Leaves no timer or listener behind once settled.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `callback` once after `ms`, unless {@link Clock.cancel} is called first. */
  schedule(ms: number, callback: () => void): TimerHandle;
  /** Cancels a timer made by {@link Clock.schedule}; a no-op if it already ran. */
  cancel(timer: TimerHandle): void;
}

/** An opaque timer made by {@link Clock.schedule}. */
export type TimerHandle = object | number;

/** The real clock: `performance.now()` and `setTimeout`. */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  sleep: (ms: number, signal?: AbortSignal) => sleepWith(systemClock, ms, signal),
  schedule: (ms: number, callback: () => void): TimerHandle => setTimeout(callback, ms),
  cancel: (timer: TimerHandle) => {
    clearTimeout(timer as ReturnType<typeof setTimeout>);
  },
});

let defaultClock: Clock = systemClock;

/** The clock used by every policy that was not given one. */
export function getDefaultClock(): Clock {
  return defaultClock;
}

/**
 * Replaces the clock used by every policy that was not given one (read on each
 * call, so policies created earlier follow it). Returns a function that
 * restores the previous clock.
 */
export function setDefaultClock(clock: Clock): () => void {
  const previous = defaultClock;
  defaultClock = clock;
  return () => {
    defaultClock = previous;
  };
}

/**
 * `sleep` built from `schedule`/`cancel`, for clocks that only know timers.
 * The abort listener is removed on wake-up and the timer is cancelled on abort.
 */
export function sleepWith(clock: Pick<Clock, 'schedule' | 'cancel'>, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) {
    return new Promise((resolve) => {
      clock.schedule(ms, resolve);
    });
  }
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rejects with the signal's own reason, whatever it is
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.cancel(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- as above
      reject(signal.reason);
    };
    const timer = clock.schedule(ms, () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
