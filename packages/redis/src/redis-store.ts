import {
  Events,
  invalidOption,
  type Clock,
  type TimerHandle,
  type CircuitStore,
  type CircuitStoreProvider,
  type Listener,
  type ResolvedCircuitBreakerOptions,
  type Unsubscribe,
} from '@staunch/core';
import { randomBytes } from 'node:crypto';
import { redisCircuitKeys } from './keys.js';
import {
  resolveRedisStoreOptions,
  type RedisClient,
  type RedisStoreOptions,
  type ResolvedRedisStoreOptions,
} from './options.js';
import type { LuaScript } from './scripts.js';
import { SharedCircuit } from './shared-circuit.js';
import { parseMessage, parseReply, type CircuitLink, type SharedState } from './shared-state.js';

/** Payload of the `unavailable` event: Redis stopped answering; circuits run on local state. */
export interface RedisUnavailableEvent {
  /** What showed it: a connection error, or a command slower than `commandTimeout`. */
  readonly error: unknown;
}
/** Payload of the `restored` event: Redis answers again and every circuit has been re-read. */
export interface RedisRestoredEvent {
  /** Milliseconds since the `unavailable` event. */
  readonly downtime: number;
}
/** Payload of the `change` event: this process learned of a shared transition. */
export interface SharedCircuitChangeEvent {
  /** The circuit's name. */
  readonly circuit: string;
  /** The shared state now. */
  readonly state: 'closed' | 'open' | 'half-open';
  /** The shared transition count. */
  readonly epoch: number;
  /** Half-open: the trial lease's holder (`processId#random`), '' when none. */
  readonly holder: string;
}
/** The events of a {@link RedisCircuitStore}, for `store.on(type, listener)`. */
export interface RedisStoreEvents {
  /** Once per incident: Redis unreachable or slow. */
  unavailable: RedisUnavailableEvent;
  /** The incident is over: circuits re-synchronised. */
  restored: RedisRestoredEvent;
  /** A shared transition reached this process (by pub/sub or a script reply). */
  change: SharedCircuitChangeEvent;
}

/** A Redis-backed {@link CircuitStoreProvider}: give it to breakers as `store`, with a `name`. */
export interface RedisCircuitStore extends CircuitStoreProvider {
  /** The options it runs with, defaults filled in. */
  readonly options: ResolvedRedisStoreOptions;
  /** False during an incident (Redis unreachable or slow): circuits then decide on local state alone. */
  readonly available: boolean;
  /** The replica of the circuit called `name`, made on first use; a breaker's `store` option calls this. */
  circuit(name: string, options: ResolvedCircuitBreakerOptions): CircuitStore;
  /**
   * Resolves once connected, subscribed, and every circuit made so far has
   * read the shared state: for startup and tests (calls never need to wait).
   */
  ready(): Promise<void>;
  /** Resolves once every failure noted so far has been reported to Redis (or dropped by an incident). */
  flush(): Promise<void>;
  /** Starts calling `listener` for every `type` event; returns the function that stops it. */
  on<K extends keyof RedisStoreEvents>(type: K, listener: Listener<RedisStoreEvents[K]>): Unsubscribe;
  /**
   * Reports what is pending, unsubscribes and closes the subscriber it made. The client stays open;
   * `redisStore(client)` afterwards makes a new store.
   */
  close(): Promise<void>;
}

/**
 * Shares circuits between processes through Redis: a breaker given this store
 * and a `name` reads a local replica on every call (no round trip), reports
 * failures in the background, and learns the fleet's transitions by pub/sub.
 * The shared circuit opens when `threshold` failures from at least `quorum`
 * processes fall within the window; one process at a time holds the trial
 * lease. If Redis is unreachable or slow, every circuit runs on local state.
 *
 * @example
 * import Redis from 'ioredis';
 * import { circuitBreaker } from '@staunch/core';
 * import { redisStore } from '@staunch/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const store = redisStore(redis, { quorum: 2 });
 * const payments = circuitBreaker({ threshold: 5, resetTimeout: 30_000, name: 'payments', store });
 * store.on('unavailable', ({ error }) => console.warn('circuits on local state:', error));
 *
 * const receipt = await payments.execute(() => fetch('https://payments.example/charge'));
 * await store.close();
 * redis.disconnect();
 */
export function redisStore(client: RedisClient, options?: RedisStoreOptions): RedisCircuitStore {
  const resolved = resolveRedisStoreOptions(client, options);
  const subscriber = options?.subscriber;
  // One store per client and settings, so that `store: redisStore(client)` written in every decorator
  // shares one subscription and one replica per circuit. A given subscriber or clock makes its own.
  if (subscriber !== undefined || options?.clock !== undefined) return new RedisStore(client, resolved, subscriber);
  const { prefix, quorum, window, leaseTimeout, commandTimeout, processId } = resolved;
  const key = [prefix, quorum, window, leaseTimeout, commandTimeout, processId].join('\n');
  let stores = storesByClient.get(client);
  if (stores === undefined) storesByClient.set(client, (stores = new Map<string, RedisStore>()));
  let store = stores.get(key);
  if (store === undefined) {
    const own = stores;
    stores.set(key, (store = new RedisStore(client, resolved, undefined, () => own.delete(key))));
  }
  return store;
}

const storesByClient = new WeakMap<RedisClient, Map<string, RedisStore>>();

interface Incident {
  readonly at: number;
  // Retries while the connections look fine but Redis does not answer (paused, or the client's own
  // command timeout): the only timer the store keeps, and only during an incident.
  probe: TimerHandle | undefined;
}

/** Milliseconds between checks that Redis answers again, during an incident. */
const probeInterval = 1000;

class RedisStore implements RedisCircuitStore, CircuitLink {
  readonly options: ResolvedRedisStoreOptions;
  readonly #client: RedisClient;
  readonly #clock: Clock;
  readonly #circuits = new Map<string, SharedCircuit>();
  readonly #events = new Events<RedisStoreEvents>();
  readonly #channel: string;
  #subscriber: RedisClient | undefined;
  readonly #ownsSubscriber: boolean;
  // True while SUBSCRIBE is confirmed on the current subscriber connection; #subscribed settles on the first.
  #listening = false;
  #subscribed: Promise<void> | undefined;
  #onSubscribed: (() => void) | undefined;
  #clientReady: Promise<void> | undefined;
  #incident: Incident | undefined;
  // Counts incidents: a recovery whose re-reads outlast a new incident must not announce itself.
  #incidents = 0;
  #pinging = false;
  #connectedOnce = false;
  #closed = false;
  // Removes the store from redisStore()'s cache once closed.
  readonly #forget: (() => void) | undefined;
  readonly #onReady = (): void => {
    this.#connected();
  };
  // Every (re)connection of the subscriber subscribes again, and only its confirmation counts as
  // connected: ioredis says 'ready' before it re-subscribes, and never retries a SUBSCRIBE that failed.
  readonly #onSubscriberReady = (): void => {
    this.#listen();
  };
  readonly #onConnectionLost = (): void => {
    this.#listening = false;
    if (!this.#closed) this.#fail(new Error('@staunch/redis: the connection to Redis was lost'));
  };
  readonly #onSubscriberError = (error: unknown): void => {
    if (!this.#closed) this.#fail(error);
  };
  readonly #onMessage = (channel: string, message: string): void => {
    if (channel !== this.#channel) return;
    const parsed = parseMessage(message);
    if (parsed !== undefined) this.#circuits.get(parsed.name)?.hear(parsed.state);
  };

  constructor(
    client: RedisClient,
    options: ResolvedRedisStoreOptions,
    subscriber: RedisClient | undefined,
    forget?: () => void,
  ) {
    this.#forget = forget;
    this.options = options;
    this.#client = client;
    this.#clock = options.clock;
    this.#channel = redisCircuitKeys('', options.prefix).channel;
    this.#subscriber = subscriber;
    this.#ownsSubscriber = subscriber === undefined;
    this.#connectedOnce = client.status === 'ready';
    client.on('ready', this.#onReady);
  }

  get available(): boolean {
    return this.#incident === undefined;
  }

  get online(): boolean {
    return this.#incident === undefined && !this.#closed;
  }

  get processId(): string {
    return this.options.processId;
  }

  get quorum(): number {
    return this.options.quorum;
  }

  get window(): number | undefined {
    return this.options.window;
  }

  get leaseTimeout(): number {
    return this.options.leaseTimeout;
  }

  circuit(name: string, options: ResolvedCircuitBreakerOptions): CircuitStore {
    if (typeof name !== 'string' || name === '') invalidOption(label, 'name', 'a non-empty circuit name', name);
    const existing = this.#circuits.get(name);
    if (existing !== undefined) {
      for (const option of ['threshold', 'resetTimeout', 'halfOpenCalls', 'halfOpenFailureRate'] as const) {
        if (existing.options[option] !== options[option]) {
          invalidOption(
            `circuit '${name}'`,
            option,
            `${existing.options[option]}, as every breaker of this shared circuit (they must agree)`,
            options[option],
          );
        }
      }
      return existing;
    }
    const circuit = new SharedCircuit(name, options, this);
    this.#circuits.set(name, circuit);
    void this.#subscribe();
    if (this.#client.status === 'ready') void circuit.sync();
    return circuit;
  }

  ready(): Promise<void> {
    const client = this.#client;
    this.#clientReady ??=
      client.status === 'ready'
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            client.once('ready', () => {
              resolve();
            });
          });
    return Promise.all([this.#subscribe(), this.#clientReady])
      .then(() => Promise.all([...this.#circuits.values()].map((c) => c.sync())))
      .then(noop);
  }

  flush(): Promise<void> {
    return Promise.all([...this.#circuits.values()].map((c) => c.drained())).then(noop);
  }

  on<K extends keyof RedisStoreEvents>(type: K, listener: Listener<RedisStoreEvents[K]>): Unsubscribe {
    return this.#events.on(type, listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#forget?.();
    // Pending reports get one command timeout to go out; a paused server must not hang the shutdown.
    await within(this.#clock, this.options.commandTimeout, this.flush());
    this.#closed = true;
    this.#stopProbing();
    // Circuits outlive the store only as local circuits.
    for (const circuit of this.#circuits.values()) circuit.detach();
    this.#client.removeListener('ready', this.#onReady);
    const subscriber = this.#subscriber;
    if (subscriber === undefined) return;
    subscriber.removeListener('message', this.#onMessage);
    subscriber.removeListener('ready', this.#onSubscriberReady);
    subscriber.removeListener('close', this.#onConnectionLost);
    if (this.#ownsSubscriber) {
      await closeConnection(subscriber, this.#clock, this.options.commandTimeout);
      subscriber.removeListener('error', this.#onSubscriberError);
    } else {
      subscriber.removeListener('error', this.#onSubscriberError);
      if (subscriber.status === 'ready') await subscriber.unsubscribe(this.#channel).catch(noop);
    }
  }

  run(
    script: LuaScript,
    name: string,
    resetTimeout: number,
    args: readonly (string | number)[],
  ): Promise<SharedState | undefined> {
    const client = this.#client;
    if (!this.online) return Promise.resolve(undefined);
    if (client.status !== 'ready') {
      // Not connected: never queue behind the client's offline queue. Before the first connection that is
      // simply "not yet"; afterwards it is an incident.
      if (this.#connectedOnce) this.#fail(new Error(`@staunch/redis: the Redis client is ${client.status}`));
      return Promise.resolve(undefined);
    }
    const keys = redisCircuitKeys(name, this.options.prefix);
    // The generation a script gives a state hash it finds missing: new for every command, so a state
    // lost and made again never comes back under the generation it had.
    const argv = [name, keys.channel, resetTimeout, randomBytes(8).toString('hex'), ...args];
    const command = evaluate(client, script, [keys.state, keys.lease, keys.failures, keys.processes], argv);
    const clock = this.#clock;
    const timer = clock.schedule(this.options.commandTimeout, () => {
      this.#fail(new Error(`@staunch/redis: Redis did not answer within ${this.options.commandTimeout} ms`));
    });
    return command.then(
      (reply) => {
        clock.cancel(timer);
        this.#answered();
        return parseReply(reply);
      },
      (error: unknown) => {
        clock.cancel(timer);
        this.#fail(error);
        return undefined;
      },
    );
  }

  changed(name: string, state: SharedState): void {
    this.#events.emit('change', { circuit: name, state: state.state, epoch: state.epoch, holder: state.holder });
  }

  #subscribe(): Promise<void> {
    if (this.#subscribed !== undefined) return this.#subscribed;
    this.#subscribed = new Promise((resolve) => (this.#onSubscribed = resolve));
    const subscriber = (this.#subscriber ??= this.#client.duplicate());
    subscriber.on('message', this.#onMessage);
    subscriber.on('ready', this.#onSubscriberReady);
    subscriber.on('error', this.#onSubscriberError);
    subscriber.on('close', this.#onConnectionLost);
    this.#listen();
    return this.#subscribed;
  }

  #listen(): void {
    const subscriber = this.#subscriber;
    if (subscriber === undefined || this.#closed) return;
    subscriber.subscribe(this.#channel).then(
      () => {
        if (this.#closed || subscriber.status !== 'ready') return;
        const first = !this.#listening;
        this.#listening = true;
        this.#onSubscribed?.();
        this.#onSubscribed = undefined;
        if (first) this.#connected(true);
      },
      (error: unknown) => {
        this.#fail(error);
      },
    );
  }

  // A connection is (re)established: once the client is ready and the subscription confirmed, the incident
  // (if any) is over; a new subscription re-reads every circuit, since messages may have been missed.
  #connected(resubscribed = false): void {
    if (this.#client.status !== 'ready' || !this.#listening || this.#closed) return;
    const first = !this.#connectedOnce;
    this.#connectedOnce = true;
    if (this.#incident !== undefined) this.#restore();
    else if (first || resubscribed) for (const circuit of this.#circuits.values()) void circuit.sync();
  }

  // A command succeeded: Redis is back, if it was gone and the subscription is up.
  #answered(): void {
    this.#connectedOnce = true;
    if (this.#incident !== undefined && this.#listening) this.#restore();
  }

  #fail(error: unknown): void {
    if (this.#incident !== undefined || this.#closed) return;
    this.#incidents++;
    const incident: Incident = (this.#incident = { at: this.#clock.now(), probe: undefined });
    for (const circuit of this.#circuits.values()) circuit.detach();
    this.#events.emit('unavailable', { error });
    this.#probeLater(incident);
  }

  #probeLater(incident: Incident): void {
    const clock = this.#clock;
    const current = (): boolean => this.#incident === incident && !this.#closed;
    incident.probe = clock.schedule(probeInterval, () => {
      incident.probe = undefined;
      if (!current()) return;
      // Reconnecting (its 'ready' ends the incident), or the last PING still unanswered: one at a time.
      if (this.#client.status !== 'ready' || !this.#listening || this.#pinging) {
        this.#probeLater(incident);
        return;
      }
      // Whichever comes first, a timeout or a failed ping, schedules the next probe; a late answer still counts.
      let retried = false;
      const retry = (): void => {
        if (retried || !current()) return;
        retried = true;
        this.#probeLater(incident);
      };
      const timer = clock.schedule(this.options.commandTimeout, retry);
      this.#pinging = true;
      this.#client.ping().then(
        () => {
          this.#pinging = false;
          clock.cancel(timer);
          if (!this.#closed) this.#answered();
        },
        () => {
          this.#pinging = false;
          clock.cancel(timer);
          retry();
        },
      );
    });
    // It must not keep a process alive that has nothing else to do.
    (incident.probe as { unref?: () => void }).unref?.();
  }

  #stopProbing(): void {
    const probe = this.#incident?.probe;
    if (probe !== undefined) this.#clock.cancel(probe);
  }

  // The incident is over: re-read every circuit, then say so.
  #restore(): void {
    this.#stopProbing();
    const incident = this.#incident as Incident;
    this.#incident = undefined;
    const count = this.#incidents;
    void Promise.all([...this.#circuits.values()].map((circuit) => circuit.sync())).then(() => {
      if (this.#incident !== undefined || this.#incidents !== count || this.#closed) return;
      this.#events.emit('restored', { downtime: this.#clock.now() - incident.at });
    });
  }
}

const label = 'redisStore';

function noop(): void {}

// QUIT when connected (ioredis's disconnect() leaves a 2 s timer behind), but never wait on a paused server.
async function closeConnection(connection: RedisClient, clock: Clock, timeoutMs: number): Promise<void> {
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  const quit = connection.quit().then(() => true, noop);
  if ((await within(clock, timeoutMs, quit)) !== true) connection.disconnect();
}

// `work`'s value, or undefined once `ms` have passed; the timer goes when either settles.
async function within<T>(clock: Clock, ms: number, work: Promise<T>): Promise<T | undefined> {
  let timer: TimerHandle | undefined;
  const late = new Promise<undefined>(
    (resolve) =>
      (timer = clock.schedule(ms, () => {
        resolve(undefined);
      })),
  );
  try {
    return await Promise.race([work, late]);
  } finally {
    clock.cancel(timer as TimerHandle);
  }
}

// EVALSHA, and EVAL when the server does not have the script yet (first use, or after a restart).
async function evaluate(
  client: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(script.source, keys.length, ...keys, ...args);
  }
}
