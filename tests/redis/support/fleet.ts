/**
 * A fleet of Node processes for multi-process tests: each runs ./fleet-worker.cjs, which loads the
 * TypeScript sources without a build and the setup module the test names; the test then calls the
 * handlers that module returned, in any worker, over IPC.
 *
 *   // tests/redis/support/my-setup.ts
 *   const setup: FleetSetup = async ({ index }) => ({ hello: async (name: string) => `${name} from ${index}` });
 *   export default setup;
 *
 *   const fleet = await startFleet(3, join(__dirname, 'support/my-setup.ts'), { REDIS_URL: server.url });
 *   await fleet.workers[0]!.call('hello', 'ada'); // 'ada from 0'
 *   await fleet.stop();
 *
 * Values cross the process boundary by structured clone (`serialization: 'advanced'`): no
 * functions or class instances, but Map, Set, Date, BigInt, undefined and plain errors are fine.
 * Worker output goes to this process's stderr, each line prefixed with `[worker <index>]`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import type { Readable } from 'node:stream';

/** What a setup module's default export is given. */
export interface FleetContext {
  /** This worker's position in `fleet.workers`, from 0. */
  readonly index: number;
  /** How many workers the fleet has. */
  readonly count: number;
  /** The worker's environment: this process's, plus the `env` given to `startFleet`. */
  readonly env: NodeJS.ProcessEnv;
}

/** The functions a worker answers calls with; `close`, if given, runs when the fleet stops. */
export type FleetHandlers = Readonly<Record<string, (...args: never[]) => unknown>>;

/** The default export of a setup module. */
export type FleetSetup = (context: FleetContext) => FleetHandlers | Promise<FleetHandlers>;

/** One process of the fleet. */
export interface Worker {
  readonly index: number;
  readonly pid: number;
  /** Milliseconds from fork until its setup module had returned its handlers. */
  readonly readyMs: number;
  /** Whether the process has exited. */
  readonly exited: boolean;
  /** Runs handler `method` in the worker; rejects with its error (or when the worker exits first). */
  call(method: string, ...args: unknown[]): Promise<unknown>;
  /** Sends `signal` (SIGTERM by default) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface Fleet {
  readonly workers: readonly Worker[];
  /** Runs each live worker's `close` handler, waits for it to exit (SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

const workerScript = join(__dirname, 'fleet-worker.cjs');
const readyTimeoutMs = 60_000;
const stopTimeoutMs = 5_000;

// Workers still running, killed when this process exits (workers also exit when their IPC
// channel closes). The exit listener is only registered while there are some.
const running = new Set<ChildProcess>();
const killRunning = (): void => {
  for (const child of running) child.kill('SIGKILL');
};

function track(child: ChildProcess): void {
  if (running.size === 0) process.on('exit', killRunning);
  running.add(child);
}

function untrack(child: ChildProcess): void {
  if (running.delete(child) && running.size === 0) process.off('exit', killRunning);
}

/** Copies a stream to this process's stderr line by line, each line prefixed. */
function prefixLines(stream: Readable | null, prefix: string): void {
  if (stream === null) return;
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) process.stderr.write(`${prefix}${line}\n`);
  });
  stream.on('end', () => {
    if (partial !== '') process.stderr.write(`${prefix}${partial}\n`);
    partial = '';
  });
}

type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };
type Ready = { readonly ready: true } | { readonly ready: false; readonly error: string };

const isReady = (message: unknown): message is Ready =>
  typeof message === 'object' && message !== null && 'ready' in message;
const isReply = (message: unknown): message is Reply =>
  typeof message === 'object' && message !== null && 'id' in message && 'ok' in message;

interface Pending {
  readonly method: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

class FleetWorker implements Worker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  readonly #closed: Promise<void>;
  readonly #ready: Promise<void>;
  readonly #failReady: (error: Error) => void;
  #nextId = 1;
  #exited = false;
  #exitReason = '';
  #readyMs = Number.NaN;

  constructor(
    readonly index: number,
    count: number,
    setupModule: string,
    env: Readonly<Record<string, string>>,
  ) {
    let readyResolve!: () => void;
    let readyReject!: (error: Error) => void;
    this.#ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.#failReady = readyReject;

    const started = performance.now();
    this.#child = fork(workerScript, [setupModule, String(index), String(count)], {
      env: { ...process.env, ...env },
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    track(this.#child);
    prefixLines(this.#child.stdout, `[worker ${index}] `);
    prefixLines(this.#child.stderr, `[worker ${index}] `);

    this.#closed = new Promise((resolve) => {
      this.#child.once('close', (code, signal) => {
        this.#exited = true;
        this.#exitReason = signal === null ? `exit code ${code ?? '?'}` : signal;
        untrack(this.#child);
        const error = new Error(`worker ${index} exited (${this.#exitReason})`);
        for (const pending of this.#pending.values()) {
          pending.reject(new Error(`worker ${index} exited (${this.#exitReason}) while running ${pending.method}`));
        }
        this.#pending.clear();
        readyReject(error);
        resolve();
      });
    });
    this.#child.on('error', (error) => {
      readyReject(new Error(`worker ${index}: ${error.message}`));
    });
    this.#child.on('message', (message: unknown) => {
      if (isReady(message)) {
        if (message.ready) {
          this.#readyMs = performance.now() - started;
          readyResolve();
        } else {
          readyReject(new Error(`worker ${index}: setup failed: ${message.error}`));
        }
        return;
      }
      if (!isReply(message)) return;
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      if (message.ok) pending.resolve(message.value);
      else pending.reject(new Error(`worker ${index}: ${pending.method} failed: ${message.error}`));
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get readyMs(): number {
    return this.#readyMs;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Resolves when the setup module has returned its handlers; rejects if it failed or took 60 s. */
  async ready(): Promise<void> {
    const timer = setTimeout(() => {
      this.#failReady(new Error(`worker ${this.index} was not ready after ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    try {
      await this.#ready;
    } finally {
      clearTimeout(timer);
    }
  }

  call(method: string, ...args: unknown[]): Promise<unknown> {
    if (this.#exited || !this.#child.connected) {
      return Promise.reject(new Error(`worker ${this.index} has exited (${this.#exitReason || 'disconnected'})`));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { method, resolve, reject });
      this.#child.send({ id, method, args }, (error) => {
        if (error === null) return;
        this.#pending.delete(id);
        reject(new Error(`worker ${this.index}: could not send ${method}: ${error.message}`));
      });
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.#exited) this.#child.kill(signal);
    await this.#closed;
  }

  /** Asks the worker to run `close` and exit; SIGKILL if it has not exited after 5 s. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), stopTimeoutMs);
    try {
      if (this.#child.connected) this.#child.send({ stop: true });
      else this.#child.kill('SIGTERM');
      await this.#closed;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Forks `count` workers that each load `setupModule` (a path to a TypeScript file whose default
 * export is a {@link FleetSetup}) with `env` added to their environment, and waits until every
 * one is ready. If one fails, the others are stopped and the error is thrown.
 */
export async function startFleet(
  count: number,
  setupModule: string,
  env: Readonly<Record<string, string>> = {},
): Promise<Fleet> {
  const module = resolve(setupModule);
  const workers = Array.from({ length: count }, (_, index) => new FleetWorker(index, count, module, env));
  let stopped: Promise<void> | undefined;
  const fleet: Fleet = {
    workers,
    stop() {
      stopped ??= Promise.all(workers.map((worker) => worker.stop())).then(() => undefined);
      return stopped;
    },
  };
  const results = await Promise.allSettled(workers.map((worker) => worker.ready()));
  const failed = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
  if (failed.length > 0) {
    await fleet.stop();
    throw new Error(`the fleet did not start:\n${failed.map((error) => error.message).join('\n')}`);
  }
  return fleet;
}
