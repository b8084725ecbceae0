/**
 * The live timeline the demo prints: every attempt, wait, timeout and circuit state change of a
 * scenario, stamped with the clock the policies run on (so in tests, on a virtual clock, the
 * timestamps are exact). Entries are plain data; `renderEntry` turns one into a terminal line.
 */
import {
  getDefaultClock,
  isAttemptTimeoutError,
  isBulkheadRejectedError,
  isCallTimeoutError,
  isCircuitOpenError,
  type AttemptPolicyEvents,
  type BulkheadEvents,
  type CircuitBreakerEvents,
  type FallbackPolicyEvents,
  type Listener,
  type Unsubscribe,
} from '@staunch/decorators';

/** What a timeline entry is about; decides its symbol and colour. */
export type Mark =
  | 'step'
  | 'note'
  | 'server'
  | 'ok'
  | 'fail'
  | 'retry'
  | 'timeout'
  | 'poll'
  | 'fast-fail'
  | 'queued'
  | 'fallback'
  | 'open'
  | 'half-open'
  | 'closed';

/** One line of the timeline: `at` is milliseconds since the scenario started, on its clock. */
export interface TimelineEntry {
  readonly at: number;
  readonly mark: Mark;
  readonly text: string;
}

/** What a scenario did, for the demo's summary table. */
export interface Tally {
  /** Calls the scenario made (each may run several attempts). */
  calls: number;
  successes: number;
  failures: number;
  /** Waits before another attempt (retry, backoff, poll). */
  retries: number;
  /** Attempt timeouts and deadlines. */
  timeouts: number;
  /** Calls turned away without running: by an open circuit, or by a full or slow bulkhead. */
  fastFailures: number;
  /** Circuit state changes. */
  transitions: number;
}

/** Anything with staunch's `on(type, listener)`: attempt policies and circuits. */
interface Observable<Events> {
  on<K extends keyof Events>(type: K, listener: Listener<Events[K]>): Unsubscribe;
}

/** Collects a scenario's entries and counts, and hands each entry to `print` as it happens. */
export class Timeline {
  readonly entries: TimelineEntry[] = [];
  readonly tally: Tally = {
    calls: 0,
    successes: 0,
    failures: 0,
    retries: 0,
    timeouts: 0,
    fastFailures: 0,
    transitions: 0,
  };
  /** Why the scenario did not run, when it skipped itself (something it needs is not installed). */
  skipped: string | undefined;
  readonly #start = getDefaultClock().now();
  readonly #print: ((entry: TimelineEntry) => void) | undefined;
  readonly #unsubscribe: Unsubscribe[] = [];

  constructor(print?: (entry: TimelineEntry) => void) {
    this.#print = print;
  }

  /** Adds an entry, stamped now. */
  add(mark: Mark, text: string): void {
    const entry = { at: Math.round(getDefaultClock().now() - this.#start), mark, text };
    this.entries.push(entry);
    this.#print?.(entry);
  }

  /** The scenario cannot run here: says why (a `note`), and the demo reports it skipped, not failed. */
  skip(reason: string): void {
    this.skipped = reason;
    this.add('note', reason);
  }

  /** Adds an entry made elsewhere (another process), keeping its timestamp. */
  record(entry: TimelineEntry): void {
    this.entries.push(entry);
    this.#print?.(entry);
  }

  /** The texts of the entries, for assertions: `step` entries are prefixed with `## `. */
  get lines(): string[] {
    return this.entries.map((e) => (e.mark === 'step' ? `## ${e.text}` : e.text));
  }

  /**
   * Runs one call of the scenario and records how it ended. Never throws: a failure is part of
   * the story (the error is returned for the scenario to inspect).
   */
  async call<T>(label: string, run: () => Promise<T>, show: (value: T) => string = String): Promise<Outcome<T>> {
    this.tally.calls++;
    this.add('note', label);
    try {
      const value = await run();
      this.tally.successes++;
      this.add('ok', `${label} → ${show(value)}`);
      return { ok: true, value };
    } catch (error) {
      if (isCircuitOpenError(error)) {
        this.tally.fastFailures++;
        this.add(
          'fast-fail',
          `${label} → CircuitOpenError: circuit "${error.circuit}" is open, retry after ${Math.ceil(error.retryAfter)} ms`,
        );
      } else {
        this.tally.failures++;
        this.add('fail', `${label} → failed: ${describeError(error)}`);
      }
      return { ok: false, error };
    }
  }

  /** Logs the waits, timeouts and polls of an attempt policy (`policyOf(Class, 'method', kind)`). */
  watchPolicy(policy: Observable<AttemptPolicyEvents>, name: string): void {
    this.#unsubscribe.push(
      policy.on('retry', (event) => {
        this.tally.retries++;
        if (event.failed) {
          this.add(
            'retry',
            `${name}: attempt ${event.attempt} failed (${describeError(event.error)}), next in ${Math.round(event.delay)} ms`,
          );
        } else {
          this.add(
            'poll',
            `${name}: not yet (${describeValue(event.value)}), next poll in ${Math.round(event.delay)} ms`,
          );
        }
      }),
      policy.on('timeout', (event) => {
        this.tally.timeouts++;
        this.add(
          'timeout',
          `${name}: no answer within ${event.error.timeout} ms, attempt abandoned (its signal aborted)`,
        );
      }),
    );
  }

  /** Logs a circuit's state changes (`circuitOf(instance, 'method')`). */
  watchCircuit(circuit: Observable<CircuitBreakerEvents>, name: string): void {
    this.#unsubscribe.push(
      circuit.on('stateChange', ({ from, to, reason }) => {
        this.tally.transitions++;
        this.add(to, `circuit ${name}: ${from} → ${to} (${reasons[reason]})`);
      }),
    );
  }

  /** Logs a bulkhead's queueing and rejections (`policyOf(target, 'method', 'bulkhead')`). */
  watchBulkhead(bulkhead: Observable<BulkheadEvents>, name: string): void {
    this.#unsubscribe.push(
      bulkhead.on('queued', ({ queued }) => {
        this.add('queued', `${name}: every slot busy, waits in the queue (${queued} waiting)`);
      }),
      bulkhead.on('rejected', ({ reason, error }) => {
        this.tally.fastFailures++;
        this.add(
          'fast-fail',
          reason === 'full'
            ? `${name}: bulkhead full (${error.limit} running, ${error.queue} waiting), rejected without running`
            : `${name}: no slot within maxWait, rejected without running`,
        );
      }),
    );
  }

  /** Logs the errors a fallback answers (`policyOf(target, 'method', 'fallback')`). */
  watchFallback(policy: Observable<FallbackPolicyEvents>, name: string): void {
    this.#unsubscribe.push(
      policy.on('fallback', ({ error }) => {
        this.add('fallback', `${name}: ${describeError(error)}, the fallback answers`);
      }),
    );
  }

  /** Stops every listener added by `watch…`. */
  close(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
  }
}

/** How a call of {@link Timeline.call} ended. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

const reasons = {
  failures: 'too many failures',
  resetTimeout: 'resetTimeout passed: one trial call may go through',
  trialFailed: 'the trial call failed',
  trialFailureRate: 'the trial calls failed at halfOpenFailureRate or more',
  trialsSucceeded: 'the trial call succeeded',
  isolate: 'isolated by hand',
  released: 'its last isolation released',
  reset: 'reset by hand',
  shared: "held or released by the fleet's shared circuit",
} as const;

/** A short description of an error: its `summary` if it has one, its SQLSTATE and message for a database error, else its message. */
export function describeError(error: unknown): string {
  if (isAttemptTimeoutError(error)) return `timed out after ${error.timeout} ms`;
  if (isCallTimeoutError(error)) return `CallTimeoutError after ${error.timeout} ms`;
  if (isBulkheadRejectedError(error)) return `BulkheadRejectedError (${error.reason})`;
  if (typeof error === 'object' && error !== null) {
    const { summary, message, code } = error as { summary?: unknown; message?: unknown; code?: unknown };
    if (typeof summary === 'string') return summary;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return `SQLSTATE ${code}: ${String(message)}`;
    if (typeof message === 'string') return message;
  }
  return String(error);
}

function describeValue(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'summary' in value && typeof value.summary === 'string') {
    return value.summary;
  }
  return JSON.stringify(value);
}

const symbols: Record<Mark, string> = {
  step: '▶',
  note: '→',
  server: '⇄',
  ok: '✔',
  fail: '✘',
  retry: '↻',
  timeout: '⏱',
  poll: '…',
  'fast-fail': '⚡',
  queued: '⧗',
  fallback: '↩',
  open: '◉',
  'half-open': '◐',
  closed: '○',
};

const colours: Record<Mark, string> = {
  step: '1;36',
  note: '0',
  server: '2',
  ok: '32',
  fail: '31',
  retry: '33',
  timeout: '35',
  poll: '34',
  'fast-fail': '35',
  queued: '34',
  fallback: '36',
  open: '1;31',
  'half-open': '1;33',
  closed: '1;32',
};

/** One terminal line for `entry`; ANSI colour only when `colour` is true. */
export function renderEntry(entry: TimelineEntry, colour: boolean): string {
  const paint = (code: string, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  if (entry.mark === 'step') return `\n${paint(colours.step, `${symbols.step} ${entry.text}`)}`;
  const time = paint('2', `${(entry.at / 1000).toFixed(3).padStart(7)}s`);
  return `${time}  ${paint(colours[entry.mark], `${symbols[entry.mark]} ${entry.text}`)}`;
}

/** Colour on a terminal, unless NO_COLOR is set to anything non-empty (https://no-color.org). */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}
