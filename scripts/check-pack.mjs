// Packs each workspace package as npm would publish it and checks the tarball, offline:
//   - it holds only the built code and types (dist/*.mjs, .cjs, .d.mts, .d.cts), README.md, LICENSE and
//     package.json, and has each of them: no sources, no tests, no source maps (the builds' maps point at
//     src/*.ts, which is not published, so they would only send debuggers and bundlers to missing files);
//   - every file its package.json points at is inside;
//   - @staunch/decorators keeps its side effects (it installs Symbol.metadata on import);
//   - publint reports nothing at all (no error, warning or suggestion);
//   - attw (are the types wrong) is fully green with the strict profile: node10,
//     node16 from CJS, node16 from ESM and bundler, for every entry point.
// Run `npm run build` first. Usage: node scripts/check-pack.mjs [--verbose]
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const packages = ['packages/core', 'packages/decorators', 'packages/redis', 'packages/nestjs', 'packages/otel'];
/** Packages that must not be marked side-effect free (importing them installs Symbol.metadata). */
const withSideEffects = new Set(['@staunch/decorators']);
const allowed = [/^dist\/[^/]+\.(mjs|cjs|d\.mts|d\.cts)$/, /^README\.md$/, /^LICENSE$/, /^package\.json$/];
const required = ['package.json', 'LICENSE', 'README.md'];

const verbose = process.argv.includes('--verbose');
const exec = promisify(execFile);
const bin = (name) => join(root, 'node_modules/.bin', name);

/** Runs a command; never throws: returns its exit code and combined output. */
async function run(file, args, options = {}) {
  try {
    const { stdout, stderr } = await exec(file, args, { cwd: root, maxBuffer: 64 * 1024 * 1024, ...options });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    return {
      code: typeof error.code === 'number' ? error.code : 1,
      output: `${error.stdout ?? ''}${error.stderr ?? error.message}`,
    };
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'staunch-pack-'));
let failures = 0;
try {
  const pack = await run('npm', [
    'pack',
    ...packages.flatMap((dir) => ['--workspace', dir]),
    '--pack-destination',
    scratch,
    '--json',
    '--ignore-scripts',
  ]);
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.output}`);
  const packed = JSON.parse(pack.output.slice(pack.output.indexOf('['), pack.output.lastIndexOf(']') + 1));

  for (const tarball of packed) {
    const problems = [];
    const tgz = join(scratch, tarball.filename);
    const files = tarball.files.map((file) => file.path);

    const stray = files.filter((file) => !allowed.some((pattern) => pattern.test(file)));
    if (stray.length > 0) problems.push(`unexpected files in the tarball: ${stray.join(', ')}`);
    for (const file of required) if (!files.includes(file)) problems.push(`${file} is missing from the tarball`);
    if (!files.some((file) => file.startsWith('dist/'))) problems.push('no dist/ in the tarball: run `npm run build`');
    for (const kind of ['.mjs', '.cjs', '.d.mts', '.d.cts']) {
      if (!files.some((file) => file.startsWith('dist/') && file.endsWith(kind))) problems.push(`no dist/*${kind}`);
    }

    // The manifest users get, read from the tarball itself.
    const unpacked = join(scratch, tarball.name.replace('/', '__'));
    mkdirSync(unpacked);
    const untar = await run('tar', ['-xzf', tgz, '-C', unpacked]);
    if (untar.code !== 0) throw new Error(`tar failed:\n${untar.output}`);
    const manifest = JSON.parse(readFileSync(join(unpacked, 'package/package.json'), 'utf8'));
    const pointed = [...targets(manifest.exports), ...targets([manifest.main, manifest.module, manifest.types])]
      .map((file) => file.replace(/^\.\//, ''))
      .filter((file) => file !== 'package.json');
    const absent = [...new Set(pointed)].filter((file) => !files.includes(file));
    if (absent.length > 0) problems.push(`package.json points at files not in the tarball: ${absent.join(', ')}`);
    if (withSideEffects.has(manifest.name)) problems.push(...sideEffectProblems(manifest));

    const publint = await run(bin('publint'), ['run', tgz, '--strict', '--pack', 'false']);
    const publintOk = publint.code === 0 && publint.output.includes('All good!');
    if (!publintOk) problems.push(`publint:\n${indent(publint.output)}`);

    const attw = await run(bin('attw'), [
      tgz,
      '--profile',
      'strict',
      '--no-definitely-typed',
      '--format',
      'ascii',
      '--no-color',
    ]);
    const attwOk = attw.code === 0 && attw.output.includes('No problems found');
    if (!attwOk) problems.push(`attw:\n${indent(attw.output)}`);

    const status = problems.length === 0 ? 'ok' : 'FAIL';
    if (status !== 'ok') failures++;
    console.log(
      `${tarball.name.padEnd(20)} ${status.padEnd(4)}  ${String(files.length).padStart(2)} files, ` +
        `${(tarball.size / 1024).toFixed(1)} kB packed  publint ${publintOk ? 'ok' : 'FAIL'}  attw ${attwOk ? 'ok' : 'FAIL'}`,
    );
    for (const problem of problems) console.log(indent(problem));
    if (verbose) console.log(indent(`${files.join('\n')}\n${attw.output}`));
  }
  console.log(
    failures === 0 ? `check-pack: ${packed.length} packages ok.` : `check-pack: ${failures} package(s) failed.`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
} catch (error) {
  console.error(`check-pack: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

/** `sideEffects: false` would let bundlers drop `import '@staunch/decorators'` and its polyfill. */
function sideEffectProblems(manifest) {
  const { sideEffects } = manifest;
  if (sideEffects === undefined || sideEffects === true) return [];
  if (sideEffects === false)
    return [`${manifest.name} must not declare "sideEffects": false (it installs Symbol.metadata)`];
  const listed = (Array.isArray(sideEffects) ? sideEffects : []).map(glob);
  const entries = targets(manifest.exports?.['.'])
    .filter((file) => /\.[cm]?js$/.test(file))
    .map((file) => file.replace(/^\.\//, ''));
  const unlisted = entries.filter((file) => !listed.some((pattern) => pattern.test(file)));
  return unlisted.length === 0
    ? []
    : [`"sideEffects" must list the entry files that install the polyfill: ${unlisted.join(', ')}`];
}

/** A `sideEffects` entry (`./dist/*.mjs`, `**\/polyfill.js`) as a RegExp over package-relative paths. */
function glob(pattern) {
  const source = pattern
    .replace(/^\.\//, '')
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*\//g, '\u0000')
    .replace(/\*/g, '[^/]*')
    .replace(/\u0000/g, '(?:.*/)?');
  return new RegExp(pattern.includes('/') ? `^${source}$` : `(?:^|/)${source}$`);
}

function targets(value) {
  if (typeof value === 'string') return [value];
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(targets);
  return [];
}

function indent(text) {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
