/**
 * The checkout fleet, from the demo's side: forks ./worker.ts once per worker (each a Node
 * process with its own Redis connection, store and `Checkout`), asks workers to charge orders
 * over IPC, and relays what each worker's circuit and store report. A worker still running when
 * this process exits is killed; a worker whose parent is gone exits by itself.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  CircuitOpenError,
  Events,
  type CircuitBreakerEvents,
  type CircuitChangeReason,
  type CircuitState,
} from '@staunch/decorators';

/** The shared circuit's state, as a worker's store reports it (`change` events). */
export type SharedState = 'closed' | 'open' | 'half-open';

/** What the demo sends a worker. */
export type ToWorker =
  { readonly type: 'charge'; readonly id: number; readonly orderId: string } | { readonly type: 'stop' };

/** How a charge failed, across the process boundary (errors do not keep their class over IPC). */
export type ChargeFailure =
  | { readonly kind: 'circuit-open'; readonly circuit: string; readonly retryAfter: number }
  | { readonly kind: 'failed'; readonly summary: string };

/** What a worker sends the demo. */
export type FromWorker =
  | { readonly type: 'ready'; readonly processId: string }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly receipt: string }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly error: ChargeFailure }
  | {
      readonly type: 'circuit';
      readonly from: CircuitState;
      readonly to: CircuitState;
      readonly reason: CircuitChangeReason;
    }
  | { readonly type: 'store'; readonly state: SharedState; readonly epoch: number; readonly holder: string }
  | { readonly type: 'unavailable'; readonly error: string };

/** A shared transition one worker's store learned of; `holder` is the lease holder's worker name, or ''. */
export interface SharedChange {
  readonly worker: string;
  readonly state: SharedState;
  readonly epoch: number;
  readonly holder: string;
}

/** A charge that failed in the worker (not a CircuitOpenError): its summary, e.g. `HTTP 503`. */
export class ChargeError extends Error {
  override readonly name = 'ChargeError';

  constructor(readonly summary: string) {
    super(summary);
  }
}

export interface FleetOptions {
  readonly redisUrl: string;
  readonly paymentsUrl: string;
  /** Modules each worker loads first (`node -r`), after ts-node. */
  readonly preload?: readonly string[];
  /** Told of every shared transition a worker's store learns of (epoch 0, the first read, excluded). */
  readonly onChange?: (change: SharedChange) => void;
  /** Told when a worker's store loses Redis. */
  readonly onUnavailable?: (worker: string, error: string) => void;
}

const workerScript = join(__dirname, 'worker.ts');
const root = join(__dirname, '..', '..');
const readyTimeoutMs = 60_000; // ts-node compiles each worker: slow on a busy machine
const callTimeoutMs = 10_000;
const stopTimeoutMs = 5_000;

// Workers still running, killed if this process exits first.
const running = new Set<ChildProcess>();
const killRunning = (): void => {
  for (const child of running) child.kill('SIGKILL');
};

/** One checkout worker process. */
export class Worker {
  /** The worker's circuit events (`stateChange`), relayed from its process: for `timeline.watchCircuit`. */
  readonly circuit = new Events<CircuitBreakerEvents>();
  /** The shared transitions its store learned of, in order. */
  readonly changes: SharedChange[] = [];
  /** Its circuit's state, as of the last `stateChange` relayed. */
  state: CircuitState = 'closed';
  readonly #child: ChildProcess;
  readonly #fleet: Fleet;
  readonly #pending = new Map<number, { resolve: (receipt: string) => void; reject: (error: Error) => void }>();
  readonly #exited: Promise<void>;
  readonly #ready: Promise<void>;
  #waiters: (() => void)[] = [];
  #processId = '';
  #isReady = false;
  #exit = '';
  #nextId = 1;

  constructor(
    readonly name: string,
    fleet: Fleet,
    options: FleetOptions,
  ) {
    this.#fleet = fleet;
    const preload = (options.preload ?? []).flatMap((module) => ['-r', module]);
    this.#child = fork(workerScript, [], {
      execArgv: ['-r', 'ts-node/register', ...preload],
      env: {
        ...process.env,
        TS_NODE_PROJECT: join(root, 'tsconfig.json'),
        REDIS_URL: options.redisUrl,
        PAYMENTS_URL: options.paymentsUrl,
        WORKER_NAME: name,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    if (running.size === 0) process.on('exit', killRunning);
    running.add(this.#child);
    let ready!: () => void;
    let failed!: (error: Error) => void;
    this.#ready = new Promise((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    this.#ready.catch(() => undefined); // awaited by startFleet; this only keeps an early exit handled
    this.#exited = new Promise((resolve) => {
      const ended = (how: string) => {
        if (this.#exit !== '') return;
        this.#exit = how;
        running.delete(this.#child);
        if (running.size === 0) process.off('exit', killRunning);
        const error = new Error(`${name} exited (${how})`);
        for (const call of this.#pending.values()) call.reject(error);
        this.#pending.clear();
        failed(error);
        this.#wake();
        resolve();
      };
      this.#child.once('exit', (code, signal) => ended(signal ?? `exit code ${code ?? '?'}`));
      // Not started at all (no 'exit' follows then).
      this.#child.once('error', (error) => {
        if (this.#child.pid === undefined) ended(error.message);
      });
    });
    this.#child.on('message', (message: FromWorker) => {
      this.#receive(message, ready, options);
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** The worker's identity in Redis (failure records, lease tokens). */
  get processId(): string {
    return this.#processId;
  }

  /** Resolves once the worker's store is connected, subscribed and synced. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** `checkout.charge(orderId)` in the worker: the receipt, or its error (a `CircuitOpenError`, a `ChargeError`). */
  charge(orderId: string): Promise<string> {
    if (!this.#child.connected) return Promise.reject(new Error(`${this.name} has exited (${this.#exit})`));
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: charge(${orderId}) got no answer in ${callTimeoutMs} ms`));
      }, callTimeoutMs);
      this.#pending.set(id, {
        resolve: (receipt) => {
          clearTimeout(timer);
          resolve(receipt);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#send({ type: 'charge', id, orderId });
    });
  }

  /**
   * The first shared transition to `state` at `minEpoch` or later that this worker's store learned of,
   * once its own circuit is in `circuit` too (it may tell the demo a moment after its store).
   */
  async waitForChange(
    state: SharedState,
    minEpoch: number,
    circuit?: CircuitState,
    timeoutMs = 5_000,
  ): Promise<SharedChange> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const change = this.changes.find((c) => c.state === state && c.epoch >= minEpoch);
      if (change !== undefined && (circuit === undefined || this.state === circuit)) return change;
      if (this.#exit !== '') throw new Error(`${this.name} exited (${this.#exit}) before the circuit was ${state}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.changes.map((c) => `${c.state}@${c.epoch}`).join(', ') || 'none';
        throw new Error(
          `${this.name} did not learn that the circuit was ${state} in ${timeoutMs} ms ` +
            `(store saw: ${seen}; its circuit is ${this.state})`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Asks the worker to close its store and exit; SIGKILL if it has not after 5 s. Idempotent. */
  async stop(): Promise<void> {
    if (this.#exit !== '') return;
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), stopTimeoutMs);
    // A worker still starting listens to nothing yet.
    if (this.#isReady && this.#child.connected) this.#send({ type: 'stop' });
    else this.#child.kill('SIGTERM');
    await this.#exited;
    clearTimeout(timer);
  }

  #send(message: ToWorker): void {
    this.#child.send(message, (error) => {
      if (error !== null) this.#child.kill('SIGKILL'); // a worker that cannot be told anything is of no use
    });
  }

  #receive(message: FromWorker, ready: () => void, options: FleetOptions): void {
    switch (message.type) {
      case 'ready':
        this.#processId = message.processId;
        this.#isReady = true;
        ready();
        return;
      case 'result': {
        const call = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.ok) call?.resolve(message.receipt);
        else if (message.error.kind === 'circuit-open') {
          call?.reject(new CircuitOpenError(message.error.circuit, message.error.retryAfter));
        } else call?.reject(new ChargeError(message.error.summary));
        return;
      }
      case 'circuit':
        this.state = message.to;
        this.circuit.emit('stateChange', {
          circuit: 'payments',
          from: message.from,
          to: message.to,
          reason: message.reason,
        });
        this.#wake();
        return;
      case 'store': {
        // The first read of a fresh server (closed, epoch 0) is no transition.
        if (message.epoch === 0) return;
        const holder = message.holder === '' ? '' : this.#fleet.holderName(message.holder);
        const change = { worker: this.name, state: message.state, epoch: message.epoch, holder };
        this.changes.push(change);
        options.onChange?.(change);
        this.#wake();
        return;
      }
      case 'unavailable':
        options.onUnavailable?.(this.name, message.error);
        return;
    }
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/** Workers `worker 1`…`worker <count>`. */
export class Fleet {
  readonly workers: readonly Worker[];

  private constructor(count: number, options: FleetOptions) {
    this.workers = Array.from({ length: count }, (_, i) => new Worker(`worker ${i + 1}`, this, options));
  }

  /** Forks `count` workers and waits until each is ready; if one is not, stops them all and throws. */
  static async start(count: number, options: FleetOptions): Promise<Fleet> {
    const fleet = new Fleet(count, options);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the workers were not ready in ${readyTimeoutMs} ms`)), readyTimeoutMs);
    });
    try {
      await Promise.race([Promise.all(fleet.workers.map((worker) => worker.ready())), late]);
      return fleet;
    } catch (error) {
      await fleet.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The name of the worker whose lease token (`processId#random`) this is, else the token. */
  holderName(token: string): string {
    const processId = token.slice(0, token.lastIndexOf('#'));
    return this.workers.find((worker) => worker.processId === processId)?.name ?? token;
  }

  /** Stops every worker (see `Worker.stop`). */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }
}
