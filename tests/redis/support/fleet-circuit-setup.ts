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

  const stores = new Map<number, RedisCircuitStore>();
  const circuits = new Map<string, Circuit>();
  // Kept per name, from the start (a circuit's first sync already reports its state).
  const changes = new Map<string, ChangeRecord[]>();
  const waiters = new Set<() => void>();

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
    let result: Promise<string>;
    try {
      result = circuit.breaker.execute(protectedFunction(name, circuit, behaviour));
    } catch (error) {
      return outcomeOf(error);
    }
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
    stats: async (name: string): Promise<CircuitBreakerStats> => circuitNamed(name).breaker.stats,
    /** Waits until every store has reported its failures; returns `Date.now()` then. */
    flush: async () => {
      await Promise.all([...stores.values()].map((store) => store.flush()));
      return Date.now();
    },
    changes: async (name: string): Promise<ChangeRecord[]> => changesOf(name),
    waitForChange,

    close: async () => {
      await Promise.all([...stores.values()].map((store) => store.close()));
      await client.quit();
    },
  };
};

export default setup;
