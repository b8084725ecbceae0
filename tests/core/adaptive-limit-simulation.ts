import { adaptive, bulkheadPolicy, type AdaptiveLimitOptions, type BulkheadPolicy } from '@staunch/core';
import { VirtualClock } from '@staunch/core/testing';

/** One stretch of a simulation: for `duration` ms the dependency answers in `base` ms up to its knee. */
export interface Phase {
  readonly duration: number;
  readonly base: number;
}

/**
 * A dependency that serves `knee` calls at once in `base` ms each and queues the rest: a call that
 * finds `n` calls in flight (itself included) takes `base × max(1, n / knee)` ms.
 */
export function queueingDependency(clock: VirtualClock, knee: number) {
  const state = { base: 10, inflight: 0, peak: 0, calls: 0 };
  const call = async (): Promise<number> => {
    state.inflight++;
    state.calls++;
    state.peak = Math.max(state.peak, state.inflight);
    const latency = state.base * Math.max(1, state.inflight / knee);
    try {
      await clock.sleep(latency);
      return latency;
    } finally {
      state.inflight--;
    }
  };
  return { state, call };
}

/**
 * `clients` callers in a closed loop (each calls again as soon as its call settles) through an
 * adaptive bulkhead in front of a queueing dependency, through `phases`. Returns the bulkhead's limit
 * sampled every `every` ms of virtual time, with the time.
 */
export async function simulate(
  limit: AdaptiveLimitOptions,
  options: {
    readonly knee: number;
    readonly clients: number;
    readonly phases: readonly Phase[];
    readonly every?: number;
  },
): Promise<{
  readonly samples: { at: number; limit: number }[];
  readonly policy: BulkheadPolicy;
  readonly peak: number;
  readonly highest: number;
}> {
  const clock = new VirtualClock();
  const dependency = queueingDependency(clock, options.knee);
  const policy = bulkheadPolicy({ limit: adaptive(limit), queue: Infinity, clock });
  // The highest the limit ever stood (between samples too), from the bulkhead's `limit` events.
  let highest = policy.statistics.limit;
  policy.on('limit', (event) => {
    highest = Math.max(highest, event.limit);
  });
  let stop = false;
  const loops = Array.from({ length: options.clients }, async () => {
    while (!stop) await policy.execute(dependency.call);
  });
  const samples: { at: number; limit: number }[] = [];
  const every = options.every ?? 100;
  for (const phase of options.phases) {
    dependency.state.base = phase.base;
    for (let t = 0; t < phase.duration; t += every) {
      await clock.advance(every);
      samples.push({ at: clock.now(), limit: policy.statistics.limit });
    }
  }
  stop = true;
  await clock.runAll();
  await Promise.all(loops);
  return { samples, policy, peak: dependency.state.peak, highest };
}

/** The average limit over the samples taken in [from, to). */
export function averageLimit(samples: readonly { at: number; limit: number }[], from: number, to: number): number {
  const inside = samples.filter((s) => s.at >= from && s.at < to);
  return inside.reduce((sum, s) => sum + s.limit, 0) / inside.length;
}
