/**
 * examples/shared-circuit for real: the scenario starts its own redis-server and forks three worker
 * processes (ts-node, with @staunch/* mapped to the sources by ./helpers/staunch-sources.cjs, so no
 * build is needed), and runs on real time: a couple of seconds. Its timeline is asserted on.
 *
 * Skipped with a warning when redis-server is not on PATH, unless STAUNCH_REQUIRE_REDIS=1 (CI),
 * which makes a missing redis-server an error instead.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { sharedCircuitScenario } from '../../examples/shared-circuit/scenario';
import { findRedisServer, startRedisServer } from '../../examples/shared-circuit/redis-server';
import { Timeline } from '../../examples/support/timeline';
import { expectInOrder } from './helpers/lines';

const redisServer = findRedisServer();
const workerPreload = [join(__dirname, 'helpers', 'staunch-sources.cjs')];
const shared = "held or released by the fleet's shared circuit";

function describeWithRedis(name: string, fn: () => void): void {
  if (redisServer !== undefined) {
    describe(name, fn);
    return;
  }
  if (process.env.STAUNCH_REQUIRE_REDIS === '1') {
    throw new Error(
      'STAUNCH_REQUIRE_REDIS=1 but redis-server is not on PATH: install it, or unset STAUNCH_REQUIRE_REDIS',
    );
  }
  console.warn(
    'redis-server is not on PATH: skipping the shared-circuit example test (STAUNCH_REQUIRE_REDIS=1 fails instead)',
  );
  describe.skip(name, fn);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The numbers the first capture group of `pattern` finds in `lines`. */
const captured = (lines: readonly string[], pattern: RegExp): string[] =>
  lines.flatMap((line) => {
    const match = pattern.exec(line);
    return match?.[1] === undefined ? [] : [match[1]];
  });

describeWithRedis('examples/shared-circuit (real redis-server, three worker processes, real time)', () => {
  let timeline: Timeline;
  let lines: string[];
  let holder: string;

  beforeAll(async () => {
    timeline = new Timeline();
    await sharedCircuitScenario(timeline, { workerPreload });
    lines = timeline.lines;
    holder = captured(lines, /^## The lease is (worker \d)'s/)[0] ?? 'no holder';
  }, 60_000);

  it('tells the story in order, and its tally', () => {
    expectInOrder(lines, [
      '## The fleet: a redis-server, a payments service, three checkout workers (Node processes)',
      /^worker 1 ready \(pid \d+\)/,
      /^worker 3 ready \(pid \d+\)/,
      '## All healthy: each worker charges an order',
      'payments: POST /charges order-3 from worker 3 → 200',
      'worker 3: charge(order-3) → rcpt-order-3',
      "## Payments goes down. Worker 1 fails twice: its own circuit opens, the fleet's does not",
      'circuit payments in worker 1: closed → open (too many failures)',
      'worker 1: charge(order-5) → failed: HTTP 503',
      'Redis: 2 failures from worker 1, shared circuit closed: one process is not a quorum (2)',
      '## Worker 2 fails once: 3 failures from 2 processes reach the quorum, the circuit opens fleet-wide',
      'payments: POST /charges order-6 from worker 2 → 503 (outage)',
      '## Worker 3 never failed, yet it fails fast: payments does not hear from it',
      /^worker 3: charge\(order-7\) → CircuitOpenError: circuit "payments" is open, retry after \d+ ms$/,
      '## Payments is back. After resetTimeout every worker gets a call: the first to ask takes the lease',
      `## The lease is ${holder}'s: the others keep failing fast, its next call is the one trial`,
      `circuit payments in ${holder}: open → half-open (resetTimeout passed: one trial call may go through)`,
      `circuit payments in ${holder}: half-open → closed (the trial call succeeded)`,
      '## Closed in every worker: all three charge again',
      'Redis: shared circuit closed at epoch 3, opened 1 time, 1 trial lease, 3 failures reported',
      'workers exited, payments service closed, redis-server stopped and its directory removed',
    ]);
    expect(timeline.tally).toEqual({
      calls: 16,
      successes: 7,
      failures: 3,
      retries: 0,
      timeouts: 0,
      fastFailures: 6,
      transitions: 7,
    });
  });

  it('opens the circuit in every worker once a second worker failed, by the fleet for workers 2 and 3', () => {
    const opened = lines.indexOf('## Worker 3 never failed, yet it fails fast: payments does not hear from it');
    const before = lines.slice(0, opened);
    for (const worker of ['worker 1', 'worker 2', 'worker 3']) {
      expect(before).toContain(`${worker}'s store: shared circuit open (epoch 1)`);
    }
    expect(before).toContain(`circuit payments in worker 2: closed → open (${shared})`);
    expect(before).toContain(`circuit payments in worker 3: closed → open (${shared})`);
  });

  it('rejects worker 3 with CircuitOpenError, and worker 3 never calls payments during the outage', () => {
    expect(lines).toContainEqual(expect.stringMatching(/^worker 3: charge\(order-7\) → CircuitOpenError: /));
    expect(lines.filter((line) => line.includes('failed: HTTP 503')).map((line) => line.split(':')[0])).toEqual([
      'worker 1',
      'worker 1',
      'worker 2',
    ]);
    const outage = lines.slice(
      lines.indexOf('payments: outage, every charge gets HTTP 503'),
      lines.indexOf('payments: outage over'),
    );
    expect(outage.filter((line) => line.startsWith('payments: POST') && line.includes('from worker 3'))).toEqual([]);
    expect(outage.filter((line) => line.startsWith('payments: POST'))).toHaveLength(3);
  });

  it('gives the trial lease to one worker, and lets exactly one trial call through fleet-wide', () => {
    expect(holder).toMatch(/^worker \d$/);
    for (const worker of ['worker 1', 'worker 2', 'worker 3']) {
      expect(lines).toContain(`${worker}'s store: shared circuit half-open (epoch 2), trial lease held by ${holder}`);
    }
    const recovery = lines.slice(
      lines.indexOf('payments: outage over'),
      lines.indexOf('## Closed in every worker: all three charge again'),
    );
    // After resetTimeout: three rejected calls (asking for the lease), then two while the lease is held.
    expect(recovery.filter((line) => / → CircuitOpenError: /.test(line))).toHaveLength(5);
    expect(recovery.filter((line) => line.startsWith('payments: POST'))).toEqual([
      `payments: POST /charges order-13 from ${holder} → 200`,
    ]);
    expect(recovery).toContain(`${holder}: charge(order-13) → rcpt-order-13`);
    expect(lines.filter((line) => line.includes('→ half-open'))).toHaveLength(1);
  });

  it("closes every worker's circuit, and all three charge again", () => {
    const others = ['worker 1', 'worker 2', 'worker 3'].filter((worker) => worker !== holder);
    for (const worker of ['worker 1', 'worker 2', 'worker 3']) {
      expect(lines).toContain(`${worker}'s store: shared circuit closed (epoch 3)`);
    }
    for (const worker of others) expect(lines).toContain(`circuit payments in ${worker}: open → closed (${shared})`);
    const last = lines.slice(lines.indexOf('## Closed in every worker: all three charge again'));
    for (const [worker, order] of [
      ['worker 1', 'order-14'],
      ['worker 2', 'order-15'],
      ['worker 3', 'order-16'],
    ] as const) {
      expect(last).toContain(`${worker}: charge(${order}) → rcpt-${order}`);
    }
  });

  it('leaves no redis-server, worker process or temp directory behind', () => {
    const pids = [
      ...captured(lines, /^redis-server \(pid (\d+)\)/),
      ...captured(lines, /^worker \d ready \(pid (\d+)\)/),
    ].map(Number);
    expect(pids).toHaveLength(4);
    expect(pids.filter(alive)).toEqual([]);
    const [dir] = captured(lines, /^redis-server \(pid \d+\) on \S+, in (\S+), no persistence$/);
    expect(dir).toMatch(/staunch-example-redis-/);
    expect(existsSync(dir!)).toBe(false);
  });

  it('starts a redis-server that answers PING, and stop() ends it and removes its directory', async () => {
    const server = await startRedisServer(redisServer!);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.setEncoding('utf8');
      socket.once('data', (data: string) => {
        socket.destroy();
        resolve(data);
      });
      socket.once('error', reject);
    });
    expect(reply).toBe('+PONG\r\n');
    expect(existsSync(server.dir)).toBe(true);
    await Promise.all([server.stop(), server.stop()]);
    expect(alive(server.pid)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });
});

describe('examples/shared-circuit without redis-server', () => {
  it('skips itself with a note, starting nothing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '';
    const timeline = new Timeline();
    try {
      await sharedCircuitScenario(timeline, { workerPreload });
    } finally {
      if (path === undefined) delete process.env.PATH;
      else process.env.PATH = path;
    }
    expect(timeline.skipped).toMatch(/^redis-server is not on PATH/);
    expect(timeline.lines).toEqual([timeline.skipped]);
    expect(timeline.tally.calls).toBe(0);
  });
});
