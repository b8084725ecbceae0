/**
 * Runs an example on a virtual clock while its bytes travel over real sockets: time only moves
 * when no request or query is in flight (see examples/support/activity.ts), and then straight to
 * the next timer. The stories take seconds of their own time and milliseconds of real time, and
 * every timestamp on their timeline is exact.
 */
import { setDefaultClock, type TimerHandle } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';
import { Activity } from '../../../examples/support/activity';

/** A VirtualClock that also knows when its next timer is due. */
export class SteppingClock extends VirtualClock {
  readonly #due = new Map<TimerHandle, number>();

  override schedule(ms: number, callback: () => void): TimerHandle {
    const handle = super.schedule(ms, () => {
      this.#due.delete(handle);
      callback();
    });
    this.#due.set(handle, this.now() + Math.max(0, ms));
    return handle;
  }

  override cancel(timer: TimerHandle): void {
    this.#due.delete(timer);
    super.cancel(timer);
  }

  /** When the next timer fires, or undefined when none is set. */
  get nextDue(): number | undefined {
    let next: number | undefined;
    for (const at of this.#due.values()) if (next === undefined || at < next) next = at;
    return next;
  }
}

/** A stepping clock installed as the default clock, and the activity its examples report to. */
export interface VirtualTime {
  readonly clock: SteppingClock;
  readonly activity: Activity;
  /** Runs `work` to the end, moving time whenever nothing is in flight. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Restores the previous default clock. */
  restore(): void;
}

/** Installs a {@link SteppingClock} as the default clock (until `restore()`). */
export function useVirtualTime(): VirtualTime {
  const clock = new SteppingClock();
  const activity = new Activity();
  const restore = setDefaultClock(clock);
  return { clock, activity, run: (work) => drive(clock, activity, work), restore };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function drive<T>(clock: SteppingClock, activity: Activity, work: () => Promise<T>): Promise<T> {
  let done = false;
  const settled = () => done; // read through a call: the loop's awaits let it change
  const result = work().finally(() => {
    done = true;
  });
  result.catch(() => undefined); // observed below; this only keeps the rejection handled meanwhile
  let idleTurns = 0;
  while (!settled()) {
    await activity.whenIdle();
    // Let the continuations of whatever just finished run: they may start new I/O or set timers.
    await turn();
    await turn();
    if (settled() || !activity.idle) continue;
    const next = clock.nextDue;
    if (next === undefined) {
      // Idle, no timer, not done: some untracked I/O (a server closing, a socket connecting) is on its way.
      if (++idleTurns > 200_000)
        throw new Error('virtual time: nothing in flight, no timer set, and the work never ends');
      continue;
    }
    idleTurns = 0;
    await clock.advance(next - clock.now());
  }
  return result;
}
