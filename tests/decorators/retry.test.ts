import { Retry, policiesOf } from '@staunch/decorators';
import { capture, HttpError, NotFoundError, useVirtualClock } from './helpers';

describe('@Retry', () => {
  const time = useVirtualClock();

  it('calls the method again on a matching error, `interval` ms apart, until it succeeds', async () => {
    const calledAt: number[] = [];
    class Billing {
      failures = 2;
      @Retry(HttpError, { times: 3, interval: 200 })
      async charge(id: string): Promise<string> {
        calledAt.push(time.clock.now());
        if (this.failures-- > 0) throw new HttpError(503);
        return `receipt:${id}`;
      }
    }
    const result = capture(new Billing().charge('a1'));
    await time.clock.advance(400);
    expect(await result).toEqual({ ok: true, value: 'receipt:a1' });
    expect(calledAt).toEqual([0, 200, 400]);
  });

  it('re-throws the last error unchanged after `times` calls', async () => {
    const thrown: Error[] = [];
    class Billing {
      @Retry(HttpError, { times: 3, interval: 100 })
      async charge(): Promise<void> {
        const error = new HttpError(500);
        thrown.push(error);
        throw error;
      }
    }
    const result = capture(new Billing().charge());
    await time.clock.advance(1_000);
    const outcome = await result;
    expect(thrown).toHaveLength(3);
    expect(outcome).toEqual({ ok: false, error: thrown[2] });
    expect(time.clock.pending).toBe(0);
  });

  it('re-throws a non-matching error at once, without another call', async () => {
    let calls = 0;
    class Billing {
      @Retry(HttpError, { times: 5, interval: 100 })
      async charge(): Promise<void> {
        calls++;
        throw new TypeError('bug');
      }
    }
    const outcome = await capture(new Billing().charge());
    expect(outcome.ok).toBe(false);
    expect(calls).toBe(1);
  });

  it('matches subclasses of the error class', async () => {
    let calls = 0;
    class Api {
      @Retry(HttpError, { times: 2, interval: 10 })
      async get(): Promise<void> {
        calls++;
        throw new NotFoundError();
      }
    }
    const result = capture(new Api().get());
    await time.clock.advance(10);
    await result;
    expect(calls).toBe(2);
  });

  it('accepts the options-object form `{ on, times, interval }` and retries every error when `on` is omitted', async () => {
    const calledAt: number[] = [];
    class Api {
      @Retry({ times: 2, interval: 50 })
      async get(): Promise<string> {
        calledAt.push(time.clock.now());
        if (calledAt.length === 1) throw new Error('flaky');
        return 'ok';
      }
    }
    const result = capture(new Api().get());
    await time.clock.advance(50);
    expect(await result).toEqual({ ok: true, value: 'ok' });
    expect(calledAt).toEqual([0, 50]);
    expect(policiesOf(Api, 'get')).toEqual([{ kind: 'retry', options: expect.objectContaining({ times: 2 }) }]);
  });

  it('passes `this` and every argument through untouched, on every attempt', async () => {
    const seen: unknown[][] = [];
    const payload = { id: 1 };
    class Repo {
      readonly name = 'repo';
      @Retry(Error, { times: 2, interval: 0 })
      async save(a: object, b: number, ...rest: string[]): Promise<unknown[]> {
        seen.push([this, a, b, ...rest]);
        if (seen.length === 1) throw new Error('once');
        return [a, b, ...rest];
      }
    }
    const repo = new Repo();
    const result = capture(repo.save(payload, 2, 'x', 'y'));
    await time.clock.advance(0);
    expect(await result).toEqual({ ok: true, value: [payload, 2, 'x', 'y'] });
    expect(seen).toEqual([
      [repo, payload, 2, 'x', 'y'],
      [repo, payload, 2, 'x', 'y'],
    ]);
    expect(seen[1]?.[1]).toBe(payload);
  });

  it('calls `onError(error, previousAttempts)` for every error, matching or not', async () => {
    const reported: [unknown, number][] = [];
    const bug = new TypeError('bug');
    class Api {
      calls = 0;
      @Retry(HttpError, { times: 3, interval: 1, onError: (error, attempt) => reported.push([error, attempt]) })
      async get(): Promise<void> {
        if (this.calls++ === 0) throw new HttpError(502);
        throw bug;
      }
    }
    const result = capture(new Api().get());
    await time.clock.advance(1);
    await result;
    expect(reported).toEqual([
      [expect.any(HttpError), 0],
      [bug, 1],
    ]);
  });

  it('keeps the method name and length', () => {
    class Api {
      @Retry()
      async fetchUser(_id: string, _opts?: object): Promise<void> {}
    }
    expect(Api.prototype.fetchUser.name).toBe('fetchUser');
    expect(Api.prototype.fetchUser.length).toBe(2);
  });
});
