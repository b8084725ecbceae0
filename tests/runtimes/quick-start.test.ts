/**
 * The README's Quick start, followed literally in an empty temp folder against the PACKED
 * packages: its shell steps, its tsconfig.json and src/index.ts as printed, then its build-and-run
 * line. Only the two installs are rewritten to work offline: `@staunch/decorators` comes from the
 * tarballs (with @staunch/core, its dependency), `typescript` from this repository's node_modules.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bin, nodes, root, tarball } from './support/paths';
import { attempt, type Ran } from './support/run';

/** The fenced blocks of the README's Quick start section, in order, with their language. */
function quickStart(): { lang: string; code: string }[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /^## Quick start\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
  return [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1] ?? '', code: m[2] ?? '' }));
}

const offline = ['--offline', '--no-audit', '--no-fund'];
const installs: Record<string, string> = {
  'npm install @staunch/decorators': `npm install ${offline.join(' ')} ${tarball('core')} ${tarball('decorators')}`,
  'npm install -D typescript': `npm install ${offline.join(' ')} -D ${join(root, 'node_modules/typescript')}`,
};

/** One shell line, as README readers type it (installs made offline). */
async function step(line: string, cwd: string, node = 'node'): Promise<Ran> {
  const command = installs[line] ?? line.replace(/(^|&& )node /, `$1${node} `);
  if (/^npm (install|i) /.test(line) && installs[line] === undefined) {
    return { code: 1, stdout: '', stderr: `no offline equivalent for the Quick start's "${line}"` };
  }
  return attempt('sh', ['-c', command], { cwd, timeout: 120_000 });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'staunch-quick-start-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the README Quick start, step by step, in an empty folder', () => {
  const blocks = quickStart();

  it('has the setup steps, the tsconfig.json, src/index.ts and the run line, in that order', () => {
    expect(blocks.map((block) => block.lang)).toEqual(['sh', 'json', 'ts', 'sh']);
  });

  it('sets up, compiles and prints 6 on Node 20, 22 and 24', async () => {
    const [setup, tsconfig, source, runLine] = blocks;
    for (const line of (setup?.code ?? '').split('\n').filter((l) => l.trim() !== '')) {
      const ran = await step(line, dir);
      expect({ line, code: ran.code, stderr: ran.code === 0 ? '' : ran.stderr }).toEqual({ line, code: 0, stderr: '' });
    }
    writeFileSync(join(dir, 'tsconfig.json'), tsconfig?.code ?? '');
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src/index.ts'), source?.code ?? '');

    for (const { bin: node } of nodes) {
      const ran = await step((runLine?.code ?? '').trim(), dir, node);
      expect({ code: ran.code, stdout: ran.stdout, stderr: ran.stderr }).toEqual({
        code: 0,
        stdout: '6\n',
        stderr: '',
      });
    }
  }, 180_000);

  it('without "target": "es2022" (tsc --init’s esnext), Node stops at the `@` with a SyntaxError', async () => {
    const esnext = join(dir, 'tsconfig.esnext.json');
    writeFileSync(
      esnext,
      JSON.stringify({ extends: './tsconfig.json', compilerOptions: { target: 'esnext', outDir: 'esnext' } }),
    );
    expect((await attempt(bin('tsc'), ['-p', esnext], { cwd: dir })).code).toBe(0);
    const ran = await attempt(process.execPath, ['esnext/index.js'], { cwd: dir });
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toContain('SyntaxError: Invalid or unexpected token');
  }, 60_000);
});
