import { AsyncBackoff, CircuitBreaker, Retry, attemptSignal, circuitOf } from '@staunch/decorators';
import { capture, useVirtualClock } from './helpers';

describe('decorated method kinds', () => {
  const time = useVirtualClock();

  it('wraps a static method, with the class as `this`', async () => {
    const thisSeen: unknown[] = [];
    class Config {
      static attempts = 0;
      @Retry({ times: 2, interval: 5 })
      static async load(): Promise<string> {
        thisSeen.push(this);
        if (Config.attempts++ === 0) throw new Error('once');
        return 'loaded';
      }
    }
    const result = capture(Config.load());
    await time.clock.advance(5);
    expect(await result).toEqual({ ok: true, value: 'loaded' });
    expect(thisSeen).toEqual([Config, Config]);
  });

  it('wraps a #private method called through `this.#method()`', async () => {
    class Worker {
      calls = 0;
      @Retry({ times: 3, interval: 1 })
      async #step(): Promise<number> {
        if (++this.calls < 3) throw new Error('again');
        return this.calls;
      }
      run(): Promise<number> {
        return this.#step();
      }
    }
    const result = capture(new Worker().run());
    await time.clock.advance(2);
    expect(await result).toEqual({ ok: true, value: 3 });
  });

  it('applies to an inherited method called on a subclass instance', async () => {
    class Base {
      calls = 0;
      @Retry({ times: 2, interval: 1 })
      async load(): Promise<string> {
        if (this.calls++ === 0) throw new Error('once');
        return this.constructor.name;
      }
    }
    class Derived extends Base {}
    const result = capture(new Derived().load());
    await time.clock.advance(1);
    expect(await result).toEqual({ ok: true, value: 'Derived' });
  });

  it("gives a circuit with scope 'instance' on a static method to the class itself", async () => {
    class Registry {
      @CircuitBreaker({ threshold: 1, resetTimeout: 10, scope: 'instance' })
      static lookup(): never {
        throw new Error('down');
      }
    }
    expect(() => Registry.lookup()).toThrow('down');
    expect(circuitOf(Registry, 'lookup').state).toBe('open');
  });
});

describe('attemptSignal()', () => {
  const time = useVirtualClock();

  it('returns the running attempt’s signal, aborted when the attempt times out', async () => {
    const signals: AbortSignal[] = [];
    class Rows {
      @AsyncBackoff({ attemptTimeout: 100, maxTries: 2 })
      async fetch(): Promise<string> {
        const signal = attemptSignal();
        signals.push(signal);
        if (signals.length === 1) return new Promise<string>(() => {}); // hangs: only the timeout ends it
        return 'rows';
      }
    }
    const result = capture(new Rows().fetch());
    await time.clock.advance(100);
    expect(await result).toEqual({ ok: true, value: 'rows' });
    expect(signals).toHaveLength(2);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[1]?.aborted).toBe(false);
    expect(time.clock.pending).toBe(0);
  });

  it('fails loudly when called after the first await of the method', async () => {
    class Rows {
      @AsyncBackoff({ attemptTimeout: 100 })
      async fetch(): Promise<AbortSignal> {
        await Promise.resolve();
        return attemptSignal();
      }
    }
    const outcome = await capture(new Rows().fetch());
    expect(outcome.ok).toBe(false);
    expect((outcome as { error: Error }).error.message).toMatch(/before the first await/);
  });

  it('fails loudly when called outside any decorated method', () => {
    expect(() => attemptSignal()).toThrow(/attemptSignal/);
  });
});
