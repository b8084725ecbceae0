import { circuitBreakerFactory, livePolicies, registerPolicy } from '@staunch/core';
import { collectGarbage } from './gc';
import { heapPerItem } from './heap';

// What listing costs, measured: the registry's own share of a listed policy, beyond the policy.
describe('the registry of live policies, in memory', () => {
  const circuits = circuitBreakerFactory({ threshold: 5, resetTimeout: 10_000 });
  let kept = 0;

  async function reading(): Promise<number> {
    // The circuits an earlier reading listed are collected and cleared out of the registry (listing does
    // that) before this one, so that it does not reclaim them meanwhile.
    await collectGarbage();
    livePolicies();
    const unlisted = await heapPerItem(20_000, () => circuits());
    const listed = await heapPerItem(20_000, () => {
      const circuit = circuits();
      registerPolicy(circuit, 'circuitBreaker');
      return circuit;
    });
    kept = Math.max(kept, livePolicies().length);
    return listed - unlisted;
  }

  it('lists a policy for one WeakRef and one WeakMap entry: under 128 bytes each', async () => {
    // The median of three readings: whatever else the process does meanwhile (a jest worker that ran other
    // files before this one) can throw one reading off; the cost of listing is in every one.
    const extras = [await reading(), await reading(), await reading()].sort((a, b) => a - b);
    // A WeakRef (32 bytes on 64-bit V8), its array slot (~8-12) and a WeakMap entry (~24-48): ~50-85 (a Source
    // object, site and WeakRef of its own per policy cost ~200).
    expect(extras[1]).toBeLessThan(128);
    expect(kept).toBeGreaterThanOrEqual(20_000);
  }, 60_000); // tens of thousands of objects and real GCs: seconds on a loaded machine
});
