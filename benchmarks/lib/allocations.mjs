// Bytes allocated per call, from V8's sampling heap profiler (objects already collected by
// minor and major GCs included). Reported as the difference to the bare-await baseline run in the
// same process and loop, so the measuring loop's own allocations and the wrapped function's promise
// cancel out: what remains is what the wrapper allocates per call.

import { Session } from 'node:inspector/promises';
import { scenario } from './scenarios.mjs';

/** The scenarios whose per-call allocation is reported. */
export const allocationScenarios = [
  'loop',
  'breaker',
  'retry-fn',
  'retry-policy',
  'retry-decorated',
  'breaker-fn',
  'breaker-decorated',
  'stacked-decorated',
  'backoff-fn',
  'backoff-decorated',
  'timeout-decorated',
  'hedge-decorated',
  'cockatiel-retry',
  'cockatiel-breaker',
];

/** Rows `{ id, bytes }`: sampled bytes per call minus those of the bare baseline. */
export async function measureAllocations(calls) {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  const perCall = async (op) => {
    for (let i = 0; i < Math.min(calls, 20_000); i++) await op(); // warm: optimized code allocates less
    globalThis.gc?.();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 64,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    for (let i = 0; i < calls; i++) await op();
    const { profile } = await session.post('HeapProfiler.stopSampling');
    return total(profile.head) / calls;
  };
  const bare = (await scenario('bare').make()).op;
  const rows = [];
  for (const id of allocationScenarios) {
    const { op, check } = await scenario(id).make();
    if (!check(await op())) throw new Error(`${id}: wrong result`);
    // Bare before and after, averaged: the sampler's estimate drifts a little over a run.
    const before = await perCall(bare);
    const own = await perCall(op);
    const after = await perCall(bare);
    rows.push({ id, bytes: Math.round(own - (before + after) / 2) });
  }
  session.disconnect();
  return rows;
}

function total(node) {
  let bytes = node.selfSize;
  for (const child of node.children) bytes += total(child);
  return bytes;
}
