// Turns the children's results into rows (medians and spreads of per-round ratios, idle-circuit
// memory, allocation per call), judges the targets, and renders the terminal tables and
// BENCHMARKS.md.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ratio, summarise } from './measure.mjs';
import { groups, scenario } from './scenarios.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Rows per group (kind 'time', 'memory' or 'allocation'), target verdicts, and insane numbers. */
export function evaluate(selected, outcomes) {
  const problems = [];
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  const report = { groups: [], problems };
  for (const group of groups) {
    const rows = [];
    for (const subject of selected.filter((s) => s.group === group.id)) {
      const outcome = byId.get(subject.id);
      if (outcome === undefined || outcome.error !== undefined) rows.push({ kind: 'failed', subject });
      else if (outcome.allocations !== undefined) rows.push(...allocationRows(subject, outcome, problems));
      else if (outcome.memory !== undefined) rows.push(...memoryRows(group, subject, outcome, problems));
      else rows.push(timeRow(group, subject, outcome, problems));
    }
    if (rows.length > 0) report.groups.push({ group, rows });
  }
  return report;
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
  const target = group.target;
  if (target !== undefined) {
    const measured = target.base ? bare : reference;
    if (measured !== undefined) {
      row.metric = measured;
      if (subject.targeted) row.verdict = { value: measured.median, met: measured.median <= target.max };
    }
  }
  return row;
}

function memoryRows(group, subject, outcome, problems) {
  return outcome.memory.map((m) => {
    if (!Number.isFinite(m.bytes) || !Number.isInteger(m.timers)) problems.push(`${subject.id}: ${JSON.stringify(m)}`);
    const verdict = subject.targeted
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
      row.reference === undefined ? '' : `${x(row.reference.median)} ${row.subject.reference}`,
      row.metric === undefined ? '' : `${x(row.metric.median)} (${spread(row.metric)})`,
      verdictText(row.verdict),
    ],
  },
  memory: {
    header: ['library', 'circuit', 'bytes/circuit', 'timers per 1,000 circuits', 'target'],
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
  for (const kind of ['time', 'memory', 'allocation']) {
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
    lines.push('');
  }
  lines.push(`Node ${env.node}; ${env.machine}`);
  return lines.join('\n');
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
  out.push('Ratios to a bare `await fn()` in the same process; each target compares the figure named.');
  out.push('');
  out.push('| target | staunch scenario | measured (IQR over rounds) | result |');
  out.push('|---|---|---|---|');
  for (const { group, rows } of report.groups) {
    for (const row of rows) {
      if (row.verdict === undefined) continue;
      let measured;
      if (row.kind === 'memory') measured = `${row.memory.bytes} bytes, ${row.memory.timers} timers per 1,000 circuits`;
      else {
        const of = group.target.base ? 'bare await' : `of ${row.subject.reference}`;
        measured = `${x(row.metric.median)} ${of} (${spread(row.metric)})`;
      }
      const scenarioText = row.kind === 'memory' ? row.memory.title : row.subject.title;
      out.push(`| ${group.target.text} | ${scenarioText} | ${measured} | ${row.verdict.met ? 'met' : '**missed**'} |`);
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
  for (const kind of ['time', 'allocation', 'memory']) {
    const sections = report.groups.filter(({ rows }) => kindOf(rows) === kind);
    if (sections.length === 0) continue;
    const { header, numeric } = tables[kind];
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
      out.push('## Idle circuits');
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
      '- Idle circuits: heap growth per circuit over 100,000 circuits that each ran one successful call, after',
      '  forced GCs (staunch class/instance scope: `benchmarks/idle-circuit-memory.mjs`). Timers: those still',
      "  alive after 1,000 circuits were made and called once, counted with an async hook so that unref'd",
      "  timers count too (`process.getActiveResourcesInfo()` lists only ref'd ones).",
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
  out.push('npm run bench              # full run (~5 min), rewrites BENCHMARKS.md');
  out.push('npm run bench -- --quick   # CI: every scenario runs and is checked, no speed assertions');
  out.push('npm run bench -- --only=retry,breaker-fn   # some groups or scenarios (nothing written)');
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
