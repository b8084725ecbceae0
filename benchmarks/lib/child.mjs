// One scenario, in a process of its own (started by benchmarks/run.mjs with --expose-gc):
//   node --expose-gc benchmarks/lib/child.mjs <scenario id> <full|quick>
// Measures the scenario interleaved with its baselines and sends the samples to the parent.

import { measure, profiles } from './measure.mjs';
import { scenario } from './scenarios.mjs';

const [id, profileName] = process.argv.slice(2);

try {
  const subject = scenario(id);
  let message;
  if (subject.allocations !== undefined) {
    message = { id, allocations: await subject.allocations(profileName === 'quick' ? 2_000 : 50_000) };
  } else if (subject.memory !== undefined) {
    const rows = await subject.memory(profileName === 'quick' ? 10_000 : 100_000);
    message = { id, memory: rows };
  } else {
    const ids = [...new Set([subject.base ?? 'bare', subject.reference, subject.id].filter(Boolean))];
    const variants = [];
    for (const variantId of ids) variants.push({ name: variantId, ...(await scenario(variantId).make()) });
    const results = await measure(variants, profiles[profileName]);
    message = { id, results, note: variants.at(-1).note };
  }
  process.send(message, () => process.exit(0));
} catch (error) {
  process.send({ id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () =>
    process.exit(1),
  );
}
