import Redis from 'ioredis';
import { circuitBreaker, type CircuitBreakerPolicy } from '@staunch/core';
import { CircuitBreaker, circuitOf } from '@staunch/decorators';
import { redisCircuitKeys, redisStore, type RedisCircuitStore, type SharedCircuitChangeEvent } from '@staunch/redis';
import { deferred } from '../core/circuit-breaker-helpers';
import { Down, eventually, fail, outcome, sleep, succeed } from './support/circuit-helpers';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis-server';

// Several stores in one test process, each with its own connection and process id, stand in for a
// fleet here (the multi-process tests use real processes); the server is real.

/** Starts an async call through `breaker`, ignoring its outcome. */
function fire(breaker: CircuitBreakerPolicy, fn: () => Promise<string>): void {
  breaker.execute(fn).catch(() => undefined);
}

/** Resolves with the first `change` event of `store` that `match` accepts. */
function nextChange(
  store: RedisCircuitStore,
  match: (event: SharedCircuitChangeEvent) => boolean,
): Promise<SharedCircuitChangeEvent> {
  return new Promise((resolve) => {
    const stop = store.on('change', (event) => {
      if (!match(event)) return;
      stop();
      resolve(event);
    });
  });
}

/** Calls of the evaluation commands the server has answered, from INFO commandstats. */
async function scriptCalls(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval|get|hget|hgetall):calls=(\d+)/gm))
    total += Number(match[1]);
  return total;
}

describeWithRedis('redisStore against a real redis-server', () => {
  let server: RedisServer;
  let admin: Redis;
  const clients: Redis[] = [];
  const stores: RedisCircuitStore[] = [];
  let circuitCount = 0;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const client of clients.splice(0)) {
      if (client.status === 'ready') await client.quit();
      else if (client.status !== 'end') client.disconnect();
    }
  });
  afterAll(async () => {
    await admin.quit();
    await server.stop();
  });

  // Indexable without `!`: each test asks for as many stores as it uses.
  type Stores = RedisCircuitStore[] & Record<0 | 1 | 2, RedisCircuitStore>;

  async function fleet(
    count: number,
    options: { quorum?: number; window?: number; prefix?: string } = {},
  ): Promise<Stores> {
    const made = [];
    for (let i = 0; i < count; i++) {
      const client = new Redis(server.url);
      clients.push(client);
      const store = redisStore(client, { processId: `p${i}`, ...options });
      stores.push(store);
      made.push(store);
    }
    // Before its first connection a store runs on local state alone: wait for it.
    await Promise.all(made.map((store) => store.ready()));
    return made as Stores;
  }

  const uniqueName = (): string => `circuit-${++circuitCount}`;

  it('opens the shared circuit only when failures come from quorum processes', async () => {
    const [a, b, c] = await fleet(3, { quorum: 2 });
    const name = uniqueName();
    const options = { on: Down, threshold: 3, resetTimeout: 60_000, name };
    const [ba, bb, bc] = [a, b, c].map((store) => circuitBreaker({ ...options, store }));
    await Promise.all([a, b, c].map((store) => store.ready()));

    expect([1, 2, 3].map(() => outcome(ba!, fail))).toEqual(['failed', 'failed', 'failed']);
    expect(outcome(ba!, succeed)).toBe('rejected'); // a's own local circuit
    await a.flush();
    const keys = redisCircuitKeys(name);
    expect(await admin.hget(keys.state, 'state')).toBeNull(); // one process alone: still closed
    expect(outcome(bc!, succeed)).toBe('ok');

    const opened = nextChange(c, (event) => event.state === 'open');
    expect(outcome(bb!, fail)).toBe('failed');
    await b.flush();
    expect(await admin.hget(keys.state, 'state')).toBe('open');
    await opened;
    expect(outcome(bc!, succeed)).toBe('rejected');
    expect(bc!.state).toBe('open');
    expect(await admin.hget(keys.state, 'failures')).toBe('4');
  });

  it('pays no round trip on the closed, healthy path', async () => {
    const [a, b] = await fleet(2);
    const name = uniqueName();
    const breakers = [a, b].map((store) => circuitBreaker({ threshold: 3, name, store }));
    await Promise.all([a, b].map((store) => store.ready()));
    const before = await scriptCalls(admin);
    for (let i = 0; i < 10_000; i++) for (const breaker of breakers) breaker.executeSync(succeed);
    await Promise.all(breakers.map((breaker) => breaker.execute(async () => 'ok')));
    expect(await scriptCalls(admin)).toBe(before);
  });

  it('lets exactly halfOpenCalls trial calls through fleet-wide, from the lease holder, then closes everywhere', async () => {
    const stores = await fleet(3, { quorum: 1 });
    const name = uniqueName();
    const options = { on: Down, threshold: 1, resetTimeout: 250, halfOpenCalls: 2, name };
    const breakers = stores.map((store) => circuitBreaker({ ...options, store }));
    await Promise.all(stores.map((store) => store.ready()));
    const opened = stores.map((store) => nextChange(store, (event) => event.state === 'open'));
    expect(outcome(breakers[0]!, fail)).toBe('failed');
    await stores[0].flush();
    await Promise.all(opened);
    expect(breakers.map((breaker) => breaker.state)).toEqual(['open', 'open', 'open']);

    // Every process keeps calling; the trials hang until released, so each one is counted once.
    const gate = deferred();
    const trials: number[] = [];
    const closed = stores.map((store) => nextChange(store, (event) => event.state === 'closed'));
    await eventually(() => {
      breakers.forEach((breaker, index) => {
        fire(breaker, () => {
          trials.push(index);
          return gate.promise;
        });
      });
      return trials.length >= 2;
    }, 'two trial calls');
    for (let i = 0; i < 20; i++) {
      breakers.forEach((breaker, index) => {
        fire(breaker, () => {
          trials.push(index);
          return gate.promise;
        });
      });
      await sleep(5);
    }
    expect(trials).toHaveLength(2);
    expect(new Set(trials).size).toBe(1); // one process holds the lease
    expect(await admin.hget(redisCircuitKeys(name).state, 'leases')).toBe('1');

    gate.resolve('ok');
    await Promise.all(closed);
    expect(breakers.map((breaker) => breaker.state)).toEqual(['closed', 'closed', 'closed']);
    expect(breakers.map((breaker) => outcome(breaker, succeed))).toEqual(['ok', 'ok', 'ok']);
  });

  it('re-opens the shared circuit everywhere when a trial fails', async () => {
    const stores = await fleet(2, { quorum: 1 });
    const name = uniqueName();
    const breakers = stores.map((store) => circuitBreaker({ on: Down, threshold: 1, resetTimeout: 150, name, store }));
    await Promise.all(stores.map((store) => store.ready()));
    const opened = nextChange(stores[1], (event) => event.state === 'open');
    const reopened = stores.map((store) => nextChange(store, (event) => event.state === 'open' && event.epoch === 3));
    expect(outcome(breakers[0]!, fail)).toBe('failed');
    await opened;
    let failedTrials = 0;
    await eventually(() => {
      for (const breaker of breakers) if (outcome(breaker, fail) === 'failed') failedTrials++;
      return failedTrials > 0;
    }, 'a trial call');
    await Promise.all(reopened); // open (1), half-open (2), open again (3)
    expect(failedTrials).toBe(1);
    expect(breakers.map((breaker) => breaker.state)).toEqual(['open', 'open']);
    const state = await admin.hgetall(redisCircuitKeys(name).state);
    expect(state).toMatchObject({ state: 'open', epoch: '3', opens: '2', leases: '1', failures: '1' });
  });

  it('decides the fleet-wide trials by halfOpenFailureRate in the lease holder: a tolerated failure, then closed everywhere', async () => {
    const stores = await fleet(2, { quorum: 1 });
    const name = uniqueName();
    const options = { on: Down, threshold: 1, resetTimeout: 200, halfOpenCalls: 3, halfOpenFailureRate: 0.5, name };
    const breakers = stores.map((store) => circuitBreaker({ ...options, store }));
    await Promise.all(stores.map((store) => store.ready()));
    const opened = stores.map((store) => nextChange(store, (event) => event.state === 'open'));
    expect(outcome(breakers[0]!, fail)).toBe('failed');
    await stores[0].flush();
    await Promise.all(opened);

    // Every process keeps calling until the lease holder runs its three trials, each settled by the test.
    const trials: { process: number; control: ReturnType<typeof deferred> }[] = [];
    await eventually(() => {
      breakers.forEach((breaker, index) => {
        fire(breaker, () => {
          const control = deferred();
          trials.push({ process: index, control });
          return control.promise;
        });
      });
      return trials.length >= 3;
    }, 'three trial calls');
    expect(trials).toHaveLength(3);
    expect(new Set(trials.map((trial) => trial.process)).size).toBe(1);

    const closed = stores.map((store) => nextChange(store, (event) => event.state === 'closed'));
    trials[0]!.control.reject(new Down('one of three'));
    await sleep(20);
    expect(await admin.hget(redisCircuitKeys(name).state, 'state')).toBe('half-open'); // 1/3: below the rate
    trials[1]!.control.resolve('ok');
    trials[2]!.control.resolve('ok');
    await Promise.all(closed);
    expect(breakers.map((breaker) => breaker.state)).toEqual(['closed', 'closed']);
  });

  it('re-opens the shared circuit everywhere once the trials reach halfOpenFailureRate, without waiting for the rest', async () => {
    const stores = await fleet(2, { quorum: 1 });
    const name = uniqueName();
    const options = { on: Down, threshold: 1, resetTimeout: 200, halfOpenCalls: 3, halfOpenFailureRate: 0.5, name };
    const breakers = stores.map((store) => circuitBreaker({ ...options, store }));
    await Promise.all(stores.map((store) => store.ready()));
    const opened = stores.map((store) => nextChange(store, (event) => event.state === 'open'));
    expect(outcome(breakers[0]!, fail)).toBe('failed');
    await stores[0].flush();
    await Promise.all(opened);

    const trials: ReturnType<typeof deferred>[] = [];
    await eventually(() => {
      for (const breaker of breakers) {
        fire(breaker, () => {
          const control = deferred();
          trials.push(control);
          return control.promise;
        });
      }
      return trials.length >= 3;
    }, 'three trial calls');
    const reopened = stores.map((store) => nextChange(store, (event) => event.state === 'open' && event.epoch === 3));
    trials[0]!.reject(new Down('first'));
    trials[1]!.reject(new Down('second')); // 2/3 reach 0.5: re-opened, the third still running
    await Promise.all(reopened);
    expect(breakers.map((breaker) => breaker.state)).toEqual(['open', 'open']);
    trials[2]!.resolve('late');
    await sleep(20);
    expect(await admin.hget(redisCircuitKeys(name).state, 'state')).toBe('open');
  });

  it('hands the trial to another process when the lease holder disappears mid-trial', async () => {
    const stores = await fleet(2, { quorum: 1 });
    const name = uniqueName();
    const breakers = stores.map((store) => circuitBreaker({ on: Down, threshold: 1, resetTimeout: 200, name, store }));
    await Promise.all(stores.map((store) => store.ready()));
    const opened = nextChange(stores[1], (event) => event.state === 'open');
    expect(outcome(breakers[0]!, fail)).toBe('failed');
    await opened;
    // Only the first store's breaker calls until it holds the lease and starts a trial that never ends.
    let firstTrials = 0;
    await eventually(() => {
      fire(breakers[0]!, () => {
        firstTrials++;
        return new Promise<string>(() => undefined);
      });
      return firstTrials === 1;
    }, 'the first trial');
    const leaseKey = redisCircuitKeys(name).lease;
    expect(await admin.get(leaseKey)).toMatch(/^p0#/);
    // The holder goes away without settling; the lease expires by itself and the other process takes it.
    await stores[0].close();
    await clients[0]!.quit();
    let secondTrials = 0;
    await eventually(() => {
      outcome(breakers[1]!, () => {
        secondTrials++;
        return 'ok';
      });
      return secondTrials === 1;
    }, 'a trial by the second process');
    await eventually(async () => (await admin.hget(redisCircuitKeys(name).state, 'state')) === 'closed', 'closed');
    expect(firstTrials).toBe(1);
    expect(await admin.hget(redisCircuitKeys(name).state, 'leases')).toBe('2');
  });

  it('lets failure records expire with the window, and counts only failures inside it', async () => {
    const [a, b] = await fleet(2, { quorum: 2, window: 150 });
    const name = uniqueName();
    const [ba, bb] = [a, b].map((store) =>
      circuitBreaker({ on: Down, threshold: 2, resetTimeout: 10_000, name, store }),
    );
    await Promise.all([a, b].map((store) => store.ready()));
    const keys = redisCircuitKeys(name);
    expect(outcome(ba!, fail)).toBe('failed');
    await a.flush();
    const ttl = await admin.pttl(keys.failures);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(150);
    expect(await admin.pttl(keys.processes)).toBeLessThanOrEqual(150);
    await eventually(async () => (await admin.exists(keys.failures, keys.processes)) === 0, 'expiry', 2000);
    // a's failure has left the window: b's alone is one failure from one process, not enough.
    expect(outcome(bb!, fail)).toBe('failed');
    await b.flush();
    expect(await admin.hget(keys.state, 'state')).toBeNull();
    expect(await admin.hget(keys.state, 'failures')).toBe('2'); // the fleet's counter keeps everything
  });

  it('adds up failures exactly, however they are batched', async () => {
    const stores = await fleet(3, { quorum: 99 });
    const name = uniqueName();
    const breakers = stores.map((store) =>
      circuitBreaker({ on: Down, threshold: 1_000_000, resetTimeout: 60_000, name, store }),
    );
    await Promise.all(stores.map((store) => store.ready()));
    for (let round = 0; round < 50; round++) {
      breakers.forEach((breaker, index) => {
        for (let i = 0; i <= index; i++) outcome(breaker, fail); // 1 + 2 + 3 failures per round
      });
      if (round % 7 === 0) await sleep(1);
    }
    await Promise.all(stores.map((store) => store.flush()));
    expect(await admin.hget(redisCircuitKeys(name).state, 'failures')).toBe(String(50 * 6));
    expect(await admin.zcard(redisCircuitKeys(name).failures)).toBe(50 * 6);
  });

  it('shares one circuit by name between decorated classes', async () => {
    const [store] = await fleet(1, { quorum: 1 });
    const name = uniqueName();
    class Charges {
      @CircuitBreaker({ on: Down, threshold: 2, resetTimeout: 60_000, store: store, name })
      charge(fails: boolean): string {
        return fails ? fail() : 'charged';
      }
    }
    class Refunds {
      @CircuitBreaker({ on: Down, threshold: 2, resetTimeout: 60_000, store: store, name })
      refund(): string {
        return 'refunded';
      }
    }
    const charges = new Charges();
    const refunds = new Refunds();
    expect(() => charges.charge(true)).toThrow(Down);
    expect(() => charges.charge(true)).toThrow(Down);
    expect(() => refunds.refund()).toThrow(/circuit/i);
    expect(circuitOf(refunds, 'refund').state).toBe('open');
    await store.flush();
    expect(await admin.hget(redisCircuitKeys(name).state, 'state')).toBe('open');
  });

  it('rejects bad options when the class is defined, naming the decorator, the method and the option', async () => {
    const [store] = await fleet(1);
    const name = uniqueName();
    circuitBreaker({ threshold: 2, resetTimeout: 1000, name, store: store });
    expect(() => {
      class Mismatched {
        @CircuitBreaker({ threshold: 3, resetTimeout: 1000, name, store: store })
        call(): void {}
      }
      return Mismatched;
    }).toThrow(/@CircuitBreaker.*call.*`threshold` must be 2/);
    circuitBreaker({ halfOpenCalls: 4, halfOpenFailureRate: 0.5, name: `${name}-rate`, store });
    expect(() => circuitBreaker({ halfOpenCalls: 4, name: `${name}-rate`, store })).toThrow(
      /`halfOpenFailureRate` must be 0.5, as every breaker of this shared circuit \(they must agree\), got undefined/,
    );
    expect(() => redisStore(JSON.parse('{}') as Redis)).toThrow(/redisStore: `client` must be an ioredis client/);
    expect(() => redisStore(clients[0]!, { quorum: 0 })).toThrow(/redisStore: `quorum` must be an integer >= 1/);
    expect(() => redisStore(clients[0]!, { window: -1 })).toThrow(/redisStore: `window` must be/);
    expect(() => redisStore(clients[0]!, { processId: 'a#b' })).toThrow(/`processId`/);
  });

  it('leaves its circuits running as local circuits once closed', async () => {
    const [a, b] = await fleet(2, { quorum: 1 });
    const name = uniqueName();
    const [ba, bb] = [a, b].map((store) => circuitBreaker({ on: Down, threshold: 1, resetTimeout: 100, name, store }));
    const opened = nextChange(b, (event) => event.state === 'open');
    expect(outcome(ba!, fail)).toBe('failed');
    await opened;
    await b.close();
    // No lease to ask for any more: b's own circuit half-opens after resetTimeout and closes on a success.
    await eventually(() => outcome(bb!, succeed) === 'ok', 'a local trial in b');
    expect(bb!.state).toBe('closed');
    expect(await admin.hget(redisCircuitKeys(name).state, 'state')).toBe('open'); // the fleet's circuit is untouched
  });

  it('gives the same store for the same client and settings, so it can be written in every decorator', async () => {
    const client = new Redis(server.url);
    clients.push(client);
    const store = redisStore(client, { quorum: 3 });
    stores.push(store);
    expect(redisStore(client, { quorum: 3 })).toBe(store);
    const other = redisStore(client, { quorum: 2 });
    stores.push(other);
    expect(other).not.toBe(store);
    await store.close();
    const fresh = redisStore(client, { quorum: 3 });
    stores.push(fresh);
    expect(fresh).not.toBe(store); // a closed store is forgotten
  });

  it('recovers when resetTimeout is 0 or calls come further apart than resetTimeout', async () => {
    for (const [resetTimeout, gap] of [
      [0, 0],
      [30, 120],
    ] as const) {
      const [store] = await fleet(1, { quorum: 1 });
      const name = uniqueName();
      const breaker = circuitBreaker({ on: Down, threshold: 1, resetTimeout, name, store });
      const opened = nextChange(store, (event) => event.state === 'open');
      outcome(breaker, fail);
      await opened;
      // The call that asks for the lease is rejected; the lease outlives the gap, so the next one is the trial.
      const results: string[] = [];
      for (let call = 0; call < 4 && results.at(-1) !== 'ok'; call++) {
        await sleep(gap + 20);
        results.push(outcome(breaker, succeed));
      }
      expect(results.at(-1)).toBe('ok');
      expect(results.length).toBeLessThanOrEqual(2);
      await eventually(async () => (await admin.hget(redisCircuitKeys(name).state, 'state')) === 'closed', 'closed');
    }
  });

  it('starts over when the shared state is lost while connected (FLUSHDB, eviction)', async () => {
    const [a, b] = await fleet(2, { quorum: 1 });
    const name = uniqueName();
    const [ba, bb] = [a, b].map((store) => circuitBreaker({ on: Down, threshold: 1, resetTimeout: 100, name, store }));
    const opened = nextChange(b, (event) => event.state === 'open');
    outcome(ba!, fail);
    await opened;
    await admin.flushdb();
    // Epochs start again from 0 under a new generation: the replicas accept the state they find.
    await eventually(() => outcome(bb!, succeed) === 'ok', 'b to call again');
    await eventually(() => outcome(ba!, succeed) === 'ok', 'a to call again');
    outcome(ba!, fail);
    await eventually(() => bb!.state === 'open', 'b to see the next opening');
  });

  it('never lets two stores of one process share a lease', async () => {
    const clientsOfOneProcess = [new Redis(server.url), new Redis(server.url)];
    clients.push(...clientsOfOneProcess);
    const pair = clientsOfOneProcess.map((client) => redisStore(client, { processId: 'same', quorum: 1 }));
    stores.push(...pair);
    await Promise.all(pair.map((store) => store.ready()));
    const name = uniqueName();
    const breakers = pair.map((store) => circuitBreaker({ on: Down, threshold: 1, resetTimeout: 100, name, store }));
    const opened = nextChange(pair[1]!, (event) => event.state === 'open');
    outcome(breakers[0]!, fail);
    await opened;
    let trials = 0;
    const hang = (): Promise<string> => {
      trials++;
      return new Promise<string>(() => undefined);
    };
    await eventually(() => {
      for (const breaker of breakers) fire(breaker, hang);
      return trials > 0;
    }, 'a trial');
    for (let i = 0; i < 20; i++) {
      for (const breaker of breakers) fire(breaker, hang);
      await sleep(5);
    }
    expect(trials).toBe(1);
  });

  it('accepts fractional windows and timeouts (Redis wants whole milliseconds)', async () => {
    const [store] = await fleet(1, { quorum: 1, window: 150.5 });
    const name = uniqueName();
    const breaker = circuitBreaker({ on: Down, threshold: 1, resetTimeout: 100.5, name, store });
    const unavailable: unknown[] = [];
    store.on('unavailable', ({ error }) => unavailable.push(error));
    const opened = nextChange(store, (event) => event.state === 'open');
    outcome(breaker, fail);
    await opened;
    await eventually(() => outcome(breaker, succeed) === 'ok', 'the trial');
    expect(unavailable).toEqual([]);
  });

  it('names keyed circuits by key in a store of named circuits, and wants the name', async () => {
    const [store] = await fleet(1, { quorum: 1 });
    const name = uniqueName();
    class Hosts {
      @CircuitBreaker<Hosts, [string, boolean]>({ on: Down, threshold: 1, store, name, key: (_self, [host]) => host })
      get(_host: string, fails: boolean): string {
        return fails ? fail() : 'ok';
      }
    }
    const hosts = new Hosts();
    expect(() => hosts.get('a.example', true)).toThrow(Down);
    expect(hosts.get('b.example', false)).toBe('ok'); // another key, another circuit
    await store.flush();
    expect(await admin.hget(redisCircuitKeys(`${name}[a.example]`).state, 'state')).toBe('open');
    expect(await admin.hget(redisCircuitKeys(`${name}[b.example]`).state, 'state')).toBeNull();
    expect(() => {
      class Unnamed {
        @CircuitBreaker({ threshold: 1, store })
        call(): void {}
      }
      return Unnamed;
    }).toThrow(/@CircuitBreaker.*call.*`name` must be given with a store of named circuits/);
    expect(() => {
      class PerInstance {
        @CircuitBreaker({ threshold: 1, store, name, scope: 'instance' })
        call(): void {}
      }
      return PerInstance;
    }).toThrow(/`scope` must be 'class' or a `key` with a store of named circuits/);
  });

  it('leaves nothing in Redis for a circuit that never failed', async () => {
    const [store] = await fleet(1);
    const name = uniqueName();
    const breaker = circuitBreaker({ on: Down, threshold: 1, name, store });
    await store.ready(); // reads the shared state
    for (let i = 0; i < 100; i++) outcome(breaker, succeed);
    expect(await admin.keys(`*{${name}}*`)).toEqual([]);
  });

  it('waits out its own overdue lease without asking Redis on every call', async () => {
    const client = new Redis(server.url);
    clients.push(client);
    const store = redisStore(client, { processId: 'hung', quorum: 1, leaseTimeout: 1000 });
    stores.push(store);
    await store.ready();
    const name = uniqueName();
    const breaker = circuitBreaker({ on: Down, threshold: 1, resetTimeout: 100, name, store });
    const opened = nextChange(store, (event) => event.state === 'open');
    outcome(breaker, fail);
    await opened;
    let trials = 0;
    await eventually(() => {
      fire(breaker, () => {
        trials++;
        return new Promise<string>(() => undefined); // hangs past resetTimeout: overdue, but the lease lives on
      });
      return trials === 1;
    }, 'the trial');
    const reopened: string[] = [];
    breaker.on('opened', ({ reason }) => reopened.push(reason));
    await sleep(150);
    const before = await scriptCalls(admin);
    for (let i = 0; i < 100; i++) {
      fire(breaker, async () => 'never runs');
      await sleep(3);
    }
    expect(trials).toBe(1);
    expect((await scriptCalls(admin)) - before).toBeLessThanOrEqual(3);
    expect(reopened).toEqual(['shared']); // its overdue trial period ended: open again, and said so
  });

  it("gives a local circuit open on its own its longer wait back when the fleet's closes", async () => {
    const [a, b] = await fleet(2, { quorum: 1 });
    const name = uniqueName();
    const resetTimeout = 400;
    const [ba, bb] = [a, b].map((store) => circuitBreaker({ on: Down, threshold: 1, resetTimeout, name, store }));
    const opened = nextChange(a, (event) => event.state === 'open');
    outcome(bb!, fail); // the fleet's circuit opens
    await opened;
    ba!.reset(); // a lets go of the fleet's state...
    await sleep(250);
    // performance.now(): the breakers' clock (the wall clock may be slewed meanwhile, off by a few ms).
    // Read before the failing call, so the measured wait can only be longer than the breaker's own.
    const localOpenedAt = performance.now();
    outcome(ba!, fail); // ...and trips on its own, late: its wait ends after the fleet's
    await a.flush();
    const closed = nextChange(a, (event) => event.state === 'closed');
    await eventually(() => outcome(bb!, succeed) === 'ok', "b's trial");
    await closed;
    if (performance.now() - localOpenedAt < resetTimeout - 50) expect(outcome(ba!, succeed)).toBe('rejected');
    await eventually(() => outcome(ba!, succeed) === 'ok', "a's own wait to end");
    expect(performance.now() - localOpenedAt).toBeGreaterThanOrEqual(resetTimeout - 5);
  });

  it("emits each process's breaker events for the fleet's changes, with reason 'shared'", async () => {
    const [a, b] = await fleet(2, { quorum: 1 });
    const name = uniqueName();
    const [ba, bb] = [a, b].map((store) => circuitBreaker({ on: Down, threshold: 1, resetTimeout: 100, name, store }));
    const seen: string[] = [];
    bb!.on('opened', ({ reason }) => seen.push(`opened:${reason}`));
    bb!.on('closed', ({ reason }) => seen.push(`closed:${reason}`));
    const closed = nextChange(b, (event) => event.state === 'closed');
    outcome(ba!, fail);
    await eventually(() => seen.length === 1, 'the opening in b');
    await eventually(() => outcome(ba!, succeed) === 'ok', "a's trial");
    await closed;
    expect(seen).toEqual(['opened:shared', 'closed:shared']);
  });

  it('namespaces every key under the prefix', async () => {
    const [store] = await fleet(1, { quorum: 1, prefix: 'tenant-a:' });
    const name = uniqueName();
    const breaker = circuitBreaker({ on: Down, threshold: 1, name, store: store });
    await store.ready();
    outcome(breaker, fail);
    await store.flush();
    const keys = await admin.keys(`*{${name}}*`);
    expect(keys.sort()).toEqual([`tenant-a:{${name}}`]);
  });
});
