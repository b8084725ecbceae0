// ES-module consumer: the Clock contract, the system clock and @staunch/core/testing.
import { getDefaultClock, setDefaultClock, systemClock, type Clock, type TimerHandle } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';

import type { Equal, Expect } from './helpers/expect.js';
import { expectAssignable } from './helpers/expect.js';

expectAssignable<Clock>(systemClock);
expectAssignable<Clock>(new VirtualClock());
expectAssignable<Clock>(new VirtualClock(1_000));
expectAssignable<Clock>(getDefaultClock());

const restore = setDefaultClock(new VirtualClock());
type _Restore = Expect<Equal<typeof restore, () => void>>;

const clock = new VirtualClock();
type _Advance = Expect<Equal<ReturnType<typeof clock.advance>, Promise<void>>>;
type _Pending = Expect<Equal<typeof clock.pending, number>>;
type _Sleep = Expect<Equal<Parameters<Clock['sleep']>, [ms: number, signal?: AbortSignal]>>;

// A user's own clock implements the whole interface.
const timers = new Map<TimerHandle, () => void>();
const manual: Clock = {
  now: () => 0,
  sleep: () => Promise.resolve(),
  schedule: (_ms, callback) => {
    const handle = {};
    timers.set(handle, callback);
    return handle;
  },
  cancel: (timer) => timers.delete(timer),
};
setDefaultClock(manual);

// @ts-expect-error a clock needs schedule and cancel too
setDefaultClock({ now: () => 0, sleep: () => Promise.resolve() });

// @ts-expect-error VirtualClock.advance takes milliseconds
void clock.advance('1s');
