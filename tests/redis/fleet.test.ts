/**
 * The multi-process harness itself (./support/fleet.ts): workers that load the TypeScript
 * sources without a build, answer calls over IPC, die when killed, and close when stopped.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startFleet, type Fleet } from './support/fleet';
import { processAlive as alive } from './support/process-alive';

const root = resolve(__dirname, '../..');

describe('tests/redis/support/fleet', () => {
  let fleet: Fleet;
  let closeDir: string;
  beforeAll(async () => {
    closeDir = mkdtempSync(join(tmpdir(), 'staunch-fleet-'));
    fleet = await startFleet(3, join(__dirname, 'support/echo-setup.ts'), {
      ECHO_GREETING: 'hello',
      ECHO_CLOSE_DIR: closeDir,
    });
  });
  afterAll(async () => {
    await fleet.stop();
    rmSync(closeDir, { recursive: true, force: true });
  });

  it('starts one ready process per worker, each with its index and the given env', async () => {
    expect(fleet.workers).toHaveLength(3);
    for (const worker of fleet.workers) {
      expect(worker.readyMs).toBeGreaterThan(0);
      expect(worker.pid).not.toBe(process.pid);
      await expect(worker.call('pid')).resolves.toBe(worker.pid);
      await expect(worker.call('whoami')).resolves.toEqual({ index: worker.index, count: 3, greeting: 'hello' });
    }
    expect(new Set(fleet.workers.map((worker) => worker.pid)).size).toBe(3);
  });

  it('answers calls with their arguments, concurrently, and reports errors', async () => {
    const sums = await Promise.all(fleet.workers.map((worker, i) => worker.call('add', i, 10)));
    expect(sums).toEqual([10, 11, 12]);
    await expect(fleet.workers[0]!.call('fail', 'on purpose')).rejects.toThrow(/fail failed: Error: on purpose/);
    await expect(fleet.workers[0]!.call('nope')).rejects.toThrow(/no handler "nope"/);
  });

  it('runs the sources without a build: @staunch/* map to packages/*/src, ./x.js to ./x.ts', async () => {
    const worker = fleet.workers[0]!;
    await expect(worker.call('staunch')).resolves.toEqual({
      isCircuitOpenError: true,
      retryAfter: 1500,
      sameCore: true,
    });
    for (const [specifier, file] of [
      ['@staunch/core', 'packages/core/src/index.ts'],
      ['@staunch/core/testing', 'packages/core/src/testing/index.ts'],
      ['@staunch/decorators', 'packages/decorators/src/index.ts'],
      ['@staunch/redis', 'packages/redis/src/index.ts'],
    ]) {
      await expect(worker.call('resolve', specifier)).resolves.toBe(join(root, file!));
    }
  });

  it("kill('SIGKILL'): that worker dies (its call in flight rejects), the others go on", async () => {
    const [first, victim, third] = fleet.workers as [Fleet['workers'][0], Fleet['workers'][0], Fleet['workers'][0]];
    const inFlight = victim.call('hang');
    await victim.kill('SIGKILL');
    expect(victim.exited).toBe(true);
    expect(alive(victim.pid)).toBe(false);
    await expect(inFlight).rejects.toThrow(/worker 1 exited \(SIGKILL\) while running hang/);
    await expect(victim.call('pid')).rejects.toThrow(/worker 1 has exited/);
    await expect(first.call('add', 1, 2)).resolves.toBe(3);
    await expect(third.call('add', 3, 4)).resolves.toBe(7);
  });

  it('stop(): the live workers run their close handler and exit', async () => {
    const pids = fleet.workers.map((worker) => worker.pid);
    await fleet.stop();
    expect(fleet.workers.every((worker) => worker.exited)).toBe(true);
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(join(closeDir, 'closed-1'))).toBe(false); // killed: no close
    expect(readFileSync(join(closeDir, 'closed-0'), 'utf8')).toBe(String(pids[0]));
    expect(readFileSync(join(closeDir, 'closed-2'), 'utf8')).toBe(String(pids[2]));
    await expect(fleet.stop()).resolves.toBeUndefined();
  });
});

describe('startFleet with a setup module that fails', () => {
  it('rejects with the setup error (printed by the worker, prefixed)', async () => {
    await expect(startFleet(1, join(__dirname, 'support/does-not-exist.ts'))).rejects.toThrow(
      /the fleet did not start:\n.*setup failed: Error: Cannot find module/,
    );
  });
});
