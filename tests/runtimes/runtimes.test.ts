/**
 * The runtime matrix: the one scenario (./scenario) against the PACKED packages, on Node 20, 22
 * and 24 (ES modules and CommonJS, Stage-3 and legacy decorators), Bun and Deno (their npm
 * packages; the TypeScript source as each runs it, and tsc's output). Each run gets its own
 * loopback server.
 */
import { appDir, bin, nodes } from './support/paths';
import { allPassed, parseReport, type Report } from './support/report';
import { attempt, run } from './support/run';
import { startServer } from './support/server';

/** Runs `program args… <server url>` in the app and reads the scenario's report. */
async function scenario(program: string, args: readonly string[]): Promise<Report> {
  const server = await startServer();
  try {
    const ran = await attempt(program, [...args, server.url], { cwd: appDir, timeout: 60_000 });
    return ran.code === 0 ? parseReport(ran.stdout) : { exit: ran.code, stdout: ran.stdout, stderr: ran.stderr };
  } finally {
    await server.close();
  }
}

describe.each(nodes)('Node $major', ({ bin: node }) => {
  it('runs the scenario from tsc’s ES modules (import → dist/index.mjs)', async () => {
    expect(await scenario(node, ['out/tsc-esm/main.js'])).toEqual(allPassed);
  });

  it('runs the scenario from tsc’s CommonJS (require → dist/index.cjs)', async () => {
    expect(await scenario(node, ['out/tsc-cjs/main.js'])).toEqual(allPassed);
  });

  it('runs the scenario compiled with experimentalDecorators (legacy mode)', async () => {
    expect(await scenario(node, ['out/tsc-legacy/main.js'])).toEqual(allPassed);
  });
});

describe('Bun (the `bun` npm package)', () => {
  it('is Bun 1.x', async () => {
    expect(await run(bin('bun'), ['--version'], { cwd: appDir })).toMatch(/^1\.\d+\.\d+/);
  });

  it('runs the TypeScript source directly (Bun’s own transpiler, Stage-3 decorators)', async () => {
    expect(await scenario(bin('bun'), ['src/main.ts'])).toEqual(allPassed);
  });

  it('runs tsc’s ES modules', async () => {
    expect(await scenario(bin('bun'), ['out/tsc-esm/main.js'])).toEqual(allPassed);
  });

  it('runs tsc’s CommonJS', async () => {
    expect(await scenario(bin('bun'), ['out/tsc-cjs/main.js'])).toEqual(allPassed);
  });
});

describe('Deno (the `deno` npm package)', () => {
  // --sloppy-imports: the sources import './scenario.js' (as tsc wants), which Deno maps to the .ts file.
  const deno = ['run', '--sloppy-imports', '--allow-net=127.0.0.1', '--no-prompt'];

  it('is Deno 2.x', async () => {
    expect(await run(bin('deno'), ['--version'], { cwd: appDir })).toMatch(/^deno 2\.\d+\.\d+/);
  });

  it('runs the TypeScript source directly (Deno’s own transpiler, Stage-3 decorators), @staunch/* from node_modules', async () => {
    expect(await scenario(bin('deno'), [...deno, 'src/main.ts'])).toEqual(allPassed);
  });

  it('runs tsc’s ES modules', async () => {
    expect(await scenario(bin('deno'), [...deno, 'out/tsc-esm/main.js'])).toEqual(allPassed);
  });
});
