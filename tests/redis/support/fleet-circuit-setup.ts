/**
 * A fleet worker (see ./fleet.ts) with a real `@staunch/redis` store, for ../fleet-circuit.test.ts.
 * It makes breakers by circuit name, calls them with a chosen behaviour, and records what the
 * tests assert on: every invocation of the protected function, and every shared transition the
 * store reports (`change`), each with its `Date.now()` receipt time. All processes of one machine
 * read the same system clock, so times taken in different workers (and in the test) compare.
 *
 * Environment: REDIS_URL (required); FLEET_QUORUM, the quorum of circuits configured without one
 * (default 2). Each worker's `processId` is `worker-<index>`. A store's quorum is per store, so the
 * worker keeps one store per quorum asked for, all on one client and with the same process id.
 */
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { circuitBreaker, isCircuitOpenError, type CircuitBreakerPolicy, type CircuitBreakerStats } from '@staunch/core';
import { redisStore, type RedisCircuitStore, type SharedCircuitChangeEvent } from '@staunch/redis';
import type { FleetSetup } from './fleet';

/** What the protected function does: resolve, reject with a counted error, or never settle. */
export type Behaviour = 'ok' | 'fail' | 'hang';
/** A call's outcome: `'started'` is a `'hang'` call that ran the function (it never settles). */
export type Outcome = 'ok' | 'failed' | 'rejected' | 'started';
export type SharedStateName = SharedCircuitChangeEvent['state'];

/** The breaker made for a circuit name by `configure`. */
export interface CircuitConfig {
  readonly threshold: number;
  readonly resetTimeout: number;
  readonly halfOpenCalls?: number;
  /** The quorum of the store this circuit lives in; default FLEET_QUORUM (or 2). */
  readonly quorum?: number;
}

/** A `change` event of the store, with the time this worker received it. */
export interface ChangeRecord extends SharedCircuitChangeEvent {
  readonly at: number;
}

/** One run of the protected function. */
export interface Invocation {
  readonly at: number;
  /** Whether it ran as a trial call (the local breaker was half-open when it started). */
  readonly trial: boolean;
  /** The newest shared epoch this worker had learned (from `change` events) when it started; -1: none. */
  readonly epoch: number;
  readonly behaviour: Behaviour;
}

export interface BurstResult {
  /** The outcome of each call, in order. */
  readonly outcomes: Outcome[];
  /** `Date.now()` once `store.flush()` resolved: every failure noted has been answered by Redis. */
  readonly flushedAt: number;
}

export interface HammerOptions {
  /** Stop once this worker has learned of a shared transition to this state (newer than when it started)… */
  readonly until: SharedStateName;
  /** …and at least this many ms have passed since it learned of it… */
  readonly holdMs?: number;
  /** …and it has made at least this many calls since. */
  readonly holdCalls?: number;
  /** Pause between calls (default 2 ms). */
  readonly everyMs?: number;
  /** Give up (reject) after this long (default 15 s). */
  readonly timeoutMs?: number;
}

export interface HammerResult {
  readonly outcomes: Record<Outcome, number>;
  /** Calls made after the `until` transition was learned. */
  readonly callsAfter: number;
  /** The `change` event that ended it. */
  readonly learned: ChangeRecord;
}

/** The incidents one store (of one quorum) reported: its `unavailable` and `restored` events, with receipt times. */
export interface IncidentLog {
  readonly quorum: number;
  // `at`: Date.now(), comparable across processes; `tick`: performance.now(), the clock the store measures the
  // downtime with (monotonic: the wall clock may be slewed or stepped in between).
  readonly unavailable: { readonly at: number; readonly tick: number; readonly error: string }[];
  readonly restored: { readonly at: number; readonly tick: number; readonly downtime: number }[];
}

/** Where a circuit's store stands: no incident yet, in one (`unavailable` and no `restored` since), past it. */
export type Phase = 'before' | 'outage' | 'after';

/** One circuit of a `startLoop` loop, with the behaviour of its calls in each phase of its store (default 'ok'). */
export interface LoopCircuit {
  readonly name: string;
  readonly before?: Behaviour;
  readonly outage?: Behaviour;
  readonly after?: Behaviour;
}

/** What a loop's calls of one circuit did in one phase. */
export interface PhaseStats {
  calls: number;
  outcomes: Record<Outcome, number>;
  /** The longest call, from `execute()` until it settled (performance.now(), ms). */
  maxLatencyMs: number;
}

export interface LoopResult {
  /** Per circuit name, per phase. */
  readonly circuits: Record<string, Record<Phase, PhaseStats>>;
  /** The longest time between the starts of two rounds of calls (each round sleeps `everyMs`). */
  readonly maxGapMs: number;
  /** The most commands the client held unsent (ioredis's offline queue), sampled every round. */
  readonly maxOfflineQueue: number;
  /** The most commands the client had sent and not yet had answered, sampled every round. */
  readonly maxCommandQueue: number;
}

/** How a running loop is told to stop, and the call it is in (for the error when it does not stop). */
interface LoopControl {
  stopping: boolean;
  calling: { readonly name: string; readonly phase: Phase; readonly started: number } | undefined;
}

/** A counted failure of the protected function (the breakers count only this error). */
class Down extends Error {
  constructor() {
    super('dependency down');
    this.name = 'Down';
  }
}

interface Circuit {
  readonly breaker: CircuitBreakerPolicy;
  readonly store: RedisCircuitStore;
  readonly invocations: Invocation[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const setup: FleetSetup = async ({ index, env }) => {
  const url = env.REDIS_URL;
  if (url === undefined || url === '') throw new Error('fleet-circuit-setup needs REDIS_URL');
  const defaultQuorum = Number(env.FLEET_QUORUM ?? '2');
  const processId = `worker-${index}`;

  const client = new Redis(url);
  // A store made before the client's first connection would drop failures until then.
  await client.ping();
  // The fault tests stop the server: each reconnection attempt is an error event (the stores report the
  // incident themselves); counted here instead of ioredis printing every one as unhandled.
  let clientErrors = 0;
  client.on('error', () => {
    clientErrors++;
  });

  const stores = new Map<number, RedisCircuitStore>();
  const circuits = new Map<string, Circuit>();
  // Kept per name, from the start (a circuit's first sync already reports its state).
  const changes = new Map<string, ChangeRecord[]>();
  const waiters = new Set<() => void>();
  const incidentLogs = new Map<RedisCircuitStore, IncidentLog>();
  // The calling loop of `startLoop`, while one runs.
  let loop:
    | {
        readonly control: LoopControl;
        readonly stats: Record<string, Record<Phase, PhaseStats>>;
        readonly done: Promise<LoopResult>;
      }
    | undefined;

  const wakeAll = (): void => {
    for (const wake of [...waiters]) wake();
  };

  const changesOf = (name: string): ChangeRecord[] => {
    let list = changes.get(name);
    if (list === undefined) changes.set(name, (list = []));
    return list;
  };
  const knownEpoch = (name: string): number => changesOf(name).at(-1)?.epoch ?? -1;

  function storeFor(quorum: number): RedisCircuitStore {
    let store = stores.get(quorum);
    if (store === undefined) {
      // leaseTimeout 1: a lease lasts exactly the circuit's resetTimeout, so the lease tests wait no longer
      // than they must (these workers call continuously, so the lease is never left unused).
      store = redisStore(client, { quorum, processId, leaseTimeout: 1 });
      store.on('change', (event) => {
        changesOf(event.circuit).push({ ...event, at: Date.now() });
        for (const wake of [...waiters]) wake();
      });
      const incidents: IncidentLog = { quorum, unavailable: [], restored: [] };
      store.on('unavailable', ({ error }) => {
        incidents.unavailable.push({ at: Date.now(), tick: performance.now(), error: String(error) });
        wakeAll();
      });
      store.on('restored', ({ downtime }) => {
        incidents.restored.push({ at: Date.now(), tick: performance.now(), downtime });
        wakeAll();
      });
      incidentLogs.set(store, incidents);
      stores.set(quorum, store);
    }
    return store;
  }

  function circuitNamed(name: string): Circuit {
    const circuit = circuits.get(name);
    if (circuit === undefined) throw new Error(`worker ${index}: circuit '${name}' was not configured`);
    return circuit;
  }

  function protectedFunction(name: string, circuit: Circuit, behaviour: Behaviour): () => Promise<string> {
    const invoked = (): void => {
      // Inside the function the breaker's snapshot is the one that admitted the call: reading `state` changes nothing.
      const trial = circuit.breaker.state === 'half-open';
      circuit.invocations.push({ at: Date.now(), trial, epoch: knownEpoch(name), behaviour });
    };
    switch (behaviour) {
      case 'ok':
        return async () => {
          invoked();
          return 'ok';
        };
      case 'fail':
        return async () => {
          invoked();
          throw new Down();
        };
      case 'hang':
        return () => {
          invoked();
          return new Promise<string>(() => undefined);
        };
    }
  }

  const outcomeOf = (error: unknown): Outcome => {
    if (isCircuitOpenError(error)) return 'rejected';
    if (error instanceof Down) return 'failed';
    throw error;
  };

  async function call(name: string, behaviour: Behaviour): Promise<Outcome> {
    const circuit = circuitNamed(name);
    const before = circuit.invocations.length;
    const result = circuit.breaker.execute(protectedFunction(name, circuit, behaviour));
    // The function runs synchronously inside execute() when the call is admitted.
    if (behaviour === 'hang' && circuit.invocations.length > before) return 'started';
    try {
      await result;
      return 'ok';
    } catch (error) {
      return outcomeOf(error);
    }
  }

  /** The first change of `name` to `state` with an epoch >= `minEpoch`, received already or from now on. */
  function waitForChange(
    name: string,
    state: SharedStateName,
    minEpoch = 0,
    timeoutMs = 10_000,
  ): Promise<ChangeRecord> {
    const find = (): ChangeRecord | undefined =>
      changesOf(name).find((event) => event.state === state && event.epoch >= minEpoch);
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        const event = find();
        if (event === undefined) return;
        waiters.delete(wake);
        clearTimeout(timer);
        resolve(event);
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        const seen = JSON.stringify(changesOf(name));
        reject(
          new Error(
            `worker ${index}: no '${state}' change of ${name} (epoch >= ${minEpoch}) in ${timeoutMs} ms; seen ${seen}`,
          ),
        );
      }, timeoutMs);
      waiters.add(wake);
    });
  }

  /** `check()`'s first value other than undefined: now, or when a waiter is next woken with one; rejects after `timeoutMs`. */
  function waitUntil<T>(check: () => T | undefined, what: () => string, timeoutMs: number): Promise<T> {
    const found = check();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        const value = check();
        if (value === undefined) return;
        waiters.delete(wake);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(new Error(`worker ${index}: ${what()} not within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(wake);
    });
  }

  const incidentLogOf = (store: RedisCircuitStore): IncidentLog => incidentLogs.get(store) as IncidentLog;

  const emptyStats = (): PhaseStats => ({
    calls: 0,
    outcomes: { ok: 0, failed: 0, rejected: 0, started: 0 },
    maxLatencyMs: 0,
  });

  /**
   * Calls every circuit of `list` in turn, then sleeps `everyMs`, until `control.stopping`. Each call's
   * behaviour and the stats it counts in follow its store's phase, counted from the loop's start.
   */
  async function runLoop(
    list: readonly LoopCircuit[],
    everyMs: number,
    control: LoopControl,
    circuitStats: Record<string, Record<Phase, PhaseStats>>,
  ): Promise<LoopResult> {
    const entries = list.map((spec) => {
      const log = incidentLogOf(circuitNamed(spec.name).store);
      const base = { unavailable: log.unavailable.length, restored: log.restored.length };
      const phase = (): Phase => {
        const unavailable = log.unavailable.length - base.unavailable;
        if (unavailable === 0) return 'before';
        return log.restored.length - base.restored < unavailable ? 'outage' : 'after';
      };
      const stats = (circuitStats[spec.name] = { before: emptyStats(), outage: emptyStats(), after: emptyStats() });
      return { spec, phase, stats };
    });
    // ioredis's own queues (not public API): what an outage would make grow if the store queued commands.
    const queues = client as unknown as { offlineQueue: { length: number }; commandQueue: { length: number } };
    let maxGapMs = 0;
    let maxOfflineQueue = 0;
    let maxCommandQueue = 0;
    let last = performance.now();
    while (!control.stopping) {
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
      maxOfflineQueue = Math.max(maxOfflineQueue, queues.offlineQueue.length);
      maxCommandQueue = Math.max(maxCommandQueue, queues.commandQueue.length);
      for (const { spec, phase, stats } of entries) {
        const current = phase();
        const started = performance.now();
        control.calling = { name: spec.name, phase: current, started };
        const outcome = await call(spec.name, spec[current] ?? 'ok');
        control.calling = undefined;
        const latency = performance.now() - started;
        const counted = stats[current];
        counted.calls++;
        counted.outcomes[outcome]++;
        counted.maxLatencyMs = Math.max(counted.maxLatencyMs, latency);
      }
      wakeAll();
      await sleep(everyMs);
    }
    return { circuits: circuitStats, maxGapMs, maxOfflineQueue, maxCommandQueue };
  }

  return {
    processId: async () => processId,

    /** Makes the breaker of circuit `name` (once) and waits until its store is subscribed and synced. */
    configure: async (name: string, config: CircuitConfig) => {
      const store = storeFor(config.quorum ?? defaultQuorum);
      if (!circuits.has(name)) {
        const { threshold, resetTimeout, halfOpenCalls = 1 } = config;
        const breaker = circuitBreaker({ on: Down, threshold, resetTimeout, halfOpenCalls, name, store });
        circuits.set(name, { breaker, store, invocations: [] });
      }
      await store.ready();
      return processId;
    },

    call,

    /** `count` calls one after another, then `flush()`; the time is taken once Redis has answered. */
    burst: async (name: string, behaviour: Behaviour, count: number): Promise<BurstResult> => {
      const outcomes: Outcome[] = [];
      for (let i = 0; i < count; i++) outcomes.push(await call(name, behaviour));
      await circuitNamed(name).store.flush();
      return { outcomes, flushedAt: Date.now() };
    },

    /** Calls every `everyMs` until this worker learns of a transition to `until` (see HammerOptions). */
    hammer: async (name: string, behaviour: Behaviour, options: HammerOptions): Promise<HammerResult> => {
      const { until, holdMs = 0, holdCalls = 0, everyMs = 2, timeoutMs = 15_000 } = options;
      const from = knownEpoch(name);
      const outcomes: Record<Outcome, number> = { ok: 0, failed: 0, rejected: 0, started: 0 };
      const deadline = Date.now() + timeoutMs;
      let callsAfter = 0;
      for (;;) {
        const learned = changesOf(name).find((event) => event.epoch > from && event.state === until);
        if (learned !== undefined && Date.now() >= learned.at + holdMs && callsAfter >= holdCalls) {
          return { outcomes, callsAfter, learned };
        }
        if (Date.now() > deadline) {
          const seen = JSON.stringify(changesOf(name));
          throw new Error(`hammer: no '${until}' change of ${name} after ${timeoutMs} ms; seen ${seen}`);
        }
        outcomes[await call(name, behaviour)]++;
        if (learned !== undefined) callsAfter++;
        await sleep(everyMs);
      }
    },

    /** How many times the protected function of `name` ran in this worker. */
    invocations: async (name: string) => circuitNamed(name).invocations.length,
    invocationLog: async (name: string): Promise<Invocation[]> => circuitNamed(name).invocations,
    /** The local breaker's state (reading it may start a half-open period, as a call would). */
    state: async (name: string) => circuitNamed(name).breaker.state,
    stats: async (name: string): Promise<CircuitBreakerStats> => circuitNamed(name).breaker.statistics,
    /** Waits until every store has reported its failures; returns `Date.now()` then. */
    flush: async () => {
      await Promise.all([...stores.values()].map((store) => store.flush()));
      return Date.now();
    },
    changes: async (name: string): Promise<ChangeRecord[]> => changesOf(name),
    waitForChange,

    /** Every store's incidents so far, by quorum; and how many error events the client emitted. */
    incidents: async (): Promise<{ stores: IncidentLog[]; clientErrors: number }> => ({
      stores: [...incidentLogs.values()].sort((a, b) => a.quorum - b.quorum),
      clientErrors,
    }),
    /** Waits until the store of `quorum` has reported at least `unavailable` incidents and `restored` recoveries. */
    waitForIncidents: (quorum: number, unavailable: number, restored: number, timeoutMs = 10_000) => {
      const store = stores.get(quorum);
      if (store === undefined) throw new Error(`worker ${index}: no store of quorum ${quorum}`);
      const log = incidentLogOf(store);
      return waitUntil(
        () => (log.unavailable.length >= unavailable && log.restored.length >= restored ? log : undefined),
        () => `${unavailable} unavailable and ${restored} restored (seen ${JSON.stringify(log)})`,
        timeoutMs,
      );
    },
    /** Starts calling the circuits of `list` in a loop (see runLoop) and returns at once; `stopLoop` ends it. */
    startLoop: async (list: readonly LoopCircuit[], everyMs = 1) => {
      if (loop !== undefined) throw new Error(`worker ${index}: a loop is running already`);
      const control: LoopControl = { stopping: false, calling: undefined };
      const stats: Record<string, Record<Phase, PhaseStats>> = {};
      const done = runLoop(list, everyMs, control, stats);
      // Kept for stopLoop to report; a rejection must not count as unhandled meanwhile.
      done.catch(() => undefined);
      loop = { control, stats, done };
    },
    /** Waits until the running loop has called every one of its circuits `calls` times in `phase`. */
    waitForLoop: (phase: Phase, calls: number, timeoutMs = 10_000) => {
      const running = loop;
      if (running === undefined) throw new Error(`worker ${index}: no loop is running`);
      const all = (): Record<Phase, PhaseStats>[] => Object.values(running.stats);
      return waitUntil(
        () => (all().every((stats) => stats[phase].calls >= calls) ? running.stats : undefined),
        () => `${calls} calls of every circuit in phase '${phase}' (seen ${JSON.stringify(running.stats)})`,
        timeoutMs,
      );
    },
    /** Stops the running loop; resolves with what it did once its last call has returned. */
    stopLoop: async (timeoutMs = 10_000): Promise<LoopResult> => {
      const running = loop;
      if (running === undefined) throw new Error(`worker ${index}: no loop is running`);
      const { control } = running;
      control.stopping = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      // A call that never returns would keep the loop from ending: say which, instead of hanging.
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const { calling } = control;
          const what =
            calling === undefined
              ? 'no call in progress'
              : `its call of ${calling.name} (phase '${calling.phase}') has not returned after ` +
                `${Math.round(performance.now() - calling.started)} ms`;
          reject(new Error(`worker ${index}: the loop did not stop within ${timeoutMs} ms: ${what}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([running.done, stuck]);
      } finally {
        clearTimeout(timer);
        loop = undefined;
      }
    },

    close: async () => {
      await Promise.all([...stores.values()].map((store) => store.close()));
      await client.quit();
    },
  };
};

export default setup;
