// One scenario, in a process of its own (started by benchmarks/run.mjs with --expose-gc):
//   node --expose-gc benchmarks/lib/child.mjs <scenario id> <full|quick>
// Measures the scenario interleaved with its baselines (and companions) and sends the samples to
// the parent.

import { measure, profiles } from './measure.mjs';
import { scenario } from './scenarios.mjs';

const [id, profileName] = process.argv.slice(2);
const quick = profileName === 'quick';

try {
  const subject = scenario(id);
  let message;
  if (subject.allocations !== undefined) {
    message = { id, allocations: await subject.allocations(quick ? 2_000 : 50_000) };
  } else if (subject.memory !== undefined) {
    const rows = await subject.memory(quick ? 10_000 : 100_000);
    message = { id, memory: rows };
  } else if (subject.staleness !== undefined) {
    message = { id, staleness: await subject.staleness(quick ? 30 : 500) };
  } else if (subject.recovery !== undefined) {
    message = { id, recovery: await subject.recovery(quick ? subject.circuits / 10 : subject.circuits) };
  } else if (subject.redisMemory !== undefined) {
    message = { id, redisMemory: await subject.redisMemory(quick ? 1_000 : 10_000) };
  } else {
    message = await timed(subject);
  }
  process.send(message, () => process.exit(0));
} catch (error) {
  process.send({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () =>
    process.exit(1),
  );
}

// A variant may watch the whole measurement (`watch()` before it, what that returns after it, given
// the variant's own samples) and hold resources (`dispose()`, after everything).
async function timed(subject) {
  const ids = [subject.base ?? 'bare', subject.reference, ...(subject.companions ?? []), subject.id];
  const variants = [];
  try {
    for (const variantId of new Set(ids.filter(Boolean))) {
      variants.push({ name: variantId, ...(await scenario(variantId).make()) });
    }
    const watching = [];
    for (const variant of variants) if (variant.watch) watching.push([variant.name, await variant.watch()]);
    const results = await measure(variants, profiles[profileName]);
    const observed = {};
    for (const [name, stop] of watching) Object.assign(observed, await stop(results.find((r) => r.name === name)));
    return { id, results, note: variants.at(-1).note, ...observed };
  } finally {
    for (const variant of variants) await variant.dispose?.();
  }
}
