// adaptive(): one option set per algorithm, accepted by @Bulkhead and bulkheadPolicy; the current limit is a number.
import { Bulkhead, adaptive, bulkheadPolicy, policyOf, type BulkheadLimitEvent } from '@staunch/decorators';

export class Catalog {
  @Bulkhead({ limit: adaptive({ algorithm: 'vegas', min: 2, max: 50, alpha: 2, beta: 5 }), queue: 100 })
  async search(text: string): Promise<number> {
    return text.length;
  }

  @Bulkhead({ limit: adaptive({ algorithm: 'gradient2', tolerance: 2, smoothing: 0.5 }), scope: 'instance' })
  async list(): Promise<void> {}

  // @ts-expect-error `alpha` is Vegas' option, not AIMD's
  @Bulkhead({ limit: adaptive({ algorithm: 'aimd', alpha: 3 }) })
  async mixed(): Promise<void> {}

  // @ts-expect-error not an algorithm
  @Bulkhead({ limit: adaptive({ algorithm: 'reno' }) })
  async unknown(): Promise<void> {}
}

const policy = bulkheadPolicy({ limit: adaptive({ algorithm: 'aimd', backoff: 0.8, latency: 250 }) });
export const limit: number = policy.statistics.limit;
policy.on('limit', (event: BulkheadLimitEvent) => void event.previous);
export const current: number = policyOf(Catalog, 'search', 'bulkhead').statistics.limit;

// @ts-expect-error an algorithm is required
adaptive({ min: 1, max: 10 });
