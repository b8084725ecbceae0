import {
  AsyncBackoff,
  AsyncRetry,
  AttemptTimeoutError,
  DeadlineExceededError,
  attemptSignal,
  policiesOf,
  policyOf,
} from '@staunch/decorators';
import { capture, HttpError, useVirtualClock } from './helpers';

describe('@AsyncBackoff', () => {
  const time = useVirtualClock();

  it('takes the positional form (attemptTimeout, deadline, pause, ...errorClasses) and retries only those classes', async () => {
    const calledAt: number[] = [];
    const errors = [new TypeError('a'), new RangeError('b')];
    class Rows {
      @AsyncBackoff(100, 1_000, 50, TypeError, RangeError)
      async fetch(): Promise<string> {
        calledAt.push(time.clock.now());
        const error = errors.shift();
        if (error) throw error;
        return 'rows';
      }
    }
    const result = capture(new Rows().fetch());
    await time.clock.advance(100);
    expect(await result).toEqual({ ok: true, value: 'rows' });
    expect(calledAt).toEqual([0, 50, 100]);
    expect(policiesOf(Rows, 'fetch')).toEqual([
      {
        kind: 'asyncBackoff',
        options: expect.objectContaining({ attemptTimeout: 100, deadline: 1_000, pause: 50 }),
      },
    ]);
  });

  it('treats null in the positional form as "no limit"', () => {
    class Rows {
      @AsyncBackoff(null, null, 10)
      async fetch(): Promise<void> {}
    }
    expect(policiesOf(Rows, 'fetch')[0]).toEqual({
      kind: 'asyncBackoff',
      options: expect.objectContaining({ attemptTimeout: undefined, deadline: undefined, pause: 10 }),
    });
  });

  it('lets an error outside `on` through at once', async () => {
    let calls = 0;
    class Rows {
      @AsyncBackoff(100, 1_000, 10, TypeError)
      async fetch(): Promise<void> {
        calls++;
        throw new HttpError(500);
      }
    }
    expect(await capture(new Rows().fetch())).toEqual({ ok: false, error: expect.any(HttpError) });
    expect(calls).toBe(1);
  });

  it('always retries an attempt that exceeds `attemptTimeout`, aborting its signal, and throws the last AttemptTimeoutError at `maxTries`', async () => {
    const signals: AbortSignal[] = [];
    class Rows {
      @AsyncBackoff({ attemptTimeout: 100, maxTries: 3, pause: 10 })
      async fetch(): Promise<void> {
        const signal = attemptSignal();
        signals.push(signal);
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      }
    }
    const result = capture(new Rows().fetch());
    await time.clock.advance(400);
    const outcome = await result;
    expect(outcome).toEqual({ ok: false, error: expect.any(AttemptTimeoutError) });
    expect(signals).toHaveLength(3);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
    expect(time.clock.pending).toBe(0);
  });

  it('rejects with the last attempt’s own error when the deadline passes after a failure', async () => {
    const failures: HttpError[] = [];
    class Rows {
      @AsyncBackoff({ deadline: 250, pause: 100, on: HttpError })
      async save(): Promise<void> {
        const error = new HttpError(503);
        failures.push(error);
        throw error;
      }
    }
    const result = capture(new Rows().save());
    await time.clock.advance(1_000);
    const outcome = await result;
    expect(failures).toHaveLength(3);
    expect(outcome).toEqual({ ok: false, error: failures[2] });
  });

  it('rejects with DeadlineExceededError when the deadline passes before any attempt failed', async () => {
    class Rows {
      @AsyncBackoff({ deadline: 200 })
      async save(): Promise<void> {
        await new Promise<void>((resolve) => attemptSignal().addEventListener('abort', () => resolve()));
      }
    }
    const result = capture(new Rows().save());
    await time.clock.advance(200);
    expect(await result).toEqual({ ok: false, error: expect.any(DeadlineExceededError) });
  });

  it('stops at once when `giveup` says so, with that error', async () => {
    let calls = 0;
    const permanent = new HttpError(400);
    class Rows {
      @AsyncBackoff({ on: HttpError, maxTries: 5, giveup: (error) => (error as HttpError).status < 500 })
      async save(): Promise<void> {
        calls++;
        throw permanent;
      }
    }
    expect(await capture(new Rows().save())).toEqual({ ok: false, error: permanent });
    expect(calls).toBe(1);
  });
});

describe('@AsyncRetry', () => {
  const time = useVirtualClock();

  it('retries every error up to `maxTries` calls, with `this` and arguments intact', async () => {
    const seen: [unknown, string][] = [];
    class Files {
      failures = 2;
      @AsyncRetry(3)
      async download(url: string): Promise<string> {
        seen.push([this, url]);
        if (this.failures-- > 0) throw new Error('reset');
        return `body of ${url}`;
      }
    }
    const files = new Files();
    expect(await files.download('/a')).toBe('body of /a');
    expect(seen).toEqual([
      [files, '/a'],
      [files, '/a'],
      [files, '/a'],
    ]);
    expect(policyOf(Files, 'download', 'asyncRetry').statistics).toEqual(
      expect.objectContaining({ calls: 1, successes: 1 }),
    );
  });

  it('re-throws the last error after `maxTries` calls, pausing between them but not after the last', async () => {
    const calledAt: number[] = [];
    const thrown: Error[] = [];
    class Files {
      @AsyncRetry(3, { pause: 40 })
      async download(): Promise<void> {
        calledAt.push(time.clock.now());
        const error = new Error(`try ${thrown.length + 1}`);
        thrown.push(error);
        throw error;
      }
    }
    const result = capture(new Files().download());
    await time.clock.advance(80);
    expect(await result).toEqual({ ok: false, error: thrown[2] });
    expect(calledAt).toEqual([0, 40, 80]);
    expect(time.clock.pending).toBe(0);
  });

  it('retries only `on` errors when given', async () => {
    class ConnectionError extends Error {}
    let calls = 0;
    class Files {
      @AsyncRetry(5, { on: ConnectionError })
      async download(): Promise<void> {
        calls++;
        throw new SyntaxError('bad body');
      }
    }
    expect(await capture(new Files().download())).toEqual({ ok: false, error: expect.any(SyntaxError) });
    expect(calls).toBe(1);
  });
});
