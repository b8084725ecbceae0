/**
 * Redis failing under a fleet of real processes: three workers forked by ./support/fleet.ts, each
 * with its own ioredis client and `@staunch/redis` stores (./support/fleet-circuit-setup.ts, one
 * store per quorum), against a real redis-server this file starts, then kills, restarts, pauses
 * and resumes while every worker keeps calling. Nothing is mocked.
 *
 * Each worker runs a calling loop of its own (`startLoop`): it times every call from inside the
 * process and files it under the phase its store was in (before the incident, during it, after
 * `restored`), so the test can check that no call ever waited for Redis while it was gone. Waits
 * are event-driven (a store's `unavailable`/`restored` events, a loop's call counts, `change`
 * events); the outages last exactly as long as the loops take to make their calls in them.
 */
import { join } from 'node:path';
import Redis from 'ioredis';
import { redisCircuitKeys } from '@staunch/redis';
import { startFleet, type Fleet, type Worker } from './support/fleet';
import type {
  CircuitConfig,
  IncidentLog,
  LoopCircuit,
  LoopResult,
  Phase,
  PhaseStats,
} from './support/fleet-circuit-setup';
import { circuitWorkers, type CircuitWorker } from './support/fleet-helpers';
import { describeWithRedis, startRedisServer, type RedisServer } from './support/redis-server';

const setupModule = join(__dirname, 'support/fleet-circuit-setup.ts');

/**
 * The longest a call may take while Redis is gone. Calls never wait for Redis, so a call takes
 * microseconds; a call that waited would take at least the store's `commandTimeout` (200 ms) or
 * forever. This bound is "nothing hangs", not a speed target.
 */
const callLatencyBoundMs = 50;
/** The documented bound on staleness with a live subscription (as in ./fleet-circuit.test.ts). */
const stalenessBoundMs = 250;
/**
 * Calls each worker makes to each of its circuits in the outage before Redis is given back. Each
 * round of calls sleeps at least 1 ms, so the outage lasts at least 1.5 s: long enough for the
 * store's probe (every second during an incident) to run, and for ioredis to retry a few times.
 */
const outageCalls = 1500;
const phases: readonly Phase[] = ['before', 'outage', 'after'];

/** A worker of fleet-circuit-setup.ts, with the handlers these tests add to the common ones. */
interface FaultWorker extends CircuitWorker {
  incidents(): Promise<{ stores: IncidentLog[]; clientErrors: number }>;
  waitForIncidents(quorum: number, unavailable: number, restored: number, timeoutMs?: number): Promise<IncidentLog>;
  startLoop(list: readonly LoopCircuit[], everyMs?: number): Promise<void>;
  waitForLoop(phase: Phase, calls: number, timeoutMs?: number): Promise<Record<string, Record<Phase, PhaseStats>>>;
  stopLoop(timeoutMs?: number): Promise<LoopResult>;
}

function faultWorkers(workers: readonly Worker[]): FaultWorker[] {
  return circuitWorkers(workers).map((base): FaultWorker => {
    const call =
      <T>(method: string) =>
      (...args: unknown[]): Promise<T> =>
        base.worker.call(method, ...args) as Promise<T>;
    return {
      ...base,
      incidents: call('incidents'),
      waitForIncidents: call('waitForIncidents'),
      startLoop: call('startLoop'),
      waitForLoop: call('waitForLoop'),
      stopLoop: call('stopLoop'),
    };
  });
}

/** How many `unavailable` and `restored` events a worker's store of `quorum` has emitted (0 if it has none yet). */
interface Counts {
  readonly unavailable: number;
  readonly restored: number;
}

const countsOf = (logs: readonly IncidentLog[], quorum: number): Counts => {
  const log = logs.find((entry) => entry.quorum === quorum);
  return { unavailable: log?.unavailable.length ?? 0, restored: log?.restored.length ?? 0 };
};

/** Per worker, per phase: the longest call over all its circuits, rounded to µs, for the log. */
const latencyTable = (results: readonly LoopResult[]): Record<Phase, number>[] =>
  results.map((result) => {
    const max = (phase: Phase): number =>
      Math.max(...Object.values(result.circuits).map((stats) => stats[phase].maxLatencyMs));
    return { before: round(max('before')), outage: round(max('outage')), after: round(max('after')) };
  });

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** What the loops did, for the log: latencies, calls of `name` in the outage, gaps, and ioredis's queue. */
function summary(results: readonly LoopResult[], name: string): string {
  const perWorker = (value: (result: LoopResult) => unknown): string => JSON.stringify(results.map(value));
  return [
    `max call latency ms per worker ${JSON.stringify(latencyTable(results))}`,
    `outage calls per worker ${perWorker((result) => result.circuits[name]!.outage.calls)}`,
    `longest gap between rounds ms ${perWorker((result) => round(result.maxGapMs))}`,
    `most commands in flight ${perWorker((result) => result.maxCommandQueue)}`,
  ].join('; ');
}

describeWithRedis('shared circuits across real processes when Redis fails', () => {
  let server: RedisServer;
  let admin: Redis;
  let fleet: Fleet | undefined;
  let workers: FaultWorker[] = [];
  let circuitCount = 0;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    // It loses its connection with everyone else's; it reconnects by itself (errors are expected meanwhile).
    admin.on('error', () => undefined);
    fleet = await startFleet(3, setupModule, { REDIS_URL: server.url, FLEET_QUORUM: '2' });
    workers = faultWorkers(fleet.workers);
  });
  afterAll(async () => {
    // A test that failed while the server was stopped must not leave it so.
    server.resume();
    await fleet?.stop();
    if (admin.status === 'ready') await admin.quit();
    else admin.disconnect();
    await server.stop();
  });

  const uniqueName = (what: string): string => `faults-${what}-${++circuitCount}`;

  const configureAll = (name: string, config: CircuitConfig): Promise<string[]> =>
    Promise.all(workers.map((worker) => worker.configure(name, config)));

  const sharedState = (name: string): Promise<Record<string, string>> => admin.hgetall(redisCircuitKeys(name).state);

  const incidentLogs = (): Promise<IncidentLog[][]> =>
    Promise.all(workers.map(async (worker) => (await worker.incidents()).stores));

  /** Each worker's store of `quorum`: its incident log once it has reported `more` more events of each kind. */
  const waitForIncidents = (
    quorum: number,
    baseline: readonly Counts[],
    more: { unavailable: number; restored: number },
  ): Promise<IncidentLog[]> =>
    Promise.all(
      workers.map((worker, i) =>
        worker.waitForIncidents(
          quorum,
          baseline[i]!.unavailable + more.unavailable,
          baseline[i]!.restored + more.restored,
        ),
      ),
    );

  /**
   * Starts every worker's calling loop (`loopOf`), runs `body`, stops the loops and gives what they did. If
   * `body` throws, the loops are stopped all the same, and its error is the one the test reports.
   */
  async function withLoops(
    loopOf: (worker: FaultWorker) => LoopCircuit[],
    body: () => Promise<void>,
  ): Promise<LoopResult[]> {
    await Promise.all(workers.map((worker) => worker.startLoop(loopOf(worker))));
    try {
      await body();
    } catch (error) {
      await Promise.allSettled(workers.map((worker) => worker.stopLoop()));
      throw error;
    }
    return Promise.all(workers.map((worker) => worker.stopLoop()));
  }

  /** Every call of every worker, in every phase, returned within the bound. */
  function expectPromptCalls(results: readonly LoopResult[]): void {
    for (const result of results) {
      for (const stats of Object.values(result.circuits)) {
        for (const phase of phases) expect(stats[phase].maxLatencyMs).toBeLessThan(callLatencyBoundMs);
      }
      // The store never sends through a disconnected client: nothing waits in ioredis's offline queue.
      expect(result.maxOfflineQueue).toBe(0);
    }
  }

  /** `tripper` fails `threshold` times: the others learn of the shared opening (epoch 1 of a new state), and reject. */
  async function expectTripReachesEveryone(name: string, tripper: FaultWorker, threshold: number): Promise<number[]> {
    const others = workers.filter((worker) => worker !== tripper);
    const { outcomes, flushedAt } = await tripper.burst(name, 'fail', threshold);
    expect(outcomes).toEqual(Array<string>(threshold).fill('failed'));
    expect(await sharedState(name)).toMatchObject({ state: 'open', epoch: '1', failures: String(threshold) });
    const opened = await Promise.all(others.map((worker) => worker.waitForChange(name, 'open')));
    for (const event of opened) expect(event).toMatchObject({ circuit: name, state: 'open', epoch: 1 });
    expect(await Promise.all(others.map((worker) => worker.call(name, 'ok')))).toEqual(others.map(() => 'rejected'));
    const staleness = opened.map((event) => event.at - flushedAt);
    for (const value of staleness) expect(value).toBeLessThan(stalenessBoundMs);
    return staleness;
  }

  it('keeps every call prompt through a kill and a restart, reports one incident per store, converges after', async () => {
    // Two circuits, so two stores per worker (quorum 1 and 2): each must notice the outage on its own.
    const lone = uniqueName('kill-q1');
    const pair = uniqueName('kill-q2');
    await configureAll(lone, { threshold: 3, resetTimeout: 60_000, quorum: 1 });
    await configureAll(pair, { threshold: 3, resetTimeout: 60_000, quorum: 2 });
    const before = await incidentLogs();
    const baseline = { 1: before.map((logs) => countsOf(logs, 1)), 2: before.map((logs) => countsOf(logs, 2)) };

    // Everyone calls both circuits every millisecond. Worker 0's dependency behind `lone` fails during the
    // outage: with Redis up, three failures would open that quorum-1 circuit for the whole fleet.
    let killedAt = 0;
    let restartedFrom = 0;
    const loopOf = (worker: FaultWorker): LoopCircuit[] =>
      worker.index === 0 ? [{ name: lone, outage: 'fail' }, { name: pair }] : [{ name: lone }, { name: pair }];
    const results = await withLoops(loopOf, async () => {
      await Promise.all(workers.map((worker) => worker.waitForLoop('before', 20)));

      killedAt = Date.now();
      await server.kill();
      // Both stores of every worker: one incident each (their subscriptions dropped).
      await waitForIncidents(1, baseline[1], { unavailable: 1, restored: 0 });
      await waitForIncidents(2, baseline[2], { unavailable: 1, restored: 0 });
      // The workers keep calling with Redis gone (each call timed inside the worker).
      await Promise.all(workers.map((worker) => worker.waitForLoop('outage', outageCalls)));

      restartedFrom = Date.now();
      await server.restart();
      await waitForIncidents(1, baseline[1], { unavailable: 1, restored: 1 });
      await waitForIncidents(2, baseline[2], { unavailable: 1, restored: 1 });
      await Promise.all(workers.map((worker) => worker.waitForLoop('after', 20)));
    });

    console.log(`kill/restart: ${summary(results, lone)}`);
    expectPromptCalls(results);
    results.forEach((result, i) => {
      const [loneStats, pairStats] = [result.circuits[lone]!, result.circuits[pair]!];
      expect(loneStats.outage.calls).toBeGreaterThanOrEqual(outageCalls);
      expect(pairStats.outage.calls).toBeGreaterThanOrEqual(outageCalls);
      // On local state: worker 0's own circuit tripped after three failures; the others never noticed.
      if (i === 0) {
        expect(loneStats.outage.outcomes).toEqual({
          ok: 0,
          failed: 3,
          rejected: loneStats.outage.calls - 3,
          started: 0,
        });
        expect(loneStats.after.outcomes.rejected).toBe(loneStats.after.calls); // open locally for 60 s
      } else {
        expect(loneStats.outage.outcomes.ok).toBe(loneStats.outage.calls);
        expect(loneStats.after.outcomes.ok).toBe(loneStats.after.calls);
      }
      for (const phase of phases) expect(pairStats[phase].outcomes.ok).toBe(pairStats[phase].calls);
      expect(loneStats.before.outcomes.ok).toBe(loneStats.before.calls);
    });

    // Exactly one incident per store, reported after the kill and ended after the restart began.
    const after = await incidentLogs();
    after.forEach((logs, i) => {
      for (const quorum of [1, 2] as const) {
        const log = logs.find((entry) => entry.quorum === quorum)!;
        const counts = countsOf(logs, quorum);
        expect(counts).toEqual({
          unavailable: baseline[quorum][i]!.unavailable + 1,
          restored: baseline[quorum][i]!.restored + 1,
        });
        const lost = log.unavailable.at(-1)!;
        const back = log.restored.at(-1)!;
        expect(lost.at).toBeGreaterThanOrEqual(killedAt);
        expect(back.at).toBeGreaterThanOrEqual(restartedFrom);
        // The reported downtime is the time between the two events, on the monotonic clock the store uses (the
        // wall clock may be slewed or stepped meanwhile, which made a Date.now() comparison flaky under load).
        expect(Math.abs(back.downtime - (back.tick - lost.tick))).toBeLessThan(20);
      }
    });
    const clientErrors = await Promise.all(workers.map(async (worker) => (await worker.incidents()).clientErrors));
    console.log(
      `kill/restart: errors reported ${JSON.stringify(after.map((logs) => logs.map((log) => log.unavailable.at(-1)!.error)))}; ` +
        `downtime ms ${JSON.stringify(after.map((logs) => logs.map((log) => round(log.restored.at(-1)!.downtime))))}; ` +
        `client error events (reconnection attempts) per worker ${JSON.stringify(clientErrors)}`,
    );

    // The restarted server lost everything (no persistence), and worker 0's failures during the outage were
    // dropped, not replayed: neither circuit has a state in Redis, and nobody heard of any transition.
    expect(await admin.exists(redisCircuitKeys(lone).state, redisCircuitKeys(pair).state)).toBe(0);
    for (const worker of workers) {
      expect(await worker.changes(lone)).toEqual([]);
      expect(await worker.changes(pair)).toEqual([]);
    }

    // Converged: a new trip reaches everyone over the re-established subscriptions. Quorum 1: worker 2 alone.
    const loneStaleness = await expectTripReachesEveryone(lone, workers[2]!, 3);
    // Quorum 2: two failures in worker 1, then one in worker 2 make three from two processes.
    expect((await workers[1]!.burst(pair, 'fail', 2)).outcomes).toEqual(['failed', 'failed']);
    expect((await sharedState(pair)).state ?? 'closed').toBe('closed');
    const { flushedAt } = await workers[2]!.burst(pair, 'fail', 1);
    expect(await sharedState(pair)).toMatchObject({ state: 'open', epoch: '1', failures: '3' });
    const opened = await Promise.all(workers.map((worker) => worker.waitForChange(pair, 'open')));
    for (const event of opened) expect(event).toMatchObject({ circuit: pair, state: 'open', epoch: 1 });
    expect(await workers[0]!.call(pair, 'ok')).toBe('rejected');
    const pairStaleness = opened.map((event) => event.at - flushedAt);
    for (const value of pairStaleness) expect(value).toBeLessThan(stalenessBoundMs);
    console.log(
      `kill/restart: staleness after recovery ms: quorum 1 ${JSON.stringify(loneStaleness)}, quorum 2 ${JSON.stringify(pairStaleness)}`,
    );

    // And the fleet's counters are back to exact, with no further incident.
    expect((await sharedState(lone)).failures).toBe('3');
    expect((await incidentLogs()).map((logs) => [countsOf(logs, 1), countsOf(logs, 2)])).toEqual(
      after.map((logs) => [countsOf(logs, 1), countsOf(logs, 2)]),
    );
  });

  it('runs on local state while the server is paused, one incident per store that sent to it, restores after', async () => {
    const trip = uniqueName('pause-trip');
    const count = uniqueName('pause-count');
    await configureAll(trip, { threshold: 3, resetTimeout: 60_000, quorum: 1 });
    await configureAll(count, { threshold: 1_000_000, resetTimeout: 60_000, quorum: 1 });
    // Failures reported before the pause: 2 + 3 + 4.
    const reportedBefore = [2, 3, 4];
    await Promise.all(workers.map((worker) => worker.burst(count, 'fail', reportedBefore[worker.index]!)));
    expect((await sharedState(count)).failures).toBe('9');

    const before = await incidentLogs();
    const baseline = before.map((logs) => countsOf(logs, 1));

    // Everyone calls `trip`; worker 0's dependency behind it fails once its store knows Redis is gone.
    let pausedAt = 0;
    let lost: IncidentLog[] = [];
    const loopOf = (worker: FaultWorker): LoopCircuit[] => [
      worker.index === 0 ? { name: trip, outage: 'fail' } : { name: trip },
    ];
    const results = await withLoops(loopOf, async () => {
      await Promise.all(workers.map((worker) => worker.waitForLoop('before', 20)));
      pausedAt = Date.now();
      server.pause();
      try {
        // Connections stay up and a closed circuit sends nothing: a store notices a paused server only when a
        // command it sent goes unanswered. One failure each: three reports in flight, each unanswered.
        expect(await Promise.all(workers.map((worker) => worker.call(count, 'fail')))).toEqual([
          'failed',
          'failed',
          'failed',
        ]);
        lost = await waitForIncidents(1, baseline, { unavailable: 1, restored: 0 });
        await Promise.all(workers.map((worker) => worker.waitForLoop('outage', outageCalls)));
      } finally {
        server.resume();
      }
      await waitForIncidents(1, baseline, { unavailable: 1, restored: 1 });
      await Promise.all(workers.map((worker) => worker.waitForLoop('after', 20)));
    });

    console.log(`pause/resume: ${summary(results, trip)}`);
    expectPromptCalls(results);
    results.forEach((result, i) => {
      const stats = result.circuits[trip]!;
      expect(stats.outage.calls).toBeGreaterThanOrEqual(outageCalls);
      expect(stats.before.outcomes.ok).toBe(stats.before.calls);
      if (i === 0) {
        // Its own circuit trips on local state, and stays open (60 s) after the recovery.
        expect(stats.outage.outcomes).toEqual({ ok: 0, failed: 3, rejected: stats.outage.calls - 3, started: 0 });
        expect(stats.after.outcomes.rejected).toBe(stats.after.calls);
      } else {
        expect(stats.outage.outcomes.ok).toBe(stats.outage.calls);
        expect(stats.after.outcomes.ok).toBe(stats.after.calls);
      }
    });

    // One incident per store that sent a command: found by the command timeout (200 ms, the default).
    const after = await incidentLogs();
    after.forEach((logs, i) => {
      expect(countsOf(logs, 1)).toEqual({
        unavailable: baseline[i]!.unavailable + 1,
        restored: baseline[i]!.restored + 1,
      });
      const incident = lost[i]!.unavailable.at(-1)!;
      expect(incident.error).toMatch(/did not answer within 200 ms/);
      // Each report was sent after the pause and timed out 200 ms later (whole ms: a little rounding).
      expect(incident.at - pausedAt).toBeGreaterThanOrEqual(195);
      expect(incident.at - pausedAt).toBeLessThan(2_000);
      // A store with nothing to send (another quorum's, from an earlier test) never noticed: no polling.
      for (const log of logs.filter((entry) => entry.quorum !== 1)) {
        expect(countsOf(logs, log.quorum)).toEqual(countsOf(before[i]!, log.quorum));
      }
    });
    console.log(
      `pause/resume: incident found ms after the pause ${JSON.stringify(lost.map((log) => log.unavailable.at(-1)!.at - pausedAt))}; ` +
        `downtime ms ${JSON.stringify(after.map((logs) => round(logs.find((log) => log.quorum === 1)!.restored.at(-1)!.downtime)))}`,
    );

    // The reports in flight when the server stopped were answered when it went on: counted, exactly once.
    // Worker 0's failures of `trip` during the incident were dropped, so `trip` has no state in Redis.
    await Promise.all(workers.map((worker) => worker.flush()));
    const total = reportedBefore.reduce((sum, value) => sum + value, 0) + workers.length;
    expect(await sharedState(count)).toMatchObject({ failures: String(total) });
    expect((await sharedState(count)).state ?? 'closed').toBe('closed');
    expect(await admin.exists(redisCircuitKeys(trip).state)).toBe(0);
    for (const worker of workers) expect(await worker.changes(trip)).toEqual([]);

    // Converged: a trip after the recovery reaches everyone.
    const staleness = await expectTripReachesEveryone(trip, workers[1]!, 3);
    console.log(`pause/resume: staleness after recovery ms ${JSON.stringify(staleness)}`);
    expect((await incidentLogs()).map((logs) => countsOf(logs, 1))).toEqual(after.map((logs) => countsOf(logs, 1)));
  });
});
