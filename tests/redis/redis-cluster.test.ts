import Redis, { type Cluster } from 'ioredis';
import { circuitBreaker, type CircuitBreakerPolicy } from '@staunch/core';
import { redisCircuitKeys, redisStore, type RedisCircuitStore, type RedisStoreEvents } from '@staunch/redis';
import { documentedAclRules } from './support/documented-acl';
import { Down, eventually, fail, outcome, sleep, succeed } from './support/circuit-helpers';
import { describeWithRedis } from './support/redis-server';
import { startRedisCluster, type ClusterNode, type RedisCluster } from './support/redis-cluster';
import { clusterSlot } from '../../packages/redis/src/cluster-slot';

const noop = (): void => undefined;

// A real Redis Cluster, 3 masters and 3 replicas, started once for this file. Several stores in this
// process stand in for a fleet (each with its own Cluster client and process id).

type Log = { [K in keyof RedisStoreEvents]: RedisStoreEvents[K][] };

describeWithRedis(
  'redisStore on a Redis Cluster',
  () => {
    let cluster: RedisCluster;
    const clients: Cluster[] = [];
    const stores: RedisCircuitStore[] = [];
    let circuitCount = 0;

    beforeAll(async () => {
      cluster = await startRedisCluster();
    });
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((store) => store.close()));
      for (const client of clients.splice(0)) client.disconnect();
    });
    afterAll(async () => {
      await cluster.stop();
    });

    function fleet(count: number, quorum = 2): { stores: RedisCircuitStore[]; logs: Log[] } {
      const logs: Log[] = [];
      const made: RedisCircuitStore[] = [];
      for (let i = 0; i < count; i++) {
        const client = cluster.client({ clusterRetryStrategy: () => 100 });
        client.on('error', () => undefined);
        clients.push(client);
        const store = redisStore(client, { processId: `c${i}`, quorum, leaseTimeout: 1 });
        const log: Log = { unavailable: [], restored: [], change: [] };
        store.on('unavailable', (event) => log.unavailable.push(event));
        store.on('restored', (event) => log.restored.push(event));
        stores.push(store);
        made.push(store);
        logs.push(log);
      }
      return { stores: made, logs };
    }

    const uniqueName = (): string => `cluster-${++circuitCount}`;
    const names = (count: number): string[] => Array.from({ length: count }, uniqueName);

    it('trips, leases and closes a shared circuit across processes, whichever master holds it', async () => {
      const { stores: made, logs } = fleet(2);
      // One circuit per master, at least: names until every master holds one.
      const names: string[] = [];
      const masters = new Set<number>();
      while (masters.size < 3) {
        const name = uniqueName();
        names.push(name);
        masters.add((await cluster.nodeOf(redisCircuitKeys(name).state)).server.port);
      }
      const breakers = names.map((name) =>
        made.map((store) => circuitBreaker({ on: Down, threshold: 2, resetTimeout: 200, name, store })),
      );
      await Promise.all(made.map((store) => store.ready()));
      for (const [a, b] of breakers as [CircuitBreakerPolicy, CircuitBreakerPolicy][]) {
        outcome(a, fail);
        outcome(b, fail);
      }
      await eventually(
        () => breakers.every((pair) => pair.every((breaker) => breaker.state === 'open')),
        'every shared circuit to open in both processes',
      );
      await sleep(200);
      for (const pair of breakers) {
        await eventually(() => pair.some((breaker) => outcome(breaker, succeed) === 'ok'), 'a trial to succeed');
      }
      await eventually(
        () => breakers.every((pair) => pair.every((breaker) => breaker.state === 'closed')),
        'every shared circuit to close in both processes',
      );
      expect(logs.map((log) => log.unavailable.length)).toEqual([0, 0]);
    });

    it("delivers a transition by the circuit's own node, whichever other nodes hang", async () => {
      // quorum 1: the second process trips a circuit alone, so the first learns of it by pub/sub only.
      const { stores: made, logs } = fleet(2, 1);
      const masters = await cluster.masters();
      // A circuit per master; for each, every other node hangs (the subscriber of plain pub/sub sits on
      // one node of ioredis's choosing: at most one of the three rounds could pass without sharding).
      for (const home of masters) {
        let name = uniqueName();
        while ((await cluster.nodeOf(redisCircuitKeys(name).state)) !== home) name = uniqueName();
        const [listener, tripper] = made.map((store) =>
          circuitBreaker({ on: Down, threshold: 2, resetTimeout: 5000, name, store }),
        );
        await Promise.all(made.map((store) => store.ready()));
        const others = cluster.nodes.filter((node) => node !== home);
        for (const node of others) node.server.pause();
        try {
          outcome(tripper!, fail);
          outcome(tripper!, fail);
          await eventually(() => listener!.state === 'open', `the open of a circuit on :${home.server.port}`, 500);
        } finally {
          for (const node of others) node.server.resume();
        }
        await cluster.waitUntilOk();
      }
      expect(logs.map((log) => log.unavailable.length)).toEqual([0, 0]);
    });

    it("notices a subscription lost to a failover, reports it once, and hears the new master's transitions", async () => {
      const { stores: made, logs } = fleet(2, 1);
      const master = cluster.nodes[1]!;
      let name = uniqueName();
      while ((await cluster.nodeOf(redisCircuitKeys(name).state)) !== master) name = uniqueName();
      const [listener, tripper] = made.map((store) =>
        circuitBreaker({ on: Down, threshold: 2, resetTimeout: 5000, name, store }),
      );
      await Promise.all([...made.map((store) => store.ready()), cluster.waitForReplication()]);
      // The listener's circuit is in use (its calls succeed): the store checks its subscription.
      const calls = setInterval(() => outcome(listener!, succeed), 20);
      try {
        // Hung long enough for its replica to take over; back as a replica, it drops the subscriptions.
        master.server.pause();
        await eventually(async () => (await cluster.nodeOf(redisCircuitKeys(name).state)) !== master, 'a failover');
        master.server.resume();
        await cluster.waitUntilOk();
        await eventually(() => logs[0]!.restored.length === 1, 'the listener to recover', 15_000);
        outcome(tripper!, fail);
        outcome(tripper!, fail);
        await eventually(() => listener!.state === 'open', 'the listener to hear of the open', 1000);
        await sleep(1500); // a check or more on the new subscription
      } finally {
        clearInterval(calls);
      }
      expect(logs[0]!.unavailable).toHaveLength(1);
      expect(logs[0]!.restored).toHaveLength(1);
    });

    it("subscribes one channel per slot, not per circuit, each served by the slot's node", async () => {
      const { stores: made } = fleet(1);
      const circuitNames = names(40);
      const circuits = circuitNames.map((name) => circuitBreaker({ on: Down, threshold: 100, name, store: made[0]! }));
      await made[0]!.ready();
      expect(circuits).toHaveLength(40); // held until here: a replica lives as long as its breaker
      const slots = new Set(circuitNames.map((name) => clusterSlot(redisCircuitKeys(name).state)));
      const masters = await cluster.masters();
      const admins = masters.map((node) => new Redis(node.server.url));
      try {
        const channels = await Promise.all(
          admins.map((admin) => admin.call('PUBSUB', 'SHARDCHANNELS', 'staunch:circuit:*') as Promise<string[]>),
        );
        expect(channels.flat()).toHaveLength(slots.size);
        for (const [i, found] of channels.entries()) {
          for (const channel of found) {
            expect(slots.has(clusterSlot(channel))).toBe(true);
            expect(await cluster.nodeOf(channel)).toBe(masters[i]);
          }
        }
      } finally {
        for (const admin of admins) admin.disconnect();
      }
    });

    it('runs shared circuits and checks subscriptions with exactly the documented Cluster permissions', async () => {
      const admins = cluster.nodes.map((node) => new Redis(node.server.url));
      try {
        for (const admin of admins) {
          await admin.call('ACL', 'SETUSER', 'circuits', 'reset', 'on', '>secret', ...documentedAclRules('cluster'));
          await admin.call('ACL', 'LOG', 'RESET');
        }
        const made = [0, 1].map((i) => {
          const client = cluster.client({ redisOptions: { username: 'circuits', password: 'secret' } });
          client.on('error', () => undefined);
          clients.push(client);
          const store = redisStore(client, { processId: `acl-${i}`, quorum: 2, leaseTimeout: 1 });
          stores.push(store);
          return store;
        });
        const unavailable: unknown[] = [];
        for (const store of made) store.on('unavailable', ({ error }) => unavailable.push(error));
        const name = uniqueName();
        const [a, b] = made.map((store) => circuitBreaker({ on: Down, threshold: 2, resetTimeout: 200, name, store }));
        await Promise.all(made.map((store) => store.ready()));
        outcome(a!, fail);
        outcome(b!, fail);
        await eventually(() => a!.state === 'open' && b!.state === 'open', 'the shared circuit to open');
        await eventually(
          () => outcome(a!, succeed) === 'ok' || outcome(b!, succeed) === 'ok',
          'a trial call to run and succeed',
        );
        await eventually(() => a!.state === 'closed' && b!.state === 'closed', 'the shared circuit to close');
        // Called for longer than a check interval: the subscription check runs too.
        const calls = setInterval(() => outcome(a!, succeed), 20);
        await sleep(1500).finally(() => clearInterval(calls));
        expect(unavailable).toEqual([]);
        const refused = await Promise.all(admins.map((admin) => admin.call('ACL', 'LOG') as Promise<unknown[]>));
        expect(refused.flat()).toEqual([]);
      } finally {
        for (const admin of admins) admin.disconnect();
      }
    });

    it('checks subscriptions only while circuits are called: an idle store sends nothing', async () => {
      const { stores: made } = fleet(1);
      const name = uniqueName();
      const breaker = circuitBreaker({ on: Down, threshold: 100, name, store: made[0]! });
      await made[0]!.ready();
      const home = await cluster.nodeOf(redisCircuitKeys(name).state);
      const admin = new Redis(home.server.url);
      const pings = async (): Promise<number> => {
        const info = await admin.info('commandstats');
        return Number(/^cmdstat_spublish:calls=(\d+)/m.exec(info)?.[1] ?? 0);
      };
      try {
        outcome(breaker, succeed);
        await sleep(1300); // the check after that call
        const afterCall = await pings();
        expect(afterCall).toBeGreaterThanOrEqual(1);
        await sleep(2500); // idle: no check, no timer
        expect(await pings()).toBe(afterCall);
        const calls = setInterval(() => outcome(breaker, succeed), 20);
        await sleep(2300).finally(() => clearInterval(calls));
        expect(await pings()).toBeGreaterThanOrEqual(afterCall + 2);
      } finally {
        admin.disconnect();
      }
    });

    it('refuses a subscriber that cannot subscribe by shard, for a Cluster client', () => {
      const client = cluster.client({ lazyConnect: true });
      const plain = cluster.client({ lazyConnect: true });
      const server = new Redis({ lazyConnect: true });
      expect(() => redisStore(client, { subscriber: plain })).toThrow(
        'redisStore: `subscriber` must be a Cluster client made with { shardedSubscribers: true }, got an object.',
      );
      expect(() => redisStore(client, { subscriber: server })).toThrow(
        'redisStore: `subscriber` must be a Cluster client (the client is one), got an object.',
      );
    });

    it('computes the hash slot of a key as the cluster does', async () => {
      const admin = cluster.client();
      const keys = ['payments', 'staunch:circuit:{payments}', 'a{}b', '{}{x}', 'über{ñ}', 'x{y', ...names(20)];
      for (const key of keys) expect(clusterSlot(key)).toBe(await admin.cluster('KEYSLOT', key));
    });

    it('sends each script to each node once, not one failed EVALSHA and one EVAL per circuit', async () => {
      const masters = await cluster.masters();
      const admins = masters.map((node) => {
        const admin = new Redis(node.server.url);
        return admin;
      });
      try {
        await Promise.all(admins.map(async (admin) => [await admin.script('FLUSH'), await admin.config('RESETSTAT')]));
        const { stores: made } = fleet(1);
        const circuits = names(60).map((name) => circuitBreaker({ on: Down, threshold: 100, name, store: made[0]! }));
        await made[0]!.ready();
        for (const breaker of circuits) outcome(breaker, fail);
        await made[0]!.flush();
        const stats = await Promise.all(
          admins.map(async (admin) => {
            const info = await admin.info('commandstats');
            const count = (command: string, field: string): number =>
              Number(new RegExp(`^cmdstat_${command}:.*\\b${field}=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
            return { eval: count('eval', 'calls'), evalshaFailed: count('evalsha', 'failed_calls') };
          }),
        );
        // Two scripts (read, report), once per master each; no EVALSHA ever refused.
        expect(stats).toEqual(masters.map(() => ({ eval: 2, evalshaFailed: 0 })));
      } finally {
        for (const admin of admins) admin.disconnect();
      }
    });

    // The key of `node` as the client names it, and in the events.
    const nodeKey = (node: ClusterNode): string => `${node.server.host}:${node.server.port}`;

    async function nameOn(node: ClusterNode): Promise<string> {
      let name = uniqueName();
      while ((await cluster.nodeOf(redisCircuitKeys(name).state)) !== node) name = uniqueName();
      return name;
    }

    it('keeps sharing the circuits of the masters that answer while a master without replica is dead', async () => {
      const admins = cluster.nodes.map((node) => new Redis(node.server.url));
      // Slots that lose their node are refused; the others stay served (the setting reverts below).
      const requireFullCoverage = (value: 'yes' | 'no'): Promise<unknown> =>
        Promise.all(admins.map((admin) => admin.config('SET', 'cluster-require-full-coverage', value).catch(noop)));
      // Killed and not restarted yet: restarted whatever happens, for the tests after this one.
      const down: ClusterNode[] = [];
      try {
        await requireFullCoverage('no');
        const { stores: made, logs } = fleet(2);
        const [dead, alive] = await cluster.masters();
        const deadName = await nameOn(dead!);
        const healthyName = await nameOn(alive!);
        const breakers = (name: string): CircuitBreakerPolicy[] =>
          made.map((store) => circuitBreaker({ on: Down, threshold: 3, resetTimeout: 5000, name, store }));
        const [deadA, deadB] = breakers(deadName) as [CircuitBreakerPolicy, CircuitBreakerPolicy];
        const [healthyA, healthyB] = breakers(healthyName) as [CircuitBreakerPolicy, CircuitBreakerPolicy];
        await Promise.all(made.map((store) => store.ready()));
        const replica = (await cluster.replicaOf(dead!))!;
        down.push(replica, dead!);
        await replica.server.kill();
        await dead!.server.kill();

        // A failure of the dead master's circuit in each process: its report goes unanswered.
        outcome(deadA, fail);
        outcome(deadB, fail);
        await eventually(() => logs.every((log) => log.unavailable.length === 1), 'each store to report an incident');
        // A healthy master's circuit: 4 failures from 2 processes (threshold 3, quorum 2), 2 in each, under
        // each local threshold: it opens fleet-wide.
        for (const breaker of [healthyA, healthyB, healthyA, healthyB]) outcome(breaker, fail);
        await eventually(
          () => healthyA.state === 'open' && healthyB.state === 'open',
          'the healthy circuit to open in both processes',
        );
        // The dead master's circuit runs on local state: 4 failures from 2 processes leave both closed, a
        // third in one process opens only that one.
        outcome(deadA, fail);
        outcome(deadB, fail);
        await sleep(300);
        expect([deadA.state, deadB.state]).toEqual(['closed', 'closed']);
        outcome(deadA, fail);
        expect([deadA.state, deadB.state]).toEqual(['open', 'closed']);
        expect(made.map((store) => store.available)).toEqual([true, true]);

        await sleep(2500); // probe intervals: the dead node's keys still unanswered, no further incident
        expect(logs.map((log) => [log.unavailable.length, log.restored.length])).toEqual([
          [1, 0],
          [1, 0],
        ]);
        const deadSlot = clusterSlot(redisCircuitKeys(deadName).state);
        const healthySlot = clusterSlot(redisCircuitKeys(healthyName).state);
        for (const { node, slots } of logs.map((log) => log.unavailable[0]!)) {
          expect(node).toBe(nodeKey(dead!));
          expect(slots).toContain(deadSlot);
          expect(slots).not.toContain(healthySlot);
        }

        await Promise.all(down.splice(0).map((node) => node.server.restart()));
        await cluster.waitUntilOk();
        await eventually(() => logs.every((log) => log.restored.length === 1), 'each store to end it', 15_000);
        for (const log of logs) {
          expect(log.unavailable).toHaveLength(1);
          expect(log.restored[0]!.node).toBe(nodeKey(dead!));
          expect(log.restored[0]!.slots).toEqual(log.unavailable[0]!.slots);
        }
      } finally {
        if (down.length > 0) await Promise.all(down.map((node) => node.server.restart()));
        await requireFullCoverage('yes');
        for (const admin of admins) admin.disconnect();
      }
    });

    it('reports each node refusing its slots once (a whole cluster down), and the end of each once they answer', async () => {
      const { stores: made, logs } = fleet(1);
      const names = Array.from({ length: 30 }, uniqueName);
      const breakers = names.map((name) =>
        circuitBreaker({ on: Down, threshold: 100, resetTimeout: 1000, name, store: made[0]! }),
      );
      await made[0]!.ready();
      const homes = new Set<string>();
      for (const name of names) homes.add(nodeKey(await cluster.nodeOf(redisCircuitKeys(name).state)));
      const master = await cluster.nodeOf(redisCircuitKeys(names[0]!).state);
      const replica = (await cluster.replicaOf(master))!;
      // A node that stays up, to ask the cluster's state.
      const admin = new Redis(cluster.nodes.find((node) => node !== master && node !== replica)!.server.url);
      try {
        // The replica first, so that no failover can save the master's slots: once the cluster says so, it is
        // down (require-full-coverage) and every master refuses its slots, yet every node still answers PING.
        await replica.server.kill();
        await master.server.kill();
        await eventually(async () => /cluster_state:fail/.test(await admin.cluster('INFO')), 'the cluster to fail');
        for (const breaker of breakers) outcome(breaker, fail);
        await eventually(() => logs[0]!.unavailable.length === homes.size, 'an incident per node', 15_000);
        await sleep(4000); // four probe intervals: PING is answered, the circuits' keys are not
        expect(logs[0]!.unavailable.map((event) => event.node).sort()).toEqual([...homes].sort());
        expect(logs[0]!.restored).toHaveLength(0);
        expect(made[0]!.available).toBe(false);
      } finally {
        admin.disconnect();
      }

      await Promise.all([master.server.restart(), replica.server.restart()]);
      await cluster.waitUntilOk();
      await eventually(() => logs[0]!.restored.length === homes.size, 'the recovery', 15_000);
      expect(logs[0]!.restored.map((event) => event.node).sort()).toEqual([...homes].sort());
      expect(logs[0]!.unavailable).toHaveLength(homes.size);
      expect(made[0]!.available).toBe(true);
    });
  },
  { cli: true },
);
