// Recovery of @staunch/redis after a short outage, with many circuits: one store with `circuits` keyed
// circuits (closed, synchronised) on a redis-server of its own, and a 400 ms `CLIENT PAUSE ALL`. A
// failure report sent into the pause outlasts `commandTimeout` (an incident: `unavailable`); when the
// pause ends, the store re-reads every circuit, paced, and says `restored`. Measured: the time from the
// pause's end to `restored`, the incidents (exactly one of each event is right), the event loop's
// longest turns from the pause to `restored`, and the commands the server ran meanwhile.

import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { prebuiltError } from './baselines.mjs';
import { commandStats, connectToNewServer } from './redis.mjs';

/** Milliseconds of `CLIENT PAUSE`. */
export const pauseMs = 400;

/** Milliseconds watched after `restored` for an incident the recovery would start by itself. */
export const settleMs = 1_500;

/**
 * One store, `circuits` circuits, one pause. Returns the row of the report (times in ms).
 * @param {number} circuits
 */
export async function recovery(circuits) {
  const { circuitBreaker } = await import('@staunch/core');
  const { redisStore } = await import('@staunch/redis');
  const connection = await connectToNewServer();
  const { client, admin } = connection;
  // Its PING, sent into the pause, is answered when the pause ends: the end as this process sees it.
  const witness = connection.connect();
  const store = redisStore(client, { processId: 'bench-recovery', quorum: 2 });
  const events = { unavailable: 0, restored: 0 };
  let restoredAt;
  store.on('unavailable', () => events.unavailable++);
  store.on('restored', () => {
    events.restored++;
    restoredAt ??= performance.now();
  });
  const options = { threshold: 5, resetTimeout: 60_000 };
  const breakers = Array.from({ length: circuits }, (_, i) =>
    circuitBreaker({ ...options, name: `recovery[${i}]`, store }),
  );
  try {
    await witness.ping();
    await store.ready();
    const startupIncidents = events.unavailable;
    const before = await commandStats(admin);

    // The event loop's turns during the pause (the incident's start: every circuit lets go of the shared
    // state), then from the pause's end to `restored` (the re-reads).
    const during = monitorEventLoopDelay({ resolution: 1 });
    const after = monitorEventLoopDelay({ resolution: 1 });
    const cpu = costliestTurns();
    during.enable();
    await admin.call('CLIENT', 'PAUSE', String(pauseMs), 'ALL');
    const pauseEnded = witness.ping().then(() => {
      during.disable();
      after.enable();
      cpu.next();
      return performance.now();
    });
    // One failure report, sent into the pause: unanswered for longer than commandTimeout (200 ms).
    breakers[0].execute(failing).catch(() => undefined);
    await waitFor(() => events.unavailable > startupIncidents, 5_000, 'the pause to start an incident');
    const end = await pauseEnded;
    await waitFor(() => restoredAt !== undefined, 60_000, 'the store to say restored');
    after.disable();
    const [pauseCpuMs, cpuMs] = cpu.stop();
    const stats = await commandStats(admin);
    // Long enough for a probe (1 s) and a second incident, if the recovery left one behind.
    await sleep(settleMs);
    const served = (name) => (stats.get(name) ?? 0) - (before.get(name) ?? 0);
    let commands = 0;
    for (const name of stats.keys()) if (name !== 'info') commands += served(name);
    const recoveryMs = restoredAt - end;
    // The same measure over plain 1 ms turns right after, same heap and machine: what the machine itself
    // adds (a loaded CPU preempts the process); a turn of the store's that blocks shows on top of it.
    const noise = await delayOfBusyTurns(Math.min(Math.max(recoveryMs, 500), 2_000));
    if (!store.available || breakers.some((b) => b.state !== 'closed')) {
      throw new Error('after the recovery, the store is not available or a circuit is not closed');
    }
    return {
      circuits,
      startupIncidents,
      unavailable: events.unavailable - startupIncidents,
      restored: events.restored,
      recoveryMs,
      pauseMaxTurnMs: during.max / 1e6,
      maxTurnMs: after.max / 1e6,
      p99TurnMs: after.percentile(99) / 1e6,
      pauseCpuMs,
      cpuMs,
      noiseMaxMs: noise.max / 1e6,
      scripts: served('evalsha') + served('eval'),
      // All but INFO (the readings) and CLIENT (the pause itself).
      commands: commands - served('client'),
    };
  } finally {
    void breakers.length; // the breakers live until here: the store holds their replicas weakly
    await store.close();
    witness.disconnect();
    await connection.close();
  }
}

async function failing() {
  throw prebuiltError;
}

async function waitFor(predicate, timeoutMs, what) {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out (${timeoutMs} ms) waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * The process's CPU time (`process.cpuUsage()`, user and system, all threads) between two ticks of a
 * 1 ms interval, the most per phase (`next()` starts the next): what the costliest turn cost, which load
 * on the machine does not stretch as it stretches wall time. `stop()` returns the phases' figures in ms.
 */
function costliestTurns() {
  const phases = [0];
  let last = process.cpuUsage();
  const tick = () => {
    const now = process.cpuUsage();
    const spent = (now.user - last.user + now.system - last.system) / 1000;
    last = now;
    if (spent > phases[phases.length - 1]) phases[phases.length - 1] = spent;
  };
  const timer = setInterval(tick, 1);
  return {
    next() {
      tick();
      phases.push(0);
    },
    stop() {
      tick();
      clearInterval(timer);
      return phases;
    },
  };
}

/** monitorEventLoopDelay over `duration` ms of 1 ms turns of plain synchronous work. */
async function delayOfBusyTurns(duration) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const end = performance.now() + duration;
  while (performance.now() < end) {
    const turnEnd = performance.now() + 1;
    while (performance.now() < turnEnd);
    await new Promise((resolve) => setImmediate(resolve));
  }
  histogram.disable();
  return histogram;
}
