/**
 * One circuit for a fleet, with real parts: a redis-server this scenario starts (and stops), a
 * fake payments service (a real HTTP server in this process) and three checkout workers, each a
 * Node process of its own (./worker.ts) whose `@CircuitBreaker` shares the circuit `payments`
 * through `@staunch/redis`. Payments goes down: failures in two workers open the circuit for all
 * three (quorum 2), so the third fails fast without ever calling payments; after resetTimeout
 * exactly one worker holds the trial lease, its trial succeeds, and the circuit closes everywhere.
 *
 * Needs redis-server on PATH; without it the scenario is skipped (a note, not a failure).
 */
import Redis from 'ioredis';
import { getDefaultClock, isCircuitOpenError, type CircuitState } from '@staunch/decorators';
import { redisCircuitKeys } from '@staunch/redis';
import type { Outcome, Timeline } from '../support/timeline';
import { Fleet, type SharedState, type Worker } from './fleet';
import { PaymentsService } from './payments';
import { findRedisServer, startRedisServer } from './redis-server';

export interface SharedCircuitOptions {
  /**
   * Modules each worker process loads first (`node -r`, after ts-node). The tests map `@staunch/*`
   * to the TypeScript sources with one; the demo needs none (they resolve to the built packages).
   */
  readonly workerPreload?: readonly string[];
}

/** The shared-circuit story (see the file's comment). Throws when it does not end as told. */
export async function sharedCircuitScenario(timeline: Timeline, options: SharedCircuitOptions = {}): Promise<void> {
  const binary = findRedisServer();
  if (binary === undefined) {
    timeline.skip(
      'redis-server is not on PATH: shared-circuit skipped (apt-get install redis-server, or brew install redis)',
    );
    return;
  }
  timeline.add('step', 'The fleet: a redis-server, a payments service, three checkout workers (Node processes)');
  // What was started, stopped last to first (workers, then payments, then Redis), each whatever the others did.
  const stops: (() => Promise<void>)[] = [];
  let failure: { readonly error: unknown } | undefined;
  try {
    const redis = await startRedisServer(binary);
    stops.unshift(() => redis.stop());
    timeline.add('note', `redis-server (pid ${redis.pid}) on ${redis.url}, in ${redis.dir}, no persistence`);
    const payments = await PaymentsService.start(({ worker, orderId, status }) => {
      const outage = status === 503 ? ' (outage)' : '';
      timeline.add('server', `payments: POST /charges ${orderId} from ${worker} → ${status}${outage}`);
    });
    stops.unshift(() => payments.close());
    timeline.add('note', `payments service on ${payments.url}`);
    // This process reads the shared state too, to show it: the workers never need to.
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    stops.unshift(async () => admin.disconnect());
    timeline.add(
      'note',
      "each worker: Checkout.charge with @CircuitBreaker({ threshold: 2, resetTimeout: 1_000, store: redisStore(redis), name: 'payments' })",
    );
    const fleet = await Fleet.start(3, {
      redisUrl: redis.url,
      paymentsUrl: payments.url,
      ...(options.workerPreload ? { preload: options.workerPreload } : {}),
      onChange: ({ worker, state, epoch, holder }) => {
        const lease = holder === '' ? '' : `, trial lease held by ${holder}`;
        timeline.add('server', `${worker}'s store: shared circuit ${state} (epoch ${epoch})${lease}`);
      },
      onUnavailable: (worker, error) => {
        timeline.add('fail', `${worker}'s store lost Redis: ${error}`);
      },
    });
    stops.unshift(() => fleet.stop());
    for (const worker of fleet.workers) {
      timeline.watchCircuit(worker.circuit, `payments in ${worker.name}`);
      timeline.add('note', `${worker.name} ready (pid ${worker.pid}): connected to Redis, subscribed, circuit read`);
    }
    await story(timeline, fleet, payments, admin);
  } catch (error) {
    failure = { error };
  }
  timeline.close();
  for (const stop of stops) {
    try {
      await stop();
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== undefined) throw failure.error;
  timeline.add('note', 'workers exited, payments service closed, redis-server stopped and its directory removed');
}

async function story(timeline: Timeline, fleet: Fleet, payments: PaymentsService, admin: Redis): Promise<void> {
  const [w1, w2, w3] = fleet.workers as [Worker, Worker, Worker];
  const keys = redisCircuitKeys('payments');
  let orders = 0;
  const charge = (worker: Worker): Promise<Outcome<string>> => {
    const order = `order-${++orders}`;
    return timeline.call(`${worker.name}: charge(${order})`, () => worker.charge(order));
  };
  const everyone = (workers: readonly Worker[]) => Promise.all(workers.map(charge));
  // Every worker's store has learned of the transition (and its circuit followed, when given).
  const learned = (state: SharedState, epoch: number, circuit?: CircuitState) =>
    Promise.all(fleet.workers.map((worker) => worker.waitForChange(state, epoch, circuit)));
  const byProcessId = (id: string) => fleet.workers.find((worker) => worker.processId === id)?.name ?? id;

  timeline.add('step', 'All healthy: each worker charges an order');
  for (const worker of fleet.workers) await charge(worker);

  timeline.add('step', "Payments goes down. Worker 1 fails twice: its own circuit opens, the fleet's does not");
  payments.down = true;
  timeline.add('server', 'payments: outage, every charge gets HTTP 503');
  await charge(w1);
  await charge(w1);
  const alone = await admin.hgetall(keys.state);
  const reporters = (await admin.zrange(keys.processes, 0, -1)).map(byProcessId);
  const state = alone.state ?? 'closed';
  timeline.add(
    'note',
    `Redis: ${alone.failures ?? 0} failures from ${reporters.join(', ')}, shared circuit ${state}: one process is not a quorum (2)`,
  );
  if (state !== 'closed') throw new Error(`shared-circuit: one worker alone opened the fleet's circuit (${state})`);

  timeline.add(
    'step',
    'Worker 2 fails once: 3 failures from 2 processes reach the quorum, the circuit opens fleet-wide',
  );
  await charge(w2);
  await learned('open', 1, 'open');

  timeline.add('step', 'Worker 3 never failed, yet it fails fast: payments does not hear from it');
  const rejected = await charge(w3);
  const outageCalls = payments.charges.filter((c) => c.worker === w3.name && c.status === 503).length;
  if (rejected.ok || !isCircuitOpenError(rejected.error) || outageCalls > 0) {
    throw new Error('shared-circuit: worker 3 was not rejected by the shared circuit');
  }
  timeline.add('note', `payments got no charge from ${w3.name} during the outage`);

  timeline.add(
    'step',
    'Payments is back. After resetTimeout every worker gets a call: the first to ask takes the lease',
  );
  payments.down = false;
  timeline.add('server', 'payments: outage over');
  await waitOut(timeline, rejected);
  await everyone(fleet.workers);
  const halfOpen = await learned('half-open', 2);
  const holder = fleet.workers.find((worker) => worker.name === halfOpen[0]?.holder);
  if (holder === undefined || halfOpen.some((change) => change.holder !== holder.name)) {
    throw new Error(`shared-circuit: no single lease holder (${halfOpen.map((c) => c.holder).join(', ')})`);
  }
  const ttl = await admin.pttl(keys.lease);
  timeline.add('note', `Redis: ${keys.lease} = ${holder.name}'s token, expires in ${ttl} ms unless settled first`);

  const others = fleet.workers.filter((worker) => worker !== holder);
  timeline.add('step', `The lease is ${holder.name}'s: the others keep failing fast, its next call is the one trial`);
  for (const worker of others) await charge(worker);
  const trialsFrom = payments.charges.length;
  const trial = await charge(holder);
  await learned('closed', 3, 'closed');
  const trials = payments.charges.slice(trialsFrom);
  if (!trial.ok || trials.length !== 1) throw new Error(`shared-circuit: ${trials.length} trial calls, not 1`);

  timeline.add('step', 'Closed in every worker: all three charge again');
  const last = await everyone(fleet.workers);
  const end = await admin.hgetall(keys.state);
  timeline.add(
    'note',
    `Redis: shared circuit ${end.state ?? '?'} at epoch ${end.epoch ?? '?'}, opened ${end.opens ?? 0} time, ` +
      `${end.leases ?? 0} trial lease, ${end.failures ?? 0} failures reported`,
  );
  if (last.some((outcome) => !outcome.ok)) throw new Error('shared-circuit: the fleet did not recover');
}

/** Sleeps until the circuit that rejected `outcome` lets a trial call through. */
async function waitOut(timeline: Timeline, outcome: Outcome<unknown>): Promise<void> {
  const wait = !outcome.ok && isCircuitOpenError(outcome.error) ? Math.ceil(outcome.error.retryAfter) : 1_000;
  timeline.add('note', `waiting ${wait} ms (the circuit's retryAfter)`);
  await getDefaultClock().sleep(wait);
}
