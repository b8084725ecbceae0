// `npm run bench`: per-call overhead of staunch and its peers, as ratios to baselines measured
// in the same process. Writes BENCHMARKS.md.
//
//   npm run bench                     full run (a few minutes), prints the table, writes BENCHMARKS.md
//   npm run bench -- --quick          short run for CI: every scenario runs and is checked, no
//                                     speed assertions, nothing written
//   npm run bench -- --only=retry,open   only scenarios whose id or group matches (not written)
//
// Needs the built packages (`npm run build`): the benchmarks measure what users install. The
// @staunch/redis scenarios need `redis-server` on PATH (each starts its own, on 127.0.0.1), and the
// Cluster one `redis-cli` too (it joins six servers into a Cluster): without them a full run fails,
// and `--quick` skips them with a warning, unless STAUNCH_REQUIRE_REDIS=1.

import { fork } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileDecorated } from './lib/compile.mjs';
import { profiles } from './lib/measure.mjs';
import { redisCliAvailable, redisServerAvailable } from './lib/redis-server.mjs';
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
for (const pkg of ['core', 'decorators', 'redis', 'otel']) {
  if (!existsSync(join(root, 'packages', pkg, 'dist', 'index.mjs'))) {
    console.error(`packages/${pkg}/dist is missing: run \`npm run build\` first.`);
    process.exit(1);
  }
}
compileDecorated();

// A scenario measured in another's processes comes with it, and the other way round.
const matched = new Set(
  scenarios.filter((s) => only === undefined || only.some((o) => s.id === o || s.group === o)).map((s) => s.id),
);
// A scenario judged against another measured in its own processes (`versus`) needs that one too.
for (const s of scenarios) if (matched.has(s.id) && s.versus !== undefined) matched.add(s.versus);
for (const s of scenarios) {
  if (s.measuredIn !== undefined && (matched.has(s.id) || matched.has(s.measuredIn))) {
    matched.add(s.id).add(s.measuredIn);
  }
}
let selected = scenarios.filter((s) => matched.has(s.id));

// redis-server for every Redis scenario, redis-cli too for those on a Redis Cluster (it joins the nodes).
let redisSkipped = false;
const serverMissing = !redisServerAvailable();
const cliMissing = !redisCliAvailable();
const unrunnable = (s) => s.redis && (serverMissing || (s.cli && cliMissing));
if (selected.some(unrunnable)) {
  const what = serverMissing ? 'redis-server is' : 'redis-cli is';
  const install = serverMissing
    ? 'install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)'
    : 'install it (Debian/Ubuntu: apt-get install redis-tools; macOS: brew install redis)';
  if (!quick || process.env.STAUNCH_REQUIRE_REDIS === '1') {
    const why = quick ? 'STAUNCH_REQUIRE_REDIS=1' : 'a full run measures every scenario';
    console.error(`${what} not on PATH, and ${why}: ${install}.`);
    process.exit(1);
  }
  redisSkipped = true;
  const redisIds = new Set(selected.filter(unrunnable).flatMap((s) => [s.id, ...(s.companions ?? [])]));
  selected = selected.filter((s) => !redisIds.has(s.id));
}
const skippedLine =
  'Redis scenarios skipped (redis-server or redis-cli missing): install redis-server (and redis-tools) to run ' +
  'them; STAUNCH_REQUIRE_REDIS=1 makes this an error.';
if (redisSkipped) console.warn(skippedLine);

// The scenarios that run in children of their own (companions run in their host's).
const runs = selected.filter((s) => s.measuredIn === undefined);
const profile = quick ? 'quick' : 'full';
// Timed scenarios run in several processes, in passes over all scenarios: one process can be lucky
// or unlucky in what the JIT decides (a few percent either way), and passes spread the machine's
// load over every scenario alike. Their rounds are pooled.
const passes = profiles[profile].processes;
console.log(
  `staunch benchmarks (${profile}, ${runs.length} scenarios, ${passes} child process${passes === 1 ? '' : 'es'} each)`,
);

const byId = new Map();
for (let pass = 1; pass <= passes; pass++) {
  for (const subject of runs) {
    const timed = subject.make !== undefined;
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
if (redisSkipped) console.warn(skippedLine);

const failures = outcomes.filter((o) => o.error !== undefined);
for (const failure of failures) console.error(`\n${failure.id} failed:\n${failure.error}`);
const problems = report.problems;
for (const problem of problems) console.error(`invalid result: ${problem}`);

const seconds = (performance.now() - started) / 1000;
console.log(`\n${outcomes.length - failures.length}/${runs.length} scenarios ran in ${seconds.toFixed(1)} s.`);
if (failures.length > 0 || problems.length > 0) process.exit(1);

if (!quick && only === undefined) {
  // Formatted like every other file, so `prettier --check .` (npm run lint) stays green.
  const file = join(root, 'BENCHMARKS.md');
  const prettier = await import('prettier');
  const options = { ...(await prettier.resolveConfig(file)), filepath: file };
  writeFileSync(file, await prettier.format(markdown(report, env, seconds), options));
  console.log('Wrote BENCHMARKS.md.');
}

// One outcome with the rounds of two processes of the same scenario (and the Redis commands of both).
function pool(a, b) {
  const pooled = {
    ...a,
    results: a.results.map((r) => ({
      ...r,
      nsPerCall: [...r.nsPerCall, ...b.results.find((s) => s.name === r.name).nsPerCall],
    })),
  };
  if (a.redisCommands !== undefined) {
    pooled.redisCommands = Object.fromEntries(
      Object.entries(a.redisCommands).map(([key, count]) => [key, count + (b.redisCommands?.[key] ?? NaN)]),
    );
  }
  return pooled;
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
