/**
 * `npm start`'s demo, end to end against the BUILT packages (as `npm start` runs it, after
 * `npm run build`): the scenario list, a usage error, and two short scenarios in a child
 * process whose stdout is a pipe (so: no colour). The long stories are tested on a virtual
 * clock in tests/examples.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');

async function demo(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['-r', 'ts-node/register', 'examples/demo.ts', ...args], {
      cwd: root,
      timeout: 60_000,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('npm start (examples/demo.ts)', () => {
  it('lists the scenarios with --help', async () => {
    const { code, stdout } = await demo('--help');
    expect(code).toBe(0);
    for (const name of ['quick-start', 'api-client', 'export-job', 'repository', 'nest-app']) {
      expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
  }, 60_000); // ts-node compiles the demo in a child process: seconds on a loaded machine

  it('rejects an unknown scenario with exit code 2 and the list', async () => {
    const { code, stderr } = await demo('no-such-thing');
    expect(code).toBe(2);
    expect(stderr).toContain('Unknown scenario: no-such-thing');
    expect(stderr).toContain('nest-app');
  }, 60_000);

  it('runs the scenarios it is given, prints plain text to a pipe, and ends with the summary table', async () => {
    const { code, stdout } = await demo('quick-start', 'nest-app');
    expect(code).toBe(0);
    expect(stdout).not.toContain('\x1b[');
    expect(stdout).toContain('✔ result: pong after 3 calls');
    expect(stdout).toContain('GET /users/2 → 503, Retry-After: 1 s');
    expect(stdout).toMatch(/^quick-start +as told +2 +1 +1 +2 /m);
    expect(stdout).toMatch(/^nest-app +as told +4 +2 +1 +4 +0 +1 +3 /m);
    expect(stdout).toContain('2 scenarios in');
    expect(stdout).not.toContain('api-client  ');
  }, 60_000);
});
