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
import type { Cluster } from 'ioredis';
import { clusterSlot, slotTag } from './cluster-slot.js';
import { redisCircuitKeys } from './keys.js';
import {
  resolveRedisStoreOptions,
  type RedisClient,
  type RedisStoreOptions,
  type ResolvedRedisStoreOptions,
} from './options.js';
import { scripts, shardedScripts, type LuaScript } from './scripts.js';
import { SharedCircuit } from './shared-circuit.js';
import { parseMessage, parseReply, type CircuitLink, type SharedState } from './shared-state.js';

/**
 * Payload of the `unavailable` event: part of Redis, or all of it, stopped answering, and the circuits
 * whose keys it serves run on local state. On a single server or behind Sentinel an incident is always
 * the whole store's (`node` and `slots` undefined). On a Cluster it is one node's: the node that serves
 * the failing circuit's slot (its `host:port`, as the client names it) and the hash slots it served
 * then; the other nodes' circuits keep sharing. A connection of the store's lost as a whole (the
 * Cluster client not ready, its subscriber closed) is the whole store's on a Cluster too.
 */
export interface RedisUnavailableEvent {
  /** What showed it: a connection error, a refused command, or a command slower than `commandTimeout`. */
  readonly error: unknown;
  /**
   * The Cluster node whose slots are affected, `host:port` as the client names it (`''` when the client's
   * slot map names no node for the failing slot); `undefined`: the whole store.
   */
  readonly node: string | undefined;
  /** The Cluster hash slots whose circuits run on local state, ascending; `undefined`: every circuit. */
  readonly slots: readonly number[] | undefined;
}
/**
 * Payload of the `restored` event: the incident an `unavailable` event began is over (same `node`),
 * the circuits' keys answer again and every circuit of it has been re-read.
 */
export interface RedisRestoredEvent {
  /** Milliseconds since the `unavailable` event. */
  readonly downtime: number;
  /** The Cluster node of the incident, as its `unavailable` event said; `undefined`: the whole store. */
  readonly node: string | undefined;
  /**
   * The hash slots the incident covered, ascending (those its `unavailable` event listed, and any slot
   * whose command failed later while the incident went on); `undefined`: every circuit.
   */
  readonly slots: readonly number[] | undefined;
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
  /**
   * Once per incident: Redis unreachable or slow, the whole store's, or on a Cluster one node's (several
   * nodes failing: one incident each, each with its own `restored`).
   */
  unavailable: RedisUnavailableEvent;
  /** Once per incident, when it is over: its circuits re-synchronised. */
  restored: RedisRestoredEvent;
  /** A shared transition reached this process (by pub/sub or a script reply). */
  change: SharedCircuitChangeEvent;
}

/** A Redis-backed {@link CircuitStoreProvider}: give it to breakers as `store`, with a `name`. */
export interface RedisCircuitStore extends CircuitStoreProvider {
  /** The options it runs with, defaults filled in. */
  readonly options: ResolvedRedisStoreOptions;
  /**
   * False while no circuit of the store shares its state: during an incident of the whole store, or on a
   * Cluster while every live circuit's slot is in a node's incident. One node of a Cluster failing while
   * others serve circuits leaves it true: watch `unavailable`/`restored` for those (they name the node).
   */
  readonly available: boolean;
  /** The replica of the circuit called `name`, made on first use; a breaker's `store` option calls this. */
  circuit(name: string, options: ResolvedCircuitBreakerOptions): CircuitStore;
  /**
   * Resolves once connected, subscribed, and every circuit made so far has
   * read the shared state: for startup and tests (calls never need to wait).
   */
  ready(): Promise<void>;
  /**
   * Resolves once every failure noted so far has been reported to Redis (or dropped by an incident).
   * Failures noted before the first connection wait for it.
   */
  flush(): Promise<void>;
  /** Starts calling `listener` for every `type` event; returns the function that stops it. */
  on<K extends keyof RedisStoreEvents>(type: K, listener: Listener<RedisStoreEvents[K]>): Unsubscribe;
  /**
   * Reports what is pending (waiting at most `closeTimeout`, a first connection included), unsubscribes
   * and closes the subscriber it made. The client stays open; `redisStore(client)` afterwards makes a new
   * store.
   */
  close(): Promise<void>;
}

/**
 * Shares circuits between processes through Redis: a breaker given this store
 * and a `name` reads a local replica on every call (no round trip), reports
 * failures in the background, and learns the fleet's transitions by pub/sub.
 * The shared circuit opens when `threshold` failures from at least `quorum`
 * processes fall within the window; one process at a time holds the trial
 * lease. If Redis is unreachable or slow, every circuit runs on local state;
 * on a Cluster, only the circuits of a node that fails do.
 *
 * @example
 * import Redis from 'ioredis';
 * import { circuitBreaker } from '@staunch/core';
 * import { redisStore } from '@staunch/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const store = redisStore(redis, { quorum: 2 });
 * const payments = circuitBreaker({ threshold: 5, resetTimeout: 30_000, name: 'payments', store });
 * store.on('unavailable', ({ error, node }) => console.warn(`circuits of ${node ?? 'every node'} on local state:`, error));
 *
 * const receipt = await payments.execute(() => fetch('https://payments.example/charge'));
 * await store.close();
 * redis.disconnect();
 */
export function redisStore(client: RedisClient, options?: RedisStoreOptions): RedisCircuitStore {
  const resolved = resolveRedisStoreOptions(client, options);
  const subscriber = options?.subscriber;
  // One store per client and settings, so that `store: redisStore(client, settings)` written in every
  // decorator shares one subscription and one replica per circuit. A clock or subscriber is a setting too,
  // told apart by identity.
  const { prefix, quorum, window, leaseTimeout, commandTimeout, idleTimeout, closeTimeout, processId } = resolved;
  const settings = [prefix, quorum, window, leaseTimeout, commandTimeout, idleTimeout, closeTimeout, processId];
  const key = [...settings, identity(resolved.clock), identity(subscriber)].join('\n');
  let stores = storesByClient.get(client);
  if (stores === undefined) storesByClient.set(client, (stores = new Map<string, RedisStore>()));
  let store = stores.get(key);
  if (store === undefined) {
    const own = stores;
    stores.set(key, (store = new RedisStore(client, resolved, subscriber, () => own.delete(key))));
  }
  return store;
}

const storesByClient = new WeakMap<RedisClient, Map<string, RedisStore>>();
const identities = new WeakMap<object, number>();
let lastIdentity = 0;

// A number per object, for the store cache's key: the same clock or subscriber, the same store.
function identity(value: object | undefined): string {
  if (value === undefined) return '';
  let id = identities.get(value);
  if (id === undefined) identities.set(value, (id = ++lastIdentity));
  return String(id);
}

// A command of #pump's batch: the circuit's re-read, or its failure report (the report script's own
// arguments); `sentAt`, its generation count when sent (see SharedCircuit.apply).
interface BatchEntry {
  readonly circuit: SharedCircuit;
  readonly report: readonly (string | number)[] | undefined;
  readonly sentAt: number;
}

interface Incident {
  // The Cluster node whose slots it covers (as the client names it, '' when none was known), and those
  // slots; both undefined for an incident of the whole store.
  readonly node: string | undefined;
  readonly slots: Set<number> | undefined;
  readonly at: number;
  // Retries while the connections look fine but Redis does not answer (paused, or the client's own
  // command timeout): the only timer the store keeps, and only during an incident.
  probe: TimerHandle | undefined;
  // Redis answered and every circuit is being re-read: the incident ends when they all are. A re-read
  // that fails (a Cluster node that answers PING but refuses the circuits' slots) puts it back to probing:
  // the same incident, not a new one.
  recovering: boolean;
  // Its probe's command is in flight: one at a time.
  pinging: boolean;
}

/**
 * Background commands (re-reads and failure reports) per round trip: a batch's replies are applied in one
 * turn of the event loop (about 1 ms), and its Redis work is small next to `commandTimeout`.
 */
const batchSize = 100;

/**
 * Milliseconds between checks of a Cluster's subscriptions, while circuits are called: a subscription
 * lost is noticed within this plus `commandTimeout`.
 */
const subscriptionCheckInterval = 1000;

/** Milliseconds between checks that Redis answers again, during an incident. */
const probeInterval = 1000;

class RedisStore implements RedisCircuitStore, CircuitLink {
  readonly options: ResolvedRedisStoreOptions;
  readonly #client: RedisClient;
  readonly #clock: Clock;
  // Held weakly: a replica lives as long as a breaker uses it, so keyed circuits whose breakers are gone
  // (a Scope's bound evicted them) are released here too.
  readonly #circuits = new Map<string, WeakRef<SharedCircuit>>();
  readonly #released = new FinalizationRegistry<string>((name) => {
    if (this.#circuits.get(name)?.deref() === undefined) this.#circuits.delete(name);
  });
  readonly #events = new Events<RedisStoreEvents>();
  readonly #channel: string;
  // On a Cluster, transitions go by sharded pub/sub: a channel per slot, served by the node that holds the
  // slot's keys, so that a node that fails takes only its own circuits' messages with it (plain PUBLISH
  // reaches a subscriber through whichever node ioredis chose, which may hang while the others answer).
  readonly #sharded: boolean;
  // Sharded: the channels the live circuits need, those whose SSUBSCRIBE is confirmed, and the circuits
  // made while their channel was being subscribed (re-read once it is: a message may have gone meanwhile).
  readonly #channels = new Set<string>();
  readonly #confirmed = new Set<string>();
  readonly #awaiting = new Map<string, SharedCircuit[]>();
  // Sharded: the subscription health check. Circuits called since the last check; the check's timer, set
  // only while some are (an idle store holds none); per channel pinged, what hears the ping.
  readonly #used = new Set<SharedCircuit>();
  #checkTimer: TimerHandle | undefined;
  readonly #pings = new Map<
    string,
    { readonly result: Promise<boolean | undefined>; readonly hear: () => void; readonly cancel: () => void }
  >();
  readonly #ping = JSON.stringify({ ping: randomBytes(6).toString('hex') });
  #subscriber: RedisClient | undefined;
  readonly #ownsSubscriber: boolean;
  // True while SUBSCRIBE is confirmed on the current subscriber connection; #subscribed settles on the first.
  #listening = false;
  #subscribed: Promise<void> | undefined;
  #onSubscribed: (() => void) | undefined;
  // A SUBSCRIBE refused on a connection that stays up (an ACL without the channel) is retried, backing off.
  #listenRetry: TimerHandle | undefined;
  #listenDelay = 0;
  #clientReady: Promise<void> | undefined;
  // The store's incident (a single server's, Sentinel's, or a Cluster client's connection lost), and on a
  // Cluster each node's, with the incident of each hash slot: a circuit runs on local state while either
  // covers it. One node failing leaves the others' circuits sharing.
  #incident: Incident | undefined;
  readonly #nodeIncidents = new Map<string, Incident>();
  readonly #slotIncidents: (Incident | undefined)[] = [];
  // The client has been ready once: failures noted before are kept until then, and a client that is not
  // ready afterwards is an incident. #synced: every circuit has re-read the state since.
  #connectedOnce = false;
  #synced = false;
  #closed = false;
  // The scripts each node's current connection has been sent (a single server is node ''): EVALSHA for
  // those, EVAL for the first use.
  readonly #loaded = new Map<string, Set<string>>();
  // Re-reads asked for and not sent yet, with who waits for each (a second request joins the first), whether
  // #pump is sending them, and who waits for the queue to empty.
  readonly #reads = new Map<SharedCircuit, (() => void)[] | undefined>();
  #pumping = false;
  #readsDone: (() => void)[] | undefined;
  // Circuits whose failures wait to be reported, sent by #pump with the re-reads: one entry per circuit
  // however many failures it notes (its report carries them all), so at most one per live circuit.
  readonly #reports = new Set<SharedCircuit>();
  // Walks over the circuits, re-reading each (those of `slots` only, when given): #rereadAll starts one.
  // One over every circuit replaces those queued; one over a node's slots waits its turn.
  #walks: { readonly circuits: Iterator<WeakRef<SharedCircuit>>; readonly slots: Set<number> | undefined }[] = [];
  readonly #generationBase = randomBytes(6).toString('hex');
  #commands = 0;
  // Removes the store from redisStore()'s cache once closed.
  readonly #forget: (() => void) | undefined;
  readonly #onReady = (): void => {
    this.#loaded.clear();
    if (!this.#connectedOnce) this.#firstConnection();
    this.#connected();
  };
  // Every (re)connection of the subscriber subscribes again, and only its confirmation counts as
  // connected: ioredis says 'ready' before it re-subscribes, and never retries a SUBSCRIBE that failed.
  readonly #onSubscriberReady = (): void => {
    this.#listen();
  };
  readonly #onConnectionLost = (): void => {
    this.#listening = false;
    // A new connection subscribes every channel again.
    this.#confirmed.clear();
    if (!this.#closed) this.#fail(new Error('@staunch/redis: the connection to Redis was lost'));
  };
  // Sharded, the subscriber's errors name no node (ioredis reports a node's subscriber failing to
  // connect): each node's subscription is checked by its own pings instead, so that one node's failure
  // stays that node's incident.
  readonly #onSubscriberError = (error: unknown): void => {
    if (!this.#closed && !this.#sharded) this.#fail(error);
  };
  readonly #onMessage = (channel: string, message: string): void => {
    if (this.#sharded ? !this.#channels.has(channel) : channel !== this.#channel) return;
    if (message === this.#ping) {
      this.#pings.get(channel)?.hear();
      return;
    }
    const parsed = parseMessage(message);
    if (parsed !== undefined) this.#circuits.get(parsed.name)?.deref()?.hear(parsed.state);
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
    this.#sharded = isCluster(client);
    if (this.#sharded && subscriber !== undefined && !isCluster(subscriber)) {
      invalidOption(label, 'subscriber', 'a Cluster client (the client is one)', subscriber);
    }
    if (this.#sharded && subscriber !== undefined && (subscriber as Cluster).options.shardedSubscribers !== true) {
      invalidOption(label, 'subscriber', 'a Cluster client made with { shardedSubscribers: true }', subscriber);
    }
    this.#subscriber = subscriber;
    this.#ownsSubscriber = subscriber === undefined;
    client.on('ready', this.#onReady);
    if (client.status === 'ready') this.#firstConnection();
    // A lazyConnect client waits for a first command, which the store never sends to a client that is
    // not ready: connect it, or the store would wait forever.
    else connectIfLazy(client);
  }

  get available(): boolean {
    if (this.#incident !== undefined) return false;
    if (this.#nodeIncidents.size === 0) return true;
    // Some node's incident: available while any live circuit's slot is served (the first one found ends it).
    let circuits = false;
    for (const ref of this.#circuits.values()) {
      const circuit = ref.deref();
      if (circuit === undefined) continue;
      if (this.#slotIncidents[circuit.slot] === undefined) return true;
      circuits = true;
    }
    return !circuits;
  }

  online(slot: number): boolean {
    if (this.#closed) return false;
    const incident = this.#incident;
    if (incident !== undefined && !incident.recovering) return false;
    const nodeIncident = this.#slotIncidents[slot];
    return nodeIncident === undefined || nodeIncident.recovering;
  }

  get connected(): boolean {
    return this.#connectedOnce;
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
    const existing = this.#circuits.get(name)?.deref();
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
    const circuit = new SharedCircuit(name, options, this, this.#slotOf(name));
    this.#circuits.set(name, new WeakRef(circuit));
    this.#released.register(circuit, name);
    if (this.#sharded) this.#want(circuit);
    void this.#subscribe();
    if (this.#client.status === 'ready') void this.reread(circuit);
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
    return Promise.all([this.#subscribe(), this.#clientReady]).then(() => this.#rereadAll());
  }

  flush(): Promise<void> {
    return Promise.all(this.#live().map((c) => c.drained())).then(noop);
  }

  on<K extends keyof RedisStoreEvents>(type: K, listener: Listener<RedisStoreEvents[K]>): Unsubscribe {
    return this.#events.on(type, listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#forget?.();
    // Pending reports (those noted before a first connection too) get closeTimeout to go out; a paused or
    // unreachable server must not hang the shutdown.
    await within(this.#clock, this.options.closeTimeout, this.flush());
    this.#closed = true;
    this.#stopProbing(this.#incident);
    for (const incident of this.#nodeIncidents.values()) this.#stopProbing(incident);
    this.#stopListenRetry();
    for (const ping of [...this.#pings.values()]) ping.cancel();
    if (this.#checkTimer !== undefined) this.#clock.cancel(this.#checkTimer);
    this.#checkTimer = undefined;
    this.#used.clear();
    // Circuits outlive the store only as local circuits.
    for (const circuit of this.#live()) circuit.detach();
    this.#client.removeListener('ready', this.#onReady);
    const subscriber = this.#subscriber;
    if (subscriber === undefined) return;
    this.#detachSubscriber(subscriber);
    // Errors while quitting are expected and not the user's concern.
    subscriber.on('error', noop);
    if (this.#ownsSubscriber) {
      await closeConnection(subscriber, this.#clock, this.options.commandTimeout);
      subscriber.removeListener('error', noop);
    } else {
      subscriber.removeListener('error', noop);
      if (subscriber.status !== 'ready') return;
      if (!this.#sharded) await subscriber.unsubscribe(this.#channel).catch(noop);
      else await Promise.all([...this.#confirmed].map((channel) => subscriber.sunsubscribe(channel).catch(noop)));
    }
  }

  run(
    script: LuaScript,
    circuit: SharedCircuit,
    resetTimeout: number,
    args: readonly (string | number)[],
  ): Promise<SharedState | undefined> {
    if (!this.#sendable(circuit.slot)) return Promise.resolve(undefined);
    return this.#timed(this.#send(script, circuit.name, resetTimeout, args), circuit.slot).then((reply) =>
      reply === undefined ? undefined : parseReply(reply),
    );
  }

  reread(circuit: SharedCircuit): Promise<void> {
    if (!this.#sendable(circuit.slot)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.#reads.get(circuit);
      if (waiters === undefined) this.#reads.set(circuit, [resolve]);
      else waiters.push(resolve);
      this.#startPump();
    });
  }

  report(circuit: SharedCircuit): void {
    this.#reports.add(circuit);
    this.#startPump();
  }

  used(circuit: SharedCircuit): void {
    if (!this.#sharded || this.#closed) return;
    this.#used.add(circuit);
    if (this.#checkTimer === undefined) this.#checkLater();
  }

  changed(name: string, state: SharedState): void {
    this.#events.emit('change', { circuit: name, state: state.state, epoch: state.epoch, holder: state.holder });
  }

  // Whether a command for `slot` may go out now (any slot's, when undefined): online and connected. Never
  // through a client that is not ready (its offline queue would grow): before the first connection that is
  // simply "not yet"; afterwards an incident of the whole store.
  #sendable(slot?: number): boolean {
    if (
      slot === undefined
        ? this.#closed || (this.#incident !== undefined && !this.#incident.recovering)
        : !this.online(slot)
    ) {
      return false;
    }
    const { status } = this.#client;
    if (status === 'ready') return true;
    if (this.#connectedOnce) this.#fail(new Error(`@staunch/redis: the Redis client is ${status}`));
    return false;
  }

  // Sends `script` for the circuit `name`.
  #send(script: LuaScript, name: string, resetTimeout: number, args: readonly (string | number)[]): Promise<unknown> {
    const { keys, argv } = this.#arguments(name, resetTimeout, args);
    return this.#evaluate(script, keys, argv);
  }

  // A script's four keys, and its arguments: the common ones, its own, the idle expiry.
  #arguments(
    name: string,
    resetTimeout: number,
    args: readonly (string | number)[],
  ): { keys: string[]; argv: (string | number)[] } {
    const circuitKeys = redisCircuitKeys(name, this.options.prefix);
    const { state, lease, failures, processes } = circuitKeys;
    const channel = this.#sharded ? this.#channelOf(clusterSlot(state)) : circuitKeys.channel;
    // The generation a script gives a state hash it finds missing: new for every command, so a state lost
    // and made again never comes back under the generation it had (a random base per store, and a count).
    const generation = `${this.#generationBase}${(++this.#commands).toString(36)}`;
    const argv = [name, channel, resetTimeout, generation, ...args, this.#idleTtl(resetTimeout)];
    return { keys: [state, lease, failures, processes], argv };
  }

  // `work`'s value, or undefined (and an incident) if it fails or Redis takes longer than commandTimeout.
  // `slot`: the Cluster hash slot the command went to, whose node's incident it is (undefined: the store's).
  #timed<T>(work: Promise<T>, slot?: number): Promise<T | undefined> {
    const clock = this.#clock;
    const { commandTimeout } = this.options;
    let answered = false;
    const timer = clock.schedule(commandTimeout, () => {
      // A timer that fires late because this process stalled (GC, a long synchronous task) may find the
      // reply already waiting in the socket. It is read in this turn's I/O phase, which comes after the
      // timers: look again on the next turn's, so that only a reply still missing counts.
      clock.schedule(0, () => {
        if (!answered) this.#fail(new Error(`@staunch/redis: Redis did not answer within ${commandTimeout} ms`), slot);
      });
    });
    return work.then(
      (value) => {
        answered = true;
        clock.cancel(timer);
        this.#answered(slot);
        return value;
      },
      (error: unknown) => {
        answered = true;
        clock.cancel(timer);
        this.#fail(error, slot);
        return undefined;
      },
    );
  }

  // Re-reads every live circuit (a first connection, a new subscription, the end of an incident), or those
  // in `slots` (the end of a node's incident). Nothing is queued up front: #pump walks the circuits a batch
  // at a time, so that no turn does more than a batch's work however many circuits there are. Settles once
  // every one has been re-read (or skipped: its node is in an incident that is not recovering).
  #rereadAll(slots?: Set<number>): Promise<void> {
    if (!this.#sendable()) return Promise.resolve();
    const walk = { circuits: this.#circuits.values(), slots };
    if (slots === undefined) this.#walks = [walk];
    else this.#walks.push(walk);
    return new Promise((resolve) => {
      (this.#readsDone ??= []).push(resolve);
      this.#startPump();
    });
  }

  #startPump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    queueMicrotask(() => void this.#pump());
  }

  // The next batch: re-reads (those asked for, then the circuits of the walks) and failure reports, each
  // kind given at least half of it when both wait, so that neither a recovery nor a burst of failures
  // holds the other up. Circuits whose node is in an incident are skipped (their waiters told): they are
  // re-read when it ends, and their failures were dropped by it.
  #nextBatch(): { readonly batch: BatchEntry[]; readonly waiting: (() => void)[] } {
    const batch: BatchEntry[] = [];
    const waiting: (() => void)[] = [];
    this.#takeReads(batch, waiting, batchSize / 2);
    for (const circuit of this.#reports) {
      if (batch.length === batchSize) break;
      this.#reports.delete(circuit);
      const report = circuit.takeReport();
      if (report !== undefined) batch.push({ circuit, report, sentAt: circuit.generations });
    }
    this.#takeReads(batch, waiting, batchSize);
    return { batch, waiting };
  }

  // Re-reads into `batch` until it holds `limit` commands.
  #takeReads(batch: BatchEntry[], waiting: (() => void)[], limit: number): void {
    for (const [circuit, waiters] of this.#reads) {
      if (batch.length >= limit) return;
      this.#reads.delete(circuit);
      if (waiters !== undefined) waiting.push(...waiters);
      if (this.online(circuit.slot)) batch.push({ circuit, report: undefined, sentAt: circuit.generations });
    }
    while (batch.length < limit) {
      const walk = this.#walks[0];
      if (walk === undefined) break;
      const next = walk.circuits.next();
      if (next.done === true) {
        this.#walks.shift();
        continue;
      }
      const circuit = next.value.deref();
      if (circuit === undefined || (walk.slots !== undefined && !walk.slots.has(circuit.slot))) continue;
      if (!this.online(circuit.slot)) continue;
      // Failures kept from before the first connection go out with it (queued as a report).
      circuit.resume();
      batch.push({ circuit, report: undefined, sentAt: circuit.generations });
    }
  }

  // Sends the background commands a batch at a time, the next once the last is answered: 20,000 circuits
  // re-reading after an incident, or failing in the same turn, make 200 round trips of bounded work each
  // (one write, one timer per batch, counted from when it is written), instead of 20,000 commands and
  // timers at once, whose queue of replies alone outlasts commandTimeout: a false incident.
  async #pump(): Promise<void> {
    for (;;) {
      if (!this.#sendable()) {
        // An incident of the store, or not connected: whoever waits is told; the circuits run on local state.
        // Reports queued go too: an incident has dropped their failures, and those noted before the first
        // connection are queued again by it.
        for (const waiters of this.#reads.values()) if (waiters !== undefined) for (const resolve of waiters) resolve();
        this.#reads.clear();
        this.#walks = [];
        this.#reports.clear();
        break;
      }
      const { batch, waiting } = this.#nextBatch();
      if (batch.length > 0) {
        const replies = await this.#sendBatch(batch);
        batch.forEach(({ circuit, report, sentAt }, i) => {
          const reply = replies[i];
          const shared = reply === undefined ? undefined : parseReply(reply);
          if (report !== undefined) circuit.reported(shared, sentAt);
          else if (shared !== undefined) circuit.apply(shared, false, sentAt);
        });
      }
      for (const resolve of waiting) resolve();
      if (this.#reads.size === 0 && this.#walks.length === 0) this.#settleReads();
      if (batch.length === 0) break;
    }
    this.#pumping = false;
    this.#settleReads();
  }

  #settleReads(): void {
    const done = this.#readsDone;
    this.#readsDone = undefined;
    if (done !== undefined) for (const resolve of done) resolve();
  }

  // Each command's reply, undefined for those that failed (an incident, by #timed). One pipeline (one write,
  // one timer) for a single server; a command alone (a lone failure's report) is sent as it is. A Cluster
  // client writes each command to its slot's node, and each is timed on its own, so that a node that fails
  // is that node's incident alone.
  async #sendBatch(batch: readonly BatchEntry[]): Promise<readonly unknown[]> {
    const client = this.#client;
    const commands = batch.map(({ circuit, report }) => ({
      script: report === undefined ? scripts.read : scripts.report,
      ...this.#arguments(circuit.name, circuit.options.resetTimeout, report ?? []),
    }));
    // NOSCRIPT (a restarted server, SCRIPT FLUSH): that command again, by EVAL.
    const evaluate = (i: number): Promise<unknown> => {
      const { script, keys, argv } = commands[i] as (typeof commands)[number];
      return this.#evaluate(script, keys, argv);
    };
    if (isCluster(client) || batch.length === 1) {
      return Promise.all(batch.map(({ circuit }, i) => this.#timed(evaluate(i), circuit.slot)));
    }
    const pipeline = client.pipeline();
    const loaded = this.#loadedOn('');
    for (const { script, keys, argv } of commands) {
      if (loaded.has(script.sha)) pipeline.evalsha(script.sha, keys.length, ...keys, ...argv);
      else {
        loaded.add(script.sha);
        pipeline.eval(script.source, keys.length, ...keys, ...argv);
      }
    }
    const replies = await this.#timed(
      pipeline.exec().then((results) =>
        Promise.all(
          commands.map((_, i) => {
            const [error, reply] = results?.[i] ?? [new Error('@staunch/redis: no reply in the pipeline')];
            if (error === null) return reply;
            return isNoScript(error) ? evaluate(i) : Promise.reject(error);
          }),
        ),
      ),
    );
    return replies ?? [];
  }

  // The live replicas (those whose breakers are gone are skipped; the registry removes their entries).
  #live(): SharedCircuit[] {
    const live: SharedCircuit[] = [];
    for (const ref of this.#circuits.values()) {
      const circuit = ref.deref();
      if (circuit !== undefined) live.push(circuit);
    }
    return live;
  }

  // The state hash outlives everything that may still refer to it: the window and an open wait plus a lease.
  #idleTtl(resetTimeout: number): number {
    const { idleTimeout, window, leaseTimeout } = this.options;
    return Math.max(idleTimeout, window ?? resetTimeout, resetTimeout + Math.max(resetTimeout, leaseTimeout));
  }

  // The scripts sent to the node serving `key` (a Cluster's, by slot; not yet known: the node '').
  #loadedOn(key: string): Set<string> {
    const client = this.#client;
    const node = isCluster(client) ? (client.slots[clusterSlot(key)]?.[0] ?? '') : '';
    let loaded = this.#loaded.get(node);
    if (loaded === undefined) this.#loaded.set(node, (loaded = new Set()));
    return loaded;
  }

  // EVAL the first time a node's current connection runs a script (Redis caches it), EVALSHA after, so N circuits
  // starting at once send the source once, not N failed EVALSHA and N EVAL. NOSCRIPT (a restarted server,
  // SCRIPT FLUSH) falls back to EVAL.
  async #evaluate(given: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const client = this.#client;
    const script = this.#sharded ? (shardedScripts.get(given) ?? given) : given;
    const loaded = this.#loadedOn(keys[0] ?? '');
    if (!loaded.has(script.sha)) {
      loaded.add(script.sha);
      return client.eval(script.source, keys.length, ...keys, ...args);
    }
    try {
      return await client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  // The client is ready for the first time: report what was noted meanwhile, and check the eviction policy.
  #firstConnection(): void {
    this.#connectedOnce = true;
    for (const circuit of this.#live()) circuit.resume();
    checkEviction(this.#client);
  }

  #subscribe(): Promise<void> {
    if (this.#subscribed !== undefined) return this.#subscribed;
    this.#subscribed = new Promise((resolve) => (this.#onSubscribed = resolve));
    this.#attach();
    return this.#subscribed;
  }

  // Makes the subscriber (unless given), listens to it and subscribes.
  #attach(): void {
    const subscriber = (this.#subscriber ??= this.#sharded
      ? (this.#client as Cluster).duplicate([], { shardedSubscribers: true })
      : this.#client.duplicate());
    subscriber.on(this.#sharded ? 'smessage' : 'message', this.#onMessage);
    subscriber.on('ready', this.#onSubscriberReady);
    subscriber.on('error', this.#onSubscriberError);
    subscriber.on('close', this.#onConnectionLost);
    connectIfLazy(subscriber);
    this.#listen();
  }

  #detachSubscriber(subscriber: RedisClient): void {
    subscriber.removeListener(this.#sharded ? 'smessage' : 'message', this.#onMessage);
    subscriber.removeListener('ready', this.#onSubscriberReady);
    subscriber.removeListener('close', this.#onConnectionLost);
    subscriber.removeListener('error', this.#onSubscriberError);
  }

  // The hash slot of the circuit `name`'s keys on a Cluster (their hash tag); 0 on a single server.
  #slotOf(name: string): number {
    return this.#sharded ? clusterSlot(redisCircuitKeys(name, this.options.prefix).state) : 0;
  }

  // The channel of `slot`'s circuits: `{tag}` puts it in the slot.
  #channelOf(slot: number): string {
    return `${this.options.prefix}{${slotTag(slot)}}:events`;
  }

  // Sharded: the circuit's slot channel is subscribed (if not yet), and the circuit re-read once it is.
  #want(circuit: SharedCircuit): void {
    const channel = this.#channelOf(circuit.slot);
    if (this.#confirmed.has(channel)) return;
    const awaiting = this.#awaiting.get(channel);
    if (awaiting !== undefined) {
      awaiting.push(circuit);
      return;
    }
    this.#awaiting.set(channel, [circuit]);
    this.#channels.add(channel);
    const subscriber = this.#subscriber;
    // Before the first subscription, #listen subscribes every channel and the first sync re-reads all; a
    // node in an incident gets its channels subscribed by its recovery.
    if (!this.#listening || subscriber === undefined || subscriber.status !== 'ready') return;
    if (!this.online(circuit.slot)) return;
    this.#shardSubscribe(subscriber, channel).catch((error: unknown) => {
      // Refused (a node failing, an ACL without the channel): that node's incident, whose recovery asks again.
      if (!this.#closed) this.#fail(error, circuit.slot);
    });
  }

  // SSUBSCRIBE one channel (ioredis wants one slot per command); once confirmed, re-read those waiting.
  async #shardSubscribe(subscriber: RedisClient, channel: string): Promise<void> {
    if (this.#confirmed.has(channel)) return;
    await subscriber.ssubscribe(channel);
    this.#confirmed.add(channel);
    const awaiting = this.#awaiting.get(channel);
    this.#awaiting.delete(channel);
    if (awaiting !== undefined && this.#listening) for (const circuit of awaiting) void this.reread(circuit);
  }

  // SSUBSCRIBE every channel, all within one commandTimeout (a node that hangs never answers, and ioredis
  // leaves one refused with MOVED unsettled): a channel not confirmed by then is its node's incident, whose
  // recovery subscribes it again, while the other nodes' circuits go on sharing.
  async #shardListen(subscriber: RedisClient): Promise<void> {
    const channels = [...this.#channels];
    const refused = new Map<string, unknown>();
    const subscribing = channels.map((channel) =>
      this.#shardSubscribe(subscriber, channel).catch((error: unknown) => {
        refused.set(channel, error);
      }),
    );
    await within(this.#clock, this.options.commandTimeout, Promise.all(subscribing));
    if (this.#closed || subscriber !== this.#subscriber) return;
    for (const channel of channels) {
      if (this.#confirmed.has(channel)) continue;
      const error = refused.get(channel) ?? new Error('@staunch/redis: SSUBSCRIBE unanswered within commandTimeout');
      this.#fail(error, clusterSlot(channel));
    }
  }

  // Sharded: subscribes the channels of `slots` not confirmed (refused or unanswered while their node
  // failed). True once every one is; false if one is refused or unanswered within commandTimeout.
  async #subscribeSlots(slots: Set<number>): Promise<boolean> {
    const subscriber = this.#subscriber;
    if (subscriber === undefined || subscriber.status !== 'ready' || !this.#listening) return false;
    const missing = [...this.#channels].filter(
      (channel) => !this.#confirmed.has(channel) && slots.has(clusterSlot(channel)),
    );
    if (missing.length === 0) return true;
    const subscribing = Promise.all(missing.map((channel) => this.#shardSubscribe(subscriber, channel))).then(
      () => true,
      () => false,
    );
    return (await within(this.#clock, this.options.commandTimeout, subscribing)) === true;
  }

  #checkLater(): void {
    this.#checkTimer = this.#clock.schedule(subscriptionCheckInterval, () => {
      this.#checkTimer = undefined;
      this.#checkSubscriptions();
    });
    (this.#checkTimer as { unref?: () => void }).unref?.();
  }

  // Every interval while circuits are called: one ping per node that serves any of them, SPUBLISHed by
  // the client on a channel of that node's and expected back on the subscription. A node that does not
  // answer is its incident like any command's timeout; a node that answers but whose message never comes
  // back has lost the subscription (a failover moved the slots, a hung node's connection). A node already
  // in an incident is checked by its recovery.
  #checkSubscriptions(): void {
    if (this.#used.size === 0 || this.#closed) return;
    const client = this.#client as Cluster;
    const byNode = new Map<string, string>();
    for (const circuit of this.#used) {
      circuit.unuse();
      if (this.#slotIncidents[circuit.slot] !== undefined) continue;
      const channel = this.#channelOf(circuit.slot);
      const node = client.slots[circuit.slot]?.[0] ?? '';
      if (!byNode.has(node) && this.#confirmed.has(channel)) byNode.set(node, channel);
    }
    this.#used.clear();
    if (this.#incident === undefined && this.#listening && client.status === 'ready') {
      for (const [node, channel] of byNode) {
        void this.#pingChannel(channel).then((heard) => {
          if (heard === false && !this.#closed) this.#lost(node, channel);
        });
      }
    }
    this.#checkLater();
  }

  // Resolves true once the ping SPUBLISHed on `channel` comes back on the subscription; false when Redis
  // answered the SPUBLISH but the message did not come within commandTimeout; undefined when Redis did
  // not answer (#timed has started an incident) or the store closed. One ping per channel at a time.
  #pingChannel(channel: string): Promise<boolean | undefined> {
    const out = this.#pings.get(channel);
    if (out !== undefined) return out.result;
    const clock = this.#clock;
    let timer: TimerHandle | undefined;
    let settle!: (heard: boolean | undefined) => void;
    const result = new Promise<boolean | undefined>((resolve) => (settle = resolve));
    const done = (heard: boolean | undefined): void => {
      if (this.#pings.get(channel)?.result !== result) return;
      this.#pings.delete(channel);
      if (timer !== undefined) clock.cancel(timer);
      settle(heard);
    };
    this.#pings.set(channel, {
      result,
      hear: () => {
        done(true);
      },
      cancel: () => {
        done(undefined);
      },
    });
    const sent = (this.#client as Cluster).spublish(channel, this.#ping);
    void this.#timed(sent, clusterSlot(channel)).then((reply) => {
      if (reply === undefined) done(undefined);
      else if (this.#pings.get(channel)?.result === result) {
        timer = clock.schedule(this.options.commandTimeout, () => {
          done(false);
        });
      }
    });
    return result;
  }

  // Whether the subscriptions work now: a ping on one confirmed channel per node, among the channels of
  // `slots` (a node's incident), or of every slot no node's incident covers (the store's incident).
  async #verify(slots: Set<number> | undefined): Promise<boolean> {
    const client = this.#client as Cluster;
    const byNode = new Map<string, string>();
    for (const channel of this.#confirmed) {
      const slot = clusterSlot(channel);
      if (slots === undefined ? this.#slotIncidents[slot] !== undefined : !slots.has(slot)) continue;
      const node = client.slots[slot]?.[0] ?? '';
      if (!byNode.has(node)) byNode.set(node, channel);
    }
    const heard = await Promise.all([...byNode.values()].map((channel) => this.#pingChannel(channel)));
    return heard.every((answer) => answer === true);
  }

  // The subscription to `node` is lost: its incident (its circuits on local state), and every channel is
  // subscribed again; the incident ends once its channels are and its circuits have been re-read.
  #lost(node: string, channel: string): void {
    this.#fail(new Error(`@staunch/redis: the subscription to the node ${node} is lost`), clusterSlot(channel));
    this.#resubscribe();
  }

  // Sharded: subscribes every channel again, on a new subscriber (the store's own) that asks the cluster
  // where each slot is served now, since an incident may have moved them (a failover), which ioredis's
  // subscriber may not learn until its next command refused.
  #resubscribe(): void {
    this.#listening = false;
    this.#confirmed.clear();
    const subscriber = this.#subscriber as Cluster;
    if (this.#ownsSubscriber) {
      // A new subscriber learns the cluster afresh and subscribes every channel where it is served now.
      this.#detachSubscriber(subscriber);
      subscriber.disconnect();
      this.#subscriber = undefined;
      this.#attach();
    } else {
      subscriber.refreshSlotsCache();
      this.#listen();
    }
  }

  #listen(): void {
    const subscriber = this.#subscriber;
    this.#stopListenRetry();
    // Not before the connection is ready: its 'ready' calls this again. A SUBSCRIBE sent sooner would sit in
    // the offline queue, or be refused outright with enableOfflineQueue: false (a false incident).
    if (subscriber === undefined || this.#closed || subscriber.status !== 'ready') return;
    // Sharded: channel by channel, a channel not subscribed being its node's incident (#shardListen).
    const subscribed = this.#sharded ? this.#shardListen(subscriber) : subscriber.subscribe(this.#channel);
    subscribed.then(
      () => {
        if (this.#closed || subscriber.status !== 'ready' || subscriber !== this.#subscriber) return;
        const first = !this.#listening;
        this.#listening = true;
        this.#listenDelay = 0;
        this.#onSubscribed?.();
        this.#onSubscribed = undefined;
        if (first) this.#connected(true);
      },
      (error: unknown) => {
        if (this.#closed || subscriber !== this.#subscriber) return;
        this.#fail(error);
        // Refused on a connection that stays up (NOPERM): nothing else would ask again.
        if (subscriber.status === 'ready') this.#retryListen();
      },
    );
  }

  // 50 ms, doubling up to the probe interval: soon after the permission is granted, without hammering.
  #retryListen(): void {
    this.#listenDelay = Math.min(probeInterval, this.#listenDelay === 0 ? 50 : this.#listenDelay * 2);
    this.#listenRetry = this.#clock.schedule(this.#listenDelay, () => {
      this.#listenRetry = undefined;
      this.#listen();
    });
    (this.#listenRetry as { unref?: () => void }).unref?.();
  }

  #stopListenRetry(): void {
    if (this.#listenRetry === undefined) return;
    this.#clock.cancel(this.#listenRetry);
    this.#listenRetry = undefined;
  }

  // A connection is (re)established: once the client is ready and the subscription confirmed, the store's
  // incident (if any) is over; a new subscription re-reads every circuit, since messages may have been
  // missed. A node's incident ends by its own probe.
  #connected(resubscribed = false): void {
    if (this.#client.status !== 'ready' || !this.#listening || this.#closed) return;
    const first = !this.#synced;
    this.#synced = true;
    if (this.#incident !== undefined) this.#restore(this.#incident);
    else if (first || resubscribed) void this.#rereadAll();
  }

  // A command succeeded (for `slot`, on a Cluster): Redis is back, if it was gone and the subscription is
  // up; the store's incident ends, and the incident of the command's slot.
  #answered(slot?: number): void {
    if (!this.#listening) return;
    if (this.#incident !== undefined) this.#restore(this.#incident);
    const incident = slot === undefined ? undefined : this.#slotIncidents[slot];
    if (incident !== undefined) this.#restore(incident);
  }

  // A command failed or was too slow, a connection or a subscription was lost: an incident, said once, its
  // circuits on local state. On a Cluster, a command's failure is the incident of the node serving its
  // `slot` (every slot the client knows it for, and the slot itself), not the store's: the other nodes'
  // circuits go on sharing. A slot already in an incident stays in it, whichever node serves it now; while
  // the store's own incident goes on (not recovering), every failure is part of it.
  #fail(error: unknown, slot?: number): void {
    if (this.#closed) return;
    const incident = this.#incident;
    if (!this.#sharded || slot === undefined || (incident !== undefined && !incident.recovering)) {
      if (incident !== undefined) this.#relapse(incident);
      else this.#begin(error, undefined, undefined);
      return;
    }
    const client = this.#client as Cluster;
    const node = client.slots[slot]?.[0] ?? '';
    const nodeIncident = this.#slotIncidents[slot] ?? this.#nodeIncidents.get(node);
    if (nodeIncident === undefined) {
      const slots = new Set<number>([slot]);
      if (node !== '')
        for (let other = 0; other < slotCount; other++) if (client.slots[other]?.[0] === node) slots.add(other);
      this.#begin(error, node, slots);
      return;
    }
    const slots = nodeIncident.slots as Set<number>;
    if (slots.has(slot)) {
      this.#relapse(nodeIncident);
      return;
    }
    // A slot of the node's not known to be so when the incident began: in the same incident, said once.
    slots.add(slot);
    this.#slotIncidents[slot] ??= nodeIncident;
    if (nodeIncident.recovering) this.#relapse(nodeIncident);
    else for (const circuit of this.#live()) if (circuit.slot === slot) circuit.detach();
  }

  // A new incident: its circuits let go of the shared state, the `unavailable` event, and the probe.
  #begin(error: unknown, node: string | undefined, slots: Set<number> | undefined): void {
    const incident: Incident = {
      node,
      slots,
      at: this.#clock.now(),
      probe: undefined,
      recovering: false,
      pinging: false,
    };
    if (node === undefined || slots === undefined) this.#incident = incident;
    else {
      this.#nodeIncidents.set(node, incident);
      // A slot another incident holds (its node failed first, then a failover moved it here) stays there.
      for (const slot of slots) this.#slotIncidents[slot] ??= incident;
    }
    for (const circuit of this.#live()) if (this.#covers(incident, circuit.slot)) circuit.detach();
    this.#events.emit('unavailable', { error, node, slots: sorted(slots) });
    this.#probeLater(incident);
  }

  // The recovery of `incident` failed: the same incident goes on (said once already), its circuits on local
  // state again, probing. An incident not recovering is already so.
  #relapse(incident: Incident): void {
    if (!incident.recovering) return;
    incident.recovering = false;
    for (const circuit of this.#live()) if (this.#covers(incident, circuit.slot)) circuit.detach();
    this.#probeLater(incident);
  }

  // Whether `incident` holds the circuits of `slot`.
  #covers(incident: Incident, slot: number): boolean {
    return incident.node === undefined || this.#slotIncidents[slot] === incident;
  }

  // Whether `incident` is still going on (a new one for the same node would be another).
  #ongoing(incident: Incident): boolean {
    if (this.#closed) return false;
    return incident.node === undefined
      ? this.#incident === incident
      : this.#nodeIncidents.get(incident.node) === incident;
  }

  // Checks every probe interval whether the incident's keys answer: the store's by a PING (a single server's,
  // or a Cluster client's connection, whose own 'ready' usually ends it first), a node's by a command on a
  // key of one of its slots, which only the node serving the slot answers (on a Cluster a PING is answered by
  // any node, even while the circuits' slots are refused).
  #probeLater(incident: Incident): void {
    const clock = this.#clock;
    incident.probe = clock.schedule(probeInterval, () => {
      incident.probe = undefined;
      if (!this.#ongoing(incident) || incident.recovering) return;
      // Reconnecting (its 'ready' ends the incident), or the last probe still unanswered: one at a time.
      if (this.#client.status !== 'ready' || !this.#listening || incident.pinging) {
        this.#probeLater(incident);
        return;
      }
      // Whichever comes first, a timeout or a failed probe, schedules the next; a late answer still counts.
      let retried = false;
      const retry = (): void => {
        if (retried || !this.#ongoing(incident) || incident.recovering) return;
        retried = true;
        this.#probeLater(incident);
      };
      const timer = clock.schedule(this.options.commandTimeout, retry);
      incident.pinging = true;
      const slots = incident.slots;
      const probe =
        slots === undefined
          ? this.#client.ping()
          : this.#client.exists(`${this.options.prefix}{${slotTag(slots.values().next().value as number)}}`);
      probe.then(
        () => {
          incident.pinging = false;
          clock.cancel(timer);
          if (this.#ongoing(incident) && this.#listening) this.#restore(incident);
        },
        () => {
          incident.pinging = false;
          clock.cancel(timer);
          retry();
        },
      );
    });
    // It must not keep a process alive that has nothing else to do.
    (incident.probe as { unref?: () => void }).unref?.();
  }

  #stopProbing(incident: Incident | undefined): void {
    if (incident?.probe === undefined) return;
    this.#clock.cancel(incident.probe);
    incident.probe = undefined;
  }

  // The incident's keys answer: re-read its circuits (every one, or its slots'), then say it is over.
  #restore(incident: Incident): void {
    if (incident.recovering || !this.#ongoing(incident)) return;
    this.#stopProbing(incident);
    incident.recovering = true;
    const { slots } = incident;
    // Sharded: the subscriptions are checked first (a failover may have left them on a node that no longer
    // serves their slots; a node's channels refused while it failed are subscribed again), then the circuits
    // are re-read, so that nothing published meanwhile is missed; and once more a check interval later,
    // since a master hung through a failover still acts as one for a moment when it wakes, then drops its
    // subscribers: the same incident, not a second one.
    const current = (): boolean => this.#ongoing(incident) && incident.recovering;
    const subscribed = async (): Promise<boolean> => {
      if (!this.#sharded) return true;
      if (slots !== undefined && !(await this.#subscribeSlots(slots))) {
        if (current()) this.#relapse(incident);
        return false;
      }
      if (await this.#verify(slots)) return true;
      if (current()) {
        this.#relapse(incident);
        this.#resubscribe();
      }
      return false;
    };
    void (async () => {
      if (!(await subscribed()) || !current()) return;
      await this.#rereadAll(slots);
      if (!current()) return;
      if (this.#sharded) {
        // Held in the probe's place, so that close() cancels it.
        await new Promise<void>((resolve) => {
          incident.probe = this.#clock.schedule(subscriptionCheckInterval, resolve);
          (incident.probe as { unref?: () => void }).unref?.();
        });
        incident.probe = undefined;
        if (!current() || !(await subscribed()) || !current()) return;
      }
      this.#end(incident);
    })();
  }

  #end(incident: Incident): void {
    const { node, slots } = incident;
    if (node === undefined || slots === undefined) this.#incident = undefined;
    else {
      this.#nodeIncidents.delete(node);
      for (const slot of slots) if (this.#slotIncidents[slot] === incident) this.#slotIncidents[slot] = undefined;
    }
    this.#events.emit('restored', { downtime: this.#clock.now() - incident.at, node, slots: sorted(slots) });
  }
}

/** Hash slots in a Redis Cluster. */
const slotCount = 16_384;

function sorted(slots: Set<number> | undefined): readonly number[] | undefined {
  return slots === undefined ? undefined : Object.freeze([...slots].sort((a, b) => a - b));
}

const label = 'redisStore';

function noop(): void {}

function isCluster(client: RedisClient): client is Cluster {
  return (client as Partial<Cluster>).isCluster === true;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function connectIfLazy(connection: RedisClient): void {
  if (connection.status === 'wait') connection.connect().catch(noop);
}

// Keys with a time to live (all of a circuit's) may be evicted under memory pressure by any policy but
// noeviction, which loses a lease or an open state mid-flight: say so once per client, at its first
// connection. A server that refuses INFO (an ACL without it) is not checked.
const checked = new WeakSet<RedisClient>();
function checkEviction(client: RedisClient): void {
  if (checked.has(client)) return;
  checked.add(client);
  client.info('memory').then((info) => {
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    const limit = /^maxmemory:(\d+)/m.exec(info)?.[1];
    if (policy === undefined || policy === 'noeviction' || limit === '0') return;
    process.emitWarning(
      `@staunch/redis: the server's maxmemory-policy is ${policy} with maxmemory ${limit}: under memory ` +
        'pressure it may evict shared circuit state (a trial lease, an open circuit). Use noeviction, or a ' +
        'server of its own for the circuits.',
      { type: 'StaunchWarning', code: 'STAUNCH_REDIS_EVICTION' },
    );
  }, noop);
}

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
