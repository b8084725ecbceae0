/**
 * `npm start`: builds the packages, then tells the examples' stories with a live timeline of
 * attempts, waits, timeouts and circuit state changes, and ends with a summary table. The
 * examples import `@staunch/core` / `@staunch/decorators` / `@staunch/redis` like any user (ts-node
 * compiles them).
 *
 *   npm start                          every scenario, in order
 *   npm start -- api-client repository the ones named
 *   npm start -- --help                the list
 *
 * Colour only on a terminal, and never with NO_COLOR set. Exit code 0 when every story ended as
 * told (or skipped itself: shared-circuit without redis-server), 1 when one did not, 2 for a usage error.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { apiClientScenario, exportJobScenario } from './api-client/scenario';
import type { NestAppMessage } from './nest-app/message';
import { quickStart } from './quick-start';
import { repositoryScenario } from './repository/scenario';
import { overloadScenario } from './overload/scenario';
import { retryStormScenario } from './retry-storm/scenario';
import { sharedCircuitScenario } from './shared-circuit/scenario';
import { Timeline, renderEntry, wantsColour, type Mark, type Tally } from './support/timeline';

interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly about: string;
  readonly run: (timeline: Timeline) => Promise<void>;
}

const scenarios: readonly Scenario[] = [
  {
    name: 'quick-start',
    title: 'Quick start: retry() around a flaky function',
    about: 'the functional API in five lines: three calls, 50 ms apart, the last error unchanged',
    run: (timeline) => quickStart((line) => timeline.add(quickStartMark(line, timeline.tally), line.trim())),
  },
  {
    name: 'api-client',
    title: 'API client: @Retry > @CircuitBreaker > @AsyncBackoff against a real HTTP server',
    about: 'retries on 5xx and resets, an attempt timeout, an outage that opens the circuit, the trial, the recovery',
    run: (timeline) => apiClientScenario(timeline).then(() => undefined),
  },
  {
    name: 'export-job',
    title: 'Export job: an idempotent POST with @AsyncBackoff, then @Poll until done',
    about: 'a retried POST with an idempotency key, then polling a job every 250 ms',
    run: (timeline) => exportJobScenario(timeline),
  },
  {
    name: 'overload',
    title: 'Overloaded upstream: @Fallback > @Bulkhead > @Timeout against a slow real HTTP server',
    about:
      'a burst queued and turned away, calls timed out and aborted, a queued call past maxWait, all answered from cache',
    run: (timeline) => overloadScenario(timeline),
  },
  {
    name: 'retry-storm',
    title: 'Retry storm: @Retry with and without a retry budget, then @Hedge, against a real HTTP server',
    about: 'a failing dependency sent 3x its calls without a budget, ≤ 1.2x + floor with one; a slow tail hedged',
    run: (timeline) => retryStormScenario(timeline),
  },
  {
    name: 'repository',
    title: 'Repository: @AsyncRetry on transient SQLSTATEs, @Poll for a row (PGlite, or DATABASE_URL)',
    about: 'serialization failure, deadlock, dropped connection retried; a constraint violation not; an order polled',
    run: (timeline) => repositoryScenario(timeline),
  },
  {
    name: 'shared-circuit',
    title: 'Shared circuit: one @CircuitBreaker across three worker processes, through Redis (@staunch/redis)',
    about: 'needs redis-server: two workers fail, all three fail fast; one trial lease, the fleet closes again',
    run: (timeline) => sharedCircuitScenario(timeline),
  },
  {
    name: 'nest-app',
    title: 'NestJS app: @Retry > @CircuitBreaker > @Timeout behind real routes, with @staunch/nestjs',
    about:
      'real HTTP to a Nest app over a flaky upstream: retries, an outage answered 503 + Retry-After, health down and up',
    run: runNestApp,
  },
];

/** quick-start.ts logs plain lines (it is the smallest example); give them marks and counts. */
function quickStartMark(line: string, tally: Tally): Mark {
  if (line.includes('failed:')) return (tally.retries++, 'retry');
  if (line.includes('result:')) return (tally.calls++, tally.successes++, 'ok');
  if (line.includes('gave up:')) return (tally.calls++, tally.failures++, 'fail');
  return line.startsWith('  call') ? 'server' : 'note';
}

interface Result {
  readonly scenario: Scenario;
  readonly tally: Tally;
  readonly ms: number;
  readonly error?: unknown;
  /** Why it skipped itself (something it needs is not installed). */
  readonly skipped?: string | undefined;
}

async function main(args: readonly string[]): Promise<number> {
  const colour = wantsColour(process.stdout, process.env);
  const paint = (code: string, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(help());
    return 0;
  }
  const unknown = args.filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length > 0) {
    console.error(`Unknown scenario: ${unknown.join(', ')}\n\n${help()}`);
    return 2;
  }
  const chosen = args.length === 0 ? scenarios : scenarios.filter((s) => args.includes(s.name));
  console.log(paint('1', 'staunch: resilient methods, told as a timeline'));
  console.log(
    paint(
      '2',
      'Seconds since each scenario began.  ↻ retry  … poll  ⏱ timeout  ◉ open  ◐ half-open  ○ closed  ⚡ rejected  ⧗ queued  ↩ fallback',
    ),
  );

  const results: Result[] = [];
  for (const scenario of chosen) {
    console.log(`\n${paint('1;4', `${scenario.name}: ${scenario.title}`)}`);
    const timeline = new Timeline((entry) => {
      console.log(renderEntry(entry, colour));
    });
    const started = performance.now();
    try {
      await scenario.run(timeline);
      results.push({ scenario, tally: timeline.tally, ms: performance.now() - started, skipped: timeline.skipped });
    } catch (error) {
      console.error(paint('31', `\n${scenario.name} did not end as told: ${String(error)}`));
      results.push({ scenario, tally: timeline.tally, ms: performance.now() - started, error });
    }
  }
  console.log(`\n${summary(results, paint)}`);
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

function help(): string {
  const width = Math.max(...scenarios.map((s) => s.name.length));
  return [
    'Usage: npm start [-- <scenario>…]   (no scenario: all of them, in this order)',
    '',
    'Scenarios:',
    ...scenarios.map((s) => `  ${s.name.padEnd(width)}  ${s.title}\n  ${' '.repeat(width)}  ${s.about}`),
    '',
    'Environment:',
    '  DATABASE_URL  run the repository scenario on this PostgreSQL server instead of PGlite (use a scratch database)',
    '  NO_COLOR      plain text even on a terminal',
  ].join('\n');
}

function summary(results: readonly Result[], paint: (code: string, text: string) => string): string {
  const header = ['scenario', 'result', 'calls', 'ok', 'failed', 'retries', 'timeouts', 'rejected', 'circuit', 'time'];
  const rows = results.map(({ scenario, tally, ms, error, skipped }) => [
    scenario.name,
    error !== undefined ? 'FAILED' : skipped !== undefined ? 'skipped' : 'as told',
    String(tally.calls),
    String(tally.successes),
    String(tally.failures),
    String(tally.retries),
    String(tally.timeouts),
    String(tally.fastFailures),
    String(tally.transitions),
    `${(ms / 1000).toFixed(1)} s`,
  ]);
  const total = results.reduce((sum, r) => sum + r.ms, 0);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  const rule = widths.map((w) => '─'.repeat(w)).join('──');
  return [
    paint('1', line(header)),
    rule,
    ...rows.map((row) => paint(row[1] === 'as told' ? '32' : row[1] === 'skipped' ? '33' : '31', line(row))),
    rule,
    `${results.length} scenario${results.length === 1 ? '' : 's'} in ${(total / 1000).toFixed(1)} s.` +
      ' rejected = calls turned away without running (open circuit, full bulkhead); circuit = state changes.',
  ].join('\n');
}

/**
 * The Nest example is compiled with experimentalDecorators, and ts-node compiles one process with
 * one tsconfig: it runs in a child process and sends its timeline over IPC.
 */
function runNestApp(timeline: Timeline): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'nest-app', 'main.ts'), [], {
      execArgv: ['-r', 'ts-node/register'],
      env: {
        ...process.env,
        TS_NODE_PROJECT: join(__dirname, '..', 'tsconfig.legacy.json'),
        TS_NODE_TRANSPILE_ONLY: 'true',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let failure: string | undefined;
    child.on('message', (message: NestAppMessage) => {
      if ('entry' in message) timeline.record(message.entry);
      else if ('tally' in message) Object.assign(timeline.tally, message.tally);
      else failure = message.error;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && failure === undefined) resolve();
      else reject(new Error(failure ?? `the nest-app process exited with code ${String(code)}`));
    });
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
