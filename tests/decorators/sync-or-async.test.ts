import { CircuitBreaker, Retry, circuitBreaker, circuitOf, isCircuitOpenError } from '@staunch/decorators';
import { capture, useVirtualClock } from './helpers';

/** Calls `call` and reports whether it threw synchronously, or else the outcome of what it returned. */
async function settle(call: () => unknown): Promise<{ readonly threw: unknown } | { readonly rejected: unknown }> {
  let returned: unknown;
  try {
    returned = call();
  } catch (error) {
    return { threw: error };
  }
  const outcome = await capture(Promise.resolve(returned));
  if (outcome.ok) throw new Error(`expected a failure, got ${String(outcome.value)}`);
  return { rejected: outcome.error };
}

// Whether a decorated method reports a failure by rejecting or by throwing is decided once per
// method, at class definition (see the README's "Sync or async: what decides"), never by what
// earlier calls returned.
describe('a method that returns a promise never throws synchronously', () => {
  useVirtualClock();

  it('rejects when a keyed circuit’s `key` function throws (a malformed URL)', async () => {
    class Client {
      @CircuitBreaker<Client, [string]>({ threshold: 1, resetTimeout: 1_000, key: (_self, [url]) => new URL(url).host })
      async fetch(url: string): Promise<string> {
        return url;
      }
    }
    const outcome = await settle(() => new Client().fetch('not a url'));
    expect(outcome).toEqual({ rejected: expect.objectContaining({ code: 'ERR_INVALID_URL' }) });
  });

  it('rejects when a keyed circuit’s `key` function returns something other than a string', async () => {
    class Client {
      @CircuitBreaker<Client, [number]>({ threshold: 1, resetTimeout: 1_000, key: (_self, [id]) => id as never })
      async fetch(id: number): Promise<number> {
        return id;
      }
    }
    const outcome = await settle(() => new Client().fetch(7));
    expect(outcome).toEqual({
      rejected: new TypeError('@CircuitBreaker on fetch(): `key` must return a string, got number.'),
    });
  });

  it("rejects when a circuit with scope 'instance' is called without an object as `this`", async () => {
    class Api {
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000, scope: 'instance' })
      async get(): Promise<string> {
        return 'ok';
      }
    }
    const { get } = new Api();
    expect(await settle(() => get())).toEqual({
      rejected: new TypeError(
        "@CircuitBreaker on get(): a circuit with scope 'instance' needs an object as `this`, got undefined.",
      ),
    });
    expect(await settle(() => get.call(null))).toEqual({
      rejected: new TypeError(
        "@CircuitBreaker on get(): a circuit with scope 'instance' needs an object as `this`, got null.",
      ),
    });
  });

  it('rejects when a breaker above another breaker fails before calling it', async () => {
    class Client {
      @CircuitBreaker<Client, [string]>({ threshold: 1, resetTimeout: 1_000, key: (_self, [url]) => new URL(url).host })
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      async fetch(url: string): Promise<string> {
        return url;
      }
    }
    const outcome = await settle(() => new Client().fetch('not a url'));
    expect(outcome).toEqual({ rejected: expect.objectContaining({ code: 'ERR_INVALID_URL' }) });
  });

  it('rejects from an open circuit above a retry, even when the method is not declared `async`', async () => {
    let calls = 0;
    class Api {
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      @Retry({ times: 1 })
      get(): Promise<string> {
        calls++;
        return Promise.resolve('ok');
      }
    }
    circuitOf(Api, 'get').isolate();
    const outcome = await settle(() => new Api().get());
    expect(outcome).toEqual({ rejected: expect.objectContaining({ code: 'STAUNCH_CIRCUIT_OPEN' }) });
    expect(calls).toBe(0);
  });

  it('rejects from an open circuit above a foreign decorator that wraps an async method’s stack', async () => {
    const outer = circuitBreaker({ threshold: 1, resetTimeout: 1_000 });
    outer.isolate();
    const plain = <M extends (this: unknown, ...args: never[]) => unknown>(method: M): M =>
      function (this: unknown, ...args: never[]) {
        return method.apply(this, args);
      } as M;
    class Api {
      @CircuitBreaker({ breaker: outer })
      @plain
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      async get(): Promise<string> {
        return 'ok';
      }
    }
    const outcome = await settle(() => new Api().get());
    expect('rejected' in outcome && isCircuitOpenError(outcome.rejected)).toBe(true);
  });

  it('rejects from an open circuit on the first call ever (nothing is learnt from earlier calls)', async () => {
    class Api {
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      async get(): Promise<string> {
        return 'ok';
      }
    }
    circuitOf(Api, 'get').isolate();
    const outcome = await settle(() => new Api().get());
    expect('rejected' in outcome && isCircuitOpenError(outcome.rejected)).toBe(true);
  });
});

describe('a sync method stays sync', () => {
  it('throws synchronously what its `key` function throws', async () => {
    class Parser {
      @CircuitBreaker<Parser, [string]>({ threshold: 1, resetTimeout: 1_000, key: (_self, [url]) => new URL(url).host })
      parse(url: string): string {
        return url;
      }
    }
    expect(await settle(() => new Parser().parse('not a url'))).toEqual({
      threw: expect.objectContaining({ code: 'ERR_INVALID_URL' }),
    });
  });
});

// Needs the breaker without its history-based guess (issue 14, item 2, core half): until then the
// breaker remembers that this method returned promises and rejects instead.
describe('decided per method, not by history', () => {
  it('throws synchronously from an open circuit in a method not declared `async`, even after it returned promises', async () => {
    class Api {
      @CircuitBreaker({ threshold: 1, resetTimeout: 1_000 })
      get(fail: boolean): Promise<string> {
        return fail ? Promise.reject(new Error('down')) : Promise.resolve('ok');
      }
    }
    const api = new Api();
    expect(await api.get(false)).toBe('ok');
    expect(await capture(api.get(true))).toEqual({ ok: false, error: new Error('down') });
    const outcome = await settle(() => api.get(false));
    expect('threw' in outcome && isCircuitOpenError(outcome.threw)).toBe(true);
  });
});
