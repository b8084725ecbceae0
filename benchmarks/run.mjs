// `npm run bench`: per-call overhead of staunch and its peers, as ratios to baselines measured
// in the same process. Writes BENCHMARKS.md.
//
//   npm run bench                     full run (a few minutes), prints the table, writes BENCHMARKS.md
//   npm run bench -- --quick          short run for CI: every scenario runs and is checked, no
//                                     speed assertions, nothing written
//   npm run bench -- --only=retry,open   only scenarios whose id or group matches (not written)
//
// Needs the built packages (`npm run build`): the benchmarks measure what users install.

import { fork } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileDecorated } from './lib/compile.mjs';
import { profiles } from './lib/measure.mjs';
import { environment, evaluate, markdown, terminalTable } from './lib/report.mjs';
import { scenarios } from './lib/scenarios.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const quick = process.argv.includes('--quick');
const only = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');

const started = performance.now();
for (const pkg of ['core', 'decorators']) {
  if (!existsSync(join(root, 'packages', pkg, 'dist', 'index.mjs'))) {
    console.error(`packages/${pkg}/dist is missing: run \`npm run build\` first.`);
    process.exit(1);
  }
}
compileDecorated();

const selected = scenarios.filter((s) => only === undefined || only.some((o) => s.id === o || s.group === o));
const profile = quick ? 'quick' : 'full';
// Timed scenarios run in several processes, in passes over all scenarios: one process can be lucky
// or unlucky in what the JIT decides (a few percent either way), and passes spread the machine's
// load over every scenario alike. Their rounds are pooled.
const passes = profiles[profile].processes;
console.log(
  `staunch benchmarks (${profile}, ${selected.length} scenarios, ${passes} child process${passes === 1 ? '' : 'es'} each)`,
);

const byId = new Map();
for (let pass = 1; pass <= passes; pass++) {
  for (const subject of selected) {
    const timed = subject.memory === undefined && subject.allocations === undefined;
    if (pass > 1 && !timed) continue;
    const previous = byId.get(subject.id);
    if (previous?.error !== undefined) continue;
    const outcome = await runChild(subject.id, profile);
    byId.set(subject.id, previous === undefined || outcome.error !== undefined ? outcome : pool(previous, outcome));
    const status = outcome.error === undefined ? 'ok' : 'FAILED';
    process.stdout.write(`  ${passes > 1 ? `pass ${pass}/${passes}  ` : ''}${subject.id.padEnd(22)} ${status}\n`);
  }
}
const outcomes = [...byId.values()];

const report = evaluate(selected, outcomes);
const env = environment();
console.log();
console.log(terminalTable(report, env, !quick));
if (quick) console.log('(--quick: short samples, so no target is judged; run `npm run bench` for that.)');

const failures = outcomes.filter((o) => o.error !== undefined);
for (const failure of failures) console.error(`\n${failure.id} failed:\n${failure.error}`);
const problems = report.problems;
for (const problem of problems) console.error(`invalid result: ${problem}`);

const seconds = (performance.now() - started) / 1000;
console.log(`\n${outcomes.length - failures.length}/${selected.length} scenarios ran in ${seconds.toFixed(1)} s.`);
if (failures.length > 0 || problems.length > 0) process.exit(1);

if (!quick && only === undefined) {
  // Formatted like every other file, so `prettier --check .` (npm run lint) stays green.
  const file = join(root, 'BENCHMARKS.md');
  const prettier = await import('prettier');
  const options = { ...(await prettier.resolveConfig(file)), filepath: file };
  writeFileSync(file, await prettier.format(markdown(report, env, seconds), options));
  console.log('Wrote BENCHMARKS.md.');
}

// One outcome with the rounds of two processes of the same scenario.
function pool(a, b) {
  return {
    ...a,
    results: a.results.map((r) => ({
      ...r,
      nsPerCall: [...r.nsPerCall, ...b.results.find((s) => s.name === r.name).nsPerCall],
    })),
  };
}

function runChild(id, profileName) {
  return new Promise((resolve) => {
    let message;
    const child = fork(join(here, 'lib', 'child.mjs'), [id, profileName], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m) => {
      message = m;
    });
    child.on('exit', (code, signal) => {
      if (message !== undefined) resolve(message);
      else resolve({ id, error: `child exited (${signal ?? code}) without a result` });
    });
  });
}
