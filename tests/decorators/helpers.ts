import { setDefaultClock } from '@staunch/decorators';
import { VirtualClock } from '@staunch/core/testing';

/** The outcome of a promise, captured at once so a rejection is never reported as unhandled. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

export function capture<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** A virtual clock installed as the default clock for each test of the enclosing describe. */
export function useVirtualClock(): { readonly clock: VirtualClock } {
  const holder = { clock: new VirtualClock() };
  let restore: (() => void) | undefined;
  beforeEach(() => {
    holder.clock = new VirtualClock();
    restore = setDefaultClock(holder.clock);
  });
  afterEach(() => {
    restore?.();
  });
  return holder;
}

export class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

export class NotFoundError extends HttpError {
  constructor() {
    super(404);
  }
}
