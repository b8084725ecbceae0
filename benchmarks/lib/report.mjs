// Turns the children's results into rows (medians and spreads of per-round ratios, idle-circuit
// memory, allocation per call, the shared store's hot path, staleness, recovery and memory per
// circuit), judges the targets, and renders the terminal tables and BENCHMARKS.md.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ratio, summarise } from './measure.mjs';
import { memoryCircuit, memoryStore } from './redis-memory.mjs';
import { pauseMs, settleMs } from './redis-recovery.mjs';
import { stalenessWarmUp } from './redis.mjs';
import { groups, scenario } from './scenarios.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Rows per group (kind 'time', 'store', 'staleness', 'recovery', 'redis-memory', 'memory' or
 * 'allocation'), target verdicts,
 * and insane numbers (and Redis commands on the hot path, which must be none).
 */
export function evaluate(selected, outcomes) {
  const problems = [];
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  const report = { groups: [], problems };
  for (const group of groups) {
    const rows = [];
    for (const subject of selected.filter((s) => s.group === group.id)) {
      const outcome = byId.get(subject.measuredIn ?? subject.id);
      if (outcome === undefined || outcome.error !== undefined) rows.push({ kind: 'failed', subject });
      else if (outcome.allocations !== undefined) rows.push(...allocationRows(subject, outcome, problems));
      else if (outcome.memory !== undefined) rows.push(...memoryRows(group, subject, outcome, problems));
      else if (outcome.staleness !== undefined) rows.push(...stalenessRows(group, subject, outcome, problems));
      else if (outcome.recovery !== undefined) rows.push(recoveryRow(group, subject, outcome, problems));
      else if (outcome.redisMemory !== undefined) rows.push(...redisMemoryRows(subject, outcome, problems));
      else if (group.compare !== undefined) rows.push(storeRow(group, subject, outcome, problems));
      else rows.push(timeRow(group, subject, outcome, problems));
    }
    if (rows.length > 0) report.groups.push({ group, rows });
  }
  judgeVersus(report, problems);
  return report;
}

// A target `versus`: this row's `× bare` over the `× bare` of the scenario named by `subject.versus`,
// measured in processes of its own (for what cannot share a process, such as instrumentation).
function judgeVersus(report, problems) {
  const rows = report.groups.flatMap(({ rows }) => rows);
  for (const { group, rows: own } of report.groups) {
    for (const row of own) {
      const target = row.subject.target ?? group.target;
      if (row.kind !== 'time' || target?.versus !== true || row.bare === undefined) continue;
      const other = rows.find((r) => r.kind === 'time' && r.subject.id === row.subject.versus)?.bare;
      if (other === undefined) {
        problems.push(`${row.subject.id}: ${row.subject.versus} was not measured`);
        continue;
      }
      // The spread: the most pessimistic and optimistic pairings of the two IQRs.
      row.metric = {
        median: row.bare.median / other.median,
        p25: row.bare.p25 / other.p75,
        p75: row.bare.p75 / other.p25,
      };
      row.reference = { median: row.metric.median };
      if (row.subject.targeted) row.verdict = { value: row.metric.median, met: row.metric.median <= target.max };
    }
  }
}

function timeRow(group, subject, outcome, problems) {
  const samples = (name) => outcome.results.find((r) => r.name === name)?.nsPerCall;
  const own = samples(subject.id);
  const base = subject.base ?? 'bare';
  const bare = subject.id === base ? undefined : ratio(own, samples(base));
  const reference = subject.reference === undefined ? undefined : ratio(own, samples(subject.reference));
  const row = { kind: 'time', subject, ns: summarise(own), bare, reference, note: outcome.note };
  for (const value of [row.ns.median, bare?.median, reference?.median]) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) problems.push(`${subject.id}: ${value}`);
  }
  // A scenario may be held to a target of its own, tighter than its group's.
  const target = subject.target ?? group.target;
  if (target !== undefined) {
    const measured = target.base ? bare : reference;
    if (measured !== undefined) {
      row.metric = measured;
      if (subject.targeted) row.verdict = { value: measured.median, met: measured.median <= target.max };
    }
  }
  return row;
}

// A time row with a second ratio, to the group's `compare` scenario measured in the same rounds,
// and the Redis commands served while a Redis-backed scenario was measured.
function storeRow(group, subject, outcome, problems) {
  const row = { ...timeRow(group, subject, outcome, problems), kind: 'store' };
  const samples = (name) => outcome.results.find((r) => r.name === name)?.nsPerCall;
  row.compare = ratio(samples(subject.id), samples(group.compare));
  if (!(Number.isFinite(row.compare.median) && row.compare.median > 0)) {
    problems.push(`${subject.id}: ${row.compare.median} × ${group.compare}`);
  }
  if (subject.redis) {
    row.commands = outcome.redisCommands;
    const { scripts, all, timedCalls } = row.commands ?? {};
    if (!(Number.isInteger(scripts) && Number.isInteger(all) && timedCalls > 0)) {
      problems.push(`${subject.id}: no count of Redis commands (${JSON.stringify(row.commands)})`);
    } else if (scripts !== 0 || all !== 0) {
      problems.push(
        `${subject.id}: Redis served ${all} command(s) (${scripts} EVALSHA/EVAL) while the closed circuit was measured; its hot path must do no I/O`,
      );
    }
  }
  return row;
}

// The target, if any, is judged on the last row: the one over all transitions.
function stalenessRows(group, subject, outcome, problems) {
  return outcome.staleness.map((staleness, i, all) => {
    const figures = [staleness.p50, staleness.p99, staleness.max, staleness.endToEnd];
    if (!(staleness.transitions > 0) || !figures.every(Number.isFinite)) {
      problems.push(`${subject.id}: ${JSON.stringify(staleness)}`);
    }
    const judged = subject.targeted && group.target !== undefined && i === all.length - 1;
    const verdict = judged ? { value: staleness.p99, met: staleness.p99 <= group.target.p99Ms } : undefined;
    return { kind: 'staleness', subject, staleness, verdict };
  });
}

// Exactly one incident (one `unavailable`, one `restored`) and no turn longer than the target's.
function recoveryRow(group, subject, outcome, problems) {
  const r = outcome.recovery;
  const figures = [r.recoveryMs, r.pauseMaxTurnMs, r.maxTurnMs, r.p99TurnMs, r.pauseCpuMs, r.cpuMs, r.noiseMaxMs];
  if (!figures.every(Number.isFinite) || !Number.isInteger(r.scripts) || !Number.isInteger(r.commands)) {
    problems.push(`${subject.id}: ${JSON.stringify(r)}`);
  }
  // As tests/redis/redis-store-scale.test.ts judges it: beyond what the machine itself adds to a busy
  // process (the longest of the plain 1 ms turns measured right after).
  const longest = Math.max(r.pauseMaxTurnMs, r.maxTurnMs);
  const oneIncident = r.startupIncidents === 0 && r.unavailable === 1 && r.restored === 1;
  const verdict =
    subject.targeted && group.target !== undefined
      ? { value: longest, met: oneIncident && longest <= group.target.maxTurnMs + r.noiseMaxMs }
      : undefined;
  return { kind: 'recovery', subject, recovery: r, verdict };
}

function redisMemoryRows(subject, outcome, problems) {
  return outcome.redisMemory.map((m) => {
    const figures = [m.heapBytes, ...(m.keys === undefined ? [] : [m.keys, m.redisBytes])];
    if (!figures.every(Number.isFinite)) problems.push(`${subject.id}: ${JSON.stringify(m)}`);
    return { kind: 'redis-memory', subject, memory: m };
  });
}

function memoryRows(group, subject, outcome, problems) {
  return outcome.memory.map((m) => {
    if (!Number.isFinite(m.bytes) || !Number.isInteger(m.timers)) problems.push(`${subject.id}: ${JSON.stringify(m)}`);
    const verdict =
      subject.targeted && m.budgeted !== false
        ? { value: m.bytes, met: m.bytes <= group.target.bytes && m.timers === 0 }
        : undefined;
    return { kind: 'memory', subject, memory: m, verdict };
  });
}

function allocationRows(subject, outcome, problems) {
  return outcome.allocations.map(({ id, bytes }) => {
    if (!Number.isFinite(bytes)) problems.push(`${subject.id}/${id}: ${bytes}`);
    return { kind: 'allocation', subject: scenario(id), bytes };
  });
}

/** Where and with what the numbers were taken. */
export function environment() {
  const version = (name) => {
    try {
      return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return 'not installed';
    }
  };
  let redisServer = 'not installed';
  try {
    const banner = execFileSync('redis-server', ['--version'], { encoding: 'utf8' });
    redisServer = /\bv=(\S+)/.exec(banner)?.[1] ?? banner.trim();
  } catch {
    // not on PATH: the Redis scenarios were skipped
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], { cwd: root, encoding: 'utf8' });
    if (dirty.trim() !== '') commit += ' + uncommitted changes in packages/';
  } catch {
    // not a git checkout: leave it unknown
  }
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    machine: `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${type()} ${release()}`,
    node: `${process.version} (V8 ${process.versions.v8})`,
    libraries: {
      '@staunch/core': `${version('@staunch/core')} (${commit})`,
      '@staunch/decorators': version('@staunch/decorators'),
      '@staunch/redis': version('@staunch/redis'),
      ioredis: version('ioredis'),
      'redis-server': redisServer,
      cockatiel: version('cockatiel'),
      opossum: version('opossum'),
      'p-retry': version('p-retry'),
      'async-retry': version('async-retry'),
      typescript: version('typescript'),
    },
  };
}

const x = (value) => (value === undefined ? '' : `${value.toFixed(2)}x`);
const spread = (s) => (s === undefined ? '' : `${s.p25.toFixed(2)}–${s.p75.toFixed(2)}`);
const ns = (s) => (s.median >= 100 ? s.median.toFixed(0) : s.median.toFixed(1));
const µs = (ms) => `${Math.round(ms * 1000)}`;
const count = (n) => n.toLocaleString('en');
const msText = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const bytes = (n) => (n === undefined ? '' : String(Math.round(n)));
const verdictText = (verdict) => (verdict === undefined ? '' : verdict.met ? 'met' : 'MISSED');

const tables = {
  time: {
    header: ['library', 'scenario', 'ns/call', '× bare', 'IQR', '× reference', 'target metric (IQR)', 'target'],
    numeric: [2, 3, 4, 5, 6],
    cells: (row) => [
      row.subject.library,
      row.subject.title,
      ns(row.ns),
      x(row.bare?.median ?? 1),
      spread(row.bare),
      row.reference === undefined ? '' : `${x(row.reference.median)} ${row.subject.reference ?? row.subject.versus}`,
      row.metric === undefined ? '' : `${x(row.metric.median)} (${spread(row.metric)})`,
      verdictText(row.verdict),
    ],
  },
  store: {
    header: [
      'library',
      'scenario',
      'ns/call',
      '× bare',
      '× breaker (IQR)',
      '× memory store (IQR)',
      'Redis commands during the timed loop',
    ],
    numeric: [2, 3, 4, 5, 6],
    cells: (row) => [
      row.subject.library,
      row.subject.title,
      ns(row.ns),
      x(row.bare?.median ?? 1),
      `${x(row.reference.median)} (${spread(row.reference)})`,
      `${x(row.compare.median)} (${spread(row.compare)})`,
      row.commands === undefined ? '' : count(row.commands.all),
    ],
  },
  staleness: {
    header: [
      'library',
      'shared transition (made in A)',
      'transitions',
      'A → B p50 (µs)',
      'p99 (µs)',
      'max (µs)',
      'B heard first',
      "A's call → B p50 (µs)",
      'target',
    ],
    numeric: [2, 3, 4, 5, 6, 7],
    cells: ({ subject, staleness: s, verdict }) => [
      subject.library,
      s.title,
      String(s.transitions),
      µs(s.p50),
      µs(s.p99),
      µs(s.max),
      String(s.bFirst),
      µs(s.endToEnd),
      verdictText(verdict),
    ],
  },
  recovery: {
    header: [
      'library',
      'circuits',
      'unavailable / restored',
      'pause end → restored (ms)',
      'longest turn: pause / recovery (ms)',
      'p99 turn, recovery (ms)',
      'CPU of the costliest turn: pause / recovery (ms)',
      'plain 1 ms turns after: longest (ms)',
      'scripts run',
      'commands run',
      'target',
    ],
    numeric: [2, 3, 4, 5, 6, 7, 8, 9],
    cells: ({ subject, recovery: r, verdict }) => [
      subject.library,
      count(r.circuits),
      `${r.unavailable} / ${r.restored}${r.startupIncidents > 0 ? ` (+${r.startupIncidents} at startup)` : ''}`,
      msText(r.recoveryMs),
      `${msText(r.pauseMaxTurnMs)} / ${msText(r.maxTurnMs)}`,
      msText(r.p99TurnMs),
      `${msText(r.pauseCpuMs)} / ${msText(r.cpuMs)}`,
      msText(r.noiseMaxMs),
      count(r.scripts),
      count(r.commands),
      verdictText(verdict),
    ],
  },
  'redis-memory': {
    header: [
      'library',
      'circuits, and what they are at',
      'Redis keys/circuit',
      'Redis bytes/circuit',
      'heap bytes/circuit',
    ],
    numeric: [2, 3, 4],
    cells: ({ subject, memory: m }) => [
      subject.library,
      m.title,
      m.keys === undefined ? '' : String(m.keys),
      bytes(m.redisBytes),
      bytes(m.heapBytes),
    ],
  },
  memory: {
    header: ['library', 'circuit or policy', 'bytes each', 'timers per 1,000', 'target'],
    numeric: [2, 3],
    cells: (row) => [
      row.subject.library,
      row.memory.title,
      String(row.memory.bytes),
      String(row.memory.timers),
      verdictText(row.verdict),
    ],
  },
  allocation: {
    header: ['library', 'scenario', 'bytes/call beyond bare await'],
    numeric: [2],
    cells: (row) => [row.subject.library, row.subject.title, String(row.bytes)],
  },
};

const kindOf = (rows) => rows.find((r) => r.kind !== 'failed')?.kind ?? 'time';
const cellsOf = (kind, row) =>
  row.kind === 'failed'
    ? [
        row.subject.library,
        row.subject.title ?? row.subject.id,
        'FAILED',
        ...tables[kind].header.slice(3).map(() => ''),
      ]
    : tables[kind].cells(row);

/** The tables for the terminal: one per kind, groups as headed sections. `judged: false` hides verdicts. */
export function terminalTable(report, env, judged = true) {
  if (!judged)
    report = { ...report, groups: report.groups.map(({ group, rows }) => ({ group, rows: rows.map(unjudged) })) };
  const lines = [];
  for (const kind of ['time', 'store', 'staleness', 'recovery', 'redis-memory', 'memory', 'allocation']) {
    const sections = report.groups.filter(({ rows }) => kindOf(rows) === kind);
    if (sections.length === 0) continue;
    const { header, numeric } = tables[kind];
    const all = [header, ...sections.flatMap(({ rows }) => rows.map((row) => cellsOf(kind, row).map(plain)))];
    const widths = header.map((_, i) => Math.min(66, Math.max(...all.map((r) => r[i].length))));
    const format = (r) =>
      r.map((c, i) => (numeric.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
    lines.push(format(header).trimEnd());
    for (const { group, rows } of sections) {
      lines.push('');
      lines.push(plain(`${group.title}${group.target ? ` — target: ${group.target.text}` : ''}`));
      for (const row of rows) lines.push(format(cellsOf(kind, row).map(plain)).trimEnd());
    }
    if (kind === 'store') lines.push('', ...commandLines(sections));
    lines.push('');
  }
  lines.push(`Node ${env.node}; ${env.machine}`);
  return lines.join('\n');
}

// "Redis commands during the timed loop: 0 …", for each Redis-backed row of the store group.
function commandLines(sections) {
  return sections
    .flatMap(({ rows }) => rows)
    .filter((row) => row.commands !== undefined)
    .map(
      ({ commands: c }) =>
        `Redis commands during the timed loop: ${count(c.all)} (EVALSHA/EVAL: ${count(c.scripts)}), over ` +
        `${count(c.timedCalls)} timed calls; counted from before the first call (check, warm-up, calibration) ` +
        'to after the last round.',
    );
}

/** BENCHMARKS.md. */
export function markdown(report, env, seconds) {
  const out = [];
  out.push('# Benchmarks');
  out.push('');
  out.push(
    'Per-call overhead of staunch and of the libraries users would pick instead, measured in the same run. ' +
      '**Ratios are the result**: absolute nanoseconds on a shared machine are noise. Generated by ' +
      '`npm run bench`; do not edit by hand.',
  );
  out.push('');
  out.push(`- Date: ${env.date}`);
  out.push(`- Machine: ${env.machine} (shared with other work while measuring)`);
  out.push(`- Node: ${env.node}`);
  out.push(
    `- Libraries: ${Object.entries(env.libraries)
      .map(([name, v]) => `${name} ${v}`)
      .join(', ')}`,
  );
  out.push(`- Duration of the run: ${seconds.toFixed(0)} s`);
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push(
    'Ratios to a bare `await fn()` in the same process, unless the figure says otherwise; each target ' +
      'compares the figure named.',
  );
  out.push('');
  out.push('| target | staunch scenario | measured (IQR over rounds) | result |');
  out.push('|---|---|---|---|');
  for (const { group, rows } of report.groups) {
    for (const row of rows) {
      if (row.verdict === undefined) continue;
      let measured;
      let scenarioText = row.subject.title;
      if (row.kind === 'memory') {
        measured = `${row.memory.bytes} bytes, ${row.memory.timers} timers per 1,000 circuits`;
        scenarioText = row.memory.title;
      } else if (row.kind === 'staleness') {
        const s = row.staleness;
        measured = `p99 ${µs(s.p99)} µs (p50 ${µs(s.p50)} µs, max ${µs(s.max)} µs, ${count(s.transitions)} transitions)`;
      } else if (row.kind === 'recovery') {
        const r = row.recovery;
        measured =
          `${r.unavailable} unavailable + ${r.restored} restored, longest turn ` +
          `${msText(Math.max(r.pauseMaxTurnMs, r.maxTurnMs))} ms, ` +
          `restored ${msText(r.recoveryMs)} ms after the pause`;
        scenarioText = `${count(r.circuits)} circuits`;
      } else {
        const of = (row.subject.target ?? group.target).base
          ? 'bare await'
          : `of ${row.subject.reference ?? `${row.subject.versus}, × bare in its own processes`}`;
        measured = `${x(row.metric.median)} ${of} (${spread(row.metric)})`;
      }
      const text = (row.subject.target ?? group.target).text;
      out.push(`| ${text} | ${scenarioText} | ${measured} | ${row.verdict.met ? 'met' : '**missed**'} |`);
    }
  }
  out.push('');
  out.push('## Per-call time');
  out.push('');
  out.push(
    '`× bare`: median over rounds of (scenario time / bare-await time) in the same round and process; ' +
      '`IQR`: its 25th–75th percentiles. `× reference`: the same against the hand-written baseline named ' +
      '(`loop`: try/await retry loop, `breaker`: consecutive-failure breaker, `throw`: an async function ' +
      'throwing a prebuilt Error, `breaker1000`: 1,000 concurrent calls through the hand-written breaker). ' +
      "`target metric`: the figure the group's target is judged on, shown for peers too. `ns/call` is " +
      'indicative only.',
  );
  out.push('');
  for (const kind of ['time', 'allocation', 'memory', 'store', 'staleness', 'recovery', 'redis-memory']) {
    const sections = report.groups.filter(({ rows }) => kindOf(rows) === kind);
    if (sections.length === 0) continue;
    const { header, numeric } = tables[kind];
    if (kind === 'store') {
      // Titled so that its anchor is #redis-store (linked from packages/redis/README.md).
      out.push('## Redis store');
      out.push('');
      out.push(
        '`@staunch/redis`, the closed-circuit hot path: a breaker with the options of the breaker scenario above (`threshold: 5, ' +
          'resetTimeout: 10_000`, and a `name`), closed, calling `async () => 42`, with no store (it keeps its ' +
          'own snapshot), with `memoryCircuitStore()`, and with `redisStore(client)` against a redis-server ' +
          'started for the run (127.0.0.1, no persistence), its circuit synchronised (`store.ready()`) before ' +
          'anything is timed. The three run interleaved with the bare await and the hand-written breaker in the ' +
          'same processes and rounds, as above. `× breaker`: against the hand-written consecutive-failure ' +
          'breaker; `× memory store`: against the breaker over `memoryCircuitStore()`. Redis commands: the calls ' +
          'the server counted (`INFO commandstats`, the `INFO` readings themselves excepted) from just before the ' +
          'first call to just after the last round.',
      );
      out.push('');
    }
    if (kind === 'staleness') {
      // The last row is the one over all transitions.
      const all = sections
        .flatMap(({ rows }) => rows)
        .filter((row) => row.kind === 'staleness')
        .at(-1)?.staleness;
      out.push('### Staleness: how far behind another process learns of a shared transition');
      out.push('');
      out.push(
        'Two stores with their own ioredis connections and process ids (`quorum: 1`), A and B, in one process, ' +
          'share a circuit (`threshold: 1, resetTimeout: 20, halfOpenCalls: 1`); only A calls. A trips it with ' +
          'one failing call, and once the 20 ms are over takes the trial lease and closes it with a successful ' +
          'trial: three shared transitions per cycle, one at a time, ' +
          `${all === undefined ? '' : `${count(all.transitions)} `}measured after ${stalenessWarmUp} cycles of ` +
          "warm-up, on loopback. `A → B`: from A's " +
          "store emitting `change` (its script's reply or the pub/sub message, whichever came first) to B's " +
          "store emitting `change` for the same epoch. `A's call → B`: from the call in A that caused the " +
          'transition (the failure, the call that found the wait over, the trial) to B, i.e. with the round ' +
          'trip to Redis. `B heard first`: transitions B learned of before A (counted negative in A → B). ' +
          'A and B share one Node process: A → B is mostly the time it takes to handle one socket after the ' +
          "other; between hosts, add the network's one-way latency. The target is judged on the row over all " +
          'transitions.',
      );
      out.push('');
      out.push(
        'On the Cluster: the same, on a Redis Cluster started for the run (6 redis-servers with ' +
          '`--cluster-enabled yes` on free ports of 127.0.0.1, temp directories, joined by `redis-cli --cluster ' +
          'create … --cluster-replicas 1`: 3 masters, 3 replicas; stopped afterwards), each store with an ioredis ' +
          "`Cluster` client of its own. Transitions travel by sharded pub/sub: the circuit's scripts run on the " +
          "master that holds its slot, which `SPUBLISH`es them on the slot's channel, to which B's store has " +
          '`SSUBSCRIBE`d on that master; the stores also check their subscriptions (one `SPUBLISH` ping per node ' +
          'a second while circuits are called).',
      );
      out.push('');
    }
    if (kind === 'recovery') {
      out.push('### Recovery after an outage, with many circuits');
      out.push('');
      out.push(
        `One store (\`quorum: 2\`, the default \`commandTimeout\` of 200 ms) with 1,000, 10,000 or 20,000 ` +
          'circuits (`threshold: 5, resetTimeout: 60_000`, closed, synchronised by `store.ready()`), each size in ' +
          `a child process and against a redis-server of its own. \`CLIENT PAUSE ${pauseMs} ALL\` pauses the ` +
          'server; one failing call sends a failure report into the pause, whose reply comes after ' +
          '`commandTimeout`: an incident (`unavailable`). When the pause ends, the store re-reads every circuit, ' +
          'paced (batches of 100 in one pipelined write, the next when the last is answered), then emits ' +
          `\`restored\`. \`unavailable / restored\`: the events from the pause to ${(settleMs / 1000).toFixed(1)} s ` +
          'after `restored` (a probe interval and more, so that an incident the recovery started itself would ' +
          'show): exactly `1 / 1` is right. `pause end → restored`: from the reply to a `PING` sent on another ' +
          "connection right after `CLIENT PAUSE` (the pause's end, as this process sees it) to `restored`. " +
          'Turns: `monitorEventLoopDelay({ resolution: 1 })`, the gaps between two ticks of a 1 ms timer (the ' +
          'longest is the longest turn of the event loop), from just before the pause to its end (the incident ' +
          "starts in it: every circuit lets go of the shared state), and from the pause's end to `restored` (the " +
          're-reads). `plain 1 ms turns after`: the same ' +
          'measure right after, over as long a spell (0.5–2 s) of 1 ms turns of plain synchronous work: what the ' +
          'machine itself adds (a loaded CPU preempts the process). `scripts run`, `commands run`: what the server ' +
          'counted (`INFO commandstats`) from before the pause to `restored`, the commands scripts call included, ' +
          'the readings and the pause itself excepted (the failure report sent into the pause is one of the scripts). ' +
          '`CPU of the costliest turn`: the most process CPU time (`process.cpuUsage()`, user + system, all ' +
          'threads, so GC included) spent between two ticks of a 1 ms interval: what the heaviest turn costs, ' +
          'which load on a shared machine does not stretch as it stretches wall time. The target is judged on ' +
          'the incidents and the longest turn, beyond the longest plain turn, as ' +
          '`tests/redis/redis-store-scale.test.ts` judges it.',
      );
      out.push('');
    }
    if (kind === 'redis-memory') {
      const circuits = sections.flatMap(({ rows }) => rows).find((row) => row.kind === 'redis-memory')?.memory.circuits;
      out.push('### Memory per circuit, and its expiry');
      out.push('');
      out.push(
        `${circuits === undefined ? '' : `${count(circuits)} `}keyed circuits (\`threshold: ` +
          `${memoryCircuit.threshold}, resetTimeout: ${memoryCircuit.resetTimeout}\`, each its own \`name\`) over ` +
          `one store (\`quorum: ${memoryStore.quorum}, window: ${memoryStore.window}, idleTimeout: ` +
          `${memoryStore.idleTimeout}, leaseTimeout: ${memoryStore.leaseTimeout}\`: a short expiry, so that the run can wait for it; the default is a day) ` +
          'on a redis-server of its own, through their life: made and called once (closed, never failed, ' +
          'every circuit synchronised); one failure each (failing calls a slice of 500 circuits at a time, each ' +
          'slice flushed, so that the figure is memory, not a burst), reported; the window over; `idleTimeout` ' +
          "over; the breakers dropped, as a Scope's `maxKeys` evicts keyed breakers. Redis: keys (`DBSIZE`) and " +
          '`used_memory` (`INFO memory`) per circuit, as the difference from before the first circuit; keys past ' +
          'their time to live are reclaimed by a `SCAN` before reading (Redis would get to them within seconds, ' +
          'by sampling). Heap: `process.memoryUsage().heapUsed` after forced GCs (`--expose-gc`), per circuit, ' +
          'as the difference from before the first circuit, the breaker itself included; the same breakers ' +
          'without a store, in the same process, show what the store adds. Dropped breakers: the store holds ' +
          'replicas weakly, and a sample of 1 in 100 is checked to be collected; then as many more circuits are ' +
          'made, called once and dropped, to show that what stays does not grow with the circuits.',
      );
      out.push('');
    }
    if (kind === 'allocation') {
      out.push('## Allocation per call');
      out.push('');
      out.push(
        "Sampled with V8's heap profiler (objects already collected included) over 50,000 calls, minus a bare " +
          '`await fn()` sampled just before and after in the same process: what the wrapper allocates per call. ' +
          'Sampling makes these estimates (±~10 bytes).',
      );
      out.push('');
    }
    if (kind === 'memory') {
      out.push('## Idle circuits and policies');
      out.push('');
    }
    out.push(`| ${header.join(' | ')} |`);
    out.push(`|${header.map((_, i) => (numeric.includes(i) ? '---:' : '---')).join('|')}|`);
    for (const { group, rows } of sections) {
      const target = group.target ? `target: ${group.target.text}` : '';
      out.push(`| **${group.title}** | ${target} |${'|'.repeat(header.length - 2)}`);
      for (const row of rows)
        out.push(
          `| ${cellsOf(kind, row)
            .map((c) => c.replace(/\|/g, '\\|'))
            .join(' | ')} |`,
        );
    }
    out.push('');
    if (kind === 'store') {
      out.push(...commandLines(sections));
      out.push('');
    }
  }
  const notes = report.groups.flatMap(({ rows }) =>
    rows.filter((r) => r.note).map((r) => `- ${r.subject.id}: ${r.note}.`),
  );
  if (notes.length > 0) {
    out.push('Notes:');
    out.push('');
    out.push(...notes);
    out.push('');
  }
  out.push('## Method');
  out.push('');
  out.push(
    [
      '- Every scenario runs in its own child processes (`node --expose-gc`), so JIT state and heap of one',
      '  cannot disturb another. In it, the scenario, the bare-await baseline and (where there is one) its',
      '  hand-written reference each get their own compiled loop (`for (…) await op()`), so no call site turns',
      '  megamorphic.',
      '- Each variant is checked once (it must resolve with the expected value, or reject with the expected',
      '  error), warmed up (400 ms), and calibrated to ~25 ms per sample. After one forced GC, 11 rounds: each',
      '  round runs one sample of every variant, in a rotating order. Ratios are taken within a round. Each',
      '  timed scenario runs in 3 processes, in 3 passes over all scenarios (what the JIT decides differs a',
      '  little from process to process, and the passes spread the load of the shared machine over every',
      '  scenario alike); the median and quartiles are over the 33 rounds pooled. The last result of every',
      '  sample is checked again.',
      '  (No GC is forced between samples: right after a full GC V8 shrinks the young generation, and',
      '  allocating variants would then look several times slower than they are in a warm process.)',
      '- The wrapped function is `async () => 42`: the cheapest async call there is, so the ratios show the',
      '  whole overhead of a policy; with real I/O behind it the same overhead is a far smaller share. With an',
      '  attempt timeout, such a function settles before staunch would arm a timer, so the figure is that of',
      '  an attempt that does not wait; one that waits for I/O also pays one timer (~0.5 µs here).',
      '- Decorated scenarios: `benchmarks/decorated/staunch.ts` (type-checked with the repository) is compiled',
      '  by the installed TypeScript (`transpileModule`, target ES2022, i.e. the Stage-3 emit Node 20 runs)',
      "  into `node_modules/.cache/staunch-bench/`, and imports the built packages. cockatiel's `@usePolicy`",
      '  is a legacy decorator: its class is compiled with `experimentalDecorators`.',
      '- Peers are configured like staunch: 3 calls in all 100 ms apart (cockatiel `maxAttempts: 2`, p-retry',
      '  and async-retry `retries: 2`), a breaker opening after 5 consecutive failures, a 1,000 ms attempt',
      '  timeout. opossum is shown with its default 10 s timeout (a timer per call) and with `timeout: false`.',
      '- Idle circuits and policies: heap growth per object over 100,000 of them that each ran one successful',
      '  call, after forced GCs (staunch class/instance scope: `benchmarks/idle-circuit-memory.mjs`), read after',
      '  a macrotask: V8 keeps the target of every WeakRef made during a job (the registry of live policies makes',
      '  one per listed policy) until the job ends. Timers: those still alive after 1,000 were made and called',
      "  once, counted with an async hook so that unref'd timers count too (`process.getActiveResourcesInfo()`",
      "  lists only ref'd ones).",
      '- `@staunch/redis` scenarios: each process starts a redis-server of its own (`--save "" --appendonly no`,',
      '  a free port on 127.0.0.1, a temp directory; stopped afterwards; the Cluster scenario six of them,',
      '  joined by `redis-cli`) and connects with ioredis. The',
      "  store's circuit is read locally on every call, so the hot path's only contact with Redis would be a",
      '  bug: a run in which the server counted any command during the measurement is reported invalid.',
      '- The machine is shared: with the same code, a ratio moves by a few percent between runs. A target',
      '  within a few percent of its limit is met or missed by noise; the IQR column says how tight a figure is.',
    ].join('\n'),
  );
  out.push('');
  out.push('## Reproduce');
  out.push('');
  out.push('```sh');
  out.push('npm ci');
  out.push('npm run build');
  out.push('npm run bench              # full run (~9 min), rewrites BENCHMARKS.md');
  out.push('npm run bench -- --quick   # CI: every scenario runs and is checked, no speed assertions');
  out.push('npm run bench -- --only=retry,breaker-fn   # some groups or scenarios (nothing written)');
  out.push('npm run bench -- --only=store,staleness    # @staunch/redis: hot path, staleness (need redis-server)');
  out.push(
    'npm run bench -- --only=staleness-cluster,recovery,redis-memory   # Cluster (redis-cli too), recovery, memory',
  );
  out.push('```');
  out.push('');
  return out.join('\n');
}

function unjudged(row) {
  return row.verdict === undefined ? row : { ...row, verdict: undefined };
}

// Markdown code spans read better in the terminal without backticks.
function plain(cell) {
  return cell.replace(/`/g, '');
}
