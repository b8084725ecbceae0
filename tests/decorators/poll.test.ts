import { isPollTimeoutError, Poll, PollTimeoutError } from '@staunch/decorators';
import { capture, HttpError, useVirtualClock } from './helpers';

interface Job {
  readonly id: string;
  readonly state: 'queued' | 'running' | 'done';
}

describe('@Poll', () => {
  const time = useVirtualClock();

  it('calls the method at once, then every `interval` ms with the same arguments, until the predicate holds', async () => {
    const calls: { readonly at: number; readonly id: string }[] = [];
    const states: Job['state'][] = ['queued', 'running', 'done'];
    class Jobs {
      @Poll((job: Job) => job.state === 'done', { timeout: 10_000, interval: 1_000 })
      async job(id: string): Promise<Job> {
        calls.push({ at: time.clock.now(), id });
        return { id, state: states.shift() ?? 'done' };
      }
    }
    const result = capture(new Jobs().job('j1'));
    await time.clock.advance(2_000);
    expect(await result).toEqual({ ok: true, value: { id: 'j1', state: 'done' } });
    expect(calls).toEqual([
      { at: 0, id: 'j1' },
      { at: 1_000, id: 'j1' },
      { at: 2_000, id: 'j1' },
    ]);
    expect(time.clock.pending).toBe(0);
  });

  it('awaits an async predicate', async () => {
    let calls = 0;
    class Counter {
      @Poll(async (n: number) => n >= 2, { interval: 10 })
      async next(): Promise<number> {
        return ++calls;
      }
    }
    const result = capture(new Counter().next());
    await time.clock.advance(10);
    expect(await result).toEqual({ ok: true, value: 2 });
  });

  it('rejects with PollTimeoutError (timeout, attempts, last value) once the time since the start is greater than `timeout`', async () => {
    let calls = 0;
    class Jobs {
      @Poll((job: Job) => job.state === 'done', { timeout: 2_000, interval: 1_000 })
      async job(id: string): Promise<Job> {
        calls++;
        return { id, state: 'running' };
      }
    }
    const result = capture(new Jobs().job('j2'));
    // At 2,000 ms exactly the elapsed time is not yet greater than the timeout: a third call is made.
    await time.clock.advance(2_000);
    expect(calls).toBe(3);
    await time.clock.advance(1_000);
    const outcome = await result;
    expect(calls).toBe(3);
    expect(outcome.ok).toBe(false);
    const error = (outcome as { readonly error: unknown }).error;
    expect(error).toBeInstanceOf(PollTimeoutError);
    expect(isPollTimeoutError(error)).toBe(true);
    expect(error).toMatchObject({ timeout: 2_000, attempts: 3, lastValue: { id: 'j2', state: 'running' } });
  });

  it('lets an error of the method through at once, without another call', async () => {
    let calls = 0;
    class Jobs {
      @Poll((job: Job) => job.state === 'done', { interval: 100 })
      async job(): Promise<Job> {
        calls++;
        throw new HttpError(500);
      }
    }
    const outcome = await capture(new Jobs().job());
    expect(outcome).toEqual({ ok: false, error: expect.any(HttpError) });
    expect(calls).toBe(1);
    expect(time.clock.pending).toBe(0);
  });

  it('lets an error of the predicate through at once', async () => {
    const broken = new RangeError('bad predicate');
    class Jobs {
      @Poll(
        (_job: Job) => {
          throw broken;
        },
        { interval: 100 },
      )
      async job(): Promise<Job> {
        return { id: 'j', state: 'done' };
      }
    }
    expect(await capture(new Jobs().job())).toEqual({ ok: false, error: broken });
  });

  it('passes `this` through to the method on every call', async () => {
    class Jobs {
      readonly seen: unknown[] = [];
      @Poll((n: number) => n === 2, { interval: 5 })
      async job(): Promise<number> {
        this.seen.push(this);
        return this.seen.length;
      }
    }
    const jobs = new Jobs();
    const result = capture(jobs.job());
    await time.clock.advance(5);
    expect(await result).toEqual({ ok: true, value: 2 });
    expect(jobs.seen).toEqual([jobs, jobs]);
  });
});
