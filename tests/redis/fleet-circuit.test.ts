/**
 * Shared circuits across real processes: workers forked by ./support/fleet.ts, each with its own
 * ioredis client and `@staunch/redis` store (./support/fleet-circuit-setup.ts, process ids
 * `worker-<index>`), against a real redis-server this file starts. Nothing is mocked. Times are
 * `Date.now()` in whichever process saw the event: one machine, one system clock.
 *
 * One fleet of four serves every test but the last (each test has fresh circuit names); the last
 * kills a worker, so it gets a small fleet of its own. Waits are event-driven (a worker's `change`
 * events, or a loop in the worker that stops once it has learned of a transition); the only real
 * waits are for a circuit's resetTimeout and a dead holder's lease to run out.
 */
import { join } from 'node:path';
import Redis from 'ioredis';
import { redisCircuitKeys } from '@staunch/redis';
import { startFleet, type Fleet } from './support/fleet';
import type { CircuitConfig, Invocation } from './support/fleet-circuit-setup';
import { circuitWorkers, sum, type CircuitWorker } from './support/fleet-helpers';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis-server';

const setupModule = join(__dirname, 'support/fleet-circuit-setup.ts');

/** The documented bound on staleness with a live subscription ("one pub/sub delivery"), generously. */
const stalenessBoundMs = 250;

const trialCall = (epoch: number, behaviour: Invocation['behaviour']): unknown =>
  expect.objectContaining({ trial: true, epoch, behaviour });

describeWithRedis('shared circuits across real processes', () => {
  let server: RedisServer;
  let admin: Redis;
  let fleet: Fleet | undefined;
  let workers: CircuitWorker[] = [];
  let circuitCount = 0;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    fleet = await startFleet(4, setupModule, { REDIS_URL: server.url, FLEET_QUORUM: '2' });
    workers = circuitWorkers(fleet.workers);
  });
  afterAll(async () => {
    await fleet?.stop();
    await admin.quit();
    await server.stop();
  });

  const uniqueName = (what: string): string => `fleet-${what}-${++circuitCount}`;

  const configureAll = (group: readonly CircuitWorker[], name: string, config: CircuitConfig): Promise<string[]> =>
    Promise.all(group.map((worker) => worker.configure(name, config)));

  const sharedState = (name: string): Promise<Record<string, string>> => admin.hgetall(redisCircuitKeys(name).state);

  /** The first worker fails once (threshold 1, quorum 1): resolves once every worker has learned of the opening. */
  async function openShared(group: readonly CircuitWorker[], name: string): Promise<void> {
    expect((await group[0]!.burst(name, 'fail', 1)).outcomes).toEqual(['failed']);
    const opened = await Promise.all(group.map((worker) => worker.waitForChange(name, 'open')));
    for (const event of opened) expect(event).toMatchObject({ state: 'open', epoch: 1 });
  }

  const invocationsOf = (group: readonly CircuitWorker[], name: string): Promise<number[]> =>
    Promise.all(group.map((worker) => worker.invocations(name)));

  it('a trip in one process reaches the others within one pub/sub delivery, and they reject calls', async () => {
    const [tripper, ...others] = workers as [CircuitWorker, ...CircuitWorker[]];
    const staleness: number[] = [];
    // Several trips, for several measurements: each on a fresh circuit.
    for (let round = 0; round < 5; round++) {
      const name = uniqueName('trip');
      await configureAll(workers, name, { threshold: 3, resetTimeout: 60_000, quorum: 1 });
      // The worker fails three times, then waits for its reports: `flushedAt` follows the opening reply.
      const { outcomes, flushedAt } = await tripper.burst(name, 'fail', 3);
      expect(outcomes).toEqual(['failed', 'failed', 'failed']);
      expect(await sharedState(name)).toMatchObject({ state: 'open', epoch: '1', failures: '3', opens: '1' });

      const opened = await Promise.all(others.map((worker) => worker.waitForChange(name, 'open')));
      for (const event of opened) expect(event).toMatchObject({ circuit: name, state: 'open', epoch: 1, holder: '' });
      staleness.push(...opened.map((event) => event.at - flushedAt));

      expect(await Promise.all(others.map((worker) => worker.call(name, 'ok')))).toEqual(others.map(() => 'rejected'));
      expect(await invocationsOf(others, name)).toEqual(others.map(() => 0));
      expect(await tripper.call(name, 'ok')).toBe('rejected');
      expect(await tripper.invocations(name)).toBe(3);
    }
    const sorted = [...staleness].sort((a, b) => a - b);
    console.log(
      `staleness ms: ${JSON.stringify(staleness)} (other worker's 'open' change receipt - tripping ` +
        `worker's flush answer; median ${sorted[Math.floor(sorted.length / 2)]!}, max ${sorted.at(-1)!})`,
    );
    for (const value of staleness) expect(value).toBeLessThan(stalenessBoundMs);
  });

  it('lets exactly halfOpenCalls trial calls run fleet-wide in a half-open period, all in the lease holder', async () => {
    const name = uniqueName('trials-hang');
    await configureAll(workers, name, { threshold: 1, resetTimeout: 400, halfOpenCalls: 2, quorum: 1 });
    await openShared(workers, name);
    const before = await invocationsOf(workers, name);

    // Every worker calls every 2 ms: rejected while open; then the lease holder's trials start and never
    // settle; everyone keeps calling for 100 ms and 20 calls after learning of the half-open period
    // (well inside the 400 ms lease: the lease count checked below shows no second lease was granted).
    const results = await Promise.all(
      workers.map((worker) => worker.hammer(name, 'hang', { until: 'half-open', holdMs: 100, holdCalls: 20 })),
    );
    expect(await sharedState(name)).toMatchObject({ state: 'half-open', epoch: '2', opens: '1', leases: '1' });

    const ran = (await invocationsOf(workers, name)).map((count, i) => count - before[i]!);
    const holder = ran.findIndex((count) => count > 0);
    expect(sum(ran)).toBe(2);
    expect(ran).toEqual(workers.map((_, i) => (i === holder ? 2 : 0)));
    expect(results.map((result) => result.outcomes.started)).toEqual(ran);
    for (const result of results) {
      // Every worker learned of the same half-open period, held by the worker that ran the trials…
      expect(result.learned).toMatchObject({ state: 'half-open', epoch: 2 });
      expect(result.learned.holder).toMatch(new RegExp(`^worker-${holder}#`));
      // …and went on calling: every call after the two trials was rejected.
      expect(result.callsAfter).toBeGreaterThanOrEqual(20);
      expect(result.outcomes.rejected).toBeGreaterThanOrEqual(20);
    }
    const logs = await Promise.all(workers.map((worker) => worker.invocationLog(name)));
    expect(logs[holder]!.filter((call) => call.epoch >= 1)).toEqual([trialCall(2, 'hang'), trialCall(2, 'hang')]);
  });

  it("closes the shared circuit everywhere when the lease holder's trial calls succeed", async () => {
    const name = uniqueName('trials-ok');
    // 500 ms: a worker that missed the 'closed' message would only learn of it when its wait for the
    // lease ends and it asks for one, about 500 ms later, far beyond the staleness bound checked here.
    await configureAll(workers, name, { threshold: 1, resetTimeout: 500, halfOpenCalls: 2, quorum: 1 });
    await openShared(workers, name);

    const results = await Promise.all(workers.map((worker) => worker.hammer(name, 'ok', { until: 'closed' })));
    for (const result of results) expect(result.learned).toMatchObject({ state: 'closed', epoch: 3, holder: '' });
    expect(await sharedState(name)).toMatchObject({ state: 'closed', epoch: '3', opens: '1', leases: '1' });

    const logs = await Promise.all(workers.map((worker) => worker.invocationLog(name)));
    const trials = logs.map((log) => log.filter((call) => call.trial));
    const holder = trials.findIndex((calls) => calls.length > 0);
    expect(trials.map((calls) => calls.length)).toEqual(workers.map((_, i) => (i === holder ? 2 : 0)));
    expect(trials[holder]).toEqual([trialCall(2, 'ok'), trialCall(2, 'ok')]);
    // The others learned of the closing one pub/sub delivery after the holder's settle was answered.
    const settledAt = results[holder]!.learned.at;
    const closeStaleness = results.filter((_, i) => i !== holder).map((result) => result.learned.at - settledAt);
    console.log(`close staleness ms: ${JSON.stringify(closeStaleness)} (receipt - holder's settle answer)`);
    for (const value of closeStaleness) expect(value).toBeLessThan(stalenessBoundMs);
    // Nobody else ran anything while the shared circuit was open (1) or half-open (2).
    logs.forEach((log, i) => {
      if (i !== holder) expect(log.filter((call) => call.epoch === 1 || call.epoch === 2)).toEqual([]);
    });
    expect(await Promise.all(workers.map((worker) => worker.call(name, 'ok')))).toEqual(workers.map(() => 'ok'));
    expect(await Promise.all(workers.map((worker) => worker.state(name)))).toEqual(workers.map(() => 'closed'));
  });

  it('with quorum 2, one failing process trips only its own circuit; a second one opens it for all', async () => {
    const name = uniqueName('quorum');
    const keys = redisCircuitKeys(name);
    await configureAll(workers, name, { threshold: 3, resetTimeout: 60_000, quorum: 2 });
    const [lone, second, ...rest] = workers as [CircuitWorker, CircuitWorker, ...CircuitWorker[]];

    // Ten calls fail in one process: three failures trip its local circuit, which rejects the other seven.
    const alone = await lone.burst(name, 'fail', 10);
    expect(alone.outcomes).toEqual([...Array<string>(3).fill('failed'), ...Array<string>(7).fill('rejected')]);
    const afterOne = await sharedState(name);
    expect(afterOne.state ?? 'closed').toBe('closed');
    expect(afterOne).toMatchObject({ failures: '3' });
    expect(afterOne.opens).toBeUndefined();
    expect(await admin.zrange(keys.processes, 0, -1)).toEqual(['worker-0']);
    expect(await lone.state(name)).toBe('open');
    expect(await lone.call(name, 'ok')).toBe('rejected');
    // The others are unaffected.
    const healthy = [second, ...rest];
    for (let round = 0; round < 3; round++) {
      expect(await Promise.all(healthy.map((worker) => worker.call(name, 'ok')))).toEqual(healthy.map(() => 'ok'));
    }
    // It never heard of the shared circuit opening (a closed circuit that stays closed is no news).
    expect((await lone.changes(name)).map((event) => event.state)).toEqual([]);

    // One failure in a second process: 4 failures from 2 processes in the window.
    expect((await second.burst(name, 'fail', 1)).outcomes).toEqual(['failed']);
    expect(await sharedState(name)).toMatchObject({ state: 'open', epoch: '1', failures: '4', opens: '1' });
    const opened = await Promise.all(workers.map((worker) => worker.waitForChange(name, 'open')));
    for (const event of opened) expect(event).toMatchObject({ state: 'open', epoch: 1 });
    const before = await invocationsOf(workers, name);
    expect(await Promise.all(workers.map((worker) => worker.call(name, 'ok')))).toEqual(workers.map(() => 'rejected'));
    expect(await invocationsOf(workers, name)).toEqual(before);
    expect(before).toEqual([3, 4, 3, 3]);
  });

  it("adds up failures exactly: each process's in its own stats, their sum in Redis", async () => {
    const name = uniqueName('counters');
    const keys = redisCircuitKeys(name);
    const perWorker = 25;
    await configureAll(workers, name, { threshold: 1_000_000, resetTimeout: 60_000, quorum: 2 });
    // All at once: the workers' reports (each a batch of what its burst noted meanwhile) interleave on the server.
    const bursts = await Promise.all(workers.map((worker) => worker.burst(name, 'fail', perWorker)));
    for (const burst of bursts) expect(burst.outcomes).toEqual(Array<string>(perWorker).fill('failed'));

    const shared = await sharedState(name);
    expect(shared.failures).toBe(String(workers.length * perWorker));
    expect(shared.state ?? 'closed').toBe('closed');
    expect(await admin.zcard(keys.failures)).toBe(workers.length * perWorker);
    expect(await admin.zcard(keys.processes)).toBe(workers.length);
    const stats = await Promise.all(workers.map((worker) => worker.stats(name)));
    for (const own of stats) {
      expect(own).toMatchObject({ calls: perWorker, failures: perWorker, successes: 0, rejections: 0 });
    }
  });

  describe('when the lease holder is killed mid-trial', () => {
    let small: Fleet | undefined;
    let trio: CircuitWorker[] = [];
    beforeAll(async () => {
      small = await startFleet(3, setupModule, { REDIS_URL: server.url, FLEET_QUORUM: '1' });
      trio = circuitWorkers(small.workers);
    });
    afterAll(async () => {
      await small?.stop();
    });

    it('lets no other trial run until its lease expires, then another process takes a new lease and closes it', async () => {
      const name = uniqueName('killed-holder');
      const keys = redisCircuitKeys(name);
      await configureAll(trio, name, { threshold: 1, resetTimeout: 500, halfOpenCalls: 2 });
      await openShared(trio, name);

      // Everyone calls; the lease holder starts two trials that never settle.
      const results = await Promise.all(
        trio.map((worker) => worker.hammer(name, 'hang', { until: 'half-open', holdMs: 50, holdCalls: 10 })),
      );
      const started = results.map((result) => result.outcomes.started);
      const holderIndex = started.findIndex((count) => count > 0);
      expect(started).toEqual(trio.map((_, i) => (i === holderIndex ? 2 : 0)));
      const firstLease = results[holderIndex]!.learned;
      expect(firstLease).toMatchObject({ state: 'half-open', epoch: 2 });
      expect(firstLease.holder).toMatch(new RegExp(`^worker-${holderIndex}#`));
      const holder = trio[holderIndex]!;
      const survivors = trio.filter((worker) => worker !== holder);
      const holderLog = await holder.invocationLog(name);

      // Its lease is live when it dies: no settle will come, only the key's expiry.
      const checkedAt = Date.now();
      const [[, token], [, ttl]] = (await admin.multi().get(keys.lease).pttl(keys.lease).exec()) as [
        [null, string | null],
        [null, number],
      ];
      expect(token).toBe(firstLease.holder);
      expect(ttl).toBeGreaterThan(0);
      const leaseExpiresNotBefore = checkedAt + ttl;
      await holder.worker.kill('SIGKILL');
      expect(holder.worker.exited).toBe(true);

      // The survivors keep calling until the shared circuit has closed.
      const closed = await Promise.all(
        survivors.map((worker) => worker.hammer(name, 'ok', { until: 'closed', timeoutMs: 10_000 })),
      );
      const survivorLogs = await Promise.all(survivors.map((worker) => worker.invocationLog(name)));

      // The dead holder's lease (epoch 2) saw its two trials and nothing else, fleet-wide.
      const inFirstLease = [holderLog, ...survivorLogs].flat().filter((call) => call.epoch === 2);
      expect(inFirstLease).toEqual([trialCall(2, 'hang'), trialCall(2, 'hang')]);
      expect(holderLog.filter((call) => call.trial)).toHaveLength(2);

      // Then one survivor took a second lease (epoch 3), no earlier than the first one expired, and ran its trials.
      const trials = survivorLogs.map((log) => log.filter((call) => call.trial));
      const next = trials.findIndex((calls) => calls.length > 0);
      expect(trials.map((calls) => calls.length)).toEqual(survivors.map((_, i) => (i === next ? 2 : 0)));
      expect(trials[next]).toEqual([trialCall(3, 'ok'), trialCall(3, 'ok')]);
      // Date.now() and the server's expiry are whole ms of the same clock: 2 ms of rounding.
      for (const call of trials[next]!) expect(call.at).toBeGreaterThanOrEqual(leaseExpiresNotBefore - 2);
      const secondLease = (await survivors[0]!.changes(name)).find((event) => event.epoch === 3);
      expect(secondLease).toMatchObject({ state: 'half-open' });
      expect(secondLease!.holder).toMatch(new RegExp(`^worker-${survivors[next]!.index}#`));

      for (const result of closed) expect(result.learned).toMatchObject({ state: 'closed', epoch: 4 });
      expect(await sharedState(name)).toMatchObject({ state: 'closed', epoch: '4', opens: '1', leases: '2' });
      expect(await admin.exists(keys.lease)).toBe(0);
      expect(await Promise.all(survivors.map((worker) => worker.call(name, 'ok')))).toEqual(['ok', 'ok']);
      console.log(
        `lease handover: worker ${holderIndex} killed with ${ttl} ms left on its lease; worker ` +
          `${survivors[next]!.index}'s first trial ${trials[next]![0]!.at - checkedAt} ms after the check`,
      );
    });
  });

  describe('when a process crashes and is restarted under the same processId', () => {
    // A supervisor restarting "worker 0" gives the new process the same identity (here `worker-0`,
    // as a StatefulSet pod name or a PM2 instance id would). Each life is a one-worker fleet.
    const env = (): Record<string, string> => ({ REDIS_URL: server.url, FLEET_QUORUM: '1' });

    it('counts the failures of both lives in the window', async () => {
      const name = uniqueName('restarted');
      const keys = redisCircuitKeys(name);
      const config = { threshold: 4, resetTimeout: 60_000 };

      const firstLife = await startFleet(1, setupModule, env());
      try {
        const [crashing] = circuitWorkers(firstLife.workers) as [CircuitWorker];
        expect(await crashing.configure(name, config)).toBe('worker-0');
        expect((await crashing.burst(name, 'fail', 2)).outcomes).toEqual(['failed', 'failed']);
        expect(await admin.zcard(keys.failures)).toBe(2);
        await crashing.worker.kill('SIGKILL');
      } finally {
        await firstLife.stop();
      }

      const secondLife = await startFleet(1, setupModule, env());
      try {
        const [restarted] = circuitWorkers(secondLife.workers) as [CircuitWorker];
        expect(await restarted.configure(name, config)).toBe('worker-0');
        expect((await restarted.burst(name, 'fail', 2)).outcomes).toEqual(['failed', 'failed']);
        // Four failures within the 60 s window, threshold 4, quorum 1: the shared circuit must open.
        // Each failure is named by its number in the fleet's counter: a process id reused by a restart
        // cannot make the second life's failures overwrite the first's in the window.
        const shared = await sharedState(name);
        expect({ state: shared.state, failures: shared.failures }).toEqual({ state: 'open', failures: '4' });
      } finally {
        await secondLife.stop();
      }
    });
  });
});
