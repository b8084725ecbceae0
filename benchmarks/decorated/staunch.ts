// The decorated methods the benchmarks call. TypeScript source, type-checked with the rest of the
// repository; `benchmarks/lib/compile.mjs` transpiles it (target ES2022: Stage-3 decorators as
// TypeScript emits them for Node 20) and the compiled file imports the built packages.
import {
  AsyncBackoff,
  Bulkhead,
  CircuitBreaker,
  Fallback,
  Hedge,
  RateLimit,
  Retry,
  Timeout,
  adaptive,
  retryBudget,
} from '@staunch/decorators';

const VALUE = 42;
// Shared by the budgeted methods, as a service's policies would share it.
const budget = retryBudget({ ratio: 0.2, minPerSecond: 10 });

/** One method per decorated scenario; every body does what the bare baseline's function does. */
export class Service {
  @Retry({ times: 3, interval: 100 })
  async retried(): Promise<number> {
    return VALUE;
  }

  @Retry({ times: 3, interval: 100, budget })
  async retriedWithBudget(): Promise<number> {
    return VALUE;
  }

  @Hedge({ delay: 100 })
  async hedged(): Promise<number> {
    return VALUE;
  }

  @CircuitBreaker({ threshold: 5, resetTimeout: 10_000 })
  async guarded(): Promise<number> {
    return VALUE;
  }

  @Retry({ times: 3, interval: 100 })
  @CircuitBreaker({ threshold: 5, resetTimeout: 10_000 })
  async stacked(): Promise<number> {
    return VALUE;
  }

  // The recommended order of the toolkit, fused into one wrapper.
  @Fallback(0)
  @Retry({ times: 3, interval: 100 })
  @CircuitBreaker({ threshold: 5, resetTimeout: 10_000 })
  @Bulkhead({ limit: 10 })
  @Timeout(1_000)
  async toolkit(): Promise<number> {
    return VALUE;
  }

  @Fallback(0)
  async withFallback(): Promise<number> {
    return VALUE;
  }

  @Bulkhead({ limit: 10 })
  async limited(): Promise<number> {
    return VALUE;
  }

  // 1,000 concurrent calls through 10 slots: the other 990 wait their turn (none rejected).
  @Bulkhead({ limit: 10, queue: 1_000 })
  async limitedQueued(): Promise<number> {
    return VALUE;
  }

  // A limit no run exhausts: every call is admitted.
  @RateLimit({ permits: 1e9, per: 1000 })
  async rateLimited(): Promise<number> {
    return VALUE;
  }

  // The two bulkheads above with an adaptive limit (Vegas): every call is timed on the clock and sampled.
  @Bulkhead({ limit: adaptive({ algorithm: 'vegas', initial: 10 }) })
  async adaptive(): Promise<number> {
    return VALUE;
  }

  @Bulkhead({ limit: adaptive({ algorithm: 'vegas', initial: 10 }), queue: 1_000 })
  async adaptiveQueued(): Promise<number> {
    return VALUE;
  }

  @AsyncBackoff({ attemptTimeout: 1_000 })
  async bounded(): Promise<number> {
    return VALUE;
  }

  @Timeout(1_000)
  async timed(): Promise<number> {
    return VALUE;
  }

  /** Fails until the circuit opens; later calls are rejected without running. */
  @CircuitBreaker({ threshold: 3, resetTimeout: 600_000 })
  async broken(): Promise<number> {
    throw new Error('down');
  }
}

/** One circuit per object (`scope: 'instance'`), made on its first call: the idle-memory scenario. */
export class Tenant {
  @CircuitBreaker({ threshold: 5, resetTimeout: 10_000, scope: 'instance' })
  async ping(): Promise<number> {
    return VALUE;
  }
}

/** One bulkhead per object (`scope: 'instance'`), made on its first call: the idle-policy scenario. */
export class BulkheadTenant {
  @Bulkhead({ limit: 10, scope: 'instance' })
  async ping(): Promise<number> {
    return VALUE;
  }
}

/** The same class without the decorator: what an instance costs by itself. */
export class PlainTenant {
  async ping(): Promise<number> {
    return VALUE;
  }
}
