/**
 * The BUILT packages (packages/*\/dist), loaded the way users load them: through the
 * `exports` maps, from CommonJS and from ES modules, in fresh Node 20, 22 and 24
 * processes. Run `npm run build` first. Nothing here maps @staunch/* to sources.
 *
 * The fixtures in ./fixtures print a JSON report: `checks` (name → true when it holds)
 * and `exports` (the names each entry point exports). Add a behaviour check to a fixture,
 * add an export name to ./expected-exports.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { expectedExports } from './expected-exports';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const fixtures = join(__dirname, 'fixtures');

// `npm run` puts node_modules/.bin first on PATH, and the `node22` alias installs a `node`
// bin there, so jest itself may be running on Node 22: take Node 20 from the node that
// runs npm (npm_node_execpath) and check every version below.
const nodes = [
  { major: 20, bin: process.env.npm_node_execpath ?? process.execPath },
  { major: 22, bin: join(root, 'node_modules/node22/bin/node') },
  { major: 24, bin: join(root, 'node_modules/node24/bin/node') },
];

interface Report {
  format: string;
  node: string;
  metadataBefore: string;
  metadataAfterCore?: string;
  exports?: Record<string, string[]>;
  checks: Record<string, unknown>;
}

async function node(bin: string, args: string[]): Promise<string> {
  const { stdout } = await run(bin, args, { cwd: root, timeout: 60_000, encoding: 'utf8' });
  return stdout;
}

async function report(bin: string, fixture: string): Promise<Report> {
  return JSON.parse(await node(bin, [join(fixtures, fixture)])) as Report;
}

/** Names of the checks that did not hold, so a failure lists them. */
const failed = (checks: Record<string, unknown>): string[] =>
  Object.entries(checks)
    .filter(([, ok]) => ok !== true)
    .map(([name]) => name);

const packages = ['core', 'decorators', 'redis', 'nestjs', 'otel'].map((name) => {
  const dir = join(root, 'packages', name);
  return {
    name,
    dir,
    manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>,
  };
});

function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(targets);
  return [];
}

describe('the built packages', () => {
  it.each(packages)('@staunch/$name: every file named in package.json exists (run `npm run build` first)', (pkg) => {
    const { exports, main, module, types } = pkg.manifest;
    const files = [...targets(exports), ...targets([main, module, types])];
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((file) => !existsSync(join(pkg.dir, file)))).toEqual([]);
  });
});

describe.each(nodes)('on Node $major', ({ major, bin }) => {
  it('is that Node version', async () => {
    expect(existsSync(bin)).toBe(true);
    expect((await node(bin, ['-p', 'process.versions.node'])).split('.')[0]).toBe(String(major));
  });

  it('node -e "require(\'@staunch/decorators\')" works and installs Symbol.metadata', async () => {
    const out = await node(bin, ['-e', "require('@staunch/decorators'); console.log(String(Symbol.metadata))"]);
    expect(out.trim()).toBe('Symbol(Symbol.metadata)');
  });

  it('node --input-type=module -e "import(\'@staunch/decorators\')" works and installs Symbol.metadata', async () => {
    const out = await node(bin, [
      '--input-type=module',
      '-e',
      "await import('@staunch/decorators'); console.log(String(Symbol.metadata))",
    ]);
    expect(out.trim()).toBe('Symbol(Symbol.metadata)');
  });

  describe.each(['consumer.cjs', 'consumer.mjs'])('%s', (fixture) => {
    let result: Report;
    beforeAll(async () => {
      result = await report(bin, fixture);
    });

    it('runs on the expected Node, which has no Symbol.metadata of its own', () => {
      expect(result.node.split('.')[0]).toBe(String(major));
      expect(result.metadataBefore).toBe('undefined');
    });

    it('importing @staunch/core alone installs nothing (its sideEffects are false)', () => {
      expect(result.metadataAfterCore).toBe('undefined');
    });

    it('passes every check', () => {
      expect(failed(result.checks)).toEqual([]);
      expect(Object.keys(result.checks).length).toBeGreaterThan(5);
    });

    it.each(Object.keys(expectedExports))('%s exports the expected names', (entry) => {
      expect(result.exports?.[entry]).toEqual(expect.arrayContaining([...(expectedExports[entry] ?? [])]));
    });

    it('@staunch/decorators re-exports everything @staunch/core exports', () => {
      const decorators = result.exports?.['@staunch/decorators'] ?? [];
      expect((result.exports?.['@staunch/core'] ?? []).filter((name) => !decorators.includes(name))).toEqual([]);
    });
  });

  it('a class compiled by TypeScript with Stage-3 decorators gets its metadata', async () => {
    const result = await report(bin, 'stage3.cjs');
    expect(result.metadataBefore).toBe('undefined');
    expect(failed(result.checks)).toEqual([]);
  });
});
