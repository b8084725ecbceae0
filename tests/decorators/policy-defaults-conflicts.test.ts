// Policy defaults set too late, or that do not fit a method: clear errors when they are set, never
// a policy that silently runs without them. One process (this file's global object), in order:
// defaults are set once per process. The happy path: policy-defaults.test.ts.
import {
  CircuitBreaker,
  Hedge,
  Poll,
  circuitOf,
  expectPolicyDefaults,
  policyOf,
  setPolicyDefaults,
} from '@staunch/decorators';
import { useVirtualClock } from './helpers';

describe('policy defaults that cannot apply', () => {
  useVirtualClock();

  // Defined before anything awaits defaults: its policy is built at once, without them.
  class Early {
    @Hedge({ maxHedged: 1 })
    async fetch(): Promise<string> {
      return 'early';
    }
  }

  it('refuses defaults for a policy kind a method already built without them, naming the method', () => {
    new Early();
    expect(() => setPolicyDefaults({ hedge: { delay: 5 } }, { by: 'StaunchModule.forRoot' })).toThrow(
      'StaunchModule.forRoot: `defaults.hedge` cannot apply to @Hedge on Early.fetch(), whose policy was built before the defaults were set',
    );
    expect(policyOf(Early, 'fetch', 'hedge').options.delay).toBe(2_000); // unchanged: the built-in default
  });

  describe('once defaults are awaited', () => {
    expectPolicyDefaults();

    class Jobs {
      @Poll((done: boolean) => done, { interval: 100 })
      async done(): Promise<boolean> {
        return true;
      }
    }

    class Gate {
      @CircuitBreaker({ halfOpenCalls: 1, resetTimeout: 500 })
      async pass(): Promise<string> {
        return 'open';
      }
    }

    it('builds a method called before the defaults are set without them, and then refuses defaults for its kind', async () => {
      expect(await new Jobs().done()).toBe(true);
      expect(() => setPolicyDefaults({ poll: { timeout: 1_000 } })).toThrow(
        'setPolicyDefaults: `defaults.poll` cannot apply to @Poll on Jobs.done(), whose policy was built before the defaults were set (called, looked up',
      );
    });

    it("refuses defaults that make a method's options invalid, naming decorator, class, method and option; nothing is set", () => {
      new Gate();
      const invalid = { circuitBreaker: { halfOpenCalls: 4, halfOpenFailureRate: 0.5 } };
      expect(() => setPolicyDefaults(invalid, { by: 'StaunchModule.forRoot' })).toThrow(
        '@CircuitBreaker on Gate.pass() with the policy defaults of StaunchModule.forRoot: `halfOpenFailureRate` must be given with `halfOpenCalls` >= 2',
      );
      // Nothing was set: other defaults still can be, and the waiting method takes them.
      setPolicyDefaults({ circuitBreaker: { threshold: 7 } });
      expect(circuitOf(Gate, 'pass').options).toMatchObject({ threshold: 7, halfOpenCalls: 1, resetTimeout: 500 });
    });
  });
});
