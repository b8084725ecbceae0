import { circuitBreakerFactory, livePolicies, registerPolicy } from '@staunch/core';
import { heapPerItem } from './heap';

// What listing costs, measured: the registry's own share of a listed policy, beyond the policy.
describe('the registry of live policies, in memory', () => {
  it('lists a policy for one WeakRef and one WeakMap entry: under 128 bytes each', async () => {
    const circuits = circuitBreakerFactory({ threshold: 5, resetTimeout: 10_000 });
    const unlisted = await heapPerItem(20_000, () => circuits());
    const listed = await heapPerItem(20_000, () => {
      const circuit = circuits();
      registerPolicy(circuit, 'circuitBreaker');
      return circuit;
    });
    // A WeakRef (32 bytes on 64-bit V8), its array slot (~8-12) and a WeakMap entry (~24-48): ~50-85 (a Source
    // object, site and WeakRef of its own per policy cost ~200).
    expect(listed - unlisted).toBeLessThan(128);
    expect(livePolicies().length).toBeGreaterThanOrEqual(20_000);
  }, 30_000); // tens of thousands of objects and real GCs: seconds on a loaded machine
});
