// The measuring half of the harness, run inside each scenario's child process.
//
// A scenario hands over a few variants (its own operation, the bare-await baseline, and the
// baseline it is compared with). Each variant gets its own compiled loop, so call sites stay
// monomorphic per variant. Then: warm-up, calibration of iterations per sample, and rounds in
// which every variant runs one sample, in a rotating order. Ratios are taken per round, between
// samples that ran seconds apart at most in the same process, and only then summarised: on a
// shared 2-core machine absolute times drift, ratios within a round much less.

import { performance } from 'node:perf_hooks';

/** Settings for a full run and for `--quick` (no speed claims, only "it runs and is right"). */
export const profiles = {
  full: { warmupMs: 400, sampleMs: 25, rounds: 11, processes: 3 },
  quick: { warmupMs: 30, sampleMs: 4, rounds: 3, processes: 1 },
};

/**
 * @typedef {object} Variant
 * @property {string} name
 * @property {() => unknown} op   one call of the thing measured (returns a promise or a value)
 * @property {'value' | 'error'} kind   'value': the op resolves; 'error': it rejects or throws
 * @property {(result: unknown) => boolean} check   is the result (value or caught error) right?
 * @property {number} [perOp]   calls made by one op (for concurrency scenarios), default 1
 */

/**
 * Measures `variants` against each other. Returns, per variant, ns per call of every round and
 * whether each checked result was right.
 * @param {Variant[]} variants
 * @param {{ warmupMs: number, sampleMs: number, rounds: number }} profile
 */
export async function measure(variants, profile) {
  const runners = variants.map((variant) => ({ variant, loop: compileLoop(variant.kind), iterations: 1 }));

  // Correctness first: one call each, checked before anything is timed.
  for (const runner of runners) {
    const result = await runner.loop(runner.variant.op, 1);
    if (!runner.variant.check(result)) {
      throw new Error(`${runner.variant.name}: wrong result ${describe(result)}`);
    }
  }

  // Warm-up: long enough for the optimizing compiler to have seen every variant's loop.
  for (const runner of runners) {
    const until = performance.now() + profile.warmupMs;
    let n = 16;
    while (performance.now() < until) {
      await runner.loop(runner.variant.op, n);
      n = Math.min(n * 2, 1 << 16);
    }
  }

  // Calibration: the iteration count that makes one sample last about `sampleMs`.
  for (const runner of runners) {
    let n = 1;
    for (;;) {
      const started = performance.now();
      await runner.loop(runner.variant.op, n);
      const elapsed = performance.now() - started;
      if (elapsed >= profile.sampleMs / 4 || n >= 1 << 24) {
        runner.iterations = Math.max(1, Math.round((n * profile.sampleMs) / Math.max(elapsed, 1e-3)));
        break;
      }
      n *= 2;
    }
  }

  // One full GC before the rounds, none between samples: right after a forced GC V8 shrinks the
  // young generation, which would make allocation look several times dearer than in a warm process.
  globalThis.gc?.();
  const samples = runners.map(() => []);
  let checksFailed = 0;
  for (let round = 0; round < profile.rounds; round++) {
    for (let k = 0; k < runners.length; k++) {
      const index = (round + k) % runners.length; // rotate who goes first
      const runner = runners[index];
      const started = process.hrtime.bigint();
      const last = await runner.loop(runner.variant.op, runner.iterations);
      const elapsed = Number(process.hrtime.bigint() - started);
      if (!runner.variant.check(last)) checksFailed++;
      samples[index].push(elapsed / (runner.iterations * (runner.variant.perOp ?? 1)));
    }
  }
  if (checksFailed > 0) throw new Error(`${checksFailed} sample(s) ended with a wrong result`);
  return runners.map((runner, index) => ({
    name: runner.variant.name,
    iterations: runner.iterations,
    nsPerCall: samples[index],
  }));
}

/** Median and quartiles of a list of numbers. */
export function summarise(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => {
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.ceil(position);
    return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
  };
  return { median: at(0.5), p25: at(0.25), p75: at(0.75), min: sorted[0], max: sorted[sorted.length - 1] };
}

/** Per-round ratios a[i] / b[i], summarised. */
export function ratio(a, b) {
  return summarise(a.map((value, i) => value / b[i]));
}

// A fresh function per variant (new Function compiles new code, so its call site `op()` has its
// own type feedback): a loop shared by all variants would turn megamorphic and tax every variant.
function compileLoop(kind) {
  const body =
    kind === 'value'
      ? 'let last; for (let i = 0; i < n; i++) last = await op(); return last;'
      : 'let last; for (let i = 0; i < n; i++) { try { await op(); } catch (error) { last = error; } } return last;';
  return new Function(`return async function loop(op, n) { ${body} };`)();
}

function describe(value) {
  if (value instanceof Error) return `${value.constructor.name}: ${value.message}`;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
