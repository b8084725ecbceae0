import { CircuitBreaker, circuitBreakerFactory } from '@staunch/decorators';
import { heapPerItem } from '../core/heap';

// What listing an instance-scoped policy costs per object, beyond the policy and the WeakMap entry that finds it.
describe("scope: 'instance', in memory", () => {
  it('lists the circuit of each instance for one WeakRef and an array slot: under 48 bytes each', async () => {
    class Listed {
      @CircuitBreaker({ scope: 'instance', threshold: 5, resetTimeout: 10_000 })
      ping(): string {
        return 'ok';
      }
    }
    // The same circuit found the same way, by hand, listed nowhere.
    const circuits = circuitBreakerFactory({ threshold: 5, resetTimeout: 10_000 });
    const byInstance = new WeakMap<object, ReturnType<typeof circuits>>();
    class Unlisted {
      ping(): string {
        let circuit = byInstance.get(this);
        if (circuit === undefined) byInstance.set(this, (circuit = circuits()));
        return circuit.executeSync(() => 'ok');
      }
    }
    const unlisted = await heapPerItem(50_000, () => {
      const instance = new Unlisted();
      instance.ping();
      return instance;
    });
    const listed = await heapPerItem(50_000, () => {
      const instance = new Listed();
      instance.ping();
      return instance;
    });
    // A WeakRef (32 bytes on 64-bit V8) and its array slot (~8-12); a Set of WeakRefs cost ~55-60.
    expect(listed - unlisted).toBeLessThan(48);
  }, 30_000); // tens of thousands of objects and real GCs: seconds on a loaded machine
});
