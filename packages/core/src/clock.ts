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

/**
 * The real clock: `performance.now()` and `setTimeout`. Its timers fire no
 * earlier than asked, for any length: Node clamps a `setTimeout` of 2^31 ms or
 * more (and `Infinity`) to 1 ms, and may fire up to a millisecond early by its
 * own loop time, so a long wait is made of timers of at most 2^31 - 1 ms, and
 * a timer that fires before its time, by `performance.now()`, waits the rest.
 */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  sleep: (ms: number, signal?: AbortSignal) => sleepWith(systemClock, ms, signal),
  schedule: (ms: number, callback: () => void): TimerHandle => new SystemTimer(ms, callback),
  cancel: (timer: TimerHandle) => {
    if (timer instanceof SystemTimer) timer.cancel();
  },
});

/** The longest delay `setTimeout` honours (2^31 - 1 ms, about 24.8 days). */
const longestTimeout = 2 ** 31 - 1;

/**
 * One timer of the system clock: a `setTimeout` re-armed until its due time
 * has come. Like Node's own timer handle it can be unref'd (`unref()`, `ref()`,
 * `hasRef()`), so a timer that must not keep the process alive stays so across
 * its re-arms.
 */
class SystemTimer {
  readonly #due: number;
  readonly #callback: () => void;
  #timeout: ReturnType<typeof setTimeout> | undefined;
  #unref = false;

  constructor(ms: number, callback: () => void) {
    const delay = ms > 0 ? ms : 0;
    this.#due = performance.now() + delay;
    this.#callback = callback;
    this.#timeout = setTimeout(fire, delay < longestTimeout ? delay : longestTimeout, this);
  }

  /** Lets the process exit while this timer is the only thing left. */
  unref(): this {
    this.#unref = true;
    unrefTimeout(this.#timeout);
    return this;
  }

  /** Undoes {@link SystemTimer.unref}. */
  ref(): this {
    this.#unref = false;
    (this.#timeout as { ref?: () => void } | undefined)?.ref?.();
    return this;
  }

  /** False once unref'd. */
  hasRef(): boolean {
    return !this.#unref;
  }

  cancel(): void {
    if (this.#timeout === undefined) return;
    clearTimeout(this.#timeout);
    this.#timeout = undefined;
  }

  /** The timeout fired: the callback runs if the due time has come, else the rest is waited for. */
  fired(): void {
    const left = this.#due - performance.now();
    if (left > 0) {
      this.#timeout = setTimeout(fire, left < longestTimeout ? left : longestTimeout, this);
      if (this.#unref) unrefTimeout(this.#timeout);
      return;
    }
    this.#timeout = undefined;
    this.#callback();
  }
}

// Node's timer handles have `unref`; a browser's numeric ids have nothing to undo.
function unrefTimeout(timeout: ReturnType<typeof setTimeout> | undefined): void {
  (timeout as { unref?: () => void } | undefined)?.unref?.();
}

// One function for every timer (the timer rides along as setTimeout's argument): no closure per timer.
function fire(timer: SystemTimer): void {
  timer.fired();
}

// The default clock lives on globalThis, under a versioned registered symbol, so that every copy of
// this package in a process (the ESM and CJS builds loaded side by side) reads and sets the same one.
const defaults = ((globalThis as Record<symbol, unknown>)[Symbol.for('staunch.defaultClock@1')] ??= {
  clock: systemClock,
}) as { clock: Clock };

/** The clock used by every policy that was not given one. */
export function getDefaultClock(): Clock {
  return defaults.clock;
}

/**
 * Replaces the clock used by every policy that was not given one (read on each
 * call, so policies created earlier follow it), in every copy of the package
 * loaded in the process. Returns a function that restores the previous clock.
 */
export function setDefaultClock(clock: Clock): () => void {
  const previous = defaults.clock;
  defaults.clock = clock;
  return () => {
    defaults.clock = previous;
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

/** True for an object with the four methods of a {@link Clock}: how every policy checks its `clock` option. */
export function isClock(value: unknown): value is Clock {
  if (typeof value !== 'object' || value === null) return false;
  const clock = value as Partial<Record<keyof Clock, unknown>>;
  return (
    typeof clock.now === 'function' &&
    typeof clock.sleep === 'function' &&
    typeof clock.schedule === 'function' &&
    typeof clock.cancel === 'function'
  );
}
