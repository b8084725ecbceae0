import {
  getDefaultClock,
  type CircuitSnapshot,
  type CircuitStateName,
  type CircuitStore,
  type ResolvedCircuitBreakerOptions,
} from '@staunch/core';
import { randomBytes } from 'node:crypto';
import { scripts } from './scripts.js';
import type { CircuitLink, SharedState } from './shared-state.js';

type Watcher = (from: CircuitSnapshot, to: CircuitSnapshot) => void;

const closedSnapshot: CircuitSnapshot = Object.freeze({ state: 'closed', since: 0, trials: 0, successes: 0, epoch: 0 });

// The trial lease this process holds: its token, the half-open epoch it was granted for, and until
// when (local clock) trials may start. Counted from when the request was sent, so it ends no later
// than the key's own expiry on the server.
interface Lease {
  readonly token: string;
  readonly epoch: number;
  readonly validUntil: number;
}

/**
 * One shared circuit's replica in this process: the {@link CircuitStore} its
 * breakers read on every call. The snapshot is local and read without I/O; the
 * shared state reaches it from pub/sub and script replies, and the breaker's
 * own transitions reach Redis in the background.
 *
 * While the shared circuit is open the replica holds the local snapshot open
 * (`held`): leaving it needs the trial lease, which is asked for when a call
 * finds the wait over. Everything else (the local failure record, local trips
 * and their local trials, `isolate()`, `reset()`) is the breaker's own.
 */
export class SharedCircuit implements CircuitStore {
  readonly name: string;
  readonly options: ResolvedCircuitBreakerOptions;
  /** The Redis Cluster hash slot of its keys (0 on a single server): its health is that of the slot. */
  readonly slot: number;
  readonly #link: CircuitLink;
  #snapshot: CircuitSnapshot = closedSnapshot;
  #used = false;
  // True while a non-closed snapshot was imposed by the shared circuit.
  #held = false;
  // When the fleet's opening found the local circuit open on its own since this time (and waiting longer):
  // a fleet closing before that wait is over gives the local circuit back, still open.
  #ownOpenSince: number | undefined;
  // The newest shared epoch applied, within #generation; -1 after an incident, so that a resync accepts
  // whatever Redis says. A new generation (the state was lost) starts over.
  #known = -1;
  #knownState = '';
  #generation = '';
  // Counts generation changes: a reply to a request sent before the latest one describes the state before
  // it (a read made before the hash existed says ''), so it cannot change the generation back.
  #generations = 0;
  #lease: Lease | undefined;
  // The token of the lease request in flight, if any (one at a time), and of the latest lease held:
  // the fleet's messages about either are this process's own news, arriving late.
  #asking: string | undefined;
  #lastToken = '';
  // Failures not yet reported: a count, never a queue, so an outage cannot grow it past a number.
  #pending = 0;
  // When the first of them was noted, while the store had never been connected: they are reported once it
  // is, unless they are older than the window by then.
  #pendingSince = 0;
  #reporting = false;
  #drained: (() => void)[] | undefined;
  // Held weakly: a breaker keeps its own watcher alive, so a breaker nobody uses any more can be collected.
  #watchers: WeakRef<Watcher>[] | undefined;
  // The generation a message announced and a re-read was sent for: its reply is awaited, not stale.
  #expected: string | undefined;
  // What the last `change` event said, so that a re-read finding the same state is no news.
  #reported = '/0/closed';

  constructor(name: string, options: ResolvedCircuitBreakerOptions, link: CircuitLink, slot = 0) {
    this.name = name;
    this.options = options;
    this.slot = slot;
    this.#link = link;
  }

  read(): CircuitSnapshot {
    // In use: the store checks its subscription to this circuit's node while circuits there are (one
    // branch per call; the store is told on the first call after each check).
    if (!this.#used) {
      this.#used = true;
      this.#link.used(this);
    }
    return this.#snapshot;
  }

  /** The store has checked the subscription: the next call says so again. */
  unuse(): void {
    this.#used = false;
  }

  compareAndSet(expected: CircuitSnapshot, next: CircuitSnapshot): boolean {
    if (this.#snapshot !== expected) return false;
    // New trials in place of overdue ones need a new lease: at most halfOpenCalls trials per lease.
    const renewal = expected.state === 'half-open' && next.state === 'half-open' && next.epoch !== expected.epoch;
    if (this.#held && this.#needsLease(expected, next) && (renewal || !this.#hasLease())) {
      this.#waitForLease(expected);
      return false;
    }
    this.#snapshot = next;
    if (this.#held) this.#leftHeld(expected, next);
    return true;
  }

  watch(listener: Watcher): () => void {
    (this.#watchers ??= []).push(new WeakRef(listener));
    return () => {
      this.#watchers = this.#watchers?.filter((watcher) => watcher.deref() !== listener);
    };
  }

  recordFailure(): void {
    const link = this.#link;
    // During an incident failures are dropped; before the first connection they are kept, since there is
    // nothing stale to replay (a short-lived job, a crash-looping worker would never count otherwise).
    const online = link.online(this.slot);
    if (!online && link.connected) return;
    // The first failure of a burst queues the circuit's report with the store, which sends it once the
    // turn's other work is done: one report carries the whole burst.
    if (++this.#pending === 1 && !this.#reporting) {
      if (!link.connected || !online) {
        this.#pendingSince = this.#now();
        return;
      }
      link.report(this);
    }
  }

  /**
   * A transition published by the fleet. One from another generation than
   * this replica's may be a late message about state since lost: re-read
   * instead of trusting it (unless the replica knows no generation yet).
   */
  hear(shared: SharedState): void {
    if (shared.generation === this.#generation || this.#generation === '') {
      this.apply(shared);
    } else {
      this.#expected = shared.generation;
      void this.sync();
    }
  }

  /**
   * Applies a shared state learned from Redis, unless it is older than what
   * this replica has seen. `rewait` re-reads the wait even for a state already
   * applied (a refused lease request has just shortened it to 1 ms). `sentAt`
   * is the generation count when the request that got this reply was sent.
   */
  apply(shared: SharedState, rewait = false, sentAt = this.#generations): void {
    // During an incident the local circuit decides alone, even if a message still gets through.
    if (!this.#link.online(this.slot)) return;
    const newGeneration = shared.generation !== this.#generation;
    if (newGeneration) {
      if (sentAt < this.#generations && shared.generation !== this.#expected) return;
      if (shared.generation === this.#expected) this.#expected = undefined;
      this.#generation = shared.generation;
      this.#generations++;
    } else if (shared.epoch < this.#known) {
      return;
    }
    // A new generation with the same epoch and state (the hash was just made) is no news.
    const fresh = shared.epoch !== this.#known || (newGeneration && shared.state !== this.#knownState);
    this.#known = shared.epoch;
    this.#knownState = shared.state;
    const own = shared.holder !== '' && (shared.holder === this.#lastToken || shared.holder === this.#asking);
    // This process's own lease: its grant is handled by the request's reply. But a refused request may find
    // its own earlier lease still there (trials overdue): then wait for that lease to expire, like any other.
    if (own && !rewait) return;
    const news = `${shared.generation}/${shared.epoch}/${shared.state}`;
    if (fresh && news !== this.#reported) {
      this.#reported = news;
      this.#link.changed(this.name, shared);
    }
    if (this.#snapshot.state === 'isolated') return; // held open by hand: stays so until reset()
    this.#lease = undefined;
    if (shared.state === 'closed') {
      if (this.#held) this.#release();
    } else if (fresh || rewait || !this.#held) {
      // Open, or half-open with trials elsewhere: wait until trials may start, or the lease ends. A local
      // circuit already open on its own keeps its wait if that is longer: the fleet only makes it fail faster.
      const wait = rewait ? Math.max(1, shared.remaining) : shared.remaining;
      let since = this.#now() - this.options.resetTimeout + wait;
      if (!this.#held && this.#snapshot.state === 'open' && this.#snapshot.since > since) {
        this.#ownOpenSince = this.#snapshot.since;
      }
      if (this.#ownOpenSince !== undefined) since = Math.max(since, this.#ownOpenSince);
      this.#held = true;
      this.#impose('open', since);
    }
  }

  // The fleet's circuit closed while holding this one: closed too, unless it was open on its own and its
  // own wait is not over yet.
  #release(): void {
    const ownSince = this.#ownOpenSince;
    this.#held = false;
    this.#ownOpenSince = undefined;
    const now = this.#now();
    if (ownSince !== undefined && now - ownSince < this.options.resetTimeout) this.#impose('open', ownSince);
    else this.#impose('closed', now);
  }

  /** Reads the shared state from Redis (paced with the store's other re-reads) and applies it. */
  sync(): Promise<void> {
    return this.#link.reread(this);
  }

  /** Counts generation changes: a re-read remembers it when sent, and gives it back to {@link apply}. */
  get generations(): number {
    return this.#generations;
  }

  /**
   * The store is connected and online: report the failures noted before its first connection, unless
   * they are older than the window by now.
   */
  resume(): void {
    if (this.#pending === 0) return;
    if (this.#now() - this.#pendingSince > this.#window()) {
      this.#pending = 0;
      this.#settleDrained();
    } else {
      this.#report();
    }
  }

  /** Redis is unreachable or slow: from now on the local circuit decides alone, from where it is. */
  detach(): void {
    this.#held = false;
    this.#ownOpenSince = undefined;
    this.#lease = undefined;
    if (this.#link.connected) this.#pending = 0;
    this.#known = -1;
    this.#knownState = '';
    this.#settleDrained();
  }

  /** Resolves once every failure noted so far has been reported (or dropped by an incident). */
  drained(): Promise<void> {
    if (this.#pending === 0 && !this.#reporting) return Promise.resolve();
    return new Promise((resolve) => (this.#drained ??= []).push(resolve));
  }

  // Leaving a held open state (its first trial, a further trial, or new trials in place of overdue
  // ones) needs the fleet's lease; trial outcomes, isolate() and reset() do not.
  #needsLease(from: CircuitSnapshot, to: CircuitSnapshot): boolean {
    if (to.state !== 'half-open') return false;
    return from.state === 'open' || to.trials > from.trials || to.epoch !== from.epoch;
  }

  #hasLease(): boolean {
    const lease = this.#lease;
    return lease !== undefined && this.#now() < lease.validUntil;
  }

  // Rejects calls for 1 ms more (retryAfter 1) and asks for the lease; the reply moves the wait.
  #waitForLease(from: CircuitSnapshot): void {
    const now = this.#now();
    this.#lease = undefined;
    this.#replace('open', now - this.options.resetTimeout + 1, from.state === 'open' ? from.epoch : undefined);
    if (from.state === 'half-open') {
      // Its trials are over here (overdue, or the lease ran out): open again, told once the breaker's
      // compare-and-set has returned, not from inside it.
      const to = this.#snapshot;
      queueMicrotask(() => {
        this.#notify(from, to);
      });
    }
    if (this.#asking !== undefined || !this.#link.online(this.slot)) return;
    // Unique per request: two stores of one process, or a restarted process, never mistake another's lease.
    const token = (this.#asking = `${this.#link.processId}#${randomBytes(6).toString('hex')}`);
    const { resetTimeout } = this.options;
    const ttl = Math.max(resetTimeout, this.#link.leaseTimeout);
    const sentAt = this.#generations;
    void this.#link.run(scripts.acquire, this, resetTimeout, [token, ttl]).then((shared) => {
      this.#asking = undefined;
      if (shared === undefined) return;
      const granted = shared.holder === token;
      // A lease no longer wanted (reset, isolated, an incident meanwhile) is left to expire, but known as own.
      if (granted) this.#lastToken = token;
      if (!this.#held) return;
      if (!granted) {
        this.apply(shared, true, sentAt);
        return;
      }
      // A grant was just written: its generation is the current one.
      if (shared.generation !== this.#generation) {
        this.#generation = shared.generation;
        this.#generations++;
        this.#known = shared.epoch;
      } else {
        this.#known = Math.max(this.#known, shared.epoch);
      }
      this.#lease = { token, epoch: shared.epoch, validUntil: now + ttl };
      this.#link.changed(this.name, shared);
      // Due at once: the next call becomes the first trial.
      if (this.#snapshot.state === 'open') this.#replace('open', this.#now() - resetTimeout, this.#snapshot.epoch);
    });
  }

  // A held circuit left open by a transition the breaker made: report trial outcomes to the fleet.
  #leftHeld(from: CircuitSnapshot, to: CircuitSnapshot): void {
    if (to.state === 'half-open') return;
    const lease = this.#lease;
    if (from.state === 'half-open' && (to.state === 'closed' || to.state === 'open') && lease !== undefined) {
      this.#lease = undefined;
      const outcome = to.state;
      const sentAt = this.#generations;
      void this.#link
        .run(scripts.settle, this, this.options.resetTimeout, [lease.token, lease.epoch, outcome])
        .then((shared) => {
          if (shared !== undefined) this.apply(shared, false, sentAt);
        });
    }
    // Closed by its trials, or by hand: the local circuit is its own again. Re-opened by a trial: still held.
    if (to.state !== 'open' || from.state !== 'half-open') {
      this.#held = false;
      this.#ownOpenSince = undefined;
    }
  }

  #report(): void {
    const link = this.#link;
    if (this.#pending === 0 || this.#reporting || !link.online(this.slot) || !link.connected) return;
    link.report(this);
  }

  /**
   * The store sends this circuit's report now: the report script's own arguments, carrying every failure
   * noted so far, or `undefined` when there is none to send (none left, one in flight, or offline).
   */
  takeReport(): readonly (string | number)[] | undefined {
    const count = this.#pending;
    const link = this.#link;
    if (count === 0 || this.#reporting || !link.online(this.slot) || !link.connected) return undefined;
    this.#pending = 0;
    this.#reporting = true;
    const { threshold } = this.options;
    return [link.processId, count, this.#window(), threshold, link.quorum];
  }

  /**
   * Redis answered the report {@link takeReport} gave (`undefined`: it failed, and the store handles the
   * incident). `sentAt`: the generation count when it was sent. Failures noted meanwhile are reported next.
   */
  reported(shared: SharedState | undefined, sentAt: number): void {
    this.#reporting = false;
    if (shared !== undefined) this.apply(shared, false, sentAt);
    if (this.#pending > 0) this.#report();
    else this.#settleDrained();
  }

  #window(): number {
    return this.#link.window ?? Math.max(1, this.options.resetTimeout);
  }

  #settleDrained(): void {
    if (this.#reporting || this.#pending > 0) return;
    const waiting = this.#drained;
    this.#drained = undefined;
    if (waiting !== undefined) for (const resolve of waiting) resolve();
  }

  // A change the fleet made: the new snapshot, then the breakers that watch are told (for their events).
  #impose(state: CircuitStateName, since: number): void {
    const from = this.#snapshot;
    this.#replace(state, since);
    this.#notify(from, this.#snapshot);
  }

  // Tells the watching breakers; one that throws must not stop the others, nor the replica's own work.
  #notify(from: CircuitSnapshot, to: CircuitSnapshot): void {
    const watchers = this.#watchers;
    if (watchers === undefined) return;
    let gone = false;
    for (const ref of watchers) {
      const watcher = ref.deref();
      if (watcher === undefined) {
        gone = true;
        continue;
      }
      try {
        watcher(from, to);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    if (gone) this.#watchers = watchers.filter((ref) => ref.deref() !== undefined);
  }

  // A new local snapshot, a new local period (epoch) unless `epoch` keeps the current one.
  #replace(state: CircuitStateName, since: number, epoch = this.#snapshot.epoch + 1): void {
    this.#snapshot = Object.freeze({ state, since, trials: 0, successes: 0, epoch });
  }

  #now(): number {
    return (this.options.clock ?? getDefaultClock()).now();
  }
}
